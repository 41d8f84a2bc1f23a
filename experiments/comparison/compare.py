"""Compare outcome distributions between scenarios.

A *scenario* is one Monte Carlo run: a result folder written by ``smasim run`` (or by
:func:`run_comparison`), or a config run here. The first scenario is the *reference*; every
other scenario is compared with it. Differences are always *scenario minus reference*.

Metrics (one value per draw, NaN where undefined)

* ``amount_YYYY``: the amount paid in each report year the scenarios share, bn KRW.
* ``pv``: the present value of the path over those years, bn KRW valued in the first shared
  year ``y0``: ``PV = sum_y amount_y * (1 + r) ** -(y - y0)`` with the stated discount rate
  ``r`` (default 3 %/yr, a nominal government-bond order of magnitude; ``r = 0`` gives the
  plain sum, the run's ``total_bn_krw`` when the report years coincide).
* ``agreement_date``: date of the working-level agreement (NaN for draws without one; in
  computations, days since 1970-01-01; differences in days).
* ``lapse_months``: months without an SMA in force after expiry (0 without a lapse).

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

Pairing (common random numbers)
    The engine draws batch ``b`` of a run seeded ``s`` from ``SeedSequence(s, spawn_key=(b,))``
    and maps one design column per uncertain parameter through its inverse CDF. Two runs with
    the same seed, draw count, batch size, design, ratification attempts and the same set of
    uncertain parameters therefore share every uniform: draw ``i`` of one is draw ``i`` of
    the other wherever their parameters coincide. All of these are recorded in a run folder
    (``metadata.json``: seed, draws, batch size; ``config.json``: design, attempts,
    parameters), so :func:`pairing` decides from the folders alone. Paired runs are compared
    draw by draw: the bootstrap resamples draws jointly (``paired=True``) and ``P(B > A)`` is
    the share of draws where B exceeds A. Otherwise the runs are independent samples: the
    bootstrap resamples each run on its own and ``P(B > A)`` is over independent pairs, from
    the ranks (the Mann-Whitney ``U / (n_A n_B)`` without the half-weight for ties).

Bootstrap
    :func:`scipy.stats.bootstrap` with ``method="percentile"``, ``n_resamples=999`` and a
    vectorized statistic (means and medians ignore NaN, so a resample keeps the random number
    of draws where the metric is defined). BCa is avoided: its jackknife costs ``O(n^2)``
    for 100k draws and it is undefined for the degenerate (all-zero) bootstrap distribution of
    a scenario against itself, which the percentile method returns exactly as ``[0, 0]``. To
    bound the cost for 100k-draw runs (999 resamples of 100k draws take ~5 s per metric), at
    most ``max_bootstrap_draws`` (default 10,000) draws enter the bootstrap: a random
    subsample of the same fraction ``f`` of each run (the same rows of both when paired),
    and the interval is rescaled to the full sample as in the m-out-of-n bootstrap:
    ``estimate + sqrt(f) * (percentile - subsample estimate)``, valid for root-n statistics
    such as means and medians. Below the cap, the interval is scipy's percentile interval
    itself. The bootstrap of metric ``m`` of pair ``p`` draws from
    ``default_rng(SeedSequence(bootstrap_seed, spawn_key=(p, m)))``; the event probabilities
    follow the metrics (``m = len(metrics) + j``). No global random state is used.

Examples
--------
>>> from experiments.compare import run_comparison
>>> cmp = run_comparison(["sma12_may2024", "sma12_high_pressure"], draws=2000).comparison
>>> d = cmp.pairs[0].difference("amount_2030")  # high pressure minus the May 2024 baseline
>>> cmp.pairs[0].paired, d.mean.low < d.mean.estimate < d.mean.high
(True, True)
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import scipy.stats
from smasim.experiments.config.load import Config, bundled_configs, load_config, resolved_dict
from smasim.experiments.runs.store import StoreError, read_draws, read_json
from smasim.models.parameters import PARAMETERS
from smasim.simulation.executors import ExecutorKind
from smasim.simulation.montecarlo import RunResult

QUANTILES: tuple[int, ...] = (5, 25, 50, 75, 95)
"""Percent levels of the quantiles reported side by side."""

MetricKind = Literal["amount", "pv", "date", "months"]


# --- scenarios -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scenario:
    """One run to compare: its per-draw table and what it was run with.

    Attributes
    ----------
    label : str
        Unique name within a comparison (the experiment name, suffixed ``-2``, ``-3`` for
        repeats).
    source : str
        The argument it came from (a result folder or a config).
    folder : Path or None
        Its result folder, if it has one.
    config : mapping
        The resolved config (``config.json`` of a result folder).
    seed, draws, batch_size : int
        Root seed, number of draws and draws per batch of the run.
    columns : mapping of str to ndarray, each shape (draws,)
        The per-draw table (:func:`experiments.store.read_draws`).
    """

    label: str
    source: str
    folder: Path | None
    config: Mapping[str, Any]
    seed: int
    draws: int
    batch_size: int
    columns: Mapping[str, np.ndarray] = field(repr=False)

    @property
    def name(self) -> str:
        """The experiment name of the config."""
        return str(self.config["experiment"]["name"])

    @property
    def description(self) -> str:
        """The config's description."""
        return str(self.config["experiment"].get("description", ""))

    @property
    def report_years(self) -> tuple[int, ...]:
        """Calendar years of the run's contribution path."""
        a = self.config["agreement"]
        return tuple(range(int(a["report_first_year"]), int(a["report_last_year"]) + 1))

    @property
    def first_year(self) -> int:
        """First year the new SMA covers (or the first report year if not reported)."""
        start = int(self.config["agreement"]["start_year"])
        return start if start in self.report_years else self.report_years[0]

    @property
    def status_quo(self) -> float:
        """Amount paid when talks open, bn KRW per year."""
        return float(self.config["agreement"]["status_quo_bn_krw"])

    def calendar_date(self, key: str) -> np.datetime64 | None:
        """A date of the config's ``[calendar]`` (``expiry``, ``election``, ``hard_stop``)."""
        value = self.config["calendar"].get(key)
        return None if value is None else np.datetime64(str(value), "D")

    @property
    def crn_signature(self) -> tuple[Any, ...]:
        """What two runs must share for their draws to use the same random numbers.

        Seed, draws, batch size, design, ratification attempts (columns of noise) and the
        uncertain parameters in registry order (columns of the design).
        """
        ex = self.config["experiment"]
        params = self.config["parameters"]
        uncertain = tuple(p for p in PARAMETERS if isinstance(params.get(p), dict))
        return (
            self.seed,
            self.draws,
            self.batch_size,
            ex.get("design"),
            ex.get("ratification_attempts"),
            uncertain,
        )


