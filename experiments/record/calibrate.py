"""Calibration of the behavioural parameters shared across negotiations, with leave-one-out.

The three shared adjustments of the backtest configs' priors (:data:`KNOBS`, described in
:mod:`experiments.record.knobs`) are fitted by minimizing the mean CRPS of the first-year
amount (in % of each negotiation's status quo, so that the SMAs weigh alike) over the past
negotiations.

Common random numbers: each negotiation's parameter draws and noise are sampled once (its
config's seed) and every evaluation only adjusts those arrays (:func:`adjust_values`), so the
objective is a deterministic, piecewise-smooth function of the three numbers and a
derivative-free simplex search (Nelder-Mead, bounded) works on a small budget.

Leave-one-out: for each negotiation, the three numbers are fitted on the other four and the
left-out negotiation is scored with them, so the fit is never judged on its own training
data. The reported coverage is how many left-out actual first-year amounts fall inside the
90 % interval.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from smasim.experiments.config.load import build_experiment, load_config
from smasim.experiments.record.backtest import DEFAULT_DRAWS, run_backtest, run_case
from smasim.experiments.record.data import Record, load_record
from smasim.experiments.record.forecast import CASES, Case, actual_outcome
from smasim.experiments.record.knobs import KNOBS, adjust_values, adjuster
from smasim.experiments.record.plots import plot_backtest
from smasim.experiments.record.report import calibration_markdown
from smasim.experiments.record.results import BacktestResult, CalibrationResult, Fit
from smasim.experiments.record.scores import crps_sample
from smasim.experiments.runs.folders import require_empty, write_folder
from smasim.simulation.montecarlo import batch_sizes, negotiate, sample_batch
from smasim.simulation.records import DONE, Experiment
from smasim.simulation.sampling import Noise

DEFAULT_EVAL_DRAWS = 2_000
DEFAULT_MAX_EVALS = 40


class Objective:
    """Mean CRPS (% of the status quo) of the first-year amount over negotiations.

    Samples each negotiation once (common random numbers) and caches the per-negotiation
    score of every parameter vector evaluated, so leave-one-out fits share evaluations.

    Parameters
    ----------
    cases : sequence of Case
    draws : int
        Draws per negotiation and evaluation.
    seed : int, optional
        One seed for every config; each config's own seed when omitted.
    record : Record, optional
    """

    def __init__(
        self,
        cases: Sequence[Case],
        *,
        draws: int,
        seed: int | None = None,
        record: Record | None = None,
    ) -> None:
        record = load_record() if record is None else record
        self.cases = tuple(cases)
        self.draws = draws
        self._samples: dict[int, tuple[Experiment, list[tuple[dict, Noise]], float]] = {}
        for case in self.cases:
            cfg = load_config(case.config)
            exp = build_experiment(cfg)
            s = cfg.experiment.seed if seed is None else seed
            batches = [
                sample_batch(exp, s, b, n) for b, n in enumerate(batch_sizes(draws, exp.batch_size))
            ]
            y = actual_outcome(record, case.sma_round).amount_bn_krw
            self._samples[case.sma_round] = (exp, batches, y)
        self._cache: dict[tuple[int, tuple[float, ...]], float] = {}
        self.evaluations = 0

    def case_score(self, sma_round: int, theta: Sequence[float]) -> float:
        """CRPS of one negotiation's first-year amount, % of its status quo."""
        key = (sma_round, tuple(float(t) for t in theta))
        if key not in self._cache:
            exp, batches, y = self._samples[sma_round]
            named = dict(zip((k.name for k in KNOBS), theta, strict=True))
            sq = exp.setting.status_quo
            first = []
            for values, noise in batches:
                out = negotiate(exp, adjust_values(values, named), noise)
                first.append(np.where(out.status == DONE, out.base, sq))
            self.evaluations += 1
            self._cache[key] = 100.0 * crps_sample(np.concatenate(first), y) / sq
        return self._cache[key]

    def __call__(self, theta: Sequence[float], rounds: Sequence[int] | None = None) -> float:
        """Mean over ``rounds`` (default: every case) of :meth:`case_score`."""
        rounds = [c.sma_round for c in self.cases] if rounds is None else rounds
        return float(np.mean([self.case_score(r, theta) for r in rounds]))


