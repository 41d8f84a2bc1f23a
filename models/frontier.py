"""The bargaining problem on ``(draw, package)`` pairs, and each concept's point on it.

The solution concepts of :mod:`models.bargaining` evaluate the sides' gains, slopes and
inverse gains many times inside root searches; :class:`PairUtility` precomputes per pair what
makes each evaluation one ``exp`` and a few elementwise operations, and :class:`Frontier`
holds both sides' utilities with the zone's ends and the disagreement point. The points of
the solution concepts (see :mod:`models.bargaining` for the theory) are solved here per pair.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from scipy.optimize.elementwise import find_root

from smasim.models.agents import LINEAR_CURVATURE, Side, curvature_inverse

_XRTOL, _XATOL = 1e-13, 1e-12
_TOLERANCES = {"xrtol": _XRTOL, "xatol": _XATOL}


@dataclass(frozen=True)
class PairUtility:
    """One side's utility on m ``(draw, package)`` pairs, as flat arrays of shape (m,).

    With ``z = b * scale + offset`` the gain over disagreement is
    ``w m(z) + shift``, where ``shift = (1 - w) c - d``. Precomputing these per pair, and the
    curvature's constants (``-kappa`` and ``expm1(-kappa)``, one transcendental per pair rather
    than one per evaluation), keeps every evaluation inside a root search to one ``exp`` and a
    few elementwise operations. Build with :meth:`from_side` or :meth:`from_arrays`.
    """

    scale: np.ndarray
    offset: np.ndarray
    weight: np.ndarray
    curvature: np.ndarray
    shift: np.ndarray
    neg_rate: np.ndarray  # -max(kappa, linear threshold)
    denominator: np.ndarray  # expm1(neg_rate) = m's normalisation
    curved: np.ndarray  # kappa above the linear threshold

    @classmethod
    def from_arrays(cls, scale, offset, weight, curvature, shift) -> PairUtility:
        """From the per-pair primitives; the curvature's constants are derived here."""
        neg_rate = -np.maximum(curvature, LINEAR_CURVATURE)
        return cls(
            scale=scale,
            offset=offset,
            weight=weight,
            curvature=curvature,
            shift=shift,
            neg_rate=neg_rate,
            denominator=np.expm1(neg_rate),
            curved=curvature > LINEAR_CURVATURE,
        )

    @classmethod
    def from_side(cls, side: Side, draw: np.ndarray, k: np.ndarray, d: np.ndarray) -> PairUtility:
        """Pairs ``(draw[j], k[j])`` of ``side``; ``d`` is the disagreement utility per pair."""
        r, i = side.reservation[draw], side.ideal[draw]
        w = side.amount_weight[draw]
        return cls.from_arrays(
            scale=side.level_factor[draw, k] / (i - r),
            offset=-r / (i - r),
            weight=w,
            curvature=side.curvature[draw],
            shift=(1.0 - w) * side.discrete_value[draw, k] - d,
        )

    def take(self, j: np.ndarray) -> PairUtility:
        """The pairs ``j``."""
        return PairUtility(*(getattr(self, f.name)[j] for f in fields(self)))

    def _curve(self, b: np.ndarray, j, with_slope: bool):
        """``m(z)`` and, if asked, ``m'(z)`` at ``b`` for pairs ``j``, sharing one ``exp``.

        The same operations as :func:`models.agents.curvature_value` and
        :func:`models.agents.curvature_slope`, so the same bits.
        """
        z = b * self.scale[j] + self.offset[j]
        x = self.neg_rate[j] * z
        e = np.exp(x)
        m = e - 1.0
        small = np.abs(x) < 1e-2  # exp(x) - 1 loses precision there (see models.agents)
        if small.any():
            m[small] = np.expm1(x[small])
        denominator = self.denominator[j]
        m /= denominator
        slope = self.neg_rate[j] * e / denominator if with_slope else None
        curved = self.curved[j]
        if not curved.all():
            m = np.where(curved, m, z)
            slope = None if slope is None else np.where(curved, slope, 1.0)
        return m, slope

    def gain(self, b: np.ndarray, j=slice(None)) -> np.ndarray:
        """Utility gain over disagreement at first-year amount ``b`` for pairs ``j``."""
        m, _ = self._curve(b, j, with_slope=False)
        return self.weight[j] * m + self.shift[j]

    def slope(self, b: np.ndarray, j=slice(None)) -> np.ndarray:
        """``d gain / d b`` at ``b`` for pairs ``j``, per bn KRW."""
        return self.gain_and_slope(b, j)[1]

    def gain_and_slope(self, b: np.ndarray, j=slice(None)) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`gain` and :meth:`slope` together, for one ``exp``."""
        m, dm = self._curve(b, j, with_slope=True)
        weight = self.weight[j]
        return weight * m + self.shift[j], weight * dm * self.scale[j]

    def amount(self, gain: np.ndarray, j=slice(None)) -> np.ndarray:
        """First-year amount at which the gain equals ``gain`` (inverse of :meth:`gain`)."""
        z = curvature_inverse((gain - self.shift[j]) / self.weight[j], self.curvature[j])
        with np.errstate(invalid="ignore"):
            b = (z - self.offset[j]) / self.scale[j]
        # an unreachable gain lies beyond the side's best end of the line
        return np.where(np.isinf(z), np.sign(self.scale[j]) * np.inf, b)


@dataclass(frozen=True)
class Frontier:
    """One bargaining problem per ``(draw, package)`` pair, flattened to shape (m,).

    ``us`` and ``kr`` are the sides' utilities on the pairs; ``lo``/``hi`` bound the zone
    (bn KRW) and ``d_us``/``d_kr`` are the disagreement utilities.
    """

    us: PairUtility
    kr: PairUtility
    lo: np.ndarray
    hi: np.ndarray
    d_us: np.ndarray
    d_kr: np.ndarray

    @classmethod
    def from_pairs(
        cls, us: Side, kr: Side, draw: np.ndarray, k: np.ndarray, lo, hi, d_us, d_kr
    ) -> Frontier:
        """Build from sides over draws and the pair indices ``(draw, k)``."""
        return cls(
            us=PairUtility.from_side(us, draw, k, d_us),
            kr=PairUtility.from_side(kr, draw, k, d_kr),
            lo=lo,
            hi=hi,
            d_us=d_us,
            d_kr=d_kr,
        )

    def gains(self, b: np.ndarray, j=slice(None)) -> tuple[np.ndarray, np.ndarray]:
        """Utility gains over disagreement at amounts ``b`` for pairs ``j``."""
        return self.us.gain(b, j), self.kr.gain(b, j)

    def slopes(self, b: np.ndarray, j=slice(None)) -> tuple[np.ndarray, np.ndarray]:
        """``du/db`` of both sides at ``b`` for pairs ``j``."""
        return self.us.slope(b, j), self.kr.slope(b, j)

    def amount_for_us_gain(self, gain: np.ndarray, j=slice(None)) -> np.ndarray:
        """Amount at which the U.S. gain equals ``gain``, clipped to the zone."""
        return np.clip(self.us.amount(gain, j), self.lo[j], self.hi[j])

    def amount_for_kr_gain(self, gain: np.ndarray, j=slice(None)) -> np.ndarray:
        """Amount at which Korea's gain equals ``gain``, clipped to the zone."""
        return np.clip(self.kr.amount(gain, j), self.lo[j], self.hi[j])


