"""Compare outcome distributions between scenarios: the ``smasim compare`` entry point.

:func:`run_comparison` takes two or more sources, each a result folder written by
``smasim run`` or a config (run here, all with one seed and draw count so that they share
common random numbers), compares every scenario with the first (the *reference*) and
optionally writes an output folder: ``report.md``, ``comparison.json``, the figures and a run
folder per config run here.

The pieces, from the bottom up: :mod:`~smasim.experiments.comparison.scenario` (a run as a
:class:`Scenario`, and whether two runs are paired), :mod:`~smasim.experiments.comparison.metrics`
(what is compared), :mod:`~smasim.experiments.comparison.stats` (the statistics),
:mod:`~smasim.experiments.comparison.results` (what a comparison found, and its JSON),
:mod:`~smasim.experiments.comparison.analysis` (:func:`compare_scenarios`), then
:mod:`~smasim.experiments.comparison.report` and :mod:`~smasim.experiments.comparison.plots`.

Examples
--------
>>> from smasim.experiments.comparison.compare import run_comparison
>>> cmp = run_comparison(["sma12_may2024", "sma12_high_pressure"], draws=2000).comparison
>>> d = cmp.pairs[0].difference("amount_2030")  # high pressure minus the May 2024 baseline
>>> cmp.pairs[0].paired, d.mean.low < d.mean.estimate < d.mean.high
(True, True)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal, Protocol

from smasim.experiments.comparison.analysis import compare_scenarios
from smasim.experiments.comparison.options import MAX_SCENARIOS, CompareOptions
from smasim.experiments.comparison.plots import plot_scenarios, require_matplotlib
from smasim.experiments.comparison.report import write_report
from smasim.experiments.comparison.results import Comparison
from smasim.experiments.comparison.scenario import (
    Scenario,
    check_held_draws,
    folder_draws,
    load_scenario,
    scenario_from_result,
)
from smasim.experiments.config.load import bundled_configs, load_config
from smasim.experiments.config.schema import Config
from smasim.experiments.runs.folders import atomic_folder, require_empty
from smasim.experiments.runs.runner import run_experiment
from smasim.simulation.executors import ExecutorKind

DATA_FILE = "comparison.json"


@dataclass(frozen=True)
class ComparisonRun:
    """A finished ``smasim compare``.

    Attributes
    ----------
    comparison : Comparison
    scenarios : tuple of Scenario
    folder : Path or None
        The output folder (``out``), if one was written.
    files : tuple of Path
        What was written into it: ``report.md``, ``comparison.json``, the PNG figures, and a
        run folder under ``runs/`` per config run here.
    """

    comparison: Comparison
    scenarios: tuple[Scenario, ...]
    folder: Path | None
    files: tuple[Path, ...]


class Progress(Protocol):
    """What a long comparison reports to: the draws it will simulate, then each batch's."""

    def start(self, total: int) -> None:
        """The comparison will simulate ``total`` draws."""

    def advance(self, n: int) -> None:
        """``n`` more draws are done."""


