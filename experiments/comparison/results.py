"""What a comparison found, as frozen records, and their JSON form (``comparison.json``).

A :class:`Comparison` holds one :class:`ScenarioSummary` per scenario (distributions, event
probabilities, threshold crossings) and one :class:`PairComparison` per later scenario against
the reference (differences scenario minus reference). :func:`comparison_dict` turns it into
JSON-ready data: NaN as null, dates as ISO strings, every block naming its unit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from smasim.experiments.comparison.metrics import Event, Metric, days_as_date
from smasim.experiments.comparison.options import CompareOptions
from smasim.experiments.comparison.stats import QUANTILES, Interval, Proportion


@dataclass(frozen=True)
class Distribution:
    """One metric's distribution in one scenario.

    Attributes
    ----------
    metric : Metric
    defined : int
        Draws where the metric is defined.
    mean : float
        In ``metric.unit`` (days since 1970-01-01 for dates); NaN if never defined.
    quantiles : tuple of float, shape (len(QUANTILES),)
        At the :data:`~smasim.experiments.comparison.stats.QUANTILES` percent levels, same unit.
    """

    metric: Metric
    defined: int
    mean: float
    quantiles: tuple[float, ...]


@dataclass(frozen=True)
class ThresholdCrossing:
    """P(amount paid in ``year`` > ``threshold_bn_krw``) in one scenario."""

    year: int
    threshold_bn_krw: float
    probability: Proportion


@dataclass(frozen=True)
class ScenarioSummary:
    """What a comparison reports about one scenario on its own."""

    label: str
    name: str
    description: str
    source: str
    folder: str | None
    draws: int
    seed: int
    batch_size: int
    design: str
    distributions: tuple[Distribution, ...]
    probabilities: tuple[tuple[Event, Proportion], ...]
    thresholds: tuple[ThresholdCrossing, ...]

    def distribution(self, key: str) -> Distribution:
        """The distribution of metric ``key``."""
        return next(d for d in self.distributions if d.metric.key == key)

    def probability(self, key: str) -> Proportion:
        """The probability of event ``key``."""
        return next(p for e, p in self.probabilities if e.key == key)


@dataclass(frozen=True)
class MetricDifference:
    """How one metric differs between a scenario and the reference (scenario minus reference).

    Attributes
    ----------
    metric : Metric
    mean, median : Interval
        Difference of means and of medians, in ``metric.difference_unit``, with bootstrap
        intervals.
    ks_statistic : float
        Two-sample Kolmogorov-Smirnov statistic D (dimensionless, 0-1).
    ks_pvalue : float
    wasserstein : float
        1-Wasserstein distance, in ``metric.difference_unit``.
    p_greater, p_tie : float
        P(scenario > reference) and P(scenario = reference) (fractions): over draws where
        both are defined when paired, over independent pairs otherwise.
    """

    metric: Metric
    mean: Interval
    median: Interval
    ks_statistic: float
    ks_pvalue: float
    wasserstein: float
    p_greater: float
    p_tie: float


@dataclass(frozen=True)
class PairComparison:
    """One scenario against the reference.

    Attributes
    ----------
    reference, scenario : str
        Labels.
    paired : bool
        Whether the runs share their draws (see
        :func:`smasim.experiments.comparison.scenario.pairing`).
    pairing : str
        Why (one sentence).
    metrics : tuple of MetricDifference
    probabilities : tuple of (Event, Interval)
        Difference of event probabilities (fractions) with bootstrap intervals.
    """

    reference: str
    scenario: str
    paired: bool
    pairing: str
    metrics: tuple[MetricDifference, ...]
    probabilities: tuple[tuple[Event, Interval], ...]

    def difference(self, key: str) -> MetricDifference:
        """The difference of metric ``key``."""
        return next(m for m in self.metrics if m.metric.key == key)


@dataclass(frozen=True)
class Comparison:
    """Scenarios compared with the first (the reference).

    Attributes
    ----------
    options : CompareOptions
    years : tuple of int
        Report years all scenarios share; the present value is over them, valued in
        ``years[0]``.
    metrics : tuple of Metric
    scenarios : tuple of ScenarioSummary
        The reference first.
    pairs : tuple of PairComparison
        Each later scenario against the reference.
    """

    options: CompareOptions
    years: tuple[int, ...]
    metrics: tuple[Metric, ...]
    scenarios: tuple[ScenarioSummary, ...]
    pairs: tuple[PairComparison, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the ``--json`` output; NaN as null; dates as ISO strings)."""
        return comparison_dict(self)


