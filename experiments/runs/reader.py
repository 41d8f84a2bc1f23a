"""Reading result folders, which are untrusted: every file is checked before it is used.

A folder read by ``compare``, ``plot``, ``trace``, ``discover`` or ``run --resume`` may have
been damaged, copied together from several runs, or written by someone else. What is read is
bounded before it is allocated (file sizes, row and column counts, the whole table against
half the machine's memory), checked against what the
folder says of itself (checksums, seed, draws, batch size, each part's draw indices) and kept
inside the folder (no links, no paths from ``metadata.json``). Anything else is a
:class:`StoreError`: one line naming the file.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from smasim.experiments.runs.folders import StoreError
from smasim.simulation.memory import memory_budget
from smasim.simulation.parts import part_name

FORMAT_VERSION = 2
DRAWS_DIR = "draws"
MAX_JSON_BYTES = 16 << 20  # a config, metadata or summary of any real run is < 1 MiB
MAX_COLUMNS = 2000  # a per-draw table has ~100 columns
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def read_json(path: Path) -> dict[str, Any]:
    """Read one JSON object of a run folder (no link, at most 16 MiB)."""
    path = Path(path)
    try:
        if path.is_symlink():
            raise StoreError(f"{path}: is a link; a result folder holds its own files")
        if path.stat().st_size > MAX_JSON_BYTES:
            raise StoreError(f"{path}: larger than {MAX_JSON_BYTES >> 20} MiB; not smasim's")
        data = json.loads(path.read_text(encoding="utf-8"))
    except StoreError:
        raise
    except (OSError, ValueError, RecursionError) as exc:
        # ValueError: bad JSON, bad UTF-8, an integer of thousands of digits
        reason = "nested too deeply" if isinstance(exc, RecursionError) else exc
        raise StoreError(f"{path}: cannot read: {reason}") from None
    if not isinstance(data, dict):
        raise StoreError(f"{path}: cannot read: not a JSON object")
    return data


def read_config_json(folder: str | Path):
    """The validated config of a finished run folder (bounded years, printable text).

    Raises
    ------
    StoreError
        If ``config.json`` is not a valid smasim config (the message names the field).
    """
    from pydantic import ValidationError

    from smasim.experiments.config.schema import Config

    data = read_json(Path(folder) / "config.json")
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise StoreError(
            f"{folder}: config.json is not a valid smasim config ({where}: {err['msg']})"
        ) from None


def read_metadata(folder: str | Path, config=None) -> dict[str, Any]:
    """``metadata.json`` of a finished folder, its seed, draws and batch size checked.

    They must be integers in range and, when the folder's validated ``config`` is given, the
    config's own (``config.json`` records the run's draws and seed as well).
    """
    folder = Path(folder)
    if not (folder / "summary.json").is_file():
        raise StoreError(f"{folder}: not a finished smasim run folder (no summary.json)")
    meta = read_json(folder / "metadata.json")
    if meta.get("format_version") != FORMAT_VERSION:
        raise StoreError(f"{folder}: unsupported result format {meta.get('format_version')!r}")
    if config is None:
        config = read_config_json(folder)
    e = config.experiment
    for key, own in (("seed", e.seed), ("draws", e.draws), ("batch_size", e.batch_size)):
        value = meta.get(key)
        if type(value) is not int or value != own:
            raise StoreError(
                f"{folder}: metadata.json has {key} {_short(value)} where its config.json "
                f"has {own}; the folder is not one run's"
            )
    return meta


def read_draws(folder: str | Path, config=None) -> dict[str, np.ndarray]:
    """The per-draw table of a finished run folder, each part checked against its checksum.

    Every part must be the folder's own file, match its SHA-256, hold the rows of its batch
    (its ``draw`` column) and have the first part's columns.

    Raises
    ------
    StoreError
        If the folder is incomplete, of another format, or a part is missing or damaged.
    """
    folder = Path(folder)
    meta = read_metadata(folder, config)
    draws, size = meta["draws"], meta["batch_size"]
    parts = meta.get("parts")
    n_parts = -(-draws // size)
    if not isinstance(parts, list) or len(parts) != n_parts:
        raise StoreError(
            f"{folder}: metadata.json lists {len(parts) if isinstance(parts, list) else 'no'} "
            f"parts where {draws} draws in batches of {size} make {n_parts}"
        )
    tables: list[dict[str, np.ndarray]] = []
    for i, part in enumerate(parts):
        path = _part_path(folder, part, i)
        sha = part.get("sha256")
        if not isinstance(sha, str) or not _SHA256.match(sha):
            raise StoreError(f"{folder}: metadata.json has no valid sha256 for {part['file']}")
        if not path.is_file() or sha256(path) != sha:
            raise StoreError(f"{folder}: {part['file']} is missing or damaged (checksum mismatch)")
        rows = min(size, draws - i * size)
        table = read_table(path, rows=rows, first_draw=i * size, where=f"{folder}: {part['file']}")
        if not tables:
            _check_fits(folder, table, draws)
        if tables and _schema(table) != _schema(tables[0]):
            raise StoreError(f"{folder}: {part['file']} has other columns than part 0")
        tables.append(table)
    return {k: np.concatenate([t[k] for t in tables]) for k in tables[0]}


def _check_fits(folder: Path, first: dict[str, np.ndarray], draws: int) -> None:
    """Refuse a table that would take more than half this machine's memory to read.

    ``first`` is its first part: the columns' widths times ``draws``, twice (the parts, then
    their concatenation).
    """
    need = 2 * draws * sum(v.dtype.itemsize for v in first.values())
    budget = memory_budget()
    if budget is not None and need > budget:
        raise StoreError(
            f"{folder}: its per-draw table of {draws:,} draws takes ~{need / 1e9:,.1f} GB to "
            f"read; half this machine's memory is {budget / 1e9:,.1f} GB"
        )


def read_table(path: Path, *, rows: int, first_draw: int, where: str, columns=None):
    """One part of a per-draw table: ``rows`` rows of draws ``first_draw`` on, plain columns.

    Its size is checked from the Parquet footer before any column is read.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        with pq.ParquetFile(path) as f:
            found, n_columns = f.metadata.num_rows, f.metadata.num_columns
            if found != rows or n_columns > MAX_COLUMNS:
                raise StoreError(
                    f"{where}: holds {found} rows and {n_columns} columns where its batch "
                    f"has {rows} rows"
                )
            names = None if columns is None else list({"draw", *columns})
            table = f.read(columns=names)
        out = {name: table.column(name).to_numpy() for name in table.column_names}
    except StoreError:
        raise
    except (pa.ArrowException, OSError, ValueError, TypeError, NotImplementedError) as exc:
        reason = " ".join(str(exc).split())[:200]
        raise StoreError(f"{where}: not a readable per-draw table ({reason})") from None
    bad = [k for k, v in out.items() if v.dtype.kind not in "biufM"]
    if bad:
        raise StoreError(f"{where}: column {bad[0]!r} is not numbers, flags or dates")
    draw = out.get("draw")
    if draw is None or not np.array_equal(draw, np.arange(first_draw, first_draw + rows)):
        raise StoreError(f"{where}: does not hold the draws {first_draw}..{first_draw + rows - 1}")
    return out


def _schema(table: dict[str, np.ndarray]) -> list[tuple[str, str]]:
    return [(k, v.dtype.str) for k, v in table.items()]


def _part_path(folder: Path, part: Any, index: int) -> Path:
    """Part ``index`` of a finished folder: its own ``draws/part-NNNNN.parquet``, nothing else.

    A hostile ``metadata.json`` could name ``/etc/passwd`` or another run's parts; only the
    file the format prescribes, inside the folder, is read.
    """
    expected = f"{DRAWS_DIR}/{part_name(index)}"
    if not isinstance(part, dict) or part.get("file") != expected:
        raise StoreError(f"{folder}: metadata.json lists {_short(part)} where {expected} belongs")
    path = folder / expected
    if path.is_symlink() or (folder / DRAWS_DIR).is_symlink():
        raise StoreError(f"{folder}: {expected} is a link; a result folder holds its own files")
    return path


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def sha256(path: Path) -> str:
    """SHA-256 of a file, hex."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
