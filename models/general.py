"""Bargaining solutions for any utility functions, with :mod:`scipy.optimize`.

The reference against which the vectorized paths of :mod:`models.bargaining` are tested, and
the solver to use for utility families the fast paths do not know. It solves one problem at a
time: packages ``k = 0 .. K-1``, each with an interval ``[lo_k, hi_k]`` of first-year amounts
on which ``u_us(b, k)`` increases and ``u_kr(b, k)`` decreases. The concepts and the package
choice are those of :mod:`models.bargaining`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.differentiate import derivative
from scipy.optimize import brentq

from smasim.models.acceptance import has_zone
from smasim.models.bargaining import GAIN_FLOOR

UtilityFn = Callable[[np.ndarray, int], np.ndarray]
_XTOL = 1e-14
_RTOL = 4 * np.finfo(float).eps


@dataclass(frozen=True)
class GeneralProblem:
    """A bargaining problem over packages, utilities given as functions.

    Parameters
    ----------
    u_us, u_kr : callable
        ``u(b, k)``: utility of first-year amount ``b`` (array, bn KRW) with package ``k``.
        Must be smooth in ``b`` near ``[lo_k, hi_k]``.
    lo, hi : sequence of float, length K
        Zone per package, bn KRW; empty where not :func:`models.acceptance.has_zone`.
    d_us, d_kr : float
        Disagreement utilities.
    """

    u_us: UtilityFn
    u_kr: UtilityFn
    lo: Sequence[float]
    hi: Sequence[float]
    d_us: float = 0.0
    d_kr: float = 0.0


@dataclass(frozen=True)
class Solution:
    """Result of :func:`solve`.

    Attributes
    ----------
    base : float
        First-year amount, bn KRW (NaN if no package has a zone).
    package : int
        Chosen package, -1 if none.
    u_us, u_kr : float
        Utilities at the solution.
    converged : bool
    message : str
    """

    base: float
    package: int
    u_us: float
    u_kr: float
    converged: bool
    message: str


def solve(
    problem: GeneralProblem,
    *,
    concept: str,
    alpha: float = 0.5,
    delta_us: float = 0.9,
    delta_kr: float = 0.9,
    us_first: bool = True,
    rounds_left: int = 1,
) -> Solution:
    """Solve a bargaining problem by the named concept.

    Parameters
    ----------
    problem : GeneralProblem
    concept : str
        A key of :data:`GENERAL_CONCEPTS` (the same names as :data:`models.bargaining.CONCEPTS`).
    alpha : float
        U.S. Nash weight in (0, 1).
    delta_us, delta_kr : float
        Per-round discount factors in (0, 1).
    us_first : bool
        Whether the U.S. proposes first.
    rounds_left : int
        Rounds up to the deadline (finite-horizon Rubinstein).

    Returns
    -------
    Solution
    """
    if concept not in GENERAL_CONCEPTS:
        msg = f"concept: unknown solution concept {concept!r}"
        raise ValueError(msg)
    pkgs = [k for k in range(len(problem.lo)) if has_zone(problem.lo[k], problem.hi[k])]
    if not pkgs:
        return Solution(np.nan, -1, np.nan, np.nan, True, "empty zone of agreement")

    def g_us(b, k):
        return float(problem.u_us(np.asarray(b, dtype=float), k)) - problem.d_us

    def g_kr(b, k):
        return float(problem.u_kr(np.asarray(b, dtype=float), k)) - problem.d_kr

    max_us = max(g_us(problem.hi[k], k) for k in pkgs)
    max_kr = max(g_kr(problem.lo[k], k) for k in pkgs)
    p = _Problem(
        problem, g_us, g_kr, max_us if max_us > 0 else 1.0, max_kr if max_kr > 0 else 1.0,
        alpha, delta_us, delta_kr, us_first, rounds_left,
    )  # fmt: skip
    point, score = GENERAL_CONCEPTS[concept]
    best = None
    for k in pkgs:
        b = point(p, k, float(problem.lo[k]), float(problem.hi[k]))
        gu, gk = g_us(b, k), g_kr(b, k)
        s = score(p, gu, gk)
        if best is None or s > best[0]:
            best = (s, k, b, gu, gk)
    _, k, b, gu, gk = best
    return Solution(b, k, gu + problem.d_us, gk + problem.d_kr, True, "ok")


@dataclass(frozen=True)
class _Problem:
    """What the concepts below read: the gains (callables of ``(b, k)``) and the terms."""

    problem: GeneralProblem
    g_us: Callable[[float, int], float]
    g_kr: Callable[[float, int], float]
    max_us: float  # largest gain over all packages (1 where it is 0)
    max_kr: float
    alpha: float
    delta_us: float
    delta_kr: float
    us_first: bool
    rounds_left: int


def _ks(p: _Problem, k: int, lo: float, hi: float) -> float:
    def balance(x):
        return p.g_us(x, k) / p.max_us - p.g_kr(x, k) / p.max_kr

    return _root_or_end(balance, lo, hi, False)


def _nash_score(p: _Problem, gu: float, gk: float) -> float:
    return _log_nash(gu, gk, p.alpha)


# The reference solver's registry: concept -> (point on package k's zone, score of a package).
GENERAL_CONCEPTS: dict[str, tuple[Callable, Callable]] = {
    "nash": (lambda p, k, lo, hi: _nash(p.problem, k, lo, hi, p.alpha), _nash_score),
    "kalai_smorodinsky": (_ks, lambda p, gu, gk: min(gu / p.max_us, gk / p.max_kr)),
    "rubinstein": (
        lambda p, k, lo, hi: _rubinstein(
            p.g_us, p.g_kr, k, lo, hi, p.delta_us, p.delta_kr, p.us_first
        ),
        _nash_score,
    ),
    "rubinstein_finite": (
        lambda p, k, lo, hi: _rubinstein_finite(
            p.g_us, p.g_kr, k, lo, hi, p.delta_us, p.delta_kr, p.us_first, p.rounds_left
        ),
        _nash_score,
    ),
    "accepted_offer": (
        lambda p, k, lo, hi: hi if p.us_first else lo,
        lambda p, gu, gk: gu if p.us_first else gk,
    ),
}


def _log_nash(g_us: float, g_kr: float, alpha: float) -> float:
    return alpha * np.log(max(g_us, GAIN_FLOOR)) + (1 - alpha) * np.log(max(g_kr, GAIN_FLOOR))


def _nash(problem: GeneralProblem, k: int, lo: float, hi: float, alpha: float) -> float:
    """Nash point on one package: root of the first-order condition in product form."""
    step = 1e-3 * max(hi - lo, 1e-12)

    def foc(b):
        x = np.asarray(b, dtype=float)
        du = derivative(lambda y: problem.u_us(y, k), x, initial_step=step).df
        dk = derivative(lambda y: problem.u_kr(y, k), x, initial_step=step).df
        gu = float(problem.u_us(x, k)) - problem.d_us
        gk = float(problem.u_kr(x, k)) - problem.d_kr
        return alpha * float(du) * gk + (1 - alpha) * float(dk) * gu

    return _root_or_end(foc, lo, hi, True)


def _invert(g: Callable[[float], float], target: float, lo: float, hi: float) -> float:
    """Amount in ``[lo, hi]`` where the monotone gain ``g`` equals ``target``, clipped."""
    f_lo, f_hi = g(lo) - target, g(hi) - target
    if f_lo * f_hi > 0 or hi <= lo:
        return lo if abs(f_lo) < abs(f_hi) else hi
    return brentq(lambda x: g(x) - target, lo, hi, xtol=_XTOL, rtol=_RTOL)


def _rubinstein(g_us, g_kr, k, lo, hi, delta_us, delta_kr, us_first) -> float:
    if us_first:

        def gap(x):
            y = _invert(lambda b: g_us(b, k), delta_us * g_us(x, k), lo, hi)
            return g_kr(x, k) - delta_kr * g_kr(y, k)

        return _root_or_end(gap, lo, hi, True)

    def gap_kr(y):
        x = _invert(lambda b: g_kr(b, k), delta_kr * g_kr(y, k), lo, hi)
        return g_us(y, k) - delta_us * g_us(x, k)

    return _root_or_end(gap_kr, lo, hi, False)


def _rubinstein_finite(g_us, g_kr, k, lo, hi, delta_us, delta_kr, us_first, n_rounds) -> float:
    def proposer_is_us(r):
        return us_first if r % 2 == 0 else not us_first

    b = hi if proposer_is_us(n_rounds - 1) else lo
    for r in range(n_rounds - 2, -1, -1):
        if proposer_is_us(r):
            b = _invert(lambda x: g_kr(x, k), delta_kr * g_kr(b, k), lo, hi)
        else:
            b = _invert(lambda x: g_us(x, k), delta_us * g_us(b, k), lo, hi)
    return b


def _root_or_end(f: Callable[[float], float], lo: float, hi: float, decreasing: bool) -> float:
    sign = 1.0 if decreasing else -1.0
    f_lo, f_hi = sign * f(lo), sign * f(hi)
    if f_lo <= 0 or hi <= lo:
        return lo
    if f_hi >= 0:
        return hi
    return brentq(f, lo, hi, xtol=_XTOL, rtol=_RTOL)
