"""Compare scenarios held in memory: each one's distributions, each pair's differences.

The first scenario is the *reference*; every other scenario is compared with it. Differences
are always *scenario minus reference*. The metrics and events are those of
:mod:`smasim.experiments.comparison.metrics`, over the report years all scenarios share.

For each metric: the 5/25/50/75/95 % quantiles of each scenario (``numpy.percentile``, linear
interpolation, over the draws where the metric is defined); the difference of means and of
medians with a bootstrap confidence interval; the two-sample Kolmogorov-Smirnov statistic and
p-value (:func:`scipy.stats.ks_2samp`); the 1-Wasserstein distance
(:func:`scipy.stats.wasserstein_distance`, in the metric's unit); and ``P(B > A)``, the
probability that the scenario exceeds the reference (with ``P(B = A)``, ties, beside it: the
amounts have atoms, e.g. the frozen status quo). For each scenario: the probabilities of an
agreement in force before expiry, of an agreement by the hard stop and of a lapse, and of each
report year's amount exceeding each user threshold, with Wilson intervals
(:meth:`scipy.stats.binomtest` ``proportion_ci``); for each pair, the difference of the three
event probabilities with a bootstrap interval.

Pairs that share their draws (:func:`smasim.experiments.comparison.scenario.pairing`) are
compared draw by draw, others as independent samples. The bootstrap of metric ``m`` of pair
``p`` draws from ``default_rng(SeedSequence(bootstrap_seed, spawn_key=(p, m)))``; the event
probabilities follow the metrics (``m = len(metrics) + j``); see
:mod:`smasim.experiments.comparison.stats`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import scipy.stats

from smasim.experiments.comparison.metrics import (
    EVENTS,
    Metric,
    event_indicator,
    metric_values,
    metrics_for,
)
from smasim.experiments.comparison.options import CompareOptions
from smasim.experiments.comparison.results import (
    Comparison,
    Distribution,
    MetricDifference,
    PairComparison,
    ScenarioSummary,
    ThresholdCrossing,
)
from smasim.experiments.comparison.scenario import Scenario, pairing
from smasim.experiments.comparison.stats import (
    QUANTILES,
    bootstrap_differences,
    probability_greater,
    wilson,
)


def compare_scenarios(
    scenarios: Sequence[Scenario], *, options: CompareOptions | None = None
) -> Comparison:
    """Compare every scenario with the first.

    Parameters
    ----------
    scenarios : sequence of Scenario
        At least two; the first is the reference.
    options : CompareOptions, optional

    Returns
    -------
    Comparison

    Raises
    ------
    ValueError
        With fewer than two scenarios or no report year in common.
    """
    opts = CompareOptions() if options is None else options
    if len(scenarios) < 2:
        raise ValueError("scenarios: give at least two (result folders or configs)")
    years = sorted(set.intersection(*(set(s.report_years) for s in scenarios)))
    if not years:
        raise ValueError("scenarios: they share no report year")
    metrics = metrics_for(years, discount_rate=opts.discount_rate)
    values = [
        {m.key: metric_values(s, m, years=years, discount_rate=opts.discount_rate) for m in metrics}
        for s in scenarios
    ]
    summaries = tuple(
        _summarize(s, v, metrics, years, opts) for s, v in zip(scenarios, values, strict=True)
    )
    pairs = tuple(
        _compare_pair(scenarios[0], scenarios[p], values[0], values[p], metrics, opts, p - 1)
        for p in range(1, len(scenarios))
    )
    return Comparison(opts, tuple(years), metrics, summaries, pairs)


def _summarize(
    s: Scenario,
    values: dict[str, np.ndarray],
    metrics: tuple[Metric, ...],
    years: list[int],
    opts: CompareOptions,
) -> ScenarioSummary:
    dists = []
    for m in metrics:
        v = values[m.key]
        v = v[~np.isnan(v)]
        if v.size:
            qs = tuple(float(q) for q in np.percentile(v, QUANTILES))
            mean = float(np.mean(v))
        else:
            qs, mean = (math.nan,) * len(QUANTILES), math.nan
        dists.append(Distribution(m, int(v.size), mean, qs))
    level = opts.confidence_level
    probs = tuple(
        (e, wilson(int(event_indicator(s, e).sum()), s.draws, confidence_level=level))
        for e in EVENTS
    )
    crossings = tuple(
        ThresholdCrossing(
            y,
            float(t),
            wilson(int(np.sum(values[f"amount_{y}"] > t)), s.draws, confidence_level=level),
        )
        for t in opts.thresholds_bn_krw
        for y in years
    )
    return ScenarioSummary(
        label=s.label,
        name=s.name,
        description=s.description,
        source=s.source,
        folder=None if s.folder is None else str(s.folder),
        draws=s.draws,
        seed=s.seed,
        batch_size=s.batch_size,
        design=str(s.config["experiment"].get("design")),
        distributions=tuple(dists),
        probabilities=probs,
        thresholds=crossings,
    )


def _compare_pair(
    ref: Scenario,
    scen: Scenario,
    ref_values: dict[str, np.ndarray],
    scen_values: dict[str, np.ndarray],
    metrics: tuple[Metric, ...],
    opts: CompareOptions,
    index: int,
) -> PairComparison:
    paired, why = pairing(ref, scen)
    boot = {
        "paired": paired,
        "confidence_level": opts.confidence_level,
        "n_resamples": opts.n_resamples,
        "max_draws": opts.max_bootstrap_draws,
    }

    def rng(j: int) -> np.random.Generator:
        return np.random.default_rng(
            np.random.SeedSequence(opts.bootstrap_seed, spawn_key=(index, j))
        )

    diffs = []
    for j, m in enumerate(metrics):
        a, b = ref_values[m.key], scen_values[m.key]
        mean, median = bootstrap_differences(a, b, rng=rng(j), **boot)
        a_def, b_def = a[~np.isnan(a)], b[~np.isnan(b)]
        if a_def.size and b_def.size:
            ks = scipy.stats.ks_2samp(a_def, b_def)
            ks_d, ks_p = float(ks.statistic), float(ks.pvalue)
            w1 = float(scipy.stats.wasserstein_distance(a_def, b_def))
        else:
            ks_d = ks_p = w1 = math.nan
        gt, tie = probability_greater(a, b, paired=paired)
        diffs.append(MetricDifference(m, mean, median, ks_d, ks_p, w1, gt, tie))
    probs = []
    for j, e in enumerate(EVENTS, start=len(metrics)):
        a = event_indicator(ref, e).astype(float)
        b = event_indicator(scen, e).astype(float)
        (d,) = bootstrap_differences(a, b, statistics=("mean",), rng=rng(j), **boot)
        probs.append((e, d))
    return PairComparison(ref.label, scen.label, paired, why, tuple(diffs), tuple(probs))
