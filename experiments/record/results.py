"""What a backtest and a calibration return: frozen records and their JSON.

The records sit below the functions that produce them (:mod:`experiments.record.backtest`,
:mod:`experiments.record.calibrate`) and the ones that present them
(:mod:`experiments.record.report`, :mod:`experiments.record.plots`), so that a run that
writes its own files imports its writers without an import circle.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from smasim.experiments.record.forecast import Actual, Case, ForecastScore
from smasim.experiments.record.knobs import KNOBS
from smasim.experiments.record.scores import (
    LOG_SCORE_FLOOR,
    clopper_pearson,
    log_score,
    paired_difference,
)

FORECASTERS = ("model", "naive", "empirical", "empirical_loo")
"""The forecasts of a backtest row: the model, then the baselines."""


@dataclass(frozen=True)
class BacktestRow:
    """One negotiation's backtest.

    Attributes
    ----------
    case : Case
    information_date : datetime.date
        The config's information date (the talks' opening).
    actual : Actual
    model, naive : ForecastScore
    seed : int
    empirical, empirical_loo : ForecastScore
        The empirical baseline (:mod:`experiments.record.baselines`), time-respecting and
        leave-one-out.
    empirical_fitted_on, empirical_loo_fitted_on : tuple of int
        The negotiations each learned the first-year increase from (empty: it fell back to
        the naive forecast).
    """

    case: Case
    information_date: dt.date
    actual: Actual
    model: ForecastScore
    naive: ForecastScore
    seed: int
    empirical: ForecastScore
    empirical_loo: ForecastScore
    empirical_fitted_on: tuple[int, ...] = ()
    empirical_loo_fitted_on: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        a = self.actual
        return {
            "sma": self.case.sma_round,
            "config": self.case.config,
            "information_date": self.information_date.isoformat(),
            "seed": self.seed,
            "actual": {
                "concluded": a.concluded.isoformat(),
                "first_year": a.first_year,
                "amount_bn_krw": a.amount_bn_krw,
                "change_pct": a.change_pct,
                "status_quo_bn_krw": a.status_quo_bn_krw,
                "duration_years": a.duration_years,
                "rule_kind": a.rule_kind,
            },
            "model": self.model.to_dict(),
            "naive": self.naive.to_dict(),
            "empirical": {**self.empirical.to_dict(), "fitted_on": list(self.empirical_fitted_on)},
            "empirical_loo": {
                **self.empirical_loo.to_dict(),
                "fitted_on": list(self.empirical_loo_fitted_on),
            },
        }


@dataclass(frozen=True)
class BacktestResult:
    """The backtest of several negotiations.

    Attributes
    ----------
    rows : tuple of BacktestRow
    draws : int
        Draws per negotiation.
    elapsed_s : float
        Wall time, seconds.
    adjustment : dict of str to float
        Calibrated parameters applied to every config (empty: the configs as written).
    label : str
        What the model rows are ("model", "calibrated, leave-one-out", ...).
    """

    rows: tuple[BacktestRow, ...]
    draws: int
    elapsed_s: float
    adjustment: dict[str, float] = field(default_factory=dict)
    label: str = "model"

    def summary(self) -> dict[str, Any]:
        """Scores of the model and of each baseline, and the model's paired differences.

        Per forecast: mean CRPS (% of the status quo and bn KRW), how many actual amounts lie
        inside the 50 % and 90 % intervals with the exact 95 % interval of the 90 % rate, and
        the mean log score of the actual term and rule (floored at ``LOG_SCORE_FLOOR``).
        Per baseline: the model's CRPS (%) minus the baseline's, mean and 95 % t interval over
        the negotiations (negative: the model is better).
        """
        n = len(self.rows)
        out: dict[str, Any] = {"negotiations": n, "log_score_floor": LOG_SCORE_FLOOR}
        for who in FORECASTERS:
            s = [getattr(r, who) for r in self.rows]
            inside_90 = int(sum(x.in_90 for x in s))
            out[who] = {
                "mean_crps_pct_of_status_quo": float(np.mean([x.crps_pct for x in s])),
                "mean_crps_bn_krw": float(np.mean([x.crps_bn_krw for x in s])),
                "inside_50": int(sum(x.in_50 for x in s)),
                "inside_90": inside_90,
                "inside_90_exact_95ci": list(clopper_pearson(inside_90, n)) if n else None,
                "mean_log_score_term": float(np.mean([log_score(x.p_duration) for x in s])),
                "mean_log_score_rule": _nanmean_or_none([log_score(x.p_rule) for x in s]),
                "mean_p_duration": float(np.mean([x.p_duration for x in s])),
                "mean_p_rule": _nanmean_or_none([x.p_rule for x in s]),
            }
        model = [r.model.crps_pct for r in self.rows]
        out["model_minus_baseline_crps_pct"] = {
            who: paired_difference(model, [getattr(r, who).crps_pct for r in self.rows])
            for who in FORECASTERS[1:]
        }
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready result."""
        return {
            "label": self.label,
            "draws_per_negotiation": self.draws,
            "elapsed_s": round(self.elapsed_s, 3),
            "adjustment": dict(self.adjustment),
            "units": {
                "amounts": "bn KRW per year",
                "crps_pct": "% of the status quo",
                "p": "probability",
            },
            "rows": [r.to_dict() for r in self.rows],
            "summary": self.summary(),
        }


