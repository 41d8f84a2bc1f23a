"""The amounts each side accepts at its target utility, and whether a zone of agreement opens.

:func:`models.agents.amount_at_utility` inverts a side's utility for one package; here the
inversion is precomputed for every package of every draw (:class:`AcceptanceTable`), so the
rounds' screening (:func:`zone_open`, :func:`package_open`) costs one ``log`` per element.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smasim.models.agents import LINEAR_CURVATURE, Side

_PRECISE_CURVATURE = 1e-2  # below this kappa the bounds take the log1p path

# A zone narrower than this, relative to its amounts, is no zone: where both sides have
# conceded to their disagreement values, the agreement in force lies exactly on both
# boundaries (a zone of width 0 that rounding would open or close at random), and signing
# it changes nothing.
ZONE_TOLERANCE = 1e-12


def has_zone(lo, hi):
    """Whether ``[lo, hi]`` (bn KRW) is a zone of agreement; arrays or floats, elementwise.

    True where ``hi - lo`` exceeds ``ZONE_TOLERANCE`` times ``max(|hi|, 1)``.
    """
    return hi - lo > ZONE_TOLERANCE * np.maximum(np.abs(hi), 1.0)


@dataclass(frozen=True)
class AcceptanceTable:
    """:func:`amount_at_utility` for all packages, precomputed to one ``log`` per element.

    Writing ``y = (tau - (1 - w) c_k) / w`` and ``E = expm1(-kappa)``, the bound is
    ``R / a_k - log(1 + y E) (I - R) / (kappa a_k)``, i.e. ``offset - log(base + tau gain)
    scale`` with per-package tables fixed while the side's preferences are (between events).
    Linear draws (``kappa = 0``) use ``offset + (base + tau gain) scale``. Draws with small
    ``kappa`` go through ``log1p`` so the bounds keep full precision.

    Build with :meth:`from_side`; all tables have shape (n_draws, K).
    """

    offset: np.ndarray
    scale: np.ndarray
    base: np.ndarray
    gain: np.ndarray
    linear: np.ndarray
    precise: np.ndarray
    sign: float

    @classmethod
    def from_side(cls, side: Side) -> AcceptanceTable:
        """Tables of ``side``'s current preferences."""
        w, kappa = side.amount_weight[:, None], side.curvature[:, None]
        r, i = side.reservation[:, None], side.ideal[:, None]
        a, c = side.level_factor, side.discrete_value
        linear = side.curvature <= LINEAR_CURVATURE
        safe = np.maximum(kappa, LINEAR_CURVATURE)
        e = np.expm1(-safe)
        # curved rows store 1 + y E - tau E / w minus one, added back in bounds()
        scale = (i - r) / (safe * a)
        base = -(1.0 - w) * c * e / w
        if linear.any():  # rare: the (n, K) tables are computed twice only then
            lin = linear[:, None]
            scale = np.where(lin, (i - r) / a, scale)
            base = np.where(lin, -(1.0 - w) * c / w, base)
        return cls(
            offset=r / a,
            scale=scale,
            base=base,
            gain=np.where(linear, 1.0 / side.amount_weight, e[:, 0] / side.amount_weight),
            linear=linear,
            precise=~linear & (side.curvature < _PRECISE_CURVATURE),
            sign=float(np.sign(np.mean(side.ideal - side.reservation))) if side.ideal.size else 1.0,
        )

    def bounds(self, target: np.ndarray, draws: np.ndarray) -> np.ndarray:
        """Amounts at ``target`` utility for draws ``draws``, shape (len(draws), K), bn KRW.

        Where the target is out of reach the bound is ``+inf`` for a side that wants more
        and ``-inf`` for one that wants less (as :func:`amount_at_utility`).
        """
        u = self.base[draws] + (target * self.gain[draws])[:, None]
        out = _bound_values(
            u, self.scale[draws], self.offset[draws], self.precise[draws], self.linear[draws]
        )
        # unreachable targets (1 + u <= 0): log gives -inf or nan
        return np.where(np.isnan(out), self.sign * np.inf, out)

    def _bounds_block(self, target, draws, u, scale, offset, out) -> None:
        """:meth:`bounds` of the draws ``draws`` into ``out``, gathering into work arrays.

        The same values as :meth:`bounds`, except that unreachable targets are left as NaN
        (or the infinity the log gives) rather than mapped to ``sign * inf``:
        :func:`zone_open` compares them, and a NaN compares False as the mapped infinity
        would. Gathering into preallocated arrays keeps the work in cache and away from fresh
        memory, whose first touch costs more than the arithmetic.
        """
        np.take(self.base, draws, axis=0, out=u)
        u += (target * self.gain[draws])[:, None]
        np.take(self.scale, draws, axis=0, out=scale)
        np.take(self.offset, draws, axis=0, out=offset)
        _bound_values(u, scale, offset, self.precise[draws], self.linear[draws], out)

    def _bounds_pairs(self, target, draws, packages) -> np.ndarray:
        """:meth:`_bounds_block` for one package per draw, shape (m,)."""
        flat = draws * self.base.shape[1] + packages  # 1-D takes are faster than 2-D indexing
        u = self.base.ravel().take(flat) + target * self.gain[draws]
        scale, offset = self.scale.ravel().take(flat), self.offset.ravel().take(flat)
        return _bound_values(u, scale, offset, self.precise[draws], self.linear[draws])