def fit_knobs(objective: Objective, rounds: Sequence[int], *, max_evals: int) -> Fit:
    """Minimize the objective over the negotiations ``rounds`` (bounded Nelder-Mead).

    Parameters
    ----------
    objective : Objective
    rounds : sequence of int
        SMA rounds to fit on.
    max_evals : int
        Budget of objective evaluations.

    Returns
    -------
    Fit
    """
    x0 = np.zeros(len(KNOBS))
    simplex = np.vstack([x0] + [x0 + k.step * np.eye(len(KNOBS))[i] for i, k in enumerate(KNOBS)])
    used = 0

    def f(theta: np.ndarray) -> float:
        nonlocal used
        used += 1
        return objective(theta, rounds)

    start = objective(x0, rounds)
    res = minimize(
        f,
        x0,
        method="Nelder-Mead",
        bounds=[k.bounds for k in KNOBS],
        options={
            "maxfev": max_evals,
            "initial_simplex": simplex,
            "xatol": 1e-3,
            "fatol": 1e-3,
        },
    )
    return Fit(
        parameters={k.name: float(v) for k, v in zip(KNOBS, res.x, strict=True)},
        training=tuple(rounds),
        objective=float(res.fun),
        objective_start=start,
        evaluations=used,
        converged=bool(res.success),
        message=str(res.message),
    )


def calibrate(
    *,
    cases: Sequence[Case] = CASES,
    eval_draws: int = DEFAULT_EVAL_DRAWS,
    max_evals: int = DEFAULT_MAX_EVALS,
    score_draws: int = DEFAULT_DRAWS,
    seed: int | None = None,
    leave_one_out: bool = True,
    out: str | Path | None = None,
) -> CalibrationResult:
    """Fit the shared behavioural numbers (:data:`KNOBS`) and check them by leave-one-out.

    Parameters
    ----------
    cases : sequence of Case
        Negotiations (default: all five).
    eval_draws : int
        Draws per negotiation in each objective evaluation (common random numbers).
    max_evals : int
        Objective evaluations per fit (one fit on all, one per left-out negotiation).
    score_draws : int
        Draws per negotiation for the reported scores.
    seed : int, optional
        One seed for every config; each config's own when omitted.
    leave_one_out : bool
        Also run the leave-one-out fits.
    out : path, optional
        Folder for ``calibration.json``, ``calibration.md`` and ``calibration.png``
        (atomically; must not exist or be empty).

    Returns
    -------
    CalibrationResult

    Raises
    ------
    ValueError
        If a draw count or the budget is not positive, or ``leave_one_out`` is asked for
        fewer than two cases (the message names the parameter).
    StoreError
        If ``out`` is not empty or cannot be created (the message names ``out``).
    """
    for name, v in (
        ("eval_draws", eval_draws),
        ("max_evals", max_evals),
        ("score_draws", score_draws),
    ):
        if v < 1:
            raise ValueError(f"{name}: must be a positive integer, got {v}")
    if leave_one_out and len(cases) < 2:
        raise ValueError(f"leave_one_out: needs at least two cases, got {len(cases)}")
    if out is not None:
        require_empty(out)  # before minutes of fitting, not after
    start = time.perf_counter()
    record = load_record()
    objective = Objective(cases, draws=eval_draws, seed=seed, record=record)
    rounds = [c.sma_round for c in cases]
    fit = fit_knobs(objective, rounds, max_evals=max_evals)
    score = {"cases": cases, "draws": score_draws, "seed": seed}
    uncal = replace(run_backtest(**score), label="as written")
    inside = replace(
        run_backtest(**score, adjust=adjuster(fit.parameters)),
        adjustment=fit.parameters,
        label="calibrated, in-sample",
    )
    loo_fits: list[Fit] = []
    loo = None
    if leave_one_out:
        rows = []
        for case in cases:
            f = fit_knobs(
                objective, [r for r in rounds if r != case.sma_round], max_evals=max_evals
            )
            loo_fits.append(f)
            rows.append(
                run_case(
                    case, draws=score_draws, seed=seed, adjust=adjuster(f.parameters), record=record
                )
            )
        loo = BacktestResult(tuple(rows), score_draws, 0.0, {}, "calibrated, leave-one-out")
    result = CalibrationResult(
        fit=fit,
        uncalibrated=uncal,
        in_sample=inside,
        loo_fits=tuple(loo_fits),
        loo=loo,
        eval_draws=eval_draws,
        score_draws=score_draws,
        max_evals=max_evals,
        elapsed_s=time.perf_counter() - start,
    )
    if out is not None:
        write_calibration(result, out)
    return result


def write_calibration(result: CalibrationResult, out: str | Path) -> Path:
    """Write ``calibration.json``, ``calibration.md`` and ``calibration.png`` atomically."""
    second = result.loo if result.loo else result.in_sample
    title = (
        f"Backtest of smasim on the 7th-12th SMA: configs as written, {second.label} "
        f"({result.score_draws:,} draws each)"
    )
    files = {
        "calibration.json": lambda p: p.write_text(
            json.dumps(result.to_dict(), indent=2, default=str) + "\n"
        ),
        "calibration.md": lambda p: p.write_text(calibration_markdown(result)),
        "calibration.png": lambda p: plot_backtest([result.uncalibrated, second], p, title=title),
    }
    return write_folder(out, files)
