"""Result folders of a sensitivity analysis and of a sweep, written atomically.

Both go through :func:`experiments.runs.folders.write_folder`, so an interrupted command never
leaves a folder that looks finished, and a folder that already holds something is refused with
an error naming ``out``. The JSON file that holds everything is written last.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from smasim.experiments.runs.folders import write_folder
from smasim.experiments.sensitivity import plots
from smasim.experiments.sensitivity.results import SensitivityResult, SweepResult


def write_sensitivity(result: SensitivityResult, folder: str | Path) -> Path:
    """Write a sensitivity result folder atomically.

    Files: ``config.json`` (resolved config), ``indices.csv`` (one row per factor),
    ``oat.csv`` (the tornado's numbers), ``sobol.png`` and ``tornado.png`` (when matplotlib is
    installed), and ``sensitivity.json`` last (everything, with seed and package versions).

    Raises
    ------
    experiments.runs.folders.StoreError
        If ``folder`` is there and not empty, or cannot be created (the message names ``out``).
    """
    oat = result.oat
    files: dict[str, Callable[[Path], object]] = {
        "config.json": lambda path: _write_json(path, result.config),
        "indices.csv": lambda path: _write_csv(path, result.indices_table()),
    }
    if oat is not None:
        rows = [{**r.__dict__, "swing": r.swing} for r in oat.rows]
        files["oat.csv"] = lambda path: _write_csv(path, rows)
    if plots.available():
        files["sobol.png"] = lambda path: plots.plot_indices(result, path)
        if oat is not None:
            files["tornado.png"] = lambda path: plots.plot_tornado(result, path)
    files["sensitivity.json"] = lambda path: _write_json(path, result.to_dict())
    return write_folder(folder, files)


def write_sweep(result: SweepResult, folder: str | Path) -> Path:
    """Write a sweep result folder atomically: config.json, sweep.csv, sweep.png, sweep.json.

    Raises
    ------
    experiments.runs.folders.StoreError
        As for :func:`write_sensitivity`.
    """
    files: dict[str, Callable[[Path], object]] = {
        "config.json": lambda path: _write_json(path, result.config),
        "sweep.csv": lambda path: _write_csv(path, result.table()),
    }
    if plots.available():
        files["sweep.png"] = lambda path: plots.plot_sweep(result, path)
    files["sweep.json"] = lambda path: _write_json(path, result.to_dict())
    return write_folder(folder, files)


def default_folder(experiment_name: str, kind: str) -> Path:
    """``runs/NAME-KIND-TIME``, the default result folder."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{experiment_name}-{kind}-{stamp}"


def _write_json(path: Path, data: Any) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, default=str)
        f.write("\n")


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    buf = io.StringIO()
    if rows:
        w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    path.write_text(buf.getvalue(), encoding="utf-8")