# --- JSON ------------------------------------------------------------------------------------
def _num(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _value(metric: Metric, x: float) -> float | str | None:
    return days_as_date(x) if metric.kind == "date" else _num(x)


def _interval_dict(iv: Interval) -> dict[str, float | None]:
    return {"estimate": _num(iv.estimate), "ci_low": _num(iv.low), "ci_high": _num(iv.high)}


def _proportion(p: Proportion) -> dict[str, Any]:
    return {
        "p": _num(p.p),
        "ci_low": _num(p.low),
        "ci_high": _num(p.high),
        "successes": p.successes,
        "trials": p.trials,
    }


def comparison_dict(c: Comparison) -> dict[str, Any]:
    """A comparison as JSON-ready data (the ``smasim compare --json`` output).

    NaN becomes null; dates are ISO strings (differences stay in days); probabilities are
    fractions; every block names its unit.
    """
    o = c.options
    scenarios = []
    for s in c.scenarios:
        scenarios.append(
            {
                "label": s.label,
                "experiment": s.name,
                "description": s.description,
                "source": s.source,
                "folder": s.folder,
                "draws": s.draws,
                "seed": s.seed,
                "batch_size": s.batch_size,
                "design": s.design,
                "metrics": {
                    d.metric.key: {
                        "unit": d.metric.unit,
                        "defined": d.defined,
                        "mean": _value(d.metric, d.mean),
                        "quantiles": {
                            f"q{q:02d}": _value(d.metric, v)
                            for q, v in zip(QUANTILES, d.quantiles, strict=True)
                        },
                    }
                    for d in s.distributions
                },
                "probabilities": {e.key: _proportion(p) for e, p in s.probabilities},
                "thresholds": [
                    {"year": t.year, "threshold_bn_krw": t.threshold_bn_krw}
                    | _proportion(t.probability)
                    for t in s.thresholds
                ],
            }
        )
    pairs = []
    for p in c.pairs:
        pairs.append(
            {
                "reference": p.reference,
                "scenario": p.scenario,
                "paired": p.paired,
                "pairing": p.pairing,
                "metrics": {
                    d.metric.key: {
                        "unit": d.metric.difference_unit,
                        "mean_difference": _interval_dict(d.mean),
                        "median_difference": _interval_dict(d.median),
                        "ks_statistic": _num(d.ks_statistic),
                        "ks_pvalue": _num(d.ks_pvalue),
                        "wasserstein": _num(d.wasserstein),
                        "p_greater": _num(d.p_greater),
                        "p_tie": _num(d.p_tie),
                    }
                    for d in p.metrics
                },
                "probability_differences": {e.key: _interval_dict(d) for e, d in p.probabilities},
            }
        )
    return {
        "reference": c.scenarios[0].label,
        "years": list(c.years),
        "metrics": {
            m.key: {"label": m.label, "unit": m.unit, "difference_unit": m.difference_unit}
            for m in c.metrics
        },
        "settings": {
            "quantiles_percent": list(QUANTILES),
            "present_value": {
                "discount_rate_per_year": o.discount_rate,
                "value_year": c.years[0],
                "years": [c.years[0], c.years[-1]],
            },
            "confidence_level": o.confidence_level,
            "bootstrap": {
                "method": "percentile",
                "n_resamples": o.n_resamples,
                "max_draws": o.max_bootstrap_draws,
                "seed": o.bootstrap_seed,
            },
            "thresholds_bn_krw": list(o.thresholds_bn_krw),
        },
        "units": {
            "amounts": "bn KRW per year",
            "present_value": f"bn KRW (value in {c.years[0]})",
            "dates": "ISO date; differences in days",
            "lapse": "months",
            "probabilities": "fraction (0-1)",
            "ks_statistic": "dimensionless (0-1)",
        },
        "scenarios": scenarios,
        "comparisons": pairs,
    }
