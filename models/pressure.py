"""Political pressure mapped onto the sides' primitives.

Pressure never enters as a free-floating bargaining-power constant; it moves what each side
wants and how fast it concedes. With status quo level ``S`` (bn KRW per year) and U.S. pressure
index ``p`` in [0, 1]:

* U.S. ideal ``I_US = S (1 + us_ideal_increase + pressure_ideal_gain p^2)``;
  reservation ``R_US = S (1 + us_reservation_increase + pressure_reservation_gain p^2)``
  (quadratic: pressure moves an alliance-first administration little and a maximal one most);
  concession exponent ``e_US = us_concession_exponent exp(-pressure_toughness p)`` (tougher);
  term preference: at ``p = 1`` the shortest term is best, at ``p = 0`` the longest.
* The discrete issues: each side's value ``c_k`` averages its term preference and the
  *ratchet* of the rule, the growth of the amount over the term
  ``x_k = ((1 + g_k)^(n_k - 1) - min) / (max - min)`` over the packages: the end-of-term
  amount is the next SMA's status quo, so the U.S. values ``x_k`` and Korea ``1 - x_k``
  beyond the payments themselves. This is where the U.S. wins on escalation and term while
  Korea holds the amount, as in the record.
* Korea's ideal ``I_KR = S (1 + kr_ideal_increase)``; reservation
  ``R_KR = S (1 + kr_reservation_increase + nk_threat_gain nk_threat
  + withdrawal_gain withdrawal_credibility p - audience_cost)``: the North Korean threat and a
  credible withdrawal threat raise what Korea will pay; audience costs lower it (a smaller
  win-set is leverage, Putnam 1988). Korea always prefers long, stable terms.
* Veto: above ``veto_pressure_threshold`` the U.S. president rejects a working-level deal whose
  level is below ``R_US + veto_strength p (I_US - R_US)``, and the negotiators' reservation
  rises to that floor.
* Ratification: the National Assembly rejects a first-year increase ``x`` over the status quo
  with probability ``1 - exp(-(x - threshold)_+ / scale)``; after a rejection Korea's
  reservation falls to the threshold level.

Where sampled values would put a reservation at or beyond an ideal, the reservation is held a
hair inside the ideal (``MIN_GAP``) so that every draw has a well-defined utility; configs whose
central values do so (a reservation equal to the ideal included: the side could not concede)
are rejected at validation.

References
----------
Putnam, R. D. (1988). Diplomacy and domestic politics: the logic of two-level games.
International Organization 42(3), 427-460.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from smasim.models.agents import DAYS_PER_MONTH, Side
from smasim.models.packages import PackageSet, level_factor

MIN_GAP = 1e-6  # smallest |I - R| relative to the status quo


@dataclass(frozen=True)
class Setting:
    """The fixed frame of one negotiation.

    Parameters
    ----------
    status_quo : float
        Amount paid under the expiring SMA, bn KRW per year (also paid during a lapse).
    packages : PackageSet
    horizon_years : int
        Years of payments each side values.
    """

    status_quo: float
    packages: PackageSet
    horizon_years: int


def term_preference(durations: np.ndarray, short_weight: np.ndarray) -> np.ndarray:
    """Value of each term, in [0, 1].

    Parameters
    ----------
    durations : ndarray, shape (K,)
        Years.
    short_weight : ndarray, shape (n_draws,)
        1 prefers the shortest term, 0 the longest.

    Returns
    -------
    ndarray, shape (n_draws, K)
    """
    span = durations.max() - durations.min()
    shortness = (durations.max() - durations) / span if span > 0 else np.full(durations.shape, 0.5)
    w = short_weight[:, None]
    return w * shortness[None, :] + (1.0 - w) * (1.0 - shortness[None, :])


def ratchet(growth: np.ndarray, durations: np.ndarray) -> np.ndarray:
    """Growth of the amount over each package's term, scaled to [0, 1] over the packages.

    Parameters
    ----------
    growth : ndarray, shape (n_draws, K)
        Fraction per year.
    durations : ndarray, shape (K,)
        Years.

    Returns
    -------
    ndarray, shape (n_draws, K)
        0 for the package with the least growth over its term, 1 for the most.
    """
    end = (durations[None, :] - 1) * np.log1p(growth)
    lo, hi = end.min(axis=1, keepdims=True), end.max(axis=1, keepdims=True)
    span = hi - lo
    return np.where(span > 0, (end - lo) / np.where(span > 0, span, 1.0), 0.5)


@dataclass(frozen=True)
class PackageTables:
    """Per-draw package quantities that pressure does not move, computed once per batch.

    Attributes
    ----------
    level_us, level_kr : ndarray, shape (n_draws, K)
        Present-value level factors ``a_ik`` of each side.
    ratchet : ndarray, shape (n_draws, K)
        Growth over the term scaled to [0, 1] (see :func:`ratchet`).
    kr_discrete : ndarray, shape (n_draws, K)
        Korea's value of each package's discrete issues (pressure does not move it).
    """

    level_us: np.ndarray
    level_kr: np.ndarray
    ratchet: np.ndarray
    kr_discrete: np.ndarray


def package_tables(setting: Setting, v: Mapping[str, np.ndarray]) -> PackageTables:
    """The :class:`PackageTables` of a batch of draws with parameters ``v``."""
    pk = setting.packages
    growth = pk.growth(v["cpi_rate"], v["defense_growth_rate"])
    h = setting.horizon_years
    growth_over_term = ratchet(growth, pk.duration)
    # Korea always prefers long, stable terms and a low ratchet
    kr_discrete = 0.5 * term_preference(pk.duration, np.zeros(growth.shape[0])) + 0.5 * (
        1.0 - growth_over_term
    )
    return PackageTables(
        level_us=level_factor(growth, pk.duration, v["us_discount_rate"], h),
        level_kr=level_factor(growth, pk.duration, v["kr_discount_rate"], h),
        ratchet=growth_over_term,
        kr_discrete=kr_discrete,
    )


def us_side(
    setting: Setting,
    v: Mapping[str, np.ndarray],
    pressure: np.ndarray,
    tables: PackageTables | None = None,
) -> Side:
    """The U.S. side under pressure ``pressure``, shape (n_draws,).

    ``tables`` (from :func:`package_tables`) saves recomputing what pressure does not move.
    """
    tables = package_tables(setting, v) if tables is None else tables
    s = setting.status_quo
    p2 = pressure**2
    ideal = s * (1.0 + v["us_ideal_increase"] + v["pressure_ideal_gain"] * p2)
    reservation = s * (1.0 + v["us_reservation_increase"] + v["pressure_reservation_gain"] * p2)
    reservation = np.minimum(reservation, ideal - MIN_GAP * s)
    return Side(
        reservation=reservation,
        ideal=ideal,
        amount_weight=v["us_amount_weight"],
        curvature=v["us_curvature"],
        concession_exponent=v["us_concession_exponent"]
        * np.exp(-v["pressure_toughness"] * pressure),
        deadline_days=v["us_deadline_months"] * DAYS_PER_MONTH,
        lapse_cost=v["lapse_cost_us"],
        discount_rate=v["us_discount_rate"],
        discrete_value=0.5 * term_preference(setting.packages.duration, pressure)
        + 0.5 * tables.ratchet,
        level_factor=tables.level_us,
        clock_start_day=np.zeros_like(ideal),
    )


def kr_side(
    setting: Setting,
    v: Mapping[str, np.ndarray],
    pressure: np.ndarray,
    tables: PackageTables | None = None,
) -> Side:
    """Korea's side facing U.S. pressure ``pressure``, shape (n_draws,)."""
    tables = package_tables(setting, v) if tables is None else tables
    s = setting.status_quo
    ideal = s * (1.0 + v["kr_ideal_increase"])
    reservation = s * (
        1.0
        + v["kr_reservation_increase"]
        + v["nk_threat_gain"] * v["nk_threat"]
        + v["withdrawal_gain"] * v["withdrawal_credibility"] * pressure
        - v["audience_cost"]
    )
    reservation = np.maximum(reservation, ideal + MIN_GAP * s)
    return Side(
        reservation=reservation,
        ideal=ideal,
        amount_weight=v["kr_amount_weight"],
        curvature=v["kr_curvature"],
        concession_exponent=v["kr_concession_exponent"],
        deadline_days=v["kr_deadline_months"] * DAYS_PER_MONTH,
        lapse_cost=v["lapse_cost_kr"],
        discount_rate=v["kr_discount_rate"],
        discrete_value=tables.kr_discrete,
        level_factor=tables.level_kr,
        clock_start_day=np.zeros_like(ideal),
    )


def nash_weight(us: Side, kr: Side) -> np.ndarray:
    """U.S. Nash weight ``alpha = rho_KR / (rho_US + rho_KR)`` (patience is power)."""
    return kr.discount_rate / (us.discount_rate + kr.discount_rate)


def round_discount(side: Side, interval_days: float) -> np.ndarray:
    """Per-round discount factor ``(1 + rho)^(-interval / 365.25)``."""
    return (1.0 + side.discount_rate) ** (-interval_days / 365.25)


def veto_floor(
    us: Side, pressure: np.ndarray, *, strength: np.ndarray, threshold: np.ndarray
) -> np.ndarray:
    """Level below which the U.S. president vetoes a deal; ``-inf`` where there is no review.

    Parameters
    ----------
    us : Side
    pressure : ndarray, shape (n_draws,)
    strength, threshold : ndarray, shape (n_draws,)
        ``veto_strength`` and ``veto_pressure_threshold``.

    Returns
    -------
    ndarray, shape (n_draws,)
        bn KRW per year (present-value level, U.S. discounting).
    """
    floor = us.reservation + strength * pressure * (us.ideal - us.reservation)
    return np.where(pressure > threshold, floor, -np.inf)


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