@dataclass(frozen=True)
class Fit:
    """A fit of the calibrated numbers.

    Attributes
    ----------
    parameters : dict of str to float
        Knob name -> fitted value.
    training : tuple of int
        SMA rounds fitted on.
    objective : float
        Mean CRPS of the first-year amount at the fit, % of the status quo (calibration draws).
    objective_start : float
        The same at the start (all knobs 0: the configs as written).
    evaluations : int
        Objective evaluations used.
    converged : bool
    message : str
    """

    parameters: dict[str, float]
    training: tuple[int, ...]
    objective: float
    objective_start: float
    evaluations: int
    converged: bool
    message: str


@dataclass(frozen=True)
class CalibrationResult:
    """A calibration with its leave-one-out check.

    Attributes
    ----------
    fit : Fit
        Fitted on every negotiation.
    uncalibrated : BacktestResult
        The configs as written (score draws).
    in_sample : BacktestResult
        Every negotiation scored with ``fit`` (its own training data).
    loo_fits : tuple of Fit
        One per left-out negotiation, fitted on the others.
    loo : BacktestResult or None
        Each negotiation scored with the fit that left it out; None if not run.
    eval_draws, score_draws, max_evals : int
    elapsed_s : float
    """

    fit: Fit
    uncalibrated: BacktestResult
    in_sample: BacktestResult
    loo_fits: tuple[Fit, ...]
    loo: BacktestResult | None
    eval_draws: int
    score_draws: int
    max_evals: int
    elapsed_s: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready result."""
        return {
            "knobs": [
                {
                    "name": k.name,
                    "description": k.description,
                    "targets": list(k.targets),
                    "kind": k.kind,
                    "bounds": list(k.bounds),
                    "unit": k.unit,
                }
                for k in KNOBS
            ],
            "fit": self.fit.__dict__,
            "eval_draws_per_negotiation": self.eval_draws,
            "score_draws_per_negotiation": self.score_draws,
            "max_evals": self.max_evals,
            "elapsed_s": round(self.elapsed_s, 3),
            "uncalibrated": self.uncalibrated.to_dict(),
            "in_sample": self.in_sample.to_dict(),
            "leave_one_out_fits": [f.__dict__ for f in self.loo_fits],
            "leave_one_out": None if self.loo is None else self.loo.to_dict(),
        }


def _nanmean_or_none(xs: Sequence[float]) -> float | None:
    # None (JSON null) where every value is NaN, e.g. only one-year terms
    v = [x for x in xs if not math.isnan(x)]
    return float(np.mean(v)) if v else None
