"""The bargaining problem on ``(draw, package)`` pairs: each side's gain along the zone.

The solution concepts of :mod:`models.bargaining` evaluate the sides' gains, slopes and
inverse gains many times inside root searches; :class:`PairUtility` precomputes per pair what
makes each evaluation one ``exp`` and a few elementwise operations, and :class:`Frontier`
holds both sides' utilities with the zone's ends and the disagreement point.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from smasim.models.agents import LINEAR_CURVATURE, Side, curvature_inverse


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