def load_scenario(folder: str | Path, *, label: str | None = None) -> Scenario:
    """Read a result folder as a :class:`Scenario` (the draws checked against their checksum).

    Raises
    ------
    StoreError
        If the folder is not a complete result folder or its draws are damaged.
    """
    folder = Path(folder)
    if not (folder / "summary.json").is_file():
        raise StoreError(f"{folder}: not a complete result folder (no summary.json)")
    meta = read_json(folder / "metadata.json")
    config = read_json(folder / "config.json")
    columns = read_draws(folder)
    a = config["agreement"]
    years = range(int(a["report_first_year"]), int(a["report_last_year"]) + 1)
    needed = ["outcome", "agreement_date", "lapse_months", *(f"amount_{y}_bn_krw" for y in years)]
    missing = [c for c in needed if c not in columns]
    if missing:
        raise StoreError(
            f"{folder}: the per-draw table has no column {missing[0]!r}; "
            "rerun the scenario with its full per-draw table"
        )
    return Scenario(
        label=label or str(meta.get("experiment", config["experiment"]["name"])),
        source=str(folder),
        folder=folder,
        config=config,
        seed=int(meta["seed"]),
        draws=int(meta["draws"]),
        batch_size=int(meta["batch_size"]),
        columns=columns,
    )


