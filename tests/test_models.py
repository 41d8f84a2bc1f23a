"""Packages, escalation rules, the sides' preferences and the pressure mapping."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smasim.models.acceptance import rejection_probability
from smasim.models.agents import (
    amount_at_utility,
    curvature_inverse,
    curvature_value,
    target_utility,
    utility,
)
from smasim.models.packages import EscalationRule, PackageSet, contribution_path
from smasim.models.pressure import veto_utility
from tests.helpers import linear_side


def test_escalation_rules_turn_macro_assumptions_into_rates():
    cpi, defense = np.array([0.021, 0.06, -0.01]), np.array([0.074, 0.03, 0.05])
    assert np.array_equal(EscalationRule("f", "frozen").annual_rate(cpi, defense), [0, 0, 0])
    assert np.allclose(EscalationRule("x", "fixed", rate=0.04).annual_rate(cpi, defense), 0.04)
    # 12th SMA: CPI capped at 5%; a negative CPI never cuts the amount
    assert np.allclose(
        EscalationRule("c", "cpi", cap=0.05).annual_rate(cpi, defense), [0.021, 0.05, 0.0]
    )
    assert np.allclose(EscalationRule("d", "defense").annual_rate(cpi, defense), defense)


def test_package_set_is_rule_major():
    pk = PackageSet((EscalationRule("a", "frozen"), EscalationRule("b", "fixed", rate=0.1)), (1, 5))
    assert pk.size == 4
    assert list(pk.rule_index) == [0, 0, 1, 1]
    assert list(pk.duration) == [1, 5, 1, 5]
    assert pk.label(3) == "b, 5 yr"
    with pytest.raises(ValueError, match="between 1 and 6"):
        PackageSet((EscalationRule("a", "frozen"),), (7,))


def test_contribution_path_freezes_lapsed_years_and_years_after_the_term():
    # 11th-SMA shape: 2020 lapsed (paid at the status quo), 2021 at the new amount, growth
    # after, frozen after the term
    amount, beyond = contribution_path(
        np.array([1183.3]),
        np.array([0.05]),
        np.array([3]),
        start_year=2020,
        first_year=np.array([2021]),
        status_quo=1038.9,
        years=np.arange(2020, 2025),
    )
    expected = [1038.9, 1183.3, 1183.3 * 1.05, 1183.3 * 1.05, 1183.3 * 1.05]
    assert np.allclose(amount[0], expected)
    assert list(beyond[0]) == [False, False, False, True, True]


@settings(max_examples=200, deadline=None)
@given(y=st.floats(-5, 0.99), kappa=st.floats(0, 20))
def test_curvature_inverse_inverts(y, kappa):
    z = curvature_inverse(np.array([y]), np.array([kappa]))
    assert curvature_value(z, np.array([kappa]))[0] == pytest.approx(y, abs=1e-9)


def test_curvature_is_pinned_at_reservation_and_ideal():
    for kappa in (0.0, 0.5, 5.0):
        k = np.array([kappa, kappa])
        assert np.allclose(curvature_value(np.array([0.0, 1.0]), k), [0.0, 1.0])


@settings(max_examples=100, deadline=None)
@given(
    exponent=st.floats(0.05, 20),
    deadline=st.floats(1, 1000),
    lapse=st.floats(0, 0.2),
    expiry=st.floats(0, 800),
    days=st.lists(st.floats(0, 2000), min_size=2, max_size=30),
)
def test_concession_is_monotone_over_rounds(exponent, deadline, lapse, expiry, days):
    # targets never rise as time passes, so the amounts each side accepts only widen
    side = linear_side(100.0, 150.0, exponent=exponent, deadline=deadline, lapse=lapse)
    t = np.sort(np.asarray(days))
    rep = side.take(np.zeros(t.size, dtype=int))
    tau = target_utility(rep, t, expiry)
    assert np.all(np.diff(tau) <= 1e-12)
    assert tau[0] <= 1.0
    lo = amount_at_utility(rep, tau)[:, 0]
    assert np.all(np.diff(lo) <= 1e-9)


def test_boulware_concedes_later_than_conceder():
    tough = linear_side(100.0, 150.0, exponent=0.3)
    soft = linear_side(100.0, 150.0, exponent=3.0)
    mid = np.array([50.0])
    assert target_utility(tough, mid, 1e9)[0] > target_utility(soft, mid, 1e9)[0]
    # both reach the disagreement value (0) at the deadline
    assert target_utility(tough, np.array([100.0]), 1e9)[0] == pytest.approx(0.0)


def test_utility_is_one_at_the_ideal_and_zero_at_the_reservation():
    us = linear_side(110.0, 150.0, curvature=1.3)
    kr = linear_side(120.0, 100.0, curvature=0.7)
    assert utility(us, np.array([150.0]), np.array([0]))[0] == pytest.approx(1.0)
    assert utility(us, np.array([110.0]), np.array([0]))[0] == pytest.approx(0.0)
    assert utility(kr, np.array([100.0]), np.array([0]))[0] == pytest.approx(1.0)
    assert utility(kr, np.array([120.0]), np.array([0]))[0] == pytest.approx(0.0)


def test_ratification_risk_rises_past_the_threshold():
    inc = np.array([0.05, 0.10, 0.15, 0.30])
    p = rejection_probability(inc, np.full(4, 0.10), np.full(4, 0.10))
    assert p[0] == 0 and p[1] == 0
    assert p[2] == pytest.approx(1 - np.exp(-0.5))
    assert p[3] > p[2]


def test_veto_only_above_the_pressure_threshold():
    # the president's floor is a U.S. utility: strength x pressure above its disagreement value
    us = linear_side(np.array([110.0, 110.0]), 150.0)
    floor = veto_utility(
        us, np.array([0.5, 0.9]), strength=np.full(2, 0.5), threshold=np.full(2, 0.7)
    )
    assert floor[0] == -np.inf
    assert floor[1] == pytest.approx(0.5 * 0.9)


@settings(max_examples=100, deadline=None)
@given(
    target=st.floats(-1.5, 1.2),
    kappa=st.sampled_from([0.0, 1e-6, 5e-3, 0.3, 2.0, 12.0]),
    weight=st.floats(0.2, 1.0),
    discrete=st.lists(st.floats(0, 1), min_size=3, max_size=3),
    factor=st.lists(st.floats(0.8, 1.4), min_size=3, max_size=3),
    us=st.booleans(),
)
def test_acceptance_table_matches_amount_at_utility(target, kappa, weight, discrete, factor, us):
    # the precomputed one-log form of the bounds equals the direct inverse of the utility
    from smasim.models.acceptance import AcceptanceTable

    r, i = (110.0, 180.0) if us else (125.0, 100.0)
    side = linear_side(
        r, i, n_packages=3, curvature=kappa, weight=weight, discrete=discrete, factor=factor
    )
    t = np.array([target])
    direct = amount_at_utility(side, t)
    fast = AcceptanceTable.from_side(side).bounds(t, np.array([0]))
    assert np.array_equal(np.isinf(direct), np.isinf(fast))
    finite = np.isfinite(direct)
    assert np.allclose(fast[finite], direct[finite], rtol=1e-12, atol=1e-9)
    assert np.array_equal(np.sign(fast[~finite]), np.sign(direct[~finite]))


# --- money at the first year's rate; targets never below no deal ------------------------------
def test_a_won_beyond_the_first_year_enters_at_the_first_years_rate_at_the_reservation():
    """Known answer: ``m'(0) / |I - R|`` with ``m'(0) = kappa / (1 - e^-kappa)`` (1 when
    linear), so with ``u = w m(z) + (1 - w) c`` a won a year beyond the first year weighs
    ``(1 - w) / w`` of a won of first year at the reservation, whatever the span."""
    from smasim.models.agents import utility_slope
    from smasim.models.valuation import utility_per_money

    # Korea-like (I < R) and U.S.-like (I > R)
    ideal, reservation = np.array([1000.0, 1500.0]), np.array([1100.0, 1200.0])
    kappa = np.array([0.0, 2.0])
    rate = utility_per_money(ideal, reservation, kappa)
    np.testing.assert_allclose(rate, [1 / 100, 2 / (1 - np.exp(-2.0)) / 300])
    side = linear_side(reservation, ideal, weight=0.8, curvature=kappa, n_packages=1)
    first_year = np.abs(utility_slope(side, reservation.copy(), np.zeros(2, dtype=int)))
    np.testing.assert_allclose((1 - 0.8) * rate / first_year, 0.2 / 0.8)


def test_a_target_never_falls_below_the_value_of_no_deal():
    """An agreement in force worth more to a side than its ideal (d > 1): the tactic's path
    from 1 towards d would rise; the target stays at d, so it never increases over time."""
    side = linear_side(100.0, 120.0, deadline=100.0)
    side = replace(side, disagreement_base=np.array([1.3]))
    days = np.linspace(0.0, 150.0, 16)
    tau = np.array([target_utility(side, np.array([t]), 1e9)[0] for t in days])
    assert np.all(tau == 1.3)
    below = replace(side, disagreement_base=np.array([0.2]))
    tau = np.array([target_utility(below, np.array([t]), 1e9)[0] for t in days])
    assert np.all(np.diff(tau) <= 0) and tau[0] == 1.0 and tau[-1] == pytest.approx(0.2)
