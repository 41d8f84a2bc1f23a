"""Paired and unpaired two-sample statistics: quantiles, Wilson intervals, P(B > A), bootstrap.

Pure functions of arrays (NaN marks a draw where the quantity is undefined); they know nothing
of scenarios. Differences are always *scenario minus reference*.

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
    itself. No global random state is used: the resampling draws from the ``rng`` given.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.stats

QUANTILES: tuple[int, ...] = (5, 25, 50, 75, 95)
"""Percent levels of the quantiles reported side by side."""


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
        msg = f"scenario: paired samples differ in size ({x.size} vs {y.size})"
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
