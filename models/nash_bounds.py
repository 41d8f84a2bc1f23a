"""Which packages can still win a draw's Nash bargain, decided on the (draws, K) tables.

The packages of a draw share its amount curves: with level factors of 1, a side's gain from
package ``k`` at first-year amount ``b`` is ``A(b) + s_k``, where ``A(b) = w m(z(b))`` is the
draw's curve and ``s_k = (1 - w) c_k - d`` a constant of the package. Two facts make a cheap,
exact screen:

* ``A`` is concave (``kappa >= 0``), so its tangent line at any point ``x`` bounds it from
  above for every package at once; the log Nash product of the two sides' tangent lines has
  its maximum on ``[lo_k, hi_k]`` in closed form (see :func:`tangent_nash`), an upper bound of
  package ``k``'s log Nash product;
* the package with the largest bound, at the bound's point, is a feasible agreement: its log
  Nash product there is a lower bound of the draw's best.

A package whose upper bound is below its draw's lower bound cannot win. The screen costs two
curve evaluations per draw and a few operations per package; :mod:`models.bargaining` then
solves only the packages that survive.
"""

from __future__ import annotations

import numpy as np

from smasim.models.acceptance import has_zone
from smasim.models.agents import Side, curvature_slope, curvature_value

# Rounding allowance of a log Nash product: log(g) computed from utilities of order 1 is off
# by about machine epsilon / g, which near a side's disagreement value (g -> 0) grows past
# any fixed margin. A package is dropped only when its bound, raised by ROUNDING / g for each
# side, stays below the draw's best lowered the same way, so the winner and ties survive.
ROUNDING = 1e-13


def nash_candidates(
    us: Side,
    kr: Side,
    rows: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    d_us: np.ndarray,
    d_kr: np.ndarray,
    alpha: np.ndarray,
) -> tuple[np.ndarray, np.ndarray | None]:
    """The packages that can hold their draw's largest Nash product, and where to start.

    Parameters
    ----------
    us, kr : Side
        The sides; draw ``i`` of the zone is their row ``rows[i]``.
    rows : ndarray of int, shape (n,)
    lo, hi : ndarray, shape (n, K)
        The zone per package, bn KRW; empty where not :func:`models.acceptance.has_zone`.
    d_us, d_kr : ndarray, shape (n,)
        Disagreement utilities.
    alpha : ndarray, shape (n,)
        U.S. Nash weight.

    Returns
    -------
    candidates : ndarray of bool, shape (n, K)
        The open packages less those that provably lose (all the open ones where the
        packages do not share their curves).
    start : ndarray, shape (n, K), or None
        The tangents' maximiser per package, a point of its zone near its optimum, bn KRW
        (NaN where undefined); None where the packages do not share their curves.
    """
    is_open = has_zone(lo, hi)
    if not (_shared_curves(us, rows) and _shared_curves(kr, rows)):
        return is_open, None
    n = lo.shape[0]
    a = alpha[:, None]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        x = _start(lo, hi, is_open)  # NaN for draws with no zone
        g_us, s_us = _curve(us, rows, x)
        g_kr, s_kr = _curve(kr, rows, x)
        # tangent_nash on the (n, K) tables, with the per-draw factors formed once and the
        # work done in place: this screen runs on every package of every deal round
        line_us = _shifts(us, rows, d_us - g_us)
        line_kr = _shifts(kr, rows, d_kr - g_kr)
        point = line_kr * (alpha / -s_kr)[:, None]
        point -= line_us * ((1.0 - alpha) / s_us)[:, None]
        point += x[:, None]
        np.clip(point, lo, hi, out=point)
        step = point - x[:, None]
        line_us += step * s_us[:, None]
        line_kr += np.multiply(step, s_kr[:, None], out=step)
        upper = np.log(line_us)
        upper *= a
        upper += (1.0 - a) * np.log(line_kr)
        upper += rounding_allowance(line_us, line_kr)
        upper[~is_open] = -np.inf
        # the package with the best bound, at its point, gives the draw's lower bound
        leader = np.argmax(np.where(np.isnan(upper), -np.inf, upper), axis=1)
        at = np.arange(n), leader
        x = point[at]
        gain_us = _curve(us, rows, x)[0] + _pick_shift(us, rows, leader, d_us)
        gain_kr = _curve(kr, rows, x)[0] + _pick_shift(kr, rows, leader, d_kr)
        best = alpha * np.log(gain_us) + (1.0 - alpha) * np.log(gain_kr)
        best -= rounding_allowance(gain_us, gain_kr)
    # a NaN bound (a gain of 0 at the tangent point) cannot drop a package
    return is_open & ~(upper < best[:, None]), point


