"""One past negotiation: its backtest config run into a forecast, scored against the record.

For each past negotiation (7th, 9th, 10th, 11th and 12th SMA) a bundled config
(``backtest_smaNN``) holds only what was known when the talks opened. Its Monte Carlo run is
a forecast of the outcome, scored against what happened (:mod:`experiments.record.data`):

* **first-year amount**: the first amount paid under the new agreement (bn KRW). A draw that
  ends without agreement by the hard stop counts at the status quo (what is paid meanwhile).
  As in the model's contribution path, years that pass in a lapse are paid at the status quo
  and the agreed amount starts in the year of agreement: the 11th SMA, agreed in March 2021
  after 2020 passed in a lapse, is scored on its 2021 amount (1,183.3 bn KRW). Scores: PIT,
  inside the central 50 % / 90 % intervals, CRPS (:mod:`experiments.record.scores`), in bn
  KRW and in % of the status quo (comparable across SMAs);
* **duration**: the predicted probability of the actual term, given an agreement;
* **escalation rule**: the predicted probability of the actual rule kind (frozen, fixed,
  CPI-linked, defense-budget-linked), given an agreement of two years or more (a one-year
  term has no escalation, so the 10th SMA's rule is not scored).

The **naive forecast** knows the same: the status quo grown by the historical year-on-year
changes of the record (every recorded change before the new SMA's first year, 1995 on), an
equally weighted ensemble whose mean is the status quo grown by the mean historical growth;
for the duration and the rule kind, the frequencies among the earlier SMAs (add-one smoothed
over the 6 terms and the 4 kinds).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from smasim.experiments.record.data import Record
from smasim.experiments.record.scores import crps_sample, inside, pit
from smasim.simulation.montecarlo import batch_sizes, negotiate, sample_batch
from smasim.simulation.outcomes import outcome_columns
from smasim.simulation.records import Experiment

QUANTILES = (5, 25, 50, 75, 95)
RULE_KINDS = ("frozen", "fixed", "cpi", "defense")
DURATIONS = (1, 2, 3, 4, 5, 6)


@dataclass(frozen=True)
class Case:
    """One past negotiation and its backtest config."""

    sma_round: int
    config: str

    @property
    def label(self) -> str:
        """``"7th SMA"``."""
        return f"{_ordinal(self.sma_round)} SMA"


CASES: tuple[Case, ...] = tuple(Case(n, f"backtest_sma{n:02d}") for n in (6, 7, 8, 9, 10, 11, 12))
"""The negotiations with a backtest config: every SMA since the 6th, the first negotiated in
KRW (before 2005 the amounts were set in USD or mixed currencies)."""


@dataclass(frozen=True)
class Actual:
    """What a negotiation produced, from the record.

    Attributes
    ----------
    sma_round : int
    concluded : datetime.date
        Working-level agreement.
    first_year : int
        First year paid at the agreed amount (the year of agreement if it came after the
        SMA's first year).
    amount_bn_krw : float
        That year's amount, bn KRW.
    status_quo_bn_krw : float
        Amount of the year before the SMA's first year, bn KRW.
    duration_years : int
    rule_kind : str or None
        Kind of the escalation rule; None for a one-year term.
    """

    sma_round: int
    concluded: dt.date
    first_year: int
    amount_bn_krw: float
    status_quo_bn_krw: float
    duration_years: int
    rule_kind: str | None

    @property
    def change_pct(self) -> float:
        """First-year amount over the status quo, %."""
        return 100.0 * (self.amount_bn_krw / self.status_quo_bn_krw - 1.0)


def actual_outcome(record: Record, sma_round: int) -> Actual:
    """The recorded outcome of the ``sma_round``-th SMA (see the module notes)."""
    neg = record.negotiation(sma_round)
    if neg.concluded is None:
        raise ValueError(f"the record has no conclusion date for SMA {sma_round}")
    first = max(neg.first_year, neg.concluded.year)
    segments = record.segments(sma_round)
    kind = segments[-1].rule.kind if segments and neg.duration_years > 1 else None
    return Actual(
        sma_round=sma_round,
        concluded=neg.concluded,
        first_year=first,
        amount_bn_krw=record.amount(first),
        status_quo_bn_krw=record.amount(neg.first_year - 1),
        duration_years=neg.duration_years,
        rule_kind=kind,
    )


def simulate(
    experiment: Experiment,
    *,
    draws: int,
    seed: int,
    progress: Callable[[int], None] | None = None,
) -> dict[str, np.ndarray]:
    """Run an experiment's draws: the per-draw table of :func:`simulation.montecarlo.run`.

    The same batches, seeds and functions, one process; ``progress`` is told each batch's
    draws.

    Returns
    -------
    dict of str to ndarray, each shape (draws,)
        The per-draw table (see the output format, ``docs/output.md``).
    """
    parts = []
    for b, size in enumerate(batch_sizes(draws, experiment.batch_size)):
        values, noise = sample_batch(experiment, seed, b, size)
        out = negotiate(experiment, values, noise)
        parts.append(outcome_columns(experiment, values, noise, out))
        if progress is not None:
            progress(size)
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


@dataclass(frozen=True)
class Forecast:
    """A forecast of one negotiation's outcome.

    Attributes
    ----------
    first_year_bn_krw : ndarray, shape (n,)
        Sample of the first-year amount, bn KRW.
    duration_probs : dict of int to float
        P(term = n years | agreement).
    rule_probs : dict of str to float
        P(rule kind | agreement of 2 years or more); empty if no such agreement.
    p_agreement : float
        P(agreement by the hard stop); 1 for the naive forecast.
    """

    first_year_bn_krw: np.ndarray
    duration_probs: dict[int, float]
    rule_probs: dict[str, float]
    p_agreement: float


def model_forecast(experiment: Experiment, columns: Mapping[str, np.ndarray]) -> Forecast:
    """The forecast in a run's per-draw table (see :func:`simulate`)."""
    agreed = columns["outcome"] <= 1
    sq = experiment.setting.status_quo
    first = np.where(agreed, columns["base_bn_krw"], sq)
    dur = columns["duration_years"][agreed]
    kinds = np.array([r.kind for r in experiment.setting.packages.rules])
    multi = dur >= 2
    rule_kind = kinds[columns["rule_index"][agreed][multi]]
    return Forecast(
        first_year_bn_krw=first,
        duration_probs={d: float(np.mean(dur == d)) if dur.size else 0.0 for d in DURATIONS},
        rule_probs={k: float(np.mean(rule_kind == k)) for k in RULE_KINDS}
        if rule_kind.size
        else {},
        p_agreement=float(np.mean(agreed)),
    )


def naive_forecast(record: Record, sma_round: int) -> Forecast:
    """The naive forecast of the ``sma_round``-th SMA (see the module notes)."""
    neg = record.negotiation(sma_round)
    start = neg.first_year
    sq = record.amount(start - 1)
    growth = np.array(
        [
            r.change_pct / 100.0
            for r in record.history
            if r.year < start and not math.isnan(r.change_pct)
        ]
    )
    earlier = [n for n in record.negotiations if n.sma_round < sma_round]
    dur = np.array([n.duration_years for n in earlier])
    kinds = []
    for n in earlier:
        seg = record.segments(n.sma_round)
        if seg and n.duration_years > 1:
            kinds.append(seg[-1].rule.kind)
    return Forecast(
        first_year_bn_krw=sq * (1.0 + growth),
        duration_probs={
            d: (np.sum(dur == d) + 1.0) / (dur.size + len(DURATIONS)) for d in DURATIONS
        },
        rule_probs={k: (kinds.count(k) + 1.0) / (len(kinds) + len(RULE_KINDS)) for k in RULE_KINDS},
        p_agreement=1.0,
    )


@dataclass(frozen=True)
class ForecastScore:
    """Where the actual outcome falls in a forecast.

    Attributes
    ----------
    quantiles_bn_krw : dict of str to float
        ``q05`` .. ``q95`` of the first-year amount, bn KRW.
    pit : float
        Mid-PIT of the actual first-year amount, in [0, 1].
    in_50, in_90 : bool
        Actual amount inside the central 50 % / 90 % interval.
    crps_bn_krw : float
        CRPS of the first-year amount, bn KRW.
    crps_pct : float
        The same in % of the status quo.
    p_duration : float
        Predicted probability of the actual term (given an agreement).
    p_rule : float
        Predicted probability of the actual rule kind (given an agreement of 2+ years);
        NaN where the actual term is one year or no draw agreed on 2+ years.
    p_agreement : float
    n : int
        Sample size.
    """

    quantiles_bn_krw: dict[str, float]
    pit: float
    in_50: bool
    in_90: bool
    crps_bn_krw: float
    crps_pct: float
    p_duration: float
    p_rule: float
    p_agreement: float
    n: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (NaN as None)."""
        return {k: _plain(v) for k, v in self.__dict__.items()}


def score_forecast(forecast: Forecast, actual: Actual) -> ForecastScore:
    """Score a forecast against the actual outcome."""
    x, y = forecast.first_year_bn_krw, actual.amount_bn_krw
    crps = crps_sample(x, y)
    p_rule = (
        forecast.rule_probs.get(actual.rule_kind, math.nan)
        if actual.rule_kind is not None
        else math.nan
    )
    q = np.percentile(x, QUANTILES)
    return ForecastScore(
        quantiles_bn_krw={f"q{p:02d}": float(v) for p, v in zip(QUANTILES, q, strict=True)},
        pit=pit(x, y),
        in_50=inside(x, y, level=0.5),
        in_90=inside(x, y, level=0.9),
        crps_bn_krw=crps,
        crps_pct=100.0 * crps / actual.status_quo_bn_krw,
        p_duration=float(forecast.duration_probs.get(actual.duration_years, 0.0)),
        p_rule=float(p_rule),
        p_agreement=forecast.p_agreement,
        n=int(x.size),
    )


def _plain(v: Any) -> Any:
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, np.floating | np.integer | np.bool_):
        return v.item()
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    return v


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
