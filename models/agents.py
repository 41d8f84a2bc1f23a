"""The negotiating sides: preferences over packages and time-dependent concession.

Theory
------
A side ``i`` values a package (first-year amount ``b``, discrete package ``k``) by

.. math::

    u_i(b, k) = w_i \\, m_i(z_i) + (1 - w_i) \\, c_{ik},
    \\qquad z_i = \\frac{b \\, a_{ik} - R_i}{I_i - R_i},

where ``b`` is the first-year amount (``a_ik = 1``: the amount issue is the first year, the
one Korea's Assembly and public judge), ``R_i`` and ``I_i`` the side's reservation and ideal
first years (bn KRW per year), ``c_ik >= 0`` its money value of the discrete issues (term,
rule) in units of the amount's scale (a bn KRW a year counts ``m'(0) / |I_i - R_i|``,
:func:`models.valuation.utility_per_money`), 0 for its worst package, and ``w_i`` the weight
on the headline first year against the rest of the package. For the U.S.
``I > R`` (more is better), for Korea ``I < R``; the same formula serves both. The curvature

.. math::

    m(z) = \\frac{1 - e^{-\\kappa z}}{1 - e^{-\\kappa}}, \\qquad m(z) = z \\text{ for } \\kappa = 0,

is concave, increasing, smooth on the whole line, and has ``m(0) = 0`` and ``m(1) = 1``: the
reservation with the worst discrete package is worth 0 (the disagreement value before expiry,
unless an agreement is in force) and the ideal with it ``w_i``. Its inverse is closed-form,
so the amounts a side accepts at a target utility are an interval per package, computed
without a solver.

Concession follows the time-dependent tactics of Faratin, Sierra and Jennings (1998):

.. math::

    \\tau_i(t) = \\max\\big(1 - (1 - d_i(t)) \\min((t - t_{0i}) / T_i, 1)^{1 / e_i},\\ d_i(t)\\big),

with ``e_i < 1`` Boulware, ``e_i = 1`` linear and ``e_i > 1`` Conceder, ``T_i`` the side's
deadline counted from the start of its clock ``t_0i`` (the talks' opening, or a new
administration's arrival) and ``d_i(t)`` its disagreement value (:func:`disagreement_value`),
which falls by ``lambda_i`` per month once the old SMA has expired (a side never asks less than
no deal gives it: ``d_i`` can exceed 1 when an agreement in force is worth more to it than
any package).
A side accepts ``(b, k)`` at time ``t`` iff ``u_i(b, k) >= tau_i(t)``.

References
----------
Faratin, P., Sierra, C. and Jennings, N. R. (1998). Negotiation decision functions for
autonomous agents. Robotics and Autonomous Systems 24, 159-182.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

DAYS_PER_MONTH = 365.25 / 12.0
LINEAR_CURVATURE = 1e-9  # below this kappa, m(z) = z to machine precision


@dataclass(frozen=True)
class Side:
    """One negotiating side's preferences for a batch of draws.

    All arrays share their first dimension ``n_draws``.

    Parameters
    ----------
    reservation : ndarray, shape (n_draws,)
        Walk-away level ``R``, bn KRW per year (present-value level).
    ideal : ndarray, shape (n_draws,)
        Ideal level ``I``, bn KRW per year.
    amount_weight : ndarray, shape (n_draws,)
        Weight ``w`` of the amount against the discrete issues, in (0, 1].
    curvature : ndarray, shape (n_draws,)
        ``kappa >= 0``; 0 is linear, larger is more risk-averse.
    concession_exponent : ndarray, shape (n_draws,)
        ``e > 0``; below 1 Boulware (tough), above 1 Conceder.
    deadline_days : ndarray, shape (n_draws,)
        ``T``, days after talks open by which the side has conceded to its disagreement value.
    lapse_cost : ndarray, shape (n_draws,)
        ``lambda``, utility lost per month of lapse after expiry.
    discount_rate : ndarray, shape (n_draws,)
        Fraction per year; sets patience and so bargaining power.
    discrete_value : ndarray, shape (n_draws, K)
        ``c_ik >= 0``, the side's money value of each discrete package in units of the
        amount's scale (unbounded above).
    level_factor : ndarray, shape (n_draws, K)
        ``a_ik``, the amount's level per unit of first-year amount (1: the amount issue is the
        first year; see :mod:`models.valuation`).
    clock_start_day : ndarray, shape (n_draws,)
        Day the side's concession clock started (0, or when a new administration took over).
    floor_factor : ndarray, shape (n_draws, K)
        A floor ``F`` on the U.S. side's acceptance (a veto, the agreement in force) holds
        package ``k`` to first years ``b >= F / floor_factor``; 1 unless an agreement is in
        force (see :func:`models.setting.in_force_floor`).
    disagreement_base : ndarray, shape (n_draws,)
        Utility of no deal before expiry: 0 after an SMA expires (the reservation with the
        worst package), the value of the agreement in force while one runs.
    waiting_shift : ndarray, shape (n_draws,)
        Change (<= 0) of the disagreement value until ``waiting_until_day``: what the side
        expects from negotiating with the next U.S. administration instead (one-step
        look-ahead over the election; 0 when it does not expect worse).
    coercion_cost : ndarray, shape (n_draws,)
        Utility lost per month of talks to costs the other side links to them (tariffs):
        from ``coercion_start_day`` on, before expiry too. 0 for the U.S.
    coercion_start_day : ndarray, shape (n_draws,)
        Day the linked costs start (the talks' opening, or the last change of their rate).
    waiting_until_day : float
        Day the look-ahead ends (the inauguration), days since talks opened.
    """

    reservation: np.ndarray
    ideal: np.ndarray
    amount_weight: np.ndarray
    curvature: np.ndarray
    concession_exponent: np.ndarray
    deadline_days: np.ndarray
    lapse_cost: np.ndarray
    discount_rate: np.ndarray
    discrete_value: np.ndarray
    level_factor: np.ndarray
    clock_start_day: np.ndarray
    floor_factor: np.ndarray
    disagreement_base: np.ndarray
    waiting_shift: np.ndarray
    coercion_cost: np.ndarray
    coercion_start_day: np.ndarray
    waiting_until_day: float = np.inf

    def take(self, index: np.ndarray) -> Side:
        """The same side restricted to the draws ``index`` (integer or boolean array)."""
        return Side(
            **{
                f.name: getattr(self, f.name)[index]
                if f.name != "waiting_until_day"
                else self.waiting_until_day
                for f in fields(self)
            }
        )

    def where(self, mask: np.ndarray, other: Side) -> Side:
        """Per draw, ``other``'s values where ``mask`` is True and ours elsewhere."""
        out = {"waiting_until_day": self.waiting_until_day}
        for f in fields(self):
            if f.name == "waiting_until_day":
                continue
            a, b = getattr(self, f.name), getattr(other, f.name)
            m = mask if a.ndim == 1 else mask[:, None]
            out[f.name] = np.where(m, b, a)
        return Side(**out)

    def with_reservation(self, reservation: np.ndarray) -> Side:
        """A copy with a new reservation level (after a veto or a failed ratification)."""
        return replace(self, reservation=reservation)


def curvature_value(z: np.ndarray, kappa: np.ndarray) -> np.ndarray:
    """``m(z)`` of the module notes, elementwise; ``kappa`` broadcasts against ``z``."""
    curved_mask = kappa > LINEAR_CURVATURE
    safe = np.maximum(kappa, LINEAR_CURVATURE)
    curved = _expm1(-safe * z) / np.expm1(-safe)
    return curved if curved_mask.all() else np.where(curved_mask, curved, z)


def _expm1(x: np.ndarray) -> np.ndarray:
    """``exp(x) - 1`` to full relative precision, at the speed of vectorized ``exp``.

    ``np.expm1`` has no vectorized kernel and is ~3x slower than ``np.exp``; ``exp(x) - 1``
    loses precision only for small ``|x|``, so only those elements go through ``expm1``.
    """
    out = np.exp(x) - 1.0
    small = np.abs(x) < 1e-2
    if small.any():
        out[small] = np.expm1(x[small])
    return out


def curvature_slope(z: np.ndarray, kappa: np.ndarray) -> np.ndarray:
    """``m'(z)``, elementwise."""
    curved_mask = kappa > LINEAR_CURVATURE
    safe = np.maximum(kappa, LINEAR_CURVATURE)
    curved = -safe * np.exp(-safe * z) / np.expm1(-safe)
    return curved if curved_mask.all() else np.where(curved_mask, curved, 1.0)


def curvature_inverse(y: np.ndarray, kappa: np.ndarray) -> np.ndarray:
    """``m^{-1}(y)``; ``+inf`` where ``y`` is at or above ``sup m = 1 / (1 - e^{-kappa})``."""
    curved_mask = kappa > LINEAR_CURVATURE
    safe = np.maximum(kappa, LINEAR_CURVATURE)
    u = y * np.expm1(-safe)
    reachable = u > -1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        curved = np.where(reachable, -_log1p(np.where(reachable, u, 0.0)) / safe, np.inf)
    return curved if curved_mask.all() else np.where(curved_mask, curved, y)


def _log1p(u: np.ndarray) -> np.ndarray:
    """``log(1 + u)`` to full relative precision at the speed of vectorized ``log``."""
    out = np.log(1.0 + u)
    small = np.abs(u) < 1e-2
    if small.any():
        out[small] = np.log1p(u[small])
    return out


def amount_score(side: Side, base: np.ndarray, k: np.ndarray | None = None) -> np.ndarray:
    """``z``: position of a package's level between reservation (0) and ideal (1).

    Parameters
    ----------
    side : Side
    base : ndarray, shape (n_draws,) or (n_draws, K)
        First-year amount, bn KRW.
    k : ndarray of int, shape (n_draws,), optional
        Package of each draw when ``base`` is 1-D; all packages when omitted.
    """
    factor = side.level_factor if k is None else _pick(side.level_factor, k)
    r, i = _col(side.reservation, base), _col(side.ideal, base)
    return (base * factor - r) / (i - r)


def utility(side: Side, base: np.ndarray, k: np.ndarray | None = None) -> np.ndarray:
    """``u_i(b, k)``.

    Parameters
    ----------
    side : Side
    base : ndarray, shape (n_draws,) or (n_draws, K)
        First-year amount, bn KRW.
    k : ndarray of int, shape (n_draws,), optional
        Package of each draw when ``base`` is 1-D; when omitted ``base`` has shape
        ``(n_draws, K)`` and every package is evaluated.

    Returns
    -------
    ndarray, same shape as ``base``
    """
    c = side.discrete_value if k is None else _pick(side.discrete_value, k)
    w, kappa = _col(side.amount_weight, base), _col(side.curvature, base)
    return w * curvature_value(amount_score(side, base, k), kappa) + (1.0 - w) * c


def utility_slope(side: Side, base: np.ndarray, k: np.ndarray | None = None) -> np.ndarray:
    """``du_i/db``, per bn KRW; same shapes as :func:`utility`."""
    factor = side.level_factor if k is None else _pick(side.level_factor, k)
    w, kappa = _col(side.amount_weight, base), _col(side.curvature, base)
    r, i = _col(side.reservation, base), _col(side.ideal, base)
    return w * curvature_slope(amount_score(side, base, k), kappa) * factor / (i - r)


def amount_at_utility(side: Side, target: np.ndarray, k: np.ndarray | None = None) -> np.ndarray:
    """First-year amount at which the side's utility equals ``target``.

    For the U.S. this is the least amount it accepts, for Korea the most. Where the target is
    out of reach (above the supremum of ``u``), returns ``+inf`` for the U.S. and ``-inf`` for
    Korea: no amount satisfies the side.

    Parameters
    ----------
    side : Side
    target : ndarray, shape (n_draws,) or (n_draws, K)
        Utility level.
    k : ndarray of int, shape (n_draws,), optional
        Package per draw; when omitted, returns every package, shape (n_draws, K).

    Returns
    -------
    ndarray
        bn KRW.
    """
    c = side.discrete_value if k is None else _pick(side.discrete_value, k)
    factor = side.level_factor if k is None else _pick(side.level_factor, k)
    shape_ref = c
    w, kappa = _col(side.amount_weight, shape_ref), _col(side.curvature, shape_ref)
    r, i = _col(side.reservation, shape_ref), _col(side.ideal, shape_ref)
    t = target if target.ndim == c.ndim else target[:, None]
    z = curvature_inverse((t - (1.0 - w) * c) / w, kappa)
    # z = +inf maps to +inf for the U.S. (i > r) and -inf for Korea, as documented
    with np.errstate(invalid="ignore"):
        level = np.where(np.isinf(z), np.sign(i - r) * np.inf, r + z * (i - r))
    return level / factor


def disagreement_value(
    side: Side, day: np.ndarray, expiry_day: float, draws: np.ndarray | None = None
) -> np.ndarray:
    """``d_i(t)``: the value of no deal at ``day``.

    ``disagreement_base`` (0, or the agreement in force), plus ``waiting_shift`` until the
    look-ahead ends, falling by ``lapse_cost`` per month once the old SMA has expired and by
    ``coercion_cost`` per month of linked costs. Non-increasing in ``day`` between events
    (the look-ahead ends at an event).

    Parameters
    ----------
    side : Side
    day : ndarray, shape (n,)
        Days since talks opened.
    expiry_day : float
        Day the old SMA expires, days since talks opened.
    draws : ndarray of int, shape (n,), optional
        The draws of ``side`` that ``day`` refers to (all when omitted).
    """
    pick = (lambda x: x) if draws is None else (lambda x: x[draws])
    d = (
        pick(side.disagreement_base)
        - pick(side.lapse_cost) * np.maximum(day - expiry_day, 0.0) / DAYS_PER_MONTH
    )
    if pick(side.coercion_cost).any():  # most configs link nothing: keep their arithmetic
        d = d - coercion_accrued(side, day, draws)
    return d + np.where(day < side.waiting_until_day, pick(side.waiting_shift), 0.0)


def coercion_accrued(
    side: Side, day: np.ndarray | float, draws: np.ndarray | None = None
) -> np.ndarray:
    """Utility the side has lost to linked costs by ``day`` since ``coercion_start_day``.

    Parameters
    ----------
    side : Side
    day : ndarray, shape (n,), or float
        Days since talks opened (a float: the same day for every draw).
    draws : ndarray of int, shape (n,), optional
        The draws of ``side`` that ``day`` refers to (all when omitted).

    Returns
    -------
    ndarray, shape (n,)
        Utility, ``coercion_cost`` times the months elapsed (0 before the start).
    """
    pick = (lambda x: x) if draws is None else (lambda x: x[draws])
    elapsed = np.maximum(day - pick(side.coercion_start_day), 0.0)
    return pick(side.coercion_cost) * elapsed / DAYS_PER_MONTH


def target_utility(
    side: Side, day: np.ndarray, expiry_day: float, draws: np.ndarray | None = None
) -> np.ndarray:
    """``tau_i(t)``, the utility the side demands at ``day`` (time-dependent tactic).

    Never below the disagreement value, and non-increasing in ``day``: concession is
    monotone between events.

    Parameters
    ----------
    side : Side
    day : ndarray, shape (n,)
        Days since talks opened.
    expiry_day : float
    draws : ndarray of int, shape (n,), optional
        The draws of ``side`` that ``day`` refers to (all when omitted).

    Returns
    -------
    ndarray, shape (n,)
    """
    pick = (lambda x: x) if draws is None else (lambda x: x[draws])
    d = disagreement_value(side, day, expiry_day, draws)
    progress = np.clip((day - pick(side.clock_start_day)) / pick(side.deadline_days), 0.0, 1.0)
    tau = 1.0 - (1.0 - d) * progress ** (1.0 / pick(side.concession_exponent))
    # a side never asks less than no deal gives it: where no deal is worth more than its
    # ideal (d > 1: an agreement in force it values above any package), the tactic's path
    # from 1 towards d would rise; the target is d itself, non-increasing like d
    return np.maximum(tau, d)


def _col(values: np.ndarray, like: np.ndarray) -> np.ndarray:
    """Per-draw ``values`` shaped to broadcast against ``like`` (1-D or (n, K))."""
    return values if like.ndim == 1 else values[:, None]


def _pick(table: np.ndarray, k: np.ndarray) -> np.ndarray:
    """``table[i, k[i]]`` for each draw ``i``."""
    return np.take_along_axis(table, np.asarray(k)[:, None], axis=1)[:, 0]
