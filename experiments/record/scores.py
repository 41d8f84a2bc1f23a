"""Scores of a predictive distribution, given as a sample, against one observed outcome.

The backtest judges a forecast (a Monte Carlo sample of the first-year amount) by where the
actual outcome falls in it and by a proper score:

* the probability integral transform (PIT) ``F(y)``, with ties at ``y`` counted half (the
  mid-PIT, so a forecast with an atom at the outcome scores 0.5 there, not 0 or 1);
* whether ``y`` lies inside the central 50 % and 90 % intervals (empirical quantiles);
* the continuous ranked probability score

.. math::

    \\mathrm{CRPS}(F, y) = \\int (F(x) - 1\\{x \\ge y\\})^2 \\, dx
                      = E|X - y| - \\tfrac12 E|X - X'|,

with ``X, X'`` independent draws of ``F`` (Gneiting and Raftery 2007, eq. 21). For the
empirical distribution of a sample ``x_(1) <= ... <= x_(n)`` the second term is

.. math::

    \\tfrac12 E|X - X'| = \\frac{1}{n^2} \\sum_{i=1}^{n} (2 i - n - 1) \\, x_{(i)},

an ``O(n log n)`` sum once sorted, instead of the ``O(n^2)`` double sum. The CRPS is in the
unit of the outcome (bn KRW here), lower is better, and reduces to the absolute error for a
point forecast.

References
----------
Gneiting, T. and Raftery, A. E. (2007). Strictly proper scoring rules, prediction, and
estimation. Journal of the American Statistical Association 102(477), 359-378.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats


def crps_sample(samples: np.ndarray, observed: float) -> float:
    """CRPS of the empirical distribution of ``samples`` at ``observed``.

    Parameters
    ----------
    samples : array_like, shape (n,)
        Draws of the forecast; NaNs are not allowed.
    observed : float
        The outcome, same unit as ``samples``.

    Returns
    -------
    float
        Same unit as ``samples``; 0 only for a sample concentrated on ``observed``.

    Examples
    --------
    >>> crps_sample([1.0], 3.0)   # a point forecast: the absolute error
    2.0
    """
    x = np.sort(np.asarray(samples, dtype=float).ravel())
    n = x.size
    if n == 0 or not np.all(np.isfinite(x)):
        msg = "samples: crps_sample needs a non-empty sample of finite values"
        raise ValueError(msg)
    spread = np.dot(2.0 * np.arange(1, n + 1) - n - 1.0, x) / n**2
    return float(np.mean(np.abs(x - observed)) - spread)


def pit(samples: np.ndarray, observed: float) -> float:
    """Mid-PIT ``P(X < y) + P(X = y) / 2`` of the sample's empirical distribution.

    Parameters
    ----------
    samples : array_like, shape (n,)
    observed : float

    Returns
    -------
    float
        In [0, 1]; near 0 or 1 when the outcome lies in a tail of the forecast.
    """
    x = np.asarray(samples, dtype=float).ravel()
    return float(np.mean(x < observed) + 0.5 * np.mean(x == observed))


def central_interval(samples: np.ndarray, *, level: float) -> tuple[float, float]:
    """Central interval of probability ``level`` (empirical quantiles, linear interpolation).

    Parameters
    ----------
    samples : array_like, shape (n,)
    level : float
        In (0, 1), e.g. 0.9 for the 5 % - 95 % interval.

    Returns
    -------
    lo, hi : float
        Same unit as ``samples``.
    """
    if not 0.0 < level < 1.0:
        msg = f"level: must be in (0, 1), got {level}"
        raise ValueError(msg)
    tail = 0.5 * (1.0 - level)
    lo, hi = np.quantile(np.asarray(samples, dtype=float), [tail, 1.0 - tail])
    return float(lo), float(hi)


def inside(samples: np.ndarray, observed: float, *, level: float) -> bool:
    """Whether ``observed`` lies in the closed central interval of probability ``level``."""
    lo, hi = central_interval(samples, level=level)
    return bool(lo <= observed <= hi)


LOG_SCORE_FLOOR = 1e-3
"""Probabilities below this count as this in a log score, so that one event a forecast ruled
out (probability 0 in a finite sample) costs log(0.001) = -6.9 rather than minus infinity."""


def log_score(p: float, *, floor: float = LOG_SCORE_FLOOR) -> float:
    """``log(max(p, floor))``: the (floored) log score of the probability given to what happened.

    Strictly proper above the floor; higher is better; NaN stays NaN (nothing scored).
    """
    return float(np.log(np.maximum(p, floor))) if not np.isnan(p) else float("nan")


def clopper_pearson(k: int, n: int, *, level: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval of a binomial rate ``k / n``, e.g. a coverage."""
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=level, method="exact")
    return float(ci.low), float(ci.high)


def paired_difference(a, b, *, level: float = 0.95) -> dict[str, float]:
    """Mean of ``a - b`` over paired cases with its Student-t interval.

    Parameters
    ----------
    a, b : array_like, shape (n,)
        Scores of two forecasts on the same cases (e.g. CRPS, lower is better).

    Returns
    -------
    dict
        ``mean``, ``low``, ``high`` (the interval; NaN for fewer than 2 cases) and ``n``.
    """
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    d = d[np.isfinite(d)]
    n = d.size
    if n < 2:
        return {"mean": float(d.mean()) if n else float("nan"), "low": float("nan"),
                "high": float("nan"), "n": n}  # fmt: skip
    half = stats.t.ppf(0.5 + level / 2, n - 1) * d.std(ddof=1) / np.sqrt(n)
    return {"mean": float(d.mean()), "low": float(d.mean() - half),
            "high": float(d.mean() + half), "n": n}  # fmt: skip


def mean_pit_test(pits) -> dict[str, float]:
    """Mean of the PIT values and the exact two-sided p-value of "no bias".

    A calibrated forecaster's PITs are independent uniforms, so their sum follows the
    Irwin-Hall distribution, ``F(x) = (1/n!) sum_{k=0}^{floor(x)} (-1)^k C(n, k) (x - k)^n``:
    a mean PIT far below 0.5 says the forecasts sit too high (the outcomes fall in their lower
    tails), far above, too low. Exact for the few negotiations of the record (n <= 30).

    Parameters
    ----------
    pits : array_like, shape (n,)
        PIT values in [0, 1]; NaN ignored.

    Returns
    -------
    dict
        ``mean`` (0.5 when unbiased), ``p_value`` (two-sided) and ``n``; NaN without values.
    """
    u = np.asarray(pits, dtype=float)
    u = u[np.isfinite(u)]
    n = u.size
    if n == 0 or n > 30:  # beyond 30 the alternating sum loses its precision
        return {"mean": float(u.mean()) if n else float("nan"), "p_value": float("nan"), "n": n}
    total = float(u.sum())
    k = np.arange(int(np.floor(total)) + 1)
    cdf = float(np.sum((-1.0) ** k * special.comb(n, k) * (total - k) ** n) / special.factorial(n))
    cdf = min(max(cdf, 0.0), 1.0)
    return {"mean": total / n, "p_value": min(1.0, 2.0 * min(cdf, 1.0 - cdf)), "n": n}