def tangent_nash(g_us, s_us, g_kr, s_kr, alpha, x, lo, hi):
    """Maximum on ``[lo, hi]`` of the log Nash product of the sides' tangent lines at ``x``.

    With gains ``g`` and slopes ``s`` (``s_US > 0 > s_KR``) at ``x``, the lines are
    ``g + s t``; ``alpha log(g_US + s_US t) + (1 - alpha) log(g_KR + s_KR t)`` is concave in
    ``t``, and its derivative vanishes at ``t* = alpha g_KR / (-s_KR) - (1 - alpha) g_US /
    s_US``, so on the zone the maximum is at ``x + t*`` clipped to ``[lo, hi]``. Arguments
    broadcast together.

    Returns
    -------
    point : ndarray
        The maximiser on the zone, bn KRW (NaN where both slopes are 0).
    bound : ndarray
        The lines' log Nash product there: an upper bound of the concave gains' one.
    line_us, line_kr : ndarray
        The lines' values there.
    """
    point = np.clip(x + (alpha * g_kr / -s_kr - (1.0 - alpha) * g_us / s_us), lo, hi)
    step = point - x
    line_us, line_kr = g_us + s_us * step, g_kr + s_kr * step
    bound = alpha * np.log(line_us) + (1.0 - alpha) * np.log(line_kr)
    return point, bound, line_us, line_kr


def rounding_allowance(gain_us: np.ndarray, gain_kr: np.ndarray) -> np.ndarray:
    """How far rounding can move a log Nash product at these gains (see ``ROUNDING``)."""
    return ROUNDING * (1.0 / np.abs(gain_us) + 1.0 / np.abs(gain_kr)) + ROUNDING


def _shared_curves(side: Side, rows: np.ndarray) -> bool:
    """Whether the packages of every draw share the side's amount curve (level factors 1)."""
    return bool(np.all(side.level_factor[rows] == 1.0))


def _shifts(side: Side, rows: np.ndarray, d: np.ndarray) -> np.ndarray:
    """``(1 - w) c_k - d`` per draw and package, shape (n, K); ``d`` has shape (n,)."""
    w = side.amount_weight[rows, None]
    return (1.0 - w) * side.discrete_value[rows] - d[:, None]


def _pick_shift(side: Side, rows: np.ndarray, k: np.ndarray, d: np.ndarray) -> np.ndarray:
    """``(1 - w) c_k - d`` of package ``k[i]`` of each draw, shape (n,)."""
    return (1.0 - side.amount_weight[rows]) * side.discrete_value[rows, k] - d


def _curve(side: Side, rows: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The draws' curve ``w m(z(x))`` and its slope per bn KRW at ``x``, shape (n,)."""
    r, i = side.reservation[rows], side.ideal[rows]
    w, kappa = side.amount_weight[rows], side.curvature[rows]
    z = (x - r) / (i - r)
    return w * curvature_value(z, kappa), w * curvature_slope(z, kappa) / (i - r)


def _start(lo: np.ndarray, hi: np.ndarray, is_open: np.ndarray) -> np.ndarray:
    """Each draw's first tangent point: the middle of its widest zone, shape (n,)."""
    width = np.where(is_open, hi - lo, -np.inf)
    widest = np.argmax(width, axis=1)
    at = np.arange(lo.shape[0]), widest
    return 0.5 * (lo[at] + hi[at])
