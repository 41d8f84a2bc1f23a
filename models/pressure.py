"""Political pressure and the political calendar mapped onto the sides' primitives.

Pressure never enters as a free-floating bargaining-power constant; it moves what each side
wants and how fast it concedes. With status quo ``S`` (bn KRW per year, the amount paid in the
year before the new agreement) and U.S. pressure ``p`` in [0, 1] (:mod:`models.outlook`):

* The amount issue is the first-year increase. U.S. ideal ``S (1 + us_ideal_increase +
  pressure_ideal_gain p^2)``, reservation ``S (1 + us_reservation_increase +
  pressure_reservation_gain p^2)``; concession exponent ``us_concession_exponent
  exp(-pressure_toughness p)`` (tougher). Korea's reservation ``S (1 + kr_reservation_increase
  + drivers + nk_threat_gain nk_threat + withdrawal_gain withdrawal_credibility p -
  audience_cost)``, its ideal moved by half the drivers: defense-budget growth, worker wages
  and the previous SMA's increase, each with a pass-through (2019: +8.2 % = that year's
  defense growth; 2021: +13.9 % = 7.4 % defense + 6.5 % wages). A smaller win-set (audience
  costs) is leverage (Putnam 1988).
* The package (term and rule) is valued in money, at one exchange rate for both sides: the
  present value of what Korea pays beyond a frozen first year, entered in each side's utility
  at the rate a won of its first year has (:func:`models.valuation.utility_per_money`). The
  U.S. gains it; Korea loses it, convexly (``kr_escalation_aversion``). Term preference
  follows the increase both sides expect at the next renegotiation, under the
  administration then in office.
* While an agreement is in force (reopened or early talks), its formula is each side's
  disagreement point and a hard floor on the U.S. side: no year below it.
* Before a scheduled inauguration, Korea weighs what the next administration would take
  (a one-step look-ahead over the election): "finish before the election" (2024).
* Veto: above ``veto_pressure_threshold`` the U.S. president rejects a deal worth less to the
  U.S. than ``veto_strength p`` above its disagreement value; that floor falls with the U.S.
  lapse cost and, being a utility, passes a lower first year with a term the U.S. values.
* Ratification: the National Assembly rejects a first-year increase ``x`` over the status quo
  with probability ``1 - exp(-(x - threshold)_+ / scale)``; after a rejection Korea's
  negotiators are capped at the threshold.

Where sampled values would put a reservation at or beyond an ideal, the reservation is held a
hair inside the ideal (``MIN_GAP``) so that every draw has a well-defined utility; configs whose
central values do so are rejected at validation.

References
----------
Putnam, R. D. (1988). Diplomacy and domestic politics: the logic of two-level games.
International Organization 42(3), 427-460.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from smasim.models.agents import DAYS_PER_MONTH, Side, curvature_value
from smasim.models.outlook import (
    Outlook,
    expected_jump,
    increases,
    successor_jump,
)
from smasim.models.setting import PackageTables, Setting, package_tables
from smasim.models.valuation import (
    escalation_cost,
    expected_next_jump,
    utility_per_money,
    with_in_kind,
)

MIN_GAP = 1e-6  # smallest |I - R| relative to the status quo


def _side_values(
    setting: Setting, v: Mapping[str, np.ndarray], outlook: Outlook, menu, in_force
) -> tuple[np.ndarray, np.ndarray]:
    """Money value per year (bn KRW) of each package and of the agreement in force.

    ``menu`` and ``in_force`` are a side's :class:`~models.valuation.ValueTerms`; shapes
    (n_draws, K) and (n_draws,).
    """
    jump_now, jump_next = expected_jump(v, outlook.pressure), successor_jump(v, outlook)

    def jump(duration):
        return expected_next_jump(
            duration,
            start_year=setting.start_year,
            now_year=outlook.now_year,
            jump_now=jump_now,
            jump_next_administration=jump_next,
        )

    s = setting.status_quo
    held = np.array([max(setting.in_force_years, 1)])
    return s * menu.value(jump(setting.packages.duration)), s * in_force.value(jump(held))[:, 0]


def us_side(
    setting: Setting,
    v: Mapping[str, np.ndarray],
    outlook: Outlook,
    tables: PackageTables | None = None,
) -> Side:
    """The U.S. side under the administration of ``outlook``, for ``n_draws`` draws.

    ``tables`` (from :func:`package_tables`) saves recomputing what pressure does not move.
    """
    tables = package_tables(setting, v) if tables is None else tables
    s, pressure = setting.status_quo, outlook.pressure
    x = increases(v, pressure)
    ideal = s * (1.0 + x["us_ideal"])
    if outlook.now_year == setting.talks_year:
        # a demand stated in dollars ("$10 billion a year") binds the administration that
        # made it: its ideal is at least that demand at the sampled exchange rate
        ideal = np.maximum(ideal, v["us_demand_usd_bn"] * v["krw_per_usd"])
    reservation = np.minimum(s * (1.0 + x["us_reservation"]), ideal - MIN_GAP * s)
    menu, in_force = _side_values(setting, v, outlook, tables.us_values, tables.us_in_force)
    menu = with_in_kind(menu, setting.packages, setting.horizon_years,
                       v["us_discount_rate"], v["in_kind_us_value"])  # fmt: skip
    low = menu.min(axis=1)
    money_rate = utility_per_money(ideal, reservation, v["us_curvature"])
    side = Side(
        reservation=reservation,
        ideal=ideal,
        amount_weight=v["us_amount_weight"],
        curvature=v["us_curvature"],
        concession_exponent=v["us_concession_exponent"]
        * np.exp(-v["pressure_toughness"] * pressure),
        deadline_days=v["us_deadline_months"] * DAYS_PER_MONTH,
        lapse_cost=v["lapse_cost_us"],
        discount_rate=v["us_discount_rate"],
        # the U.S. gains what Korea pays beyond the first year, at the rate its first year
        # is worth to it, weighted (1 - w) against the headline first year's w
        discrete_value=(menu - low[:, None] + tables.appeal) * money_rate[:, None],
        level_factor=np.ones_like(menu),
        clock_start_day=np.zeros_like(ideal),
        floor_factor=tables.floor_factor,
        disagreement_base=np.zeros_like(ideal),
        waiting_shift=np.zeros_like(ideal),
        coercion_cost=np.zeros_like(ideal),
        coercion_start_day=np.zeros_like(ideal),
    )
    in_force_value = (in_force - low + tables.in_force_appeal) * money_rate
    return _with_agreement_in_force(side, setting, tables, in_force_value)


def kr_side(
    setting: Setting,
    v: Mapping[str, np.ndarray],
    outlook: Outlook,
    tables: PackageTables | None = None,
) -> Side:
    """Korea's side facing the U.S. administration of ``outlook``, for ``n_draws`` draws."""
    tables = package_tables(setting, v) if tables is None else tables
    s, pressure = setting.status_quo, outlook.pressure
    x = increases(v, pressure)
    ideal = s * (1.0 + x["kr_ideal"])
    reservation = np.maximum(s * (1.0 + x["kr_reservation"]), ideal + MIN_GAP * s)
    menu, in_force = _side_values(setting, v, outlook, tables.kr_values, tables.kr_in_force)
    # what Korea pays beyond the first year costs it more than one for one as it grows: the
    # Assembly and public accept inflation-like escalation far more easily than steep ones
    menu, in_force = (escalation_cost(x, s, v["kr_escalation_aversion"]) for x in (menu, in_force))
    # an in-kind package costs Korea its value, one for one (it is no escalation)
    menu = with_in_kind(menu, setting.packages, setting.horizon_years,
                       v["kr_discount_rate"], 1.0)  # fmt: skip
    high = menu.max(axis=1)
    money_rate = utility_per_money(ideal, reservation, v["kr_curvature"])
    side = Side(
        reservation=reservation,
        ideal=ideal,
        amount_weight=v["kr_amount_weight"],
        curvature=v["kr_curvature"],
        concession_exponent=v["kr_concession_exponent"],
        deadline_days=v["kr_deadline_months"] * DAYS_PER_MONTH,
        lapse_cost=v["lapse_cost_kr"],
        discount_rate=v["kr_discount_rate"],
        # Korea loses what it pays beyond the first year, at the rate its first year costs it
        discrete_value=(high[:, None] - menu + tables.appeal) * money_rate[:, None],
        level_factor=np.ones_like(menu),
        clock_start_day=np.zeros_like(ideal),
        floor_factor=np.ones_like(menu),
        disagreement_base=np.zeros_like(ideal),
        waiting_shift=np.zeros_like(ideal),
        # costs the U.S. links to the talks (tariffs) weigh as hard as it presses
        coercion_cost=v["coercion_cost_kr"] * pressure,
        coercion_start_day=np.zeros_like(ideal),
    )
    in_force_value = (high - in_force + tables.in_force_appeal) * money_rate
    side = _with_agreement_in_force(side, setting, tables, in_force_value)
    return _with_look_ahead(side, setting, v, outlook)


