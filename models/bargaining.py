"""Bargaining solutions over the zone of agreement, vectorized over draws.

Theory
------
When the amounts each side accepts overlap, the zone of agreement for package ``k`` is an
interval ``[lo_k, hi_k]`` of first-year amounts: the U.S. utility rises and Korea's falls along
it. Relative to the disagreement point ``d = (d_US, d_KR)`` the solution concepts are:

* **Generalized Nash** (Nash 1950; Harsanyi-Selten): maximise
  ``alpha log(u_US - d_US) + (1 - alpha) log(u_KR - d_KR)``. With concave utilities the
  objective is concave in ``b``, so per package the optimum is an end of the interval or the
  unique root of the first-order condition (written in a form that stays finite at the ends)
  ``alpha u_US' (u_KR - d_KR) + (1 - alpha) u_KR' (u_US - d_US) = 0``. The package with the
  largest Nash product wins. ``alpha = rho_KR / (rho_US + rho_KR)`` from the discount rates
  (Binmore, Rubinstein and Wolinsky 1986): the more patient side has more power.
* **Kalai-Smorodinsky** (1975): the point where both sides' gains are the same share of their
  largest gain in the zone; the package reaching the largest share wins.
* **Rubinstein** (1982) alternating offers, infinite horizon: the proposals ``x`` (U.S.) and
  ``y`` (Korea) with ``u_KR(x) - d_KR = delta_KR (u_KR(y) - d_KR)`` and
  ``u_US(y) - d_US = delta_US (u_US(x) - d_US)``; the first mover's proposal is accepted.
  On a linear frontier the first mover's share is ``(1 - delta_2) / (1 - delta_1 delta_2)``.
  **Finite deadline**: backward induction from the last round, where the proposer takes its
  best point of the zone. Across packages, the one with the largest Nash product of the
  resulting utilities is taken (the two coincide as offers become frequent).
* **Accepted offer**: the round's proposer asks for its best point in the zone, which the other
  accepts; the package it likes best wins.

Fast paths here work on arrays of ``(draw, package)`` pairs. :mod:`models.general` solves the
same problems for any utility functions with :mod:`scipy.optimize`; tests check they agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import cached_property

import numpy as np

from smasim.models.acceptance import has_zone
from smasim.models.agents import Side
from smasim.models.frontier import (
    Frontier,
    ks_point,
    nash_point,
    positive_or_one,
    rubinstein_finite_point,
    rubinstein_point,
)
from smasim.models.nash_bounds import nash_candidates, rounding_allowance, tangent_nash

# Gains below this count as zero when packages are ranked by their Nash product: a side
# left at its disagreement value does not make every package tie at -inf, and rounding
# (1e-17 against 0) cannot decide the package.
GAIN_FLOOR = 1e-12


@dataclass(frozen=True)
class Agreement:
    """The package chosen for each draw.

    Attributes
    ----------
    base : ndarray, shape (n_draws,)
        First-year amount, bn KRW; NaN where the zone was empty.
    package : ndarray of int, shape (n_draws,)
        Index of the discrete package; -1 where the zone was empty.
    u_us, u_kr : ndarray, shape (n_draws,)
        Utilities of the agreement.
    converged : ndarray of bool, shape (n_draws,)
        False where a root search did not meet its tolerance.
    """

    base: np.ndarray
    package: np.ndarray
    u_us: np.ndarray
    u_kr: np.ndarray
    converged: np.ndarray

    @classmethod
    def empty(cls, n: int) -> Agreement:
        """``n`` draws with no agreement (NaN amounts, package -1)."""
        nan = np.full(n, np.nan)
        return cls(nan, np.full(n, -1), nan.copy(), nan.copy(), np.ones(n, dtype=bool))

    def take(self, rows) -> Agreement:
        """The agreements of ``rows`` (an index or boolean array)."""
        return Agreement(*(getattr(self, f.name)[rows] for f in fields(Agreement)))

    def put(self, rows, values: Agreement) -> None:
        """Write ``values`` into ``rows``, in place."""
        for f in fields(Agreement):
            getattr(self, f.name)[rows] = getattr(values, f.name)


def solve_zone(
    us: Side,
    kr: Side,
    lo: np.ndarray,
    hi: np.ndarray,
    d_us: np.ndarray,
    d_kr: np.ndarray,
    *,
    concept: str,
    alpha: np.ndarray,
    delta_us: np.ndarray,
    delta_kr: np.ndarray,
    us_first: np.ndarray,
    rounds_left: int = 1,
    rows: np.ndarray | None = None,
) -> Agreement:
    """Choose a package and amount for each draw by a bargaining solution over its zone.

    Parameters
    ----------
    us, kr : Side
        The sides for ``n_draws`` draws.
    lo, hi : ndarray, shape (n_draws, K)
        Zone of agreement per package, bn KRW; empty where not
        :func:`models.acceptance.has_zone`.
    d_us, d_kr : ndarray, shape (n_draws,)
        Disagreement utilities now.
    concept : str
        One of :data:`CONCEPTS`.
    alpha : ndarray, shape (n_draws,)
        U.S. Nash weight.
    delta_us, delta_kr : ndarray, shape (n_draws,)
        Per-round discount factors (Rubinstein).
    us_first : ndarray of bool, shape (n_draws,)
        Whether the U.S. proposes this round (Rubinstein, accepted offer).
    rounds_left : int
        Rounds up to the hard stop, this one included (finite-deadline Rubinstein).
    rows : ndarray of int, shape (n_draws,), optional
        The rows of ``us`` and ``kr`` that hold the draws (when the sides cover a whole batch
        and the zone only some of its draws); the sides are the draws when omitted.

    Returns
    -------
    Agreement
    """
    if concept not in CONCEPTS:
        msg = f"concept: unknown solution concept {concept!r}; choose one of {', '.join(CONCEPTS)}"
        raise ValueError(msg)
    n = lo.shape[0]
    rule = CONCEPTS[concept]
    side_rows = np.arange(n) if rows is None else rows
    start = None
    if rule.candidates is None:
        draw, k = np.nonzero(has_zone(lo, hi))
    else:
        candidates, start = rule.candidates(us, kr, side_rows, lo, hi, d_us, d_kr, alpha)
        draw, k = np.nonzero(candidates)
    side_row = side_rows[draw]
    draw, k, side_row = _drop_repeats(us, kr, draw, k, side_row, lo, hi)
    fr = Frontier.from_pairs(us, kr, side_row, k, lo[draw, k], hi[draw, k], d_us[draw], d_kr[draw])
    terms = Terms(fr, draw, n, alpha[draw], delta_us[draw], delta_kr[draw], us_first[draw])
    terms.rounds_left = rounds_left
    terms.start = None if start is None else start[draw, k]
    b, ok = rule.point(fr, terms)
    g_us, g_kr = fr.gains(b) if terms.gains is None else terms.gains
    score = rule.score(g_us, g_kr, terms)
    return _select(n, draw, k, b, score, g_us + d_us[draw], g_kr + d_kr[draw], ok)


class Terms:
    """What a solution concept may use about the pairs of a :class:`Frontier`, shape (m,).

    Attributes
    ----------
    draw : ndarray of int
        The pair's draw (pairs of one draw are one segment); ``n`` draws in all.
    alpha, delta_us, delta_kr, us_first : ndarray
        The pair's draw's U.S. Nash weight, per-round discount factors and first mover.
    rounds_left : int
        Rounds up to the hard stop, this one included (finite-deadline Rubinstein).
    start : ndarray or None
        A point of each pair's zone near its optimum, from the concept's screen (bn KRW).
    """

    def __init__(self, frontier: Frontier, draw, n, alpha, delta_us, delta_kr, us_first):
        self.frontier, self.draw, self.n = frontier, draw, n
        self.gains = None  # (g_us, g_kr) at the points, if the concept computed them
        self.alpha, self.delta_us, self.delta_kr, self.us_first = (
            alpha,
            delta_us,
            delta_kr,
            us_first,
        )
        self.rounds_left = 1
        self.start = None  # a point per pair near its optimum, if the screen found one

    @cached_property
    def largest_gains(self) -> tuple[np.ndarray, np.ndarray]:
        """Each side's largest gain over all packages of the pair's draw (1 where it is 0)."""
        fr = self.frontier
        g_us_hi, _ = fr.gains(fr.hi)
        _, g_kr_lo = fr.gains(fr.lo)
        max_us = np.full(self.n, -np.inf)
        max_kr = np.full(self.n, -np.inf)
        np.maximum.at(max_us, self.draw, g_us_hi)
        np.maximum.at(max_kr, self.draw, g_kr_lo)
        # a zero largest gain means that side is indifferent over the zone: no scaling needed
        return positive_or_one(max_us[self.draw]), positive_or_one(max_kr[self.draw])


def _nash_product(g_us: np.ndarray, g_kr: np.ndarray, t: Terms) -> np.ndarray:
    a = t.alpha
    with np.errstate(divide="ignore"):
        return a * np.log(np.maximum(g_us, GAIN_FLOOR)) + (1.0 - a) * np.log(
            np.maximum(g_kr, GAIN_FLOOR)
        )


def _ks_share(g_us: np.ndarray, g_kr: np.ndarray, t: Terms) -> np.ndarray:
    max_us, max_kr = t.largest_gains
    return np.minimum(g_us / max_us, g_kr / max_kr)


def _all_converged(b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return b, np.ones(b.size, dtype=bool)


@dataclass(frozen=True)
class Concept:
    """One solution concept: its point on each pair's zone and how the draw's packages rank.

    Attributes
    ----------
    point : callable
        ``point(frontier, terms) -> (b, converged)``, each shape (m,): the amount per pair.
    score : callable
        ``score(g_us, g_kr, terms) -> ndarray``: higher wins the draw (first package on ties).
    round_dependent : bool
        Whether the point depends on the round (then rounds are solved one at a time).
    candidates : callable, optional
        ``candidates(us, kr, rows, lo, hi, d_us, d_kr, alpha) -> (mask, start)``: the
        packages that can still win their draw (shape (n, K), a superset of the winners,
        decided before the points are solved) and a start point per package (or None);
        every open package when omitted.
    """

    point: Callable[[Frontier, Terms], tuple[np.ndarray, np.ndarray]]
    score: Callable[[np.ndarray, np.ndarray, Terms], np.ndarray]
    round_dependent: bool = False
    candidates: Callable[..., np.ndarray] | None = None


# The registry: one entry per concept. Configs, the central solve and the engine read it.
CONCEPTS: dict[str, Concept] = {
    "nash": Concept(
        point=lambda fr, t: _nash_screened(fr, t),
        score=_nash_product,
        candidates=nash_candidates,
    ),
    "kalai_smorodinsky": Concept(
        point=lambda fr, t: ks_point(fr, *t.largest_gains),
        score=_ks_share,
    ),
    "rubinstein": Concept(
        point=lambda fr, t: rubinstein_point(fr, t.delta_us, t.delta_kr, t.us_first),
        score=_nash_product,
    ),
    "rubinstein_finite": Concept(
        point=lambda fr, t: _all_converged(
            rubinstein_finite_point(fr, t.delta_us, t.delta_kr, t.us_first, t.rounds_left)
        ),
        score=_nash_product,
        round_dependent=True,
    ),
    "accepted_offer": Concept(
        point=lambda fr, t: _all_converged(np.where(t.us_first, fr.hi, fr.lo)),
        score=lambda g_us, g_kr, t: np.where(t.us_first, g_us, g_kr),
    ),
}


def _nash_screened(fr: Frontier, terms: Terms):
    """Nash points, solved only for the pairs that can still win their draw.

    The gains are concave in ``b``, so their tangent lines at any point bound them from
    above, and the log Nash product of two lines has its maximum on the zone in closed form
    (:func:`models.nash_bounds.tangent_nash`). Each pair starts at the screen's point (or one
    tangent step from its zone's midpoint), already close to its optimum: there its log Nash
    product is a lower bound for its draw, and the tangents' maximum a tight upper bound for
    the pair. Pairs whose upper bound is below their draw's best lower bound cannot win: they
    keep that feasible point, which then loses the selection; pairs whose point is an end of
    the zone that the tangents do not leave are at their optimum; the others are solved
    exactly, by Newton's method from that point. The gains at every point are left in
    ``terms.gains``.
    """
    alpha, draw = terms.alpha, terms.draw
    if draw.size == 0:
        terms.gains = (fr.lo.copy(), fr.lo.copy())
        return fr.lo.copy(), np.ones(0, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # a gain of ~0
        b = terms.start
        if b is None:
            mid = 0.5 * (fr.lo + fr.hi)
            b = _tangent_step(fr, alpha, mid)[3]
        b = np.where(np.isnan(b), 0.5 * (fr.lo + fr.hi), b)
        g_us, g_kr, value, point, upper = _tangent_step(fr, alpha, b)
    value = np.where(np.isnan(value), -np.inf, value)
    keep = ~(upper < _segment_max(value, draw))  # NaN bounds are kept
    # a point at an end of the zone that the tangents do not leave is the pair's optimum
    keep &= ~((point == b) & ((b == fr.lo) | (b == fr.hi)))
    ok = np.ones(b.size, dtype=bool)
    j = np.flatnonzero(keep)
    if j.size:
        b[j], ok[j] = nash_point(_take(fr, j), alpha[j], start=b[j])
        g_us[j], g_kr[j] = fr.gains(b[j], j)
    terms.gains = (g_us, g_kr)
    return b, ok


def _tangent_step(fr: Frontier, alpha: np.ndarray, x: np.ndarray):
    """Gains and log Nash product at ``x``, and the tangents' maximum on the zone.

    Returns
    -------
    g_us, g_kr, value : ndarray, shape (m,)
        Gains and log Nash product at ``x`` (``value`` lowered by the rounding allowance).
    point, upper : ndarray, shape (m,)
        The maximiser of the tangents' log Nash product on the zone and its value raised by
        the rounding allowance: an upper bound of the pair's.
    """
    (g_us, s_us), (g_kr, s_kr) = fr.us.gain_and_slope(x), fr.kr.gain_and_slope(x)
    value = alpha * np.log(g_us) + (1.0 - alpha) * np.log(g_kr)
    value -= rounding_allowance(g_us, g_kr)
    point, upper, line_us, line_kr = tangent_nash(g_us, s_us, g_kr, s_kr, alpha, x, fr.lo, fr.hi)
    return g_us, g_kr, value, point, upper + rounding_allowance(line_us, line_kr)


def _drop_repeats(us: Side, kr: Side, draw, k, side_row, lo, hi):
    """The pairs less those equal to the pair before them in the same draw.

    Packages that agree in both sides' values and level factors (a 1-year term under every
    rule) have the same zone, point and score; ties go to the first package, so the repeats
    cannot win.
    """
    if draw.size < 2:
        return draw, k, side_row
    same = draw[1:] == draw[:-1]
    tables = (us.discrete_value, kr.discrete_value, us.level_factor, kr.level_factor)
    for table in tables:
        values = table[side_row, k]
        same &= values[1:] == values[:-1]
    for table in (lo, hi):
        values = table[draw, k]
        same &= values[1:] == values[:-1]
    keep = np.ones(draw.size, dtype=bool)
    keep[1:] = ~same
    return draw[keep], k[keep], side_row[keep]


def _segments(draw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first pair of each draw, and each pair's draw number; pairs come ordered by draw."""
    new_draw = np.empty(draw.size, dtype=bool)
    new_draw[:1], new_draw[1:] = True, draw[1:] != draw[:-1]
    return np.flatnonzero(new_draw), np.cumsum(new_draw) - 1


