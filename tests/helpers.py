"""Small builders shared by the tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from smasim.models.agents import Side


def linear_side(
    reservation,
    ideal,
    *,
    n_packages: int = 1,
    weight=1.0,
    curvature=0.0,
    discrete=None,
    factor=None,
    exponent=1.0,
    deadline=100.0,
    lapse=0.0,
    discount=0.05,
) -> Side:
    """A side over arrays of draws; by default linear utility ``(b - R) / (I - R)`` in ``b``.

    Scalars broadcast to one draw; arrays give one draw per element.
    """
    r = np.atleast_1d(np.asarray(reservation, dtype=float))
    n = r.size

    def col(x):
        return np.broadcast_to(np.asarray(x, dtype=float), (n,)).copy()

    def table(x, default):
        x = default if x is None else x
        return np.broadcast_to(np.asarray(x, dtype=float), (n, n_packages)).copy()

    return Side(
        reservation=r,
        ideal=col(ideal),
        amount_weight=col(weight),
        curvature=col(curvature),
        concession_exponent=col(exponent),
        deadline_days=col(deadline),
        lapse_cost=col(lapse),
        discount_rate=col(discount),
        discrete_value=table(discrete, 0.0),
        level_factor=table(factor, 1.0),
        clock_start_day=np.zeros(n),
        floor_factor=np.ones((n, n_packages)),
        disagreement_base=np.zeros(n),
        waiting_shift=np.zeros(n),
        coercion_cost=np.zeros(n),
        coercion_start_day=np.zeros(n),
    )


DAYS_PER_MONTH = 30.4375  # as models.agents.DAYS_PER_MONTH

# The toy negotiation of the trace and degenerate-model tests: one frozen 1-year package,
# linear utilities, no pressure. U.S. reservation 110, ideal 150; Korea ideal 100,
# reservation 120 (status quo 100); both concede linearly to their reservation by day 100.
# Korea's drivers, look-ahead and escalation aversion are off.
TOY_PARAMETERS = {
    "kr_defense_pass_through": 0.0,
    "kr_wage_pass_through": 0.0,
    "kr_precedent_weight": 0.0,
    "kr_anticipation": 0.0,
    "kr_escalation_aversion": 0.0,
    "package_appeal_sd": 0.0,
    "index_formula_appeal": 0.0,
    "us_pressure": 0.0,
    "p_high_pressure": 0.0,
    "us_pressure_if_high": 1.0,
    "us_pressure_if_low": 0.0,
    "talks_probability": 1.0,
    "assembly_threshold": 0.5,
    "assembly_rejection_scale": 0.1,
    "audience_cost": 0.0,
    "nk_threat": 0.0,
    "withdrawal_credibility": 0.0,
    "lapse_cost_kr": 0.0,
    "lapse_cost_us": 0.0,
    "veto_pressure_threshold": 0.9,
    "veto_strength": 0.0,
    "us_ideal_increase": 0.5,
    "us_reservation_increase": 0.1,
    "pressure_ideal_gain": 0.0,
    "pressure_reservation_gain": 0.0,
    "pressure_toughness": 0.0,
    "kr_ideal_increase": 0.0,
    "kr_reservation_increase": 0.2,
    "nk_threat_gain": 0.0,
    "withdrawal_gain": 0.0,
    "us_amount_weight": 1.0,
    "kr_amount_weight": 1.0,
    "us_curvature": 0.0,
    "kr_curvature": 0.0,
    "us_concession_exponent": 1.0,
    "kr_concession_exponent": 1.0,
    "us_deadline_months": 100 / DAYS_PER_MONTH,
    "kr_deadline_months": 100 / DAYS_PER_MONTH,
    "us_discount_rate": 0.05,
    "kr_discount_rate": 0.05,
    "cpi_rate": 0.02,
    "defense_growth_rate": 0.04,
    "krw_per_usd": 1400.0,
}


# The reopening of the 12th SMA on one date with a probability, as the bundled today_reopening
# stood before its demand became a hazard: the engine tests' config with a formula in force.
REOPENING_2027 = str(Path(__file__).parent / "configs" / "reopening_2027.toml")