def run_comparison(
    sources: Sequence[str | Path],
    *,
    draws: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    out: str | Path | None = None,
    options: CompareOptions | None = None,
    executor: ExecutorKind = "local",
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> ComparisonRun:
    """Load or run each scenario, compare them with the first, optionally write a report.

    Parameters
    ----------
    sources : sequence of str or Path
        Two to twelve. Each a result folder (a directory with ``summary.json``) or a config
        (TOML path or bundled name), which is run here. All of them together hold at most
        20 million draws (their columns are in memory).
    draws, seed : int, optional
        For the configs run here, the same for all so that they share common random numbers.
        Default: those of the first result folder given, else of the first config.
    workers : int
        Processes per run; results do not depend on it.
    out : path, optional
        Folder to write (must not exist or be empty; written atomically): ``report.md``,
        ``comparison.json``, ``fan_chart.png``, ``first_year_ecdf.png``,
        ``agreement_dates.png`` and ``runs/LABEL/`` for each config run here. Needs
        matplotlib. Nothing is written when omitted.
    options : CompareOptions, optional
    executor : {"local", "dask"}
        Where the configs' batches run; ``scheduler`` is the Dask scheduler's address. The
        results do not depend on them.

    progress : Progress, optional
        Told the draws to simulate (``start``), then each batch's draws (``advance``).

    Returns
    -------
    ComparisonRun

    Raises
    ------
    ConfigError, StoreError, ValueError
        One line naming the bad input; raised before anything is run or written.
    """
    opts = CompareOptions() if options is None else options
    if not 2 <= len(sources) <= MAX_SCENARIOS:
        raise ValueError(
            f"sources: give two to {MAX_SCENARIOS} scenarios (result folders or configs), "
            f"got {len(sources)}"
        )
    if draws is not None and draws < 1:
        raise ValueError(f"draws: must be a positive integer, got {draws}")
    if seed is not None and seed < 0:
        raise ValueError(f"seed: must be a non-negative integer, got {seed}")
    kinds = [_classify(str(s)) for s in sources]
    configs = {
        i: load_config(str(s))
        for i, (s, k) in enumerate(zip(sources, kinds, strict=True))
        if k == "config"
    }
    if out is not None:
        out = require_empty(out)
        require_matplotlib()
    folders = {i: s for i, (s, k) in enumerate(zip(sources, kinds, strict=True)) if k == "folder"}
    on_disk = {i: folder_draws(s) for i, s in folders.items()}
    if draws is None:
        draws = on_disk[min(on_disk)] if on_disk else configs[min(configs)].experiment.draws
    check_held_draws(
        sum(on_disk.values()) + draws * len(configs), "draws" if configs else "sources"
    )
    loaded = {i: load_scenario(s) for i, s in folders.items()}
    names = [
        loaded[i].name if i in loaded else configs[i].experiment.name for i in range(len(sources))
    ]
    labels = _unique_labels(names)
    first_folder = next((loaded[i] for i in sorted(loaded)), None)
    first_config = next((configs[i] for i in sorted(configs)), None)
    if seed is None:
        seed = first_folder.seed if first_folder else first_config.experiment.seed
    if progress is not None:
        progress.start(draws * len(configs))  # the draws this comparison simulates

    def scenarios_in(tmp: Path | None) -> list[Scenario]:
        """The scenarios in order; the configs' run folders go to ``tmp/runs`` if given."""
        return [
            replace(loaded[i], label=labels[i])
            if i in loaded
            else _run_config(
                str(src),
                configs[i],
                label=labels[i],
                draws=draws,
                seed=seed,
                workers=workers,
                executor=executor,
                scheduler=scheduler,
                write_to=None if tmp is None else tmp / "runs" / labels[i],
                folder=None if out is None else out / "runs" / labels[i],
                progress=None if progress is None else progress.advance,
            )
            for i, src in enumerate(sources)
        ]

    if out is None:
        scenarios = scenarios_in(None)
        comparison = compare_scenarios(scenarios, options=opts)
        return ComparisonRun(comparison, tuple(scenarios), None, ())

    done: list[ComparisonRun] = []

    def fill(tmp: Path) -> None:
        scenarios = scenarios_in(tmp)
        comparison = compare_scenarios(scenarios, options=opts)
        files = _write_outputs(comparison, scenarios, tmp=tmp, out=out)
        done.append(ComparisonRun(comparison, tuple(scenarios), out, tuple(files)))

    atomic_folder(out, fill)
    return done[0]


def _classify(source: str) -> Literal["folder", "config"]:
    path = Path(source)
    if path.is_dir():
        return "folder"
    if path.is_file() or source in bundled_configs():
        return "config"
    raise ValueError(
        f"{source}: neither a result folder nor a config file nor a bundled config "
        f"(bundled: {', '.join(bundled_configs())})"
    )


def _unique_labels(names: Sequence[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}-{seen[n]}")
    return out


def _run_config(
    source: str,
    cfg: Config,
    *,
    label: str,
    draws: int,
    seed: int,
    workers: int,
    executor: ExecutorKind,
    scheduler: str | None,
    write_to: Path | None,
    folder: Path | None,
    progress: Callable[[int], None] | None = None,
) -> Scenario:
    result, _ = run_experiment(
        cfg,
        draws=draws,
        seed=seed,
        workers=workers,
        out=write_to,
        executor=executor,
        scheduler=scheduler,
        progress=progress,
    )
    return scenario_from_result(result, cfg, source=source, label=label, folder=folder)


def _write_outputs(
    comparison: Comparison, scenarios: Sequence[Scenario], *, tmp: Path, out: Path
) -> list[Path]:
    """Write the report, the data and the figures into ``tmp``; their paths under ``out``."""
    figures = plot_scenarios(scenarios, folder=tmp)
    report = write_report(comparison, folder=tmp, figures=figures)
    data = tmp / DATA_FILE
    data.write_text(json.dumps(comparison.to_dict(), indent=2) + "\n", encoding="utf-8")
    written = [report, data, *figures.paths()]
    written += [tmp / "runs" / s.label for s in scenarios if (tmp / "runs" / s.label).is_dir()]
    return [out / p.relative_to(tmp) for p in written]