def _with_agreement_in_force(side: Side, setting: Setting, tables, in_force_value) -> Side:
    """While an agreement runs, no deal means its path: the side's utility of it."""
    if setting.in_force_years <= 0:
        return side
    # bounded below like the look-ahead: a formula far beyond a side's reservation is worth
    # at most a full span (ideal to reservation) less than the reservation
    base = np.maximum(utility_of(side, tables.floor, in_force_value), -1.0)
    return replace(side, disagreement_base=base)


def utility_of(side: Side, base: np.ndarray, package_value: np.ndarray) -> np.ndarray:
    """``u_i`` of first year ``base`` with a package worth ``package_value`` (shape (n,))."""
    z = (base - side.reservation) / (side.ideal - side.reservation)
    w = side.amount_weight
    with np.errstate(over="ignore"):  # far below the reservation the utility is -inf
        return w * curvature_value(z, side.curvature) + (1.0 - w) * package_value


def _with_look_ahead(side: Side, setting: Setting, v, outlook: Outlook) -> Side:
    """Korea's one-step look-ahead over the next U.S. administration.

    Until the inauguration, no deal means negotiating with the next administration, whose
    reservation Korea would have to meet at least: Korea's disagreement value is at most the
    expected utility of that first year (with its worst package), weighted by
    ``kr_anticipation``. Where that is worse than today's, Korea concedes more now: "finish
    before the election" (2024).
    """
    if not np.isfinite(outlook.inauguration_day):
        return side
    s = setting.status_quo

    def utility_facing(pressure):
        first_year = s * (1.0 + increases(v, pressure)["us_reservation"])
        # a successor far beyond Korea's reservation cannot make no deal worth less than a
        # full span of Korea's utility (ideal to reservation) below today's: the bound keeps
        # targets finite where the curvature's exponential would run away
        floor = side.disagreement_base - 1.0
        return np.maximum(utility_of(side, first_year, np.zeros_like(first_year)), floor)

    if outlook.successor_pressure is not None:
        waiting = utility_facing(outlook.successor_pressure)
    else:
        high = v["p_high_pressure"]
        waiting = high * utility_facing(v["us_pressure_if_high"]) + (1.0 - high) * (
            utility_facing(v["us_pressure_if_low"])
        )
    shift = v["kr_anticipation"] * np.minimum(waiting - side.disagreement_base, 0.0)
    return replace(side, waiting_shift=shift, waiting_until_day=outlook.inauguration_day)