def pairing(reference: Scenario, scenario: Scenario) -> tuple[bool, str]:
    """Whether two runs share their draws (common random numbers), and why (one sentence)."""
    a, b = reference.crn_signature, scenario.crn_signature
    names = ("seeds", "draw counts", "batch sizes", "designs", "ratification attempts")
    for name, x, y in zip(names, a, b, strict=False):
        if x != y:
            return False, f"independent samples: {name} differ ({x} vs {y})"
    if a[5] != b[5]:
        diff = sorted(set(a[5]) ^ set(b[5]))
        return False, (
            "independent samples: the uncertain parameters differ "
            f"({', '.join(diff)} is a constant in one run)"
        )
    return True, (
        f"paired draw by draw: common random numbers (seed {a[0]}, {a[1]:,} draws in batches "
        f"of {a[2]:,}, {a[3]} design over the same {len(a[5])} uncertain parameters)"
    )


# --- metrics ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Metric:
    """One per-draw outcome compared between scenarios.

    Attributes
    ----------
    key : str
        ``amount_YYYY``, ``pv``, ``agreement_date`` or ``lapse_months``.
    label : str
        Human-readable name.
    unit : str
        Unit of its values (``date`` for dates).
    difference_unit : str
        Unit of differences and of the Wasserstein distance (``days`` for dates).
    kind : {"amount", "pv", "date", "months"}
    year : int or None
        Calendar year of an ``amount`` metric.
    """

    key: str
    label: str
    unit: str
    difference_unit: str
    kind: MetricKind
    year: int | None = None


def metrics_for(years: Sequence[int], *, discount_rate: float) -> tuple[Metric, ...]:
    """The compared metrics for the shared report ``years``."""
    y0, y1 = years[0], years[-1]
    pv_label = f"present value {y0}-{y1} at {100 * discount_rate:g} %/yr"
    out = [Metric(f"amount_{y}", f"{y} amount", "bn KRW", "bn KRW", "amount", y) for y in years]
    out += [
        Metric("pv", pv_label, "bn KRW", "bn KRW", "pv"),
        Metric("agreement_date", "agreement date", "date", "days", "date"),
        Metric("lapse_months", "lapse length", "months", "months", "months"),
    ]
    return tuple(out)


def present_value(scenario: Scenario, *, years: Sequence[int], discount_rate: float) -> np.ndarray:
    """Present value of each draw's path over ``years``, valued in ``years[0]``.

    Returns
    -------
    ndarray, shape (draws,), bn KRW
        ``sum_y amount_y * (1 + discount_rate) ** -(y - years[0])``.
    """
    pv = np.zeros(scenario.draws)
    for y in years:
        pv += scenario.columns[f"amount_{y}_bn_krw"] * (1.0 + discount_rate) ** -(y - years[0])
    return pv


def metric_values(
    scenario: Scenario, metric: Metric, *, years: Sequence[int], discount_rate: float
) -> np.ndarray:
    """Per-draw values of ``metric``.

    Returns
    -------
    ndarray, shape (draws,), float
        In ``metric.unit`` (dates as days since 1970-01-01); NaN where undefined.
    """
    c = scenario.columns
    if metric.kind == "amount":
        return np.asarray(c[f"amount_{metric.year}_bn_krw"], dtype=float)
    if metric.kind == "pv":
        return present_value(scenario, years=years, discount_rate=discount_rate)
    if metric.kind == "date":
        return dates_as_days(c["agreement_date"])
    return np.asarray(c["lapse_months"], dtype=float)


def dates_as_days(dates: np.ndarray) -> np.ndarray:
    """``datetime64`` values, shape (n,), as float days since 1970-01-01 (NaT -> NaN)."""
    d = np.asarray(dates).astype("datetime64[D]")
    days = d.astype(np.int64).astype(float)
    days[np.isnat(d)] = np.nan
    return days


