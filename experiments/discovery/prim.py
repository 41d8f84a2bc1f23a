"""PRIM: the patient rule induction method, the peeling trajectory and box statistics.

Friedman and Fisher (1999), as scenario discovery uses it (Bryant and Lempert 2010; EMA
Workbench's ``prim``): starting from the box holding every draw, each step removes the
``alpha`` share of the box's draws at the low or the high end of one parameter, whichever
leaves the highest share of cases of interest (density) in the box, until the box holds less
than ``min_support`` of all draws. Each step's box is a point of the trade-off between

* **coverage**: the share of all cases of interest that the box holds, and
* **density**: the share of the box's draws that are cases of interest,

from which an analyst picks a box (by default the densest with coverage of at least one
half). For each parameter a box restricts, a quasi-p-value says whether the restriction
matters: the one-sided binomial test (:func:`scipy.stats.binomtest`) of the box's cases
against the density of the box with that restriction lifted.

Loops run over peeling steps and parameters, never over draws. Only peeling is done; the
pasting step (widening the final box again) is not.

References
----------
Friedman, J. H. and Fisher, N. I. (1999). Bump hunting in high-dimensional data. Statistics
and Computing 9, 123-143.
Bryant, B. P. and Lempert, R. J. (2010). Thinking inside the box: a participatory,
computer-assisted approach to scenario discovery. Technological Forecasting and Social
Change 77(1), 34-49.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Box:
    """One box of the peeling trajectory.

    Attributes
    ----------
    lower, upper : ndarray, shape (d,)
        The box's limits per parameter (the data's range where not restricted).
    coverage, density, support : float
        Share of all cases inside; share of the box's draws that are cases; share of all
        draws inside.
    size : int
        Draws inside.
    """

    lower: np.ndarray
    upper: np.ndarray
    coverage: float
    density: float
    support: float
    size: int


def peel(
    x: np.ndarray,
    y: np.ndarray,
    *,
    alpha: float = 0.05,
    min_support: float = 0.05,
    on_step: Callable[[], None] | None = None,
) -> list[Box]:
    """The peeling trajectory of PRIM.

    Parameters
    ----------
    x : ndarray, shape (n, d)
        The draws' parameters.
    y : ndarray of bool, shape (n,)
        Whether each draw is a case of interest.
    alpha : float
        Share of the box's draws removed at each step, in (0, 0.5).
    min_support : float
        Peeling stops before the box holds less than this share of all draws.
    on_step : callable, optional
        Called after each step (about :func:`expected_steps` of them), e.g. by a progress bar.

    Returns
    -------
    list of Box
        From the whole data to the last box.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=bool)
    n, d = x.shape
    if n == 0 or y.size != n:
        raise ValueError("x, y: need one outcome per draw and at least one draw")
    if not 0.0 < alpha < 0.5:
        raise ValueError(f"alpha: must be in (0, 0.5), got {alpha}")
    if not 0.0 < min_support < 1.0:
        raise ValueError(f"min_support: must be in (0, 1), got {min_support}")
    cases = max(int(y.sum()), 1)
    lower, upper = x.min(axis=0), x.max(axis=0)
    inside = np.ones(n, dtype=bool)
    trajectory = [_box(lower, upper, inside, y, cases)]
    while True:
        rows = np.flatnonzero(inside)
        best = None  # (density, parameter, peeled from below, draws of the box kept)
        for j in range(d):
            xj = x[rows, j]
            lo_q, hi_q = np.quantile(xj, [alpha, 1.0 - alpha])
            for from_below, keep in ((True, _peel_low(xj, lo_q)), (False, _peel_high(xj, hi_q))):
                kept = int(keep.sum())
                if kept == rows.size or kept == 0 or kept < min_support * n:
                    continue
                density = float(y[rows[keep]].mean())
                if best is None or density > best[0]:
                    best = (density, j, from_below, keep)
        if best is None:
            return trajectory
        _, j, from_below, keep = best
        inside[rows[~keep]] = False
        lower, upper = lower.copy(), upper.copy()
        kept_x = x[rows[keep], j]
        if from_below:  # only the peeled side moves: the box is a product of intervals
            lower[j] = kept_x.min()
        else:
            upper[j] = kept_x.max()
        trajectory.append(_box(lower, upper, inside, y, cases))
        if on_step is not None:
            on_step()


def expected_steps(alpha: float, min_support: float) -> int:
    """About how many steps :func:`peel` takes.

    Each removes ~``alpha`` of the box's draws until less than ``min_support`` of them is
    left (ties remove more, so fewer steps).
    """
    return max(1, math.ceil(math.log(min_support) / math.log1p(-alpha)))


def _peel_low(xj: np.ndarray, q: float) -> np.ndarray:
    # with ties at the quantile (a categorical parameter), the whole lowest value goes
    return xj > q if q == xj.min() else xj >= q


def _peel_high(xj: np.ndarray, q: float) -> np.ndarray:
    return xj < q if q == xj.max() else xj <= q


def _box(lower, upper, inside, y, cases) -> Box:
    size = int(inside.sum())
    hits = int(y[inside].sum())
    return Box(
        lower=lower,
        upper=upper,
        coverage=hits / cases,
        density=hits / size if size else 0.0,
        support=size / inside.size,
        size=size,
    )


def select(trajectory: Sequence[Box], *, min_coverage: float = 0.5) -> int:
    """Index of the densest box whose coverage is at least ``min_coverage`` (the first on ties)."""
    eligible = [i for i, b in enumerate(trajectory) if b.coverage >= min_coverage]
    if not eligible:
        return 0
    return max(eligible, key=lambda i: (trajectory[i].density, -i))


def restrictions(x: np.ndarray, y: np.ndarray, box: Box) -> list[dict]:
    """The parameters ``box`` restricts, with their quasi-p-values (see the module notes).

    Returns
    -------
    list of dict
        ``index``, ``lower``, ``upper``, ``data_lower``, ``data_upper`` and ``p_value`` per
        restricted parameter, most significant first.
    """
    from scipy.stats import binomtest

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=bool)
    data_lower, data_upper = x.min(axis=0), x.max(axis=0)
    restricted = np.flatnonzero((box.lower > data_lower) | (box.upper < data_upper))
    within = (x >= box.lower) & (x <= box.upper)  # (n, d)
    inside = within.all(axis=1)
    hits, size = int(y[inside].sum()), int(inside.sum())
    out = []
    for j in restricted:
        others = np.delete(within, j, axis=1).all(axis=1)
        base = float(y[others].mean()) if others.any() else 0.0
        p = binomtest(hits, size, base, alternative="greater").pvalue if 0 < base < 1 else 1.0
        out.append(
            {
                "index": int(j),
                "lower": float(box.lower[j]),
                "upper": float(box.upper[j]),
                "data_lower": float(data_lower[j]),
                "data_upper": float(data_upper[j]),
                "p_value": float(p),
            }
        )
    return sorted(out, key=lambda r: r["p_value"])