def _segment_max(value: np.ndarray, draw: np.ndarray) -> np.ndarray:
    """Each pair's draw's largest ``value``, shape (m,)."""
    starts, segment = _segments(draw)
    return np.maximum.reduceat(value, starts)[segment]


def _take(fr: Frontier, j: np.ndarray) -> Frontier:
    """The pairs ``j`` of a frontier."""
    return Frontier(
        us=fr.us.take(j), kr=fr.kr.take(j), lo=fr.lo[j], hi=fr.hi[j], d_us=fr.d_us[j],
        d_kr=fr.d_kr[j],
    )  # fmt: skip


def _select(n, draw, k, b, score, u_us, u_kr, ok) -> Agreement:
    """Per draw, the pair with the highest score (first package on ties).

    The pairs come ordered by draw, then package (as :func:`numpy.nonzero` gives them), so
    each draw's pairs are one segment and the first best pair of a segment is its lowest
    package among the best.
    """
    nan = np.full(n, np.nan)
    out = Agreement(nan, np.full(n, -1), nan.copy(), nan.copy(), np.ones(n, dtype=bool))
    if draw.size == 0:
        return out
    # a pair whose score is -inf (zero gain for a side) still beats an empty package
    clean = np.maximum(np.nan_to_num(score, nan=-np.inf, posinf=np.inf), -1e300)
    starts, segment = _segments(draw)
    best = np.flatnonzero(clean == np.maximum.reduceat(clean, starts)[segment])
    first_best = np.empty(best.size, dtype=bool)
    first_best[0], first_best[1:] = True, segment[best[1:]] != segment[best[:-1]]
    sel, rows = best[first_best], draw[starts]
    out.base[rows], out.package[rows] = b[sel], k[sel]
    out.u_us[rows], out.u_kr[rows], out.converged[rows] = u_us[sel], u_kr[sel], ok[sel]
    return out
