"""What a backtest returns: frozen records and their JSON.

The records sit below the functions that produce them (:mod:`experiments.record.backtest`,
:mod:`experiments.record.calibrate`) and the ones that present them
(:mod:`experiments.record.report`, :mod:`experiments.record.plots`), so that a run that
writes its own files imports its writers without an import circle.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from smasim.experiments.record.forecast import Actual, Case, ForecastScore
from smasim.experiments.record.scores import (
    LOG_SCORE_FLOOR,
    clopper_pearson,
    log_score,
    mean_pit_test,
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
    label : str
        What the model rows are ("model", "calibrated, leave-one-out", ...).
    """

    rows: tuple[BacktestRow, ...]
    draws: int
    elapsed_s: float
    label: str = "model"

    def summary(self) -> dict[str, Any]:
        """Scores of the model and of each baseline, and the model's paired differences.

        Per forecast: mean CRPS (% of the status quo and bn KRW), how many actual amounts lie
        inside the 50 % and 90 % intervals with the exact 95 % interval of the 90 % rate, the
        mean log score of the actual term and rule (floored at ``LOG_SCORE_FLOOR``), and the
        mean PIT with the exact p-value of no bias (:func:`scores.mean_pit_test`).
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
                "mean_pit": mean_pit_test([x.pit for x in s]),
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
            "units": {
                "amounts": "bn KRW per year",
                "crps_pct": "% of the status quo",
                "p": "probability",
            },
            "rows": [r.to_dict() for r in self.rows],
            "summary": self.summary(),
        }


def _nanmean_or_none(xs: Sequence[float]) -> float | None:
    # None (JSON null) where every value is NaN, e.g. only one-year terms
    v = [x for x in xs if not math.isnan(x)]
    return float(np.mean(v)) if v else None
