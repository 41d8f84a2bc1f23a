"""The parts of the documentation made from the code when the site is built.

The CLI reference is the Typer app's own help, command by command; the config reference is the
config schema's fields (their types, defaults, bounds and descriptions) and the parameter
registry (meaning, unit, range, default); the tutorial's console sessions are real runs of
``smasim``. The pages call these functions from ``python exec="on"`` blocks (markdown-exec), so
each build redraws them from the code and they cannot drift from it; ``tests/test_docs.py``
checks that they cover every command, config field and parameter without building the site.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
import types
import typing
from pathlib import Path
from typing import Any

import typer.main
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from smasim.cli import app
from smasim.experiments.config import schema
from smasim.models.parameter_events import EVENT_PARAMETERS
from smasim.models.parameters import PARAMETERS

WIDTH = 100  # columns of the help texts and of the tutorial's tables

# The config's tables, as a config writes them, and the schema model that validates each.
SECTIONS: dict[str, type[BaseModel]] = {
    "experiment": schema.ExperimentSection,
    "agreement": schema.AgreementSection,
    "agreement.rules": schema.RuleSection,
    "calendar": schema.CalendarSection,
    "calendar.events": schema.EventEntry,
    "calibration": schema.CalibrationSection,
}
# Parameter groups as the reference lists them: the registry's groups, with the scenario
# events' parameters (all "political" in the registry) apart, since their defaults switch off
GROUP_TITLES = {
    "political": "political pressure",
    "behavioural": "behavioural",
    "macro": "macro assumptions and drivers",
    "events": "scenario events (the defaults switch each mechanism off)",
}


# --- CLI reference -------------------------------------------------------------------------


def root_command() -> Any:
    """The click group behind the Typer app (Typer's own copy of click, or click)."""
    command = typer.main.get_command(app)
    assert hasattr(command, "commands"), "smasim is a group of commands"
    return command


def cli_commands() -> list[str]:
    """The names of the ``smasim`` commands, in the order ``smasim --help`` lists them."""
    return list(root_command().commands)


def _context(command: Any, name: str, parent: Any = None) -> Any:
    return command.context_class(
        command, info_name=name, parent=parent, terminal_width=WIDTH, max_content_width=WIDTH
    )


def cli_reference() -> str:
    """Markdown: ``smasim --help`` and each command's ``--help``, one section per command."""
    root = root_command()
    top = _context(root, "smasim")
    parts = ["## smasim", "", "```text", root.get_help(top), "```", ""]
    for name, command in root.commands.items():
        text = command.get_help(_context(command, name, top))
        parts += [f"## smasim {name}", "", "```text", text, "```", ""]
    return "\n".join(parts)


# --- config reference ----------------------------------------------------------------------


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin is typing.Literal:
        return " \\| ".join(f"`{a!r}`".replace("'", '"') for a in args)
    if origin in (typing.Union, types.UnionType):
        names = [_type_name(a) for a in args if a is not type(None)]
        return " \\| ".join(names) + (" or none" if type(None) in args else "")
    if origin in (list, dict):
        return f"{origin.__name__}[{', '.join(_type_name(a) for a in args)}]"
    names = {"date": "date", "str": "text", "int": "integer", "float": "number"}
    name = getattr(annotation, "__name__", str(annotation))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "table"
    return names.get(name, name)


def _bounds(field: Any) -> str:
    marks = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<", "min_length": "length >=",
             "max_length": "length <=", "pattern": "matches"}  # fmt: skip
    found = []
    for meta in field.metadata:
        for attr, mark in marks.items():
            value = getattr(meta, attr, None)
            if value is not None:
                big = isinstance(value, int | float) and abs(value) >= 10_000
                found.append(f"{mark} `{value:,g}`" if big else f"{mark} `{value}`")
    return ", ".join(found)


def _default(field: Any) -> str:
    if field.default_factory is not None:
        return f"`{field.default_factory()!r}`"
    if field.default is PydanticUndefined:
        return "required"
    return "none" if field.default is None else f"`{field.default!r}`".replace("'", '"')


