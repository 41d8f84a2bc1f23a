"""Backtest: the model against the SMA negotiations that really happened.

Each past negotiation's backtest config is run, turned into a forecast and scored against
the record beside two baselines: the naive forecast (:mod:`experiments.record.forecast` says
what is scored and how) and the empirical first-year-increase model
(:mod:`experiments.record.baselines`), time-respecting and leave-one-out.
:func:`run_backtest` does so for every negotiation and, if asked, writes ``backtest.json``,
``backtest.md`` (:mod:`experiments.record.report`) and ``backtest.png``
(:mod:`experiments.record.plots`) into one result folder.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from smasim.experiments.config.load import build_experiment, load_config
from smasim.experiments.record.baselines import empirical_forecast
from smasim.experiments.record.data import Record, load_record
from smasim.experiments.record.forecast import (
    CASES,
    Case,
    actual_outcome,
    model_forecast,
    naive_forecast,
    score_forecast,
    simulate,
)
from smasim.experiments.record.plots import plot_backtest
from smasim.experiments.record.report import backtest_markdown
from smasim.experiments.record.results import BacktestResult, BacktestRow
from smasim.experiments.runs.folders import require_empty, write_folder

DEFAULT_DRAWS = 20_000


def run_case(
    case: Case,
    *,
    draws: int = DEFAULT_DRAWS,
    seed: int | None = None,
    record: Record | None = None,
    progress: Callable[[int], None] | None = None,
) -> BacktestRow:
    """Run one negotiation's config and score it, with the baselines beside it.

    Parameters
    ----------
    case : Case
    draws : int
        Monte Carlo draws.
    seed : int, optional
        The config's seed when omitted.
    record : Record, optional
        The bundled record when omitted.
    """
    record = load_record() if record is None else record
    cfg = load_config(case.config)
    experiment = build_experiment(cfg)
    s = cfg.experiment.seed if seed is None else seed
    actual = actual_outcome(record, case.sma_round)
    columns = simulate(experiment, draws=draws, seed=s, progress=progress)
    return backtest_row(
        case, cfg.experiment.information_date, actual, model_forecast(experiment, columns),
        record, seed=s,
    )  # fmt: skip


def backtest_row(
    case: Case,
    information_date,
    actual,
    forecast,
    record: Record,
    *,
    seed: int,
) -> BacktestRow:
    """Score a model forecast of one negotiation, with the baselines beside it."""
    empirical, fitted_on = empirical_forecast(
        record, case.sma_round, information_date=information_date
    )
    empirical_loo, loo_fitted_on = empirical_forecast(record, case.sma_round, information_date=None)
    return BacktestRow(
        case=case,
        information_date=information_date,
        actual=actual,
        model=score_forecast(forecast, actual),
        naive=score_forecast(naive_forecast(record, case.sma_round), actual),
        seed=seed,
        empirical=score_forecast(empirical, actual),
        empirical_loo=score_forecast(empirical_loo, actual),
        empirical_fitted_on=fitted_on,
        empirical_loo_fitted_on=loo_fitted_on,
    )


def run_backtest(
    *,
    cases: Sequence[Case] = CASES,
    draws: int = DEFAULT_DRAWS,
    seed: int | None = None,
    out: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> BacktestResult:
    """Backtest the model on past negotiations.

    Parameters
    ----------
    cases : sequence of Case
        The negotiations (default: all seven).
    draws : int
        Draws per negotiation (20,000 by default: all seven in ~15 s on one core).
    seed : int, optional
        One seed for every config; each config's own seed when omitted.
    out : path, optional
        Folder to write ``backtest.json``, ``backtest.md`` and ``backtest.png`` into
        (atomically; must not exist or be empty).
    progress : callable, optional
        Told each batch's draws (``len(cases) * draws`` in all).

    Returns
    -------
    BacktestResult

    Raises
    ------
    ValueError
        If ``draws`` is not positive.
    StoreError
        If ``out`` is not empty or cannot be created (the message names ``out``).
    """
    if draws < 1:
        raise ValueError(f"draws: must be a positive integer, got {draws}")
    if out is not None:
        require_empty(out)  # before the runs, not after
    start = time.perf_counter()
    record = load_record()
    rows = tuple(
        run_case(c, draws=draws, seed=seed, record=record, progress=progress) for c in cases
    )
    result = BacktestResult(rows, draws, time.perf_counter() - start)
    if out is not None:
        write_backtest(result, out)
    return result


def write_backtest(result: BacktestResult, out: str | Path) -> Path:
    """Write ``backtest.json``, ``backtest.md`` and ``backtest.png`` into ``out`` atomically."""
    files = {
        "backtest.json": lambda p: p.write_text(json.dumps(result.to_dict(), indent=2) + "\n"),
        "backtest.md": lambda p: p.write_text(backtest_markdown(result)),
        "backtest.png": lambda p: plot_backtest([result], p),
    }
    return write_folder(out, files)