def days_as_date(days: float) -> str | None:
    """Days since 1970-01-01 as an ISO date (rounded to the nearest day); None for NaN."""
    if not math.isfinite(days):
        return None
    return str(np.datetime64(math.floor(days + 0.5), "D"))


@dataclass(frozen=True)
class Event:
    """A yes/no outcome of a draw whose probability is compared."""

    key: str
    label: str


EVENTS: tuple[Event, ...] = (
    Event("agreement_before_expiry", "agreement in force before expiry"),
    Event("agreement_by_hard_stop", "agreement by the hard stop"),
    Event("lapse", "lapse after expiry"),
)


def event_indicator(scenario: Scenario, event: Event) -> np.ndarray:
    """Whether each draw has ``event``: bool ndarray, shape (draws,)."""
    c = scenario.columns
    if event.key == "agreement_before_expiry":
        return np.asarray(c["outcome"]) == 0
    if event.key == "agreement_by_hard_stop":
        return np.asarray(c["outcome"]) <= 1
    return np.asarray(c["lapse_months"]) > 0


# --- results ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Interval:
    """A point estimate with its confidence interval, in the quantity's unit."""

    estimate: float
    low: float
    high: float

    @property
    def width(self) -> float:
        """``high - low``."""
        return self.high - self.low


@dataclass(frozen=True)
class Proportion:
    """A probability with its Wilson confidence interval.

    Attributes
    ----------
    p, low, high : float
        Fraction of draws and interval bounds (fractions, 0-1).
    successes, trials : int
    """

    p: float
    low: float
    high: float
    successes: int
    trials: int


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
        At the :data:`QUANTILES` percent levels, same unit.
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
        Whether the runs share their draws (see :func:`pairing`).
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
class CompareOptions:
    """Settings of a comparison.

    Attributes
    ----------
    thresholds_bn_krw : tuple of float
        Amounts (bn KRW per year) whose crossing probability is reported for each year.
    discount_rate : float
        Of the present value, fraction per year (> -1).
    confidence_level : float
        Of every interval (0-1).
    n_resamples : int
        Bootstrap resamples.
    max_bootstrap_draws : int
        Most draws of one run entering the bootstrap (see the module notes).
    bootstrap_seed : int
        Root of the bootstrap's :class:`numpy.random.SeedSequence` (>= 0).
    """

    thresholds_bn_krw: tuple[float, ...] = ()
    discount_rate: float = 0.03
    confidence_level: float = 0.95
    n_resamples: int = 999
    max_bootstrap_draws: int = 10_000
    bootstrap_seed: int = 0

    def __post_init__(self) -> None:
        if any(not math.isfinite(t) for t in self.thresholds_bn_krw):
            raise ValueError("threshold: must be a finite amount in bn KRW")
        if not (math.isfinite(self.discount_rate) and self.discount_rate > -1.0):
            raise ValueError(f"discount_rate: must be > -1, got {self.discount_rate}")
        if not 0.0 < self.confidence_level < 1.0:
            raise ValueError(f"confidence_level: must be in (0, 1), got {self.confidence_level}")
        if self.n_resamples < 99:
            raise ValueError(f"n_resamples: must be at least 99, got {self.n_resamples}")
        if self.max_bootstrap_draws < 100:
            raise ValueError(
                f"max_bootstrap_draws: must be at least 100, got {self.max_bootstrap_draws}"
            )
        if self.bootstrap_seed < 0:
            raise ValueError(f"bootstrap_seed: must be >= 0, got {self.bootstrap_seed}")


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
        from smasim.experiments.comparison.report import comparison_dict

        return comparison_dict(self)


