"""The empirical baseline: a Student-t on past first-year increases, with term and rule frequencies.

The naive forecast (:func:`experiments.record.forecast.naive_forecast`) grows the status quo
by every year-on-year change of the record, most of them years *within* an agreement, so it
forecasts an escalator, not a new SMA's first-year jump. The empirical baseline forecasts
the jump from the jumps: the first-year increases of the other negotiations (the 6th SMA
on, the first with an amount in KRW: -8.9 % in 2005 ... +13.9 % in 2021).

With increases ``x_1..x_n`` (fractions), the forecast is the posterior predictive of a
normal model with unknown mean and variance under the reference prior ``p(mu, sigma) ~
1 / sigma``: a Student-t with ``n - 1`` degrees of freedom, location ``mean(x)`` and scale
``s sqrt(1 + 1/n)`` (``s`` the sample standard deviation; Gelman et al., *Bayesian Data
Analysis*, 3rd ed., sec. 3.2). It needs two increases; where fewer are known (the 7th SMA
seen from 2006 knows only the 6th's), the forecast falls back to the naive one, and says so.

The term and the rule are forecast by their add-one smoothed frequencies among the same
negotiations (terms over 1-6 years, rule kinds over frozen/fixed/CPI/defense), as the naive
forecast does over the earlier ones.

Two variants, for the two honest evaluations:

* **time-respecting**: fitted on the negotiations concluded before the scored one's talks
  opened (its config's information date);
* **leave-one-out**: fitted on every other negotiation of the record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
from scipy import stats

from smasim.experiments.record.data import Record
from smasim.experiments.record.forecast import (
    DURATIONS,
    RULE_KINDS,
    Forecast,
    actual_outcome,
    naive_forecast,
)

SAMPLE_SIZE = 20_000  # quantiles of the predictive at the midpoints (i + 1/2) / n


def first_year_increase_rounds(record: Record) -> tuple[int, ...]:
    """The negotiations with a KRW first-year increase in the record (6th SMA on)."""
    rounds = []
    for n in record.negotiations:
        if n.concluded is None:
            continue
        if np.isfinite(actual_outcome(record, n.sma_round).change_pct):
            rounds.append(n.sma_round)
    return tuple(rounds)


def fit_rounds(
    record: Record, sma_round: int, *, information_date: dt.date | None
) -> tuple[int, ...]:
    """The negotiations an empirical forecast of ``sma_round`` may learn from.

    Time-respecting with ``information_date`` (those concluded before it), leave-one-out
    without (all others).
    """
    rounds = [
        n.sma_round
        for n in record.negotiations
        if n.sma_round != sma_round and n.concluded is not None
    ]
    if information_date is not None:
        rounds = [k for k in rounds if record.negotiation(k).concluded < information_date]
    return tuple(rounds)


def student_t_predictive(increases: np.ndarray):
    """The posterior predictive of the next increase (see the module notes), frozen scipy.

    Parameters
    ----------
    increases : ndarray, shape (n,), n >= 2
        Past first-year increases, fractions.
    """
    x = np.asarray(increases, dtype=float)
    n = x.size
    if n < 2:
        msg = f"increases: the Student-t predictive needs at least 2, got {n}"
        raise ValueError(msg)
    scale = x.std(ddof=1) * np.sqrt(1.0 + 1.0 / n)
    return stats.t(df=n - 1, loc=x.mean(), scale=scale)


def empirical_forecast(
    record: Record, sma_round: int, *, information_date: dt.date | None
) -> tuple[Forecast, tuple[int, ...]]:
    """The empirical baseline's forecast of the ``sma_round``-th SMA, and what it learned from.

    Parameters
    ----------
    record : Record
    sma_round : int
    information_date : datetime.date or None
        Time-respecting when given; leave-one-out when None.

    Returns
    -------
    forecast : Forecast
        ``first_year_bn_krw`` holds the predictive's quantiles at ``(i + 1/2) / n`` for
        ``n = SAMPLE_SIZE`` (a deterministic sample), bn KRW; the naive forecast where fewer
        than two increases are known.
    fitted_on : tuple of int
        The negotiations whose increases were used (empty for the naive fallback).
    """
    rounds = fit_rounds(record, sma_round, information_date=information_date)
    known = set(first_year_increase_rounds(record))
    with_increase = [k for k in rounds if k in known]
    neg = record.negotiation(sma_round)
    status_quo = record.amount(neg.first_year - 1)
    durations, kinds = _terms_and_rules(record, rounds)
    if len(with_increase) < 2:
        naive = naive_forecast(record, sma_round)
        first_year, fitted_on = naive.first_year_bn_krw, ()
    else:
        x = np.array([actual_outcome(record, k).change_pct / 100.0 for k in with_increase])
        q = (np.arange(SAMPLE_SIZE) + 0.5) / SAMPLE_SIZE
        first_year = status_quo * (1.0 + student_t_predictive(x).ppf(q))
        fitted_on = tuple(with_increase)
    forecast = Forecast(
        first_year_bn_krw=first_year,
        duration_probs={
            d: (durations.count(d) + 1.0) / (len(durations) + len(DURATIONS)) for d in DURATIONS
        },
        rule_probs={k: (kinds.count(k) + 1.0) / (len(kinds) + len(RULE_KINDS)) for k in RULE_KINDS},
        p_agreement=1.0,
    )
    return forecast, fitted_on


def _terms_and_rules(record: Record, rounds: Iterable[int]) -> tuple[list[int], list[str]]:
    """Terms (years) and rule kinds (of terms of 2+ years) of the negotiations ``rounds``."""
    durations, kinds = [], []
    for k in rounds:
        neg = record.negotiation(k)
        durations.append(neg.duration_years)
        segments = record.segments(k)
        if segments and neg.duration_years > 1:
            kinds.append(segments[-1].rule.kind)
    return durations, kinds
