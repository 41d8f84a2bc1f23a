"""A commented config template: a new scenario that extends a bundled config.

``smasim init NAME --from BASE`` writes ``NAME.toml``: an ``[experiment]`` table that
``extends`` the bundled config ``BASE`` and renames it, and every other table value,
``BASE``'s calendar events and every parameter commented out, each parameter with its
meaning, unit, admissible range and ``BASE``'s value (table headers stay live: an empty
table changes nothing).
As written the file validates and runs exactly as ``BASE`` with another name; uncommenting a
line overrides that value alone. The file is written atomically and never over an existing
one.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path
from typing import Any

from smasim.experiments.config.constants import ConfigError
from smasim.experiments.config.load import bundled_configs, load_config, read_raw
from smasim.models.parameters import PARAMETERS
from smasim.simulation.events import EVENTS

SIMPLE_TABLES = ("agreement", "calendar")


def toml_key(key: str) -> str:
    """``key`` as a TOML key: bare when it may be, quoted otherwise."""
    bare = key and all(c.isascii() and (c.isalnum() or c in "-_") for c in key)
    return key if bare else toml_value(key)


def toml_value(value: Any) -> str:
    """``value`` written as a TOML value (inline tables and arrays for dicts and lists)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if isinstance(value, dict):
        inner = ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items())
        return "{ " + inner + " }"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    msg = f"cannot write {type(value).__name__} as TOML"
    raise TypeError(msg)


def config_template(name: str, base: str) -> str:
    """The text of a commented config ``name`` that extends the bundled config ``base``.

    Parameters
    ----------
    name : str
        The new config's name.
    base : str
        A bundled config's name.

    Returns
    -------
    str
        TOML text that validates as written.

    Raises
    ------
    ConfigError
        If ``base`` is not a bundled config or ``name`` is empty.
    """
    if base not in bundled_configs():
        raise ConfigError(
            f"base: {base!r} is not a bundled config (a new config extends one of: "
            f"{', '.join(bundled_configs())})"
        )
    if not name.strip() or not name.isprintable():
        raise ConfigError("name: give a printable, non-empty name")
    data, _ = read_raw(base)
    ex = data.get("experiment", {})
    lines = [
        f"# {name}: a smasim scenario that starts from the bundled config {base!r}.",
        "#",
        f"# Everything is {base}'s until a line below is uncommented: each overrides that value",
        "# alone. Give each value you set its source, or write 'analyst judgment'. Check with",
        f"# `smasim validate {name}.toml`; run with `smasim run {name}.toml`. A parameter that is",
        f"# uncertain in {base} keeps its column of the sampling design when you change its",
        "# range, so the two configs' draws pair under one seed (`smasim compare`); turning a",
        "# constant into a distribution, or back, breaks that pairing.",
        "",
        "[experiment]",
        f"extends = {toml_value(base)}",
        f"name = {toml_value(name)}",
        f"description = {toml_value('A scenario from ' + base + ': say what it assumes')}",
    ]
    for key in ("seed", "draws", "design", "concept"):
        if key in ex:
            lines.append(f"# {key} = {toml_value(ex[key])}")
    for table in SIMPLE_TABLES:
        # the header is live (an empty table changes nothing), so that uncommenting one line
        # puts its key in this table, not in the one above
        section = data.get(table, {})
        lines += ["", f"[{table}]"]
        for key, value in section.items():
            if key in ("rules", "events"):
                continue
            lines.append(f"# {key} = {toml_value(value)}")
    events = data.get("calendar", {}).get("events", [])
    lines += [
        "",
        "# Political events inside the talks (kinds: " + ", ".join(EVENTS) + ").",
        f"# A list here replaces {base}'s whole list: keep the events you still want.",
    ]
    for event in events or [{"kind": "troop_change", "date": dt.date(2027, 6, 30)}]:
        lines += ["# [[calendar.events]]"]
        lines += [f"# {k} = {toml_value(v)}" for k, v in event.items()]
    lines += ["", "[parameters]"]
    values = data.get("parameters", {})
    group = None
    for p in PARAMETERS.values():
        if p.group != group:
            group = p.group
            lines.append(f"# --- {group}")
        value = values.get(p.name, p.default)
        lines.append(f"# {p.name} = {toml_value(value)}")
        lines.append(f"#     {p.description} ({p.unit}; {p.low:g} to {p.high:g})")
    return "\n".join(lines) + "\n"


def write_template(name: str, base: str, path: str | Path | None = None) -> Path:
    """Write :func:`config_template` to ``path`` (default ``NAME.toml``), validated.

    Raises
    ------
    ConfigError
        ``out: ...`` if the file exists or its folder does not; the template's own errors.
    """
    target = Path(path) if path is not None else Path(f"{name}.toml")
    if target.exists() or target.is_symlink():
        raise ConfigError(f"out: {target} already exists; choose another name or path")
    if not target.parent.is_dir():
        raise ConfigError(f"out: folder {target.parent} does not exist")
    text = config_template(name, base)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".toml", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        load_config(tmp)  # the template validates as written
        os.link(tmp, target)  # fails rather than replace a file created meanwhile
    except FileExistsError:
        raise ConfigError(f"out: {target} already exists; choose another name or path") from None
    finally:
        os.unlink(tmp)
    return target