def section_table(model: type[BaseModel]) -> str:
    """Markdown table of a config table's keys: type, default, bounds and meaning."""
    rows = ["| key | type | default | bounds | meaning |", "|---|---|---|---|---|"]
    for key, field in model.model_fields.items():
        meaning = (field.description or "").replace("|", "\\|")
        rows.append(
            f"| `{key}` | {_type_name(field.annotation)} | {_default(field)} "
            f"| {_bounds(field)} | {meaning} |"
        )
    return "\n".join(rows)


def config_fields() -> dict[str, list[str]]:
    """Each config table (``"agreement.rules"`` for an array of tables) -> its keys."""
    return {table: list(model.model_fields) for table, model in SECTIONS.items()}


def _format_default(default: float | dict[str, Any]) -> str:
    if not isinstance(default, dict):
        return f"{default:g}"
    args = {k: v for k, v in default.items() if k != "dist"}
    if default["dist"] == "uniform" and set(args) == {"loc", "scale"}:
        return f"uniform {args['loc']:g} to {args['loc'] + args['scale']:g}"
    return default["dist"] + "(" + ", ".join(f"{k}={v:g}" for k, v in args.items()) + ")"


def parameter_group(name: str) -> str:
    """The reference's group of a registry parameter (``events`` for the scenario events')."""
    if name in {p.name for p in EVENT_PARAMETERS}:
        return "events"
    return PARAMETERS[name].group


def parameter_tables() -> str:
    """Markdown: one table per parameter group, every registry parameter in registry order."""
    parts = []
    for group, title in GROUP_TITLES.items():
        rows = [
            f"**{title}**",
            "",
            "| parameter | meaning | unit | range | default |",
            "|---|---|---|---|---|",
        ]
        for p in PARAMETERS.values():
            if parameter_group(p.name) == group:
                rows.append(
                    f"| `{p.name}` | {p.description} | {p.unit} | [{p.low:g}, {p.high:g}] "
                    f"| {_format_default(p.default)} |"
                )
        parts.append("\n".join(rows))
    return "\n\n".join(parts)


def config_reference() -> str:
    """Markdown: a table per config table, then the parameter tables."""
    parts = []
    for table, model in SECTIONS.items():
        header = f"[[{table}]]" if "." in table else f"[{table}]"
        doc = (model.__doc__ or "").strip().splitlines()[0].replace("``", "`")
        doc = doc.replace(":data:", "")
        parts += [f"### `{header}`", "", doc, "", section_table(model), ""]
    parts += ["### `[parameters]`", "", parameter_tables(), ""]
    return "\n".join(parts)


# --- tutorial sessions ---------------------------------------------------------------------

_WORKDIR: Path | None = None


def workdir() -> Path:
    """The tutorial's working folder: one per build, so later commands read earlier runs."""
    global _WORKDIR
    if _WORKDIR is None:
        _WORKDIR = Path(tempfile.mkdtemp(prefix="smasim-tutorial-"))
    return _WORKDIR


def console(command: str) -> str:
    """Run ``command`` (``smasim ...``) in the tutorial's folder; Markdown of the session.

    Raises
    ------
    RuntimeError
        If the command fails: the build then fails with its stderr.
    """
    args = shlex.split(command)
    assert args[0] == "smasim", "the tutorial runs smasim commands only"
    env = dict(os.environ, COLUMNS=str(WIDTH), NO_COLOR="1", TERM="dumb")
    done = subprocess.run(
        [sys.executable, "-m", "smasim", *args[1:]],
        cwd=workdir(),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        msg = f"`{command}` failed ({done.returncode}): {done.stderr[-2000:]}"
        raise RuntimeError(msg)
    out = "\n".join(line.rstrip() for line in (done.stdout + done.stderr).splitlines())
    return f"```console\n$ {command}\n{out}\n```\n"