# --- statistics ------------------------------------------------------------------------------
def wilson(successes: int, trials: int, *, confidence_level: float = 0.95) -> Proportion:
    """Probability ``successes / trials`` with its Wilson score interval."""
    ci = scipy.stats.binomtest(int(successes), int(trials)).proportion_ci(
        confidence_level=confidence_level, method="wilson"
    )
    return Proportion(successes / trials, float(ci.low), float(ci.high), successes, trials)


def probability_greater(
    reference: np.ndarray, scenario: np.ndarray, *, paired: bool
) -> tuple[float, float]:
    """P(scenario > reference) and P(scenario = reference), ignoring NaN.

    Parameters
    ----------
    reference : ndarray, shape (n_a,)
    scenario : ndarray, shape (n_b,)
        ``n_a == n_b`` when paired.
    paired : bool
        Draw by draw (over draws where both are defined) or over all independent pairs.

    Returns
    -------
    p_greater, p_tie : float
        Fractions; NaN without defined values.

    Notes
    -----
    Unpaired, ``p_greater + p_tie / 2`` is the Mann-Whitney ``U / (n_a n_b)`` of the scenario
    sample; it is computed exactly from the sorted reference in ``O(n log n)``.
    """
    x = np.asarray(reference, dtype=float)
    y = np.asarray(scenario, dtype=float)
    if paired:
        both = ~np.isnan(x) & ~np.isnan(y)
        if not both.any():
            return math.nan, math.nan
        return float(np.mean(y[both] > x[both])), float(np.mean(y[both] == x[both]))
    xs = np.sort(x[~np.isnan(x)])
    y = y[~np.isnan(y)]
    if xs.size == 0 or y.size == 0:
        return math.nan, math.nan
    below = np.searchsorted(xs, y, side="left")
    at_or_below = np.searchsorted(xs, y, side="right")
    pairs = float(xs.size) * float(y.size)
    return float(below.sum()) / pairs, float((at_or_below - below).sum()) / pairs