def _bound_values(u, scale, offset, precise, linear, out=None) -> np.ndarray:
    """``offset - log(1 + u) scale`` elementwise, the one formula of every acceptance bound.

    Rows marked ``precise`` (small curvature) take ``log1p``, rows marked ``linear`` the
    linear form ``offset + u scale``; NaN where ``1 + u < 0``. ``u``, ``scale``, ``offset``
    and ``out`` share a shape, (m,) or (m, K); ``precise`` and ``linear`` have shape (m,).
    """
    out = np.empty_like(u) if out is None else out
    with np.errstate(divide="ignore", invalid="ignore"):
        np.add(1.0, u, out=out)
        np.log(out, out=out)
        if precise.any():
            out[precise] = np.log1p(u[precise])
        out *= scale
        np.subtract(offset, out, out=out)
    if linear.any():
        out[linear] = offset[linear] + u[linear] * scale[linear]
    return out


_BLOCK_ROWS = 512  # draws per block of zone_open: its work arrays stay in the L2 cache


def zone_open(
    us: AcceptanceTable,
    kr: AcceptanceTable,
    draws: np.ndarray,
    target_us: np.ndarray,
    target_kr: np.ndarray,
    *,
    floor: np.ndarray | None = None,
    us_level_factor: np.ndarray | None = None,
    cap: np.ndarray | None = None,
    widest: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Whether each of the draws ``draws`` has a package both sides accept at their targets.

    Equals ``has_zone(lo, hi).any(axis=1)`` for ``lo = us.bounds(target_us, draws)`` raised to the
    floor and ``hi = kr.bounds(target_kr, draws)`` lowered to the cap (the zone a round solves
    over), bit for bit, without ``(m, K)`` temporaries: the draws are taken in blocks whose
    work arrays stay in cache.

    Parameters
    ----------
    us, kr : AcceptanceTable
        The sides' tables for the whole batch.
    draws : ndarray of int, shape (m,)
    target_us, target_kr : ndarray, shape (m,)
        Target utilities.
    floor : ndarray, shape (m,), optional
        U.S. level floor from a veto, ``-inf`` where none; needs ``us_level_factor``.
    us_level_factor : ndarray, shape (n_draws, K), optional
        The U.S. level factors of the whole batch.
    cap : ndarray, shape (m,), optional
        Korea's first-year cap from a failed ratification, ``inf`` where none.
    widest : bool
        Also return each draw's package with the widest zone (``hi - lo`` largest).

    Returns
    -------
    open : ndarray of bool, shape (m,)
    package : ndarray of int, shape (m,)
        Only with ``widest``.
    """
    m, n_pkg = draws.size, us.base.shape[1]
    result = np.zeros(m, dtype=bool)
    package = np.zeros(m, dtype=np.int64) if widest else None
    work = np.empty((5, min(m, _BLOCK_ROWS), n_pkg))
    for start in range(0, m, _BLOCK_ROWS):
        rows = slice(start, min(start + _BLOCK_ROWS, m))
        block = draws[rows]
        u, scale, offset, lo, hi = work[:, : block.size]
        us._bounds_block(target_us[rows], block, u, scale, offset, lo)
        kr._bounds_block(target_kr[rows], block, u, scale, offset, hi)
        if floor is not None:
            limited = np.isfinite(floor[rows])
            if limited.any():
                limit = floor[rows][limited, None] / us_level_factor[block[limited]]
                lo[limited] = np.maximum(lo[limited], limit)
        if cap is not None:
            np.minimum(hi, cap[rows, None], out=hi)
        np.subtract(hi, lo, out=u)
        np.abs(hi, out=scale)
        np.maximum(scale, 1.0, out=scale)
        scale *= ZONE_TOLERANCE
        result[rows] = (u > scale).any(axis=1)  # has_zone, in the work arrays
        if widest:
            u[np.isnan(u)] = -np.inf
            package[rows] = np.argmax(u, axis=1)
    return (result, package) if widest else result


def package_open(
    us: AcceptanceTable,
    kr: AcceptanceTable,
    draws: np.ndarray,
    packages: np.ndarray,
    target_us: np.ndarray,
    target_kr: np.ndarray,
    *,
    floor: np.ndarray | None = None,
    us_level_factor: np.ndarray | None = None,
    cap: np.ndarray | None = None,
) -> np.ndarray:
    """Whether package ``packages[j]`` of draw ``draws[j]`` has a zone, shape (m,).

    :func:`zone_open` for one package per draw, with the same arithmetic element by element.
    """
    lo = us._bounds_pairs(target_us, draws, packages)
    hi = kr._bounds_pairs(target_kr, draws, packages)
    if floor is not None:
        limited = np.isfinite(floor)
        if limited.any():
            d, k = draws[limited], packages[limited]
            lo[limited] = np.maximum(lo[limited], floor[limited] / us_level_factor[d, k])
    if cap is not None:
        hi = np.minimum(hi, cap)
    return has_zone(lo, hi)


def rejection_probability(
    increase: np.ndarray, threshold: np.ndarray, scale: np.ndarray
) -> np.ndarray:
    """P(the National Assembly refuses ratification) of a first-year increase.

    Parameters
    ----------
    increase : ndarray, shape (n,)
        First-year amount over the status quo minus 1, fraction.
    threshold, scale : ndarray, shape (n,)
        Fractions.
    """
    return -np.expm1(-np.maximum(increase - threshold, 0.0) / scale)
