"""The result store: one folder per run, written atomically.

A run folder holds

* ``config.json``: the resolved config (after ``extends`` and defaults),
* ``metadata.json``: format version, seed, draws, workers, timing, package versions, and the
  SHA-256 of ``draws.parquet``,
* ``draws.parquet``: the per-draw table (one row per draw: outcomes, contribution path,
  sampled parameters and noise; columns in the README),
* ``summary.json``: the summary printed by ``smasim run``.

Everything is written into a hidden temporary folder beside the target and renamed into place
at the end, so an interrupted run never leaves a folder that looks finished.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from simulation.montecarlo import RunResult

FORMAT_VERSION = 1
DRAWS_FILE = "draws.parquet"


class StoreError(OSError):
    """A result folder cannot be written or read."""


def package_versions() -> dict[str, str]:
    """Versions of smasim and the libraries its numbers depend on."""
    out = {"python": platform.python_version()}
    for name in ("smasim", "numpy", "scipy", "simpy", "pydantic", "pyarrow"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def write_run(result: RunResult, folder: str | Path, *, config: dict[str, Any]) -> Path:
    """Write a run to ``folder`` atomically.

    Parameters
    ----------
    result : RunResult
    folder : path
        Must not exist yet (or be an empty directory).
    config : dict
        The resolved config, JSON-ready.

    Returns
    -------
    Path
        The folder written.

    Raises
    ------
    StoreError
        If the folder exists and is not empty, or cannot be written.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise StoreError(f"out: {folder} already exists and is not empty; choose another --out")
    parent = folder.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".partial", dir=parent))
    except OSError as exc:
        raise StoreError(f"out: cannot create {folder}: {exc.strerror}") from None
    try:
        table = pa.table(result.columns)
        pq.write_table(table, tmp / DRAWS_FILE, compression="zstd")
        digest = _sha256(tmp / DRAWS_FILE)
        meta = {
            "format_version": FORMAT_VERSION,
            "experiment": result.experiment.name,
            "seed": result.seed,
            "seed_sequence": {"entropy": result.seed, "spawn_key_per_batch": "(batch_index,)"},
            "draws": result.draws,
            "batch_size": result.experiment.batch_size,
            "workers": result.workers,
            "elapsed_s": round(result.elapsed_s, 3),
            "draws_sha256": digest,
            "packages": package_versions(),
            "package_labels": [
                result.experiment.setting.packages.label(k)
                for k in range(result.experiment.setting.packages.size)
            ],
            "rules": [r.name for r in result.experiment.setting.packages.rules],
        }
        _write_json(tmp / "config.json", config)
        _write_json(tmp / "metadata.json", meta)
        # summary last: its presence marks a complete folder
        _write_json(tmp / "summary.json", result.summary)
        if folder.exists():
            folder.rmdir()
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def read_draws(folder: str | Path) -> dict[str, np.ndarray]:
    """The per-draw table of a run folder, checked against its recorded checksum."""
    import pyarrow.parquet as pq

    folder = Path(folder)
    meta = read_json(folder / "metadata.json")
    path = folder / DRAWS_FILE
    if meta.get("format_version") != FORMAT_VERSION:
        raise StoreError(f"{folder}: unsupported result format {meta.get('format_version')!r}")
    if not path.is_file() or _sha256(path) != meta.get("draws_sha256"):
        raise StoreError(f"{folder}: {DRAWS_FILE} is missing or damaged (checksum mismatch)")
    table = pq.read_table(path)
    return {name: table.column(name).to_numpy() for name in table.column_names}


def read_json(path: Path) -> dict[str, Any]:
    """Read one JSON file of a run folder."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise StoreError(f"{path}: cannot read: {exc}") from None


def _write_json(path: Path, data: Any) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, default=_json_default)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())


def _json_default(x: Any) -> Any:
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    if isinstance(x, np.ndarray):
        return x.tolist()
    return str(x)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