def nanmedian(a: np.ndarray, axis: int = -1) -> np.ndarray:
    """Median along ``axis`` ignoring NaN: :func:`numpy.nanmedian`, vectorized.

    ``numpy.nanmedian`` loops over the other axes in Python when NaN are present (~1 ms per
    bootstrap resample); this sorts once (NaN last) and averages the middle two of the
    defined values of each slice. All-NaN slices give NaN.
    """
    a = np.asarray(a, dtype=float)
    nan = np.isnan(a)
    if not nan.any():
        return np.median(a, axis=axis)
    s = np.moveaxis(np.sort(a, axis=axis), axis, -1)
    k = np.moveaxis(np.sum(~nan, axis=axis, keepdims=True), axis, -1)
    lo = np.take_along_axis(s, np.maximum((k - 1) // 2, 0), axis=-1)[..., 0]
    hi = np.take_along_axis(s, np.maximum(k // 2, 0), axis=-1)[..., 0]
    with np.errstate(invalid="ignore"):
        return np.where(k[..., 0] > 0, (lo + hi) / 2, np.nan)


def nanmean(a: np.ndarray, axis: int = -1) -> np.ndarray:
    """Mean along ``axis`` ignoring NaN (:func:`numpy.mean` when there is none, faster)."""
    a = np.asarray(a, dtype=float)
    return np.nanmean(a, axis=axis) if np.isnan(a).any() else np.mean(a, axis=axis)


_STATISTICS: dict[str, Callable[..., np.ndarray]] = {"mean": nanmean, "median": nanmedian}


def bootstrap_differences(
    reference: np.ndarray,
    scenario: np.ndarray,
    *,
    statistics: Sequence[Literal["mean", "median"]] = ("mean", "median"),
    paired: bool,
    confidence_level: float = 0.95,
    n_resamples: int = 999,
    max_draws: int = 10_000,
    rng: np.random.Generator | int | None = None,
) -> tuple[Interval, ...]:
    """Differences ``stat(scenario) - stat(reference)`` with percentile bootstrap intervals.

    Parameters
    ----------
    reference : ndarray, shape (n_a,)
    scenario : ndarray, shape (n_b,)
        NaN marks draws where the quantity is undefined; the statistics ignore them.
        ``n_a == n_b`` when paired.
    statistics : sequence of {"mean", "median"}
    paired : bool
        Resample draws jointly (common random numbers) or each sample on its own.
    confidence_level : float
    n_resamples : int
    max_draws : int
        Most draws of one sample entering the bootstrap; larger samples are subsampled by
        a common fraction ``f`` and the interval rescaled by ``sqrt(f)`` around the
        full-sample estimate (see the module notes).
    rng : numpy.random.Generator or int, optional
        Source of the resampling (normalised once by :func:`numpy.random.default_rng`).

    Returns
    -------
    tuple of Interval, one per statistic
        In the unit of the inputs. Below ``max_draws`` the bounds are those of
        :func:`scipy.stats.bootstrap` (``method="percentile"``, ``vectorized=True``) itself.
    """
    rng = np.random.default_rng(rng)
    x = np.asarray(reference, dtype=float)
    y = np.asarray(scenario, dtype=float)
    if paired and x.size != y.size:
        msg = f"paired samples differ in size ({x.size} vs {y.size})"
        raise ValueError(msg)
    funcs = [_STATISTICS[s] for s in statistics]

    def diff(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN resamples give NaN
            return np.stack([f(b, axis=axis) - f(a, axis=axis) for f in funcs])

    estimate = diff(x, y)
    nmax, nmin = max(x.size, y.size), min(x.size, y.size)
    frac = min(1.0, max(max_draws / nmax, min(1.0, 1000.0 / nmin)))
    if frac < 1.0:
        if paired:
            rows = rng.choice(x.size, size=math.ceil(frac * x.size), replace=False)
            xs, ys = x[rows], y[rows]
        else:
            xs = x[rng.choice(x.size, size=math.ceil(frac * x.size), replace=False)]
            ys = y[rng.choice(y.size, size=math.ceil(frac * y.size), replace=False)]
        center = diff(xs, ys)
    else:
        xs, ys = x, y
    batch = max(1, min(n_resamples, 4_000_000 // max(xs.size, ys.size)))
    res = scipy.stats.bootstrap(
        (xs, ys),
        diff,
        paired=paired,
        vectorized=True,
        n_resamples=n_resamples,
        batch=None if batch == n_resamples else batch,
        confidence_level=confidence_level,
        method="percentile",
        rng=rng,
    )
    low = np.asarray(res.confidence_interval.low, dtype=float)
    high = np.asarray(res.confidence_interval.high, dtype=float)
    if frac < 1.0:
        scale = math.sqrt(xs.size / x.size)
        low, high = estimate + scale * (low - center), estimate + scale * (high - center)
    return tuple(
        Interval(float(e), float(lo), float(hi))
        for e, lo, hi in zip(estimate, low, high, strict=True)
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
        raise ValueError("compare: give at least two scenarios (result folders or configs)")
    years = sorted(set.intersection(*(set(s.report_years) for s in scenarios)))
    if not years:
        raise ValueError("compare: the scenarios share no report year")
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


# --- running a comparison --------------------------------------------------------------------
@dataclass(frozen=True)
class ComparisonRun:
    """A finished ``smasim compare``.

    Attributes
    ----------
    comparison : Comparison
    scenarios : tuple of Scenario
    folder : Path or None
        The output folder (``--out``), if one was written.
    files : tuple of Path
        What was written into it: ``report.md``, ``comparison.json``, the PNG figures, and a
        run folder under ``runs/`` per config run here.
    """

    comparison: Comparison
    scenarios: tuple[Scenario, ...]
    folder: Path | None
    files: tuple[Path, ...]


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
) -> ComparisonRun:
    """Load or run each scenario, compare them with the first, optionally write a report.

    Parameters
    ----------
    sources : sequence of str or Path
        At least two. Each a result folder (a directory with ``summary.json``) or a config
        (TOML path or bundled name), which is run here.
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

    Returns
    -------
    ComparisonRun

    Raises
    ------
    ConfigError, StoreError, ValueError
        One line naming the bad input; raised before anything is run or written.
    """
    opts = CompareOptions() if options is None else options
    if len(sources) < 2:
        raise ValueError("compare: give at least two scenarios (result folders or configs)")
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
        out = Path(out)
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise StoreError(f"out: {out} already exists and is not empty; choose another --out")
        from smasim.experiments.comparison.plots import require_matplotlib

        require_matplotlib()
    loaded = {
        i: load_scenario(s)
        for i, (s, k) in enumerate(zip(sources, kinds, strict=True))
        if k == "folder"
    }
    names = [
        loaded[i].name if i in loaded else configs[i].experiment.name for i in range(len(sources))
    ]
    labels = _unique_labels(names)
    first_folder = next((loaded[i] for i in sorted(loaded)), None)
    first_config = next((configs[i] for i in sorted(configs)), None)
    if seed is None:
        seed = first_folder.seed if first_folder else first_config.experiment.seed
    if draws is None:
        draws = first_folder.draws if first_folder else first_config.experiment.draws

    tmp = None
    if out is not None:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
        except OSError as exc:
            raise StoreError(f"out: cannot create {out}: {exc.strerror}") from None
    try:
        scenarios = []
        for i, src in enumerate(sources):
            if i in loaded:
                scenarios.append(replace(loaded[i], label=labels[i]))
                continue
            scenarios.append(
                _run_config(
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
                )
            )
        comparison = compare_scenarios(scenarios, options=opts)
        files: list[Path] = []
        if tmp is not None:
            files = _write_outputs(comparison, scenarios, tmp=tmp, out=out)
            if out.exists():
                out.rmdir()
            os.replace(tmp, out)
    except BaseException:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    return ComparisonRun(comparison, tuple(scenarios), out, tuple(files))


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
) -> Scenario:
    from smasim.experiments.runs.runner import run_experiment

    result, _ = run_experiment(
        source,
        draws=draws,
        seed=seed,
        workers=workers,
        out=write_to,
        executor=executor,
        scheduler=scheduler,
    )
    return scenario_from_result(result, cfg, source=source, label=label, folder=folder)


def scenario_from_result(
    result: RunResult,
    config: Config,
    *,
    source: str,
    label: str | None = None,
    folder: Path | None = None,
) -> Scenario:
    """A :class:`Scenario` from a run held in memory, without a result folder.

    ``result`` and ``config`` are what :func:`experiments.runner.run_experiment` returns.

    Parameters
    ----------
    result : RunResult
    config : Config
        The config it was run from (its seed and draws are taken from ``result``).
    source : str
        Where it came from (for the report).
    label : str, optional
        Default: the experiment name.
    folder : Path, optional
        Its result folder, if one was written.
    """
    resolved = resolved_dict(config)
    resolved["experiment"]["draws"], resolved["experiment"]["seed"] = result.draws, result.seed
    return Scenario(
        label=label or result.experiment.name,
        source=source,
        folder=folder,
        config=resolved,
        seed=result.seed,
        draws=result.draws,
        batch_size=result.experiment.batch_size,
        columns=result.columns,
    )


def _write_outputs(
    comparison: Comparison, scenarios: Sequence[Scenario], *, tmp: Path, out: Path
) -> list[Path]:
    from smasim.experiments.comparison.plots import plot_scenarios
    from smasim.experiments.comparison.report import write_report

    figures = plot_scenarios(scenarios, folder=tmp)
    report = write_report(comparison, folder=tmp, figures=figures)
    data = tmp / "comparison.json"
    data.write_text(json.dumps(comparison.to_dict(), indent=2) + "\n", encoding="utf-8")
    written = [report, data, *figures.paths()]
    written += [tmp / "runs" / s.label for s in scenarios if (tmp / "runs" / s.label).is_dir()]
    return [out / p.relative_to(tmp) for p in written]