def nash_point(
    frontier: Frontier, alpha: np.ndarray, start: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Generalized Nash solution per pair.

    The first-order condition ``g(b) = alpha s_US g_KR + (1 - alpha) s_KR g_US`` (``s`` the
    slopes, ``g`` the gains) falls from positive to negative across the zone when the optimum
    is interior. Its root is found by Newton's method kept inside a shrinking bracket
    (bisection when a Newton step would leave it): the derivative is analytic for the
    exponential utility family (``m'' = -kappa m'``), so a root takes ~5 steps rather than the
    ~12 of a derivative-free bracketing method.

    Parameters
    ----------
    frontier : Frontier
        m pairs.
    alpha : ndarray, shape (m,)
        U.S. bargaining weight in (0, 1).
    start : ndarray, shape (m,), optional
        First iterate inside the zone (bn KRW); the zone's midpoint when omitted.

    Returns
    -------
    base : ndarray, shape (m,)
        bn KRW.
    converged : ndarray of bool, shape (m,)
    """
    us, kr = frontier.us, frontier.kr

    def foc(b, j):
        g_us, s_us = us.gain_and_slope(b, j)
        g_kr, s_kr = kr.gain_and_slope(b, j)
        return alpha[j] * s_us * g_kr + (1.0 - alpha[j]) * s_kr * g_us

    def foc_and_derivative(b, j):
        g_us, s_us = us.gain_and_slope(b, j)
        g_kr, s_kr = kr.gain_and_slope(b, j)
        # second derivative of w m(b scale + offset): -kappa scale times the slope
        c_us = -us.curvature[j] * us.scale[j] * s_us
        c_kr = -kr.curvature[j] * kr.scale[j] * s_kr
        a = alpha[j]
        value = a * s_us * g_kr + (1.0 - a) * s_kr * g_us
        slope = a * (c_us * g_kr + s_us * s_kr) + (1.0 - a) * (c_kr * g_us + s_kr * s_us)
        return value, slope

    lo, hi = frontier.lo, frontier.hi
    idx = np.arange(lo.size)
    f_lo, f_hi = foc(lo, idx), foc(hi, idx)
    base = np.where(f_lo <= 0.0, lo, hi)
    converged = np.ones(lo.size, dtype=bool)
    inner = np.flatnonzero((f_lo > 0.0) & (f_hi < 0.0) & (hi > lo))
    if inner.size:
        first = None if start is None else start[inner]
        base[inner], converged[inner] = _bracketed_newton(
            foc_and_derivative, lo[inner].copy(), hi[inner].copy(), inner, start=first
        )
    return base, converged


def _bracketed_newton(f, left, right, idx, *, start=None, max_iter: int = 100):
    """Root of decreasing ``f`` on brackets ``f(left) > 0 > f(right)``, elementwise.

    ``f(x, j)`` returns the value and derivative for elements ``j``; the first iterate is
    ``start`` (inside the brackets) or their midpoints. Converged elements leave the active
    set; elements still open after ``max_iter`` steps are flagged.
    """
    x = 0.5 * (left + right) if start is None else start.copy()
    out = x.copy()
    ok = np.zeros(x.size, dtype=bool)
    active = np.arange(x.size)
    for _ in range(max_iter):
        if active.size == 0:
            break
        value, slope = f(x, idx[active])
        positive = value > 0.0
        left = np.where(positive, x, left)
        right = np.where(positive, right, x)
        # a vanishing slope makes the step inf or overflow: it then falls outside the bracket
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            newton = x - value / slope
        # inclusive: a root at a bracket end (within rounding) is reached, not bisected to
        inside = (slope < 0.0) & (newton >= left) & (newton <= right)
        step = np.where(inside, newton, 0.5 * (left + right))
        tol = _XATOL + _XRTOL * np.abs(step)
        done = (np.abs(step - x) <= tol) | (value == 0.0) | (right - left <= tol)
        x = np.where(value == 0.0, x, step)
        out[active[done]], ok[active[done]] = x[done], True
        keep = ~done
        active, x, left, right = active[keep], x[keep], left[keep], right[keep]
    out[active] = x
    return out, ok


def ks_point(
    frontier: Frontier, max_gain_us: np.ndarray, max_gain_kr: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Kalai-Smorodinsky point per pair: equal shares of the largest gains.

    Parameters
    ----------
    frontier : Frontier
    max_gain_us, max_gain_kr : ndarray, shape (m,)
        Each side's largest gain over all packages of the pair's draw.

    Returns
    -------
    base, converged : ndarray, shape (m,)
    """

    def balance(b, j):
        g_us, g_kr = frontier.gains(b, j)
        return g_us / max_gain_us[j] - g_kr / max_gain_kr[j]

    idx = np.arange(frontier.lo.size)
    return _root_or_end(balance, frontier.lo, frontier.hi, idx, decreasing=False)


def rubinstein_point(
    frontier: Frontier, delta_us: np.ndarray, delta_kr: np.ndarray, us_first: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Infinite-horizon alternating-offers equilibrium: the first mover's proposal.

    Parameters
    ----------
    frontier : Frontier
    delta_us, delta_kr : ndarray, shape (m,)
        Per-round discount factors in (0, 1).
    us_first : ndarray of bool, shape (m,)
        True where the U.S. proposes first.

    Returns
    -------
    base, converged : ndarray, shape (m,)
    """
    idx = np.arange(frontier.lo.size)

    def us_proposal_gap(x, j):
        # Korea is indifferent between x now and its own proposal y next round
        g_us_x, g_kr_x = frontier.gains(x, j)
        y = frontier.amount_for_us_gain(delta_us[j] * g_us_x, j)
        return g_kr_x - delta_kr[j] * frontier.gains(y, j)[1]

    def kr_proposal_gap(y, j):
        g_us_y, g_kr_y = frontier.gains(y, j)
        x = frontier.amount_for_kr_gain(delta_kr[j] * g_kr_y, j)
        return g_us_y - delta_us[j] * frontier.gains(x, j)[0]

    base = np.empty_like(frontier.lo)
    converged = np.ones(frontier.lo.size, dtype=bool)
    for mask, gap, decreasing in (
        (us_first, us_proposal_gap, True),
        (~us_first, kr_proposal_gap, False),
    ):
        j = idx[mask]
        if j.size:
            base[j], converged[j] = _root_or_end(gap, frontier.lo[j], frontier.hi[j], j, decreasing)
    return base, converged


def rubinstein_finite_point(
    frontier: Frontier,
    delta_us: np.ndarray,
    delta_kr: np.ndarray,
    us_first: np.ndarray,
    n_rounds: int,
) -> np.ndarray:
    """Alternating offers with a deadline after ``n_rounds`` rounds, by backward induction.

    In the last round the proposer takes its best point of the zone; in each earlier round the
    proposer offers the responder the discounted value of the next round.

    Returns
    -------
    ndarray, shape (m,)
        First-year amount of the first proposal, bn KRW.
    """
    if n_rounds < 1:
        msg = "n_rounds must be at least 1"
        raise ValueError(msg)
    # proposer of round r (0-based) is the first mover for even r
    last_us = us_first if (n_rounds - 1) % 2 == 0 else ~us_first
    b = np.where(last_us, frontier.hi, frontier.lo)
    for r in range(n_rounds - 2, -1, -1):
        proposer_us = us_first if r % 2 == 0 else ~us_first
        g_us, g_kr = frontier.gains(b)
        offer_from_us = frontier.amount_for_kr_gain(delta_kr * g_kr)
        offer_from_kr = frontier.amount_for_us_gain(delta_us * g_us)
        b = np.where(proposer_us, offer_from_us, offer_from_kr)
    return b


def _root_or_end(f, lo, hi, idx, decreasing: bool) -> tuple[np.ndarray, np.ndarray]:
    """Root of a function with one sign change on ``[lo, hi]``, or the end it points to.

    ``decreasing`` says the sign goes from + to - as ``b`` rises; where it does not change
    sign, the optimum (or balance) is at the end the sign points to.
    """
    sign = 1.0 if decreasing else -1.0
    f_lo = sign * f(lo, idx)
    f_hi = sign * f(hi, idx)
    b = np.where(f_lo <= 0.0, lo, hi)
    ok = np.ones(lo.size, dtype=bool)
    inner = (f_lo > 0.0) & (f_hi < 0.0) & (hi > lo)
    if inner.any():
        j = idx[inner]
        res = find_root(f, (lo[inner], hi[inner]), args=(j,), tolerances=_TOLERANCES)
        b[inner] = res.x
        ok[inner] = res.success
    return b, ok


def positive_or_one(x: np.ndarray) -> np.ndarray:
    """``x`` where positive, else 1 (a zero largest gain needs no scaling)."""
    return np.where(x > 0.0, x, 1.0)