def nash_weight(us: Side, kr: Side) -> np.ndarray:
    """U.S. Nash weight ``alpha = rho_KR / (rho_US + rho_KR)`` (patience is power)."""
    return kr.discount_rate / (us.discount_rate + kr.discount_rate)


def round_discount(side: Side, interval_days: float) -> np.ndarray:
    """Per-round discount factor ``(1 + rho)^(-interval / 365.25)``."""
    return (1.0 + side.discount_rate) ** (-interval_days / 365.25)


def veto_utility(
    us: Side, pressure: np.ndarray, *, strength: np.ndarray, threshold: np.ndarray
) -> np.ndarray:
    """U.S. utility below which the president vetoes a deal; ``-inf`` where there is no review.

    ``strength p`` above the U.S. disagreement value before any lapse; like the negotiators'
    own floor it falls with the U.S. lapse cost once the old SMA has expired (the president
    too pays for a lapse: 2020-21), and because it is a utility, a deal the U.S. values more
    in other ways (a short term it expects to renegotiate upward) passes with a lower first
    year (2019: +8.2 % for one year).

    Parameters
    ----------
    us : Side
    pressure : ndarray, shape (n_draws,)
    strength, threshold : ndarray, shape (n_draws,)
        ``veto_strength`` and ``veto_pressure_threshold``.

    Returns
    -------
    ndarray, shape (n_draws,)
        Utility (before lapse costs).
    """
    floor = us.disagreement_base + strength * pressure
    return np.where(pressure > threshold, floor, -np.inf)
