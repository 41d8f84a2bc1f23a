"""Bargaining solutions: known answers, invariants, and fast paths against the SciPy solver."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smasim.models.agents import amount_at_utility, utility
from smasim.models.bargaining import CONCEPTS, solve_zone
from smasim.models.general import GeneralProblem, solve
from tests.helpers import linear_side


def pie(alpha=0.5, delta_us=0.9, delta_kr=0.9, concept="nash", us_first=True, rounds=1):
    """Split of a unit pie: u_US = b, u_KR = 1 - b on [0, 1], disagreement (0, 0)."""
    us = linear_side(0.0, 1.0)
    kr = linear_side(1.0, 0.0)
    one = np.ones(1)
    deal = solve_zone(
        us,
        kr,
        np.zeros((1, 1)),
        np.ones((1, 1)),
        0 * one,
        0 * one,
        concept=concept,
        alpha=alpha * one,
        delta_us=delta_us * one,
        delta_kr=delta_kr * one,
        us_first=np.array([us_first]),
        rounds_left=rounds,
    )
    return float(deal.base[0])


def general_pie(concept, **kw):
    prob = GeneralProblem(lambda b, k: b, lambda b, k: 1.0 - b, [0.0], [1.0])
    return solve(prob, concept=concept, **kw).base


# --- known answers -----------------------------------------------------------------------
def test_symmetric_nash_on_linear_frontier_gives_equal_gains():
    # max b (1 - b): first-order condition 1 - 2b = 0, so b = 1/2 and both gain 1/2
    assert pie(alpha=0.5) == pytest.approx(0.5, abs=1e-12)
    assert general_pie("nash", alpha=0.5) == pytest.approx(0.5, abs=1e-12)


@pytest.mark.parametrize("alpha", [0.1, 0.3, 0.62, 0.9])
def test_asymmetric_nash_gives_the_us_its_weight(alpha):
    # max alpha log b + (1 - alpha) log(1 - b): alpha / b = (1 - alpha) / (1 - b), so b = alpha
    assert pie(alpha=alpha) == pytest.approx(alpha, abs=1e-12)
    assert general_pie("nash", alpha=alpha) == pytest.approx(alpha, abs=1e-10)


@pytest.mark.parametrize(("d1", "d2"), [(0.9, 0.9), (0.95, 0.8), (0.5, 0.99), (0.99, 0.3)])
def test_rubinstein_first_mover_share(d1, d2):
    # x = 1 - d2 (1 - y), y = d1 x  =>  x = (1 - d2) / (1 - d1 d2)   (Rubinstein 1982)
    expected = (1 - d2) / (1 - d1 * d2)
    assert pie(concept="rubinstein", delta_us=d1, delta_kr=d2) == pytest.approx(expected, abs=1e-11)
    assert general_pie("rubinstein", delta_us=d1, delta_kr=d2) == pytest.approx(expected, abs=1e-10)
    # Korea moving first takes (1 - d1) / (1 - d1 d2) of the pie, leaving the U.S. the rest
    kr_share = (1 - d1) / (1 - d1 * d2)
    assert 1 - pie(concept="rubinstein", delta_us=d1, delta_kr=d2, us_first=False) == pytest.approx(
        kr_share, abs=1e-11
    )


@pytest.mark.parametrize(("d1", "d2"), [(0.9, 0.8), (0.6, 0.95)])
def test_rubinstein_finite_deadline_by_backward_induction(d1, d2):
    # N = 1: the proposer takes all. N = 2: Korea would take all in round 2, so the U.S.
    # offers d2 now and keeps 1 - d2. N = 3: the U.S. gets 1 in round 3, Korea offers d1 in
    # round 2 keeping 1 - d1, the U.S. offers d2 (1 - d1) now: keeps 1 - d2 + d1 d2.
    closed = {1: 1.0, 2: 1 - d2, 3: 1 - d2 + d1 * d2}
    for n, share in closed.items():
        assert pie(
            concept="rubinstein_finite", delta_us=d1, delta_kr=d2, rounds=n
        ) == pytest.approx(share)
        assert general_pie(
            "rubinstein_finite", delta_us=d1, delta_kr=d2, rounds_left=n
        ) == pytest.approx(share)
    # and the deadline game converges to the infinite-horizon share
    long = pie(concept="rubinstein_finite", delta_us=d1, delta_kr=d2, rounds=401)
    assert long == pytest.approx((1 - d2) / (1 - d1 * d2), abs=1e-9)


def test_kalai_smorodinsky_on_a_known_nonlinear_frontier():
    # u_US = b, u_KR = 1 - b^2 on [0, 1]: ideal point (1, 1), so KS solves b = 1 - b^2,
    # b = (sqrt(5) - 1) / 2 (the golden section)
    prob = GeneralProblem(lambda b, k: b, lambda b, k: 1.0 - b**2, [0.0], [1.0])
    sol = solve(prob, concept="kalai_smorodinsky")
    assert sol.base == pytest.approx((math.sqrt(5) - 1) / 2, abs=1e-12)
    assert sol.u_us == pytest.approx(sol.u_kr, abs=1e-12)


def test_kalai_smorodinsky_fast_path_on_an_exponential_frontier():
    # Korea's utility m(1 - b) with curvature k: the KS point b solves b = m(1 - b) on the
    # unit square, checked against the closed-form curvature function
    kappa = 2.0
    us = linear_side(0.0, 1.0)
    kr = linear_side(1.0, 0.0, curvature=kappa)
    one = np.ones(1)
    deal = solve_zone(
        us,
        kr,
        np.zeros((1, 1)),
        np.ones((1, 1)),
        0 * one,
        0 * one,
        concept="kalai_smorodinsky",
        alpha=0.5 * one,
        delta_us=one,
        delta_kr=one,
        us_first=np.array([True]),
    )
    b = float(deal.base[0])
    assert b == pytest.approx((1 - math.exp(-kappa * (1 - b))) / (1 - math.exp(-kappa)), abs=1e-11)


def test_kalai_smorodinsky_normalises_by_each_sides_largest_gain():
    # Linear sides on the zone [100, 130]: u_US = (b - 100) / 40 (largest gain 0.75 at 130),
    # u_KR = (140 - b) / 40 (largest gain 1.0 at 100). KS equalises the shares of the largest
    # gains: (b - 100) / 30 = (140 - b) / 40, so b = 100 + 30 * 40 / 70 = 117.142857...
    # (equal absolute gains would give b = 120: the two normalisers differ here)
    us = linear_side(100.0, 140.0)
    kr = linear_side(140.0, 100.0)
    one = np.ones(1)
    kw = {
        "alpha": 0.5 * one,
        "delta_us": 0.9 * one,
        "delta_kr": 0.9 * one,
        "us_first": np.array([True]),
    }
    deal = solve_zone(
        us, kr, np.full((1, 1), 100.0), np.full((1, 1), 130.0), 0 * one, 0 * one,
        concept="kalai_smorodinsky", **kw,
    )  # fmt: skip
    expected = 100.0 + 30.0 * 40.0 / 70.0
    assert float(deal.base[0]) == pytest.approx(expected, rel=1e-12)
    general = GeneralProblem(
        lambda b, k: (b - 100.0) / 40.0, lambda b, k: (140.0 - b) / 40.0, [100.0], [130.0]
    )
    assert solve(general, concept="kalai_smorodinsky").base == pytest.approx(expected, rel=1e-9)


def test_accepted_offer_gives_the_proposer_its_best_point():
    assert pie(concept="accepted_offer", us_first=True) == 1.0
    assert pie(concept="accepted_offer", us_first=False) == 0.0


def test_patience_is_power_in_the_nash_weight():
    from smasim.models.pressure import nash_weight

    us, kr = linear_side(0.0, 1.0, discount=0.02), linear_side(1.0, 0.0, discount=0.08)
    # the more patient U.S. (lower discount rate) gets alpha = 0.08 / 0.10
    assert nash_weight(us, kr)[0] == pytest.approx(0.8)


# --- fast paths against the general SciPy solver ---------------------------------------------
side_params = st.fixed_dictionaries(
    {
        "weight": st.floats(0.3, 1.0),
        "curvature": st.sampled_from([0.0, 0.3, 1.0, 3.0]),
    }
)


def random_problem(draw_data, n_packages):
    us_r = draw_data.draw(st.floats(90, 110))
    us_i = us_r + draw_data.draw(st.floats(20, 300))
    kr_i = draw_data.draw(st.floats(80, 105))
    kr_r = kr_i + draw_data.draw(st.floats(5, 60))
    pu, pk = draw_data.draw(side_params), draw_data.draw(side_params)
    c_us = draw_data.draw(st.lists(st.floats(0, 1), min_size=n_packages, max_size=n_packages))
    c_kr = draw_data.draw(st.lists(st.floats(0, 1), min_size=n_packages, max_size=n_packages))
    f_us = draw_data.draw(st.lists(st.floats(0.8, 1.3), min_size=n_packages, max_size=n_packages))
    f_kr = draw_data.draw(st.lists(st.floats(0.8, 1.3), min_size=n_packages, max_size=n_packages))
    us = linear_side(us_r, us_i, n_packages=n_packages, discrete=c_us, factor=f_us, **pu)
    kr = linear_side(kr_r, kr_i, n_packages=n_packages, discrete=c_kr, factor=f_kr, **pk)
    t_us = draw_data.draw(st.floats(-0.3, 0.9))
    t_kr = draw_data.draw(st.floats(-0.3, 0.9))
    d_us = min(t_us, draw_data.draw(st.floats(-0.3, 0.0)))
    d_kr = min(t_kr, draw_data.draw(st.floats(-0.3, 0.0)))
    lo = amount_at_utility(us, np.array([t_us]))
    hi = amount_at_utility(kr, np.array([t_kr]))
    return us, kr, lo, hi, d_us, d_kr


def general_of(us, kr, lo, hi, d_us, d_kr):
    def vectorized(side):
        def u(b, k):
            b = np.asarray(b, dtype=float)
            flat = b.ravel()
            vals = utility(_rep(side, flat.size), flat, np.full(flat.size, k))
            return vals.reshape(b.shape)

        return u

    u_us, u_kr = vectorized(us), vectorized(kr)

    return GeneralProblem(u_us, u_kr, list(lo[0]), list(hi[0]), d_us, d_kr)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), concept=st.sampled_from(tuple(CONCEPTS)), n_packages=st.integers(1, 4))
def test_fast_paths_agree_with_the_general_scipy_solver(data, concept, n_packages):
    us, kr, lo, hi, d_us, d_kr = random_problem(data, n_packages)
    if not (lo <= hi).any():
        return
    alpha = data.draw(st.floats(0.1, 0.9))
    du, dk = data.draw(st.floats(0.5, 0.99)), data.draw(st.floats(0.5, 0.99))
    first = data.draw(st.booleans())
    rounds = data.draw(st.integers(1, 6))
    one = np.ones(1)
    deal = solve_zone(
        us,
        kr,
        lo,
        hi,
        d_us * one,
        d_kr * one,
        concept=concept,
        alpha=alpha * one,
        delta_us=du * one,
        delta_kr=dk * one,
        us_first=np.array([first]),
        rounds_left=rounds,
    )
    ref = solve(
        general_of(us, kr, lo, hi, d_us, d_kr),
        concept=concept,
        alpha=alpha,
        delta_us=du,
        delta_kr=dk,
        us_first=first,
        rounds_left=rounds,
    )
    # the package choice can differ only if two packages tie to within the tolerance
    if int(deal.package[0]) == ref.package:
        assert float(deal.base[0]) == pytest.approx(ref.base, rel=1e-8, abs=1e-8)
    else:
        assert float(deal.u_us[0]) == pytest.approx(ref.u_us, abs=1e-7)
        assert float(deal.u_kr[0]) == pytest.approx(ref.u_kr, abs=1e-7)


# --- invariants ----------------------------------------------------------------------------
@settings(max_examples=80, deadline=None)
@given(data=st.data(), concept=st.sampled_from(tuple(CONCEPTS)), n_packages=st.integers(1, 4))
def test_agreements_are_individually_rational_and_inside_the_zone(data, concept, n_packages):
    us, kr, lo, hi, d_us, d_kr = random_problem(data, n_packages)
    one = np.ones(1)
    deal = solve_zone(
        us,
        kr,
        lo,
        hi,
        d_us * one,
        d_kr * one,
        concept=concept,
        alpha=0.5 * one,
        delta_us=0.9 * one,
        delta_kr=0.9 * one,
        us_first=np.array([True]),
        rounds_left=3,
    )
    if not (lo <= hi).any():
        assert deal.package[0] == -1 and np.isnan(deal.base[0])
        return
    k = int(deal.package[0])
    b = float(deal.base[0])
    assert lo[0, k] - 1e-9 <= b <= hi[0, k] + 1e-9
    assert deal.u_us[0] >= d_us - 1e-9 and deal.u_kr[0] >= d_kr - 1e-9
    # inside the zone means each side gets at least its current target
    t_us = utility(us, np.array([lo[0, k]]), np.array([k]))[0]
    t_kr = utility(kr, np.array([hi[0, k]]), np.array([k]))[0]
    assert deal.u_us[0] >= t_us - 1e-9 and deal.u_kr[0] >= t_kr - 1e-9


@settings(max_examples=60, deadline=None)
@given(data=st.data(), n_packages=st.integers(1, 4))
def test_nash_solution_is_pareto_optimal(data, n_packages):
    us, kr, lo, hi, d_us, d_kr = random_problem(data, n_packages)
    if not (lo <= hi).any():
        return
    one = np.ones(1)
    deal = solve_zone(
        us,
        kr,
        lo,
        hi,
        d_us * one,
        d_kr * one,
        concept="nash",
        alpha=0.5 * one,
        delta_us=one,
        delta_kr=one,
        us_first=np.array([True]),
    )
    # no point of any package's zone (on a fine grid) is better for one side and no worse
    # for the other
    for k in range(n_packages):
        if lo[0, k] > hi[0, k]:
            continue
        grid = np.linspace(lo[0, k], hi[0, k], 401)
        kk = np.full(grid.size, k)
        uu = utility(_rep(us, grid.size), grid, kk)
        uk = utility(_rep(kr, grid.size), grid, kk)
        better = (uu > deal.u_us[0] + 1e-9) & (uk > deal.u_kr[0] + 1e-9)
        assert not better.any()


def _rep(side, n):
    return side.take(np.zeros(n, dtype=int))


@settings(max_examples=40, deadline=None)
@given(
    scale_us=st.floats(0.1, 10),
    shift_us=st.floats(-5, 5),
    scale_kr=st.floats(0.1, 10),
    shift_kr=st.floats(-5, 5),
    alpha=st.floats(0.1, 0.9),
    kappa=st.one_of(st.just(0.0), st.floats(0.01, 3.0)),
)
def test_nash_is_invariant_to_positive_affine_rescaling(
    scale_us, shift_us, scale_kr, shift_kr, alpha, kappa
):
    def m(b):
        return b if kappa == 0 else (1 - np.exp(-kappa * b)) / (1 - np.exp(-kappa))

    base = GeneralProblem(lambda b, k: m(b), lambda b, k: 1.0 - b, [0.0], [1.0], 0.0, 0.0)
    scaled = GeneralProblem(
        lambda b, k: scale_us * m(b) + shift_us,
        lambda b, k: scale_kr * (1.0 - b) + shift_kr,
        [0.0],
        [1.0],
        shift_us,
        shift_kr,
    )
    a = solve(base, concept="nash", alpha=alpha).base
    b = solve(scaled, concept="nash", alpha=alpha).base
    assert a == pytest.approx(b, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_swapping_symmetric_sides_swaps_the_outcome(data):
    # mirror b -> 1 - b: Korea's utility in the mirrored problem is the U.S. utility of the
    # original and vice versa, and the Nash weights swap; the solution mirrors
    r_us, i_us = data.draw(st.floats(0.0, 0.3)), data.draw(st.floats(0.7, 1.0))
    r_kr, i_kr = data.draw(st.floats(0.7, 1.0)), data.draw(st.floats(0.0, 0.3))
    p_us, p_kr = data.draw(side_params), data.draw(side_params)
    alpha = data.draw(st.floats(0.1, 0.9))
    concept = data.draw(st.sampled_from(["nash", "kalai_smorodinsky"]))
    one = np.ones(1)

    def outcome(us, kr, a):
        lo, hi = amount_at_utility(us, 0 * one), amount_at_utility(kr, 0 * one)
        return solve_zone(
            us,
            kr,
            lo,
            hi,
            0 * one,
            0 * one,
            concept=concept,
            alpha=a * one,
            delta_us=one,
            delta_kr=one,
            us_first=np.array([True]),
        )

    orig = outcome(linear_side(r_us, i_us, **p_us), linear_side(r_kr, i_kr, **p_kr), alpha)
    mirror = outcome(
        linear_side(1 - r_kr, 1 - i_kr, **p_kr), linear_side(1 - r_us, 1 - i_us, **p_us), 1 - alpha
    )
    if np.isnan(orig.base[0]):
        assert np.isnan(mirror.base[0])
        return
    assert 1 - mirror.base[0] == pytest.approx(orig.base[0], abs=1e-9)
    assert mirror.u_us[0] == pytest.approx(orig.u_kr[0], abs=1e-9)
    assert mirror.u_kr[0] == pytest.approx(orig.u_us[0], abs=1e-9)


def test_empty_zone_gives_no_agreement():
    us, kr = linear_side(0.0, 1.0), linear_side(1.0, 0.0)
    one = np.ones(1)
    deal = solve_zone(
        us,
        kr,
        np.array([[0.7]]),
        np.array([[0.3]]),
        0 * one,
        0 * one,
        concept="nash",
        alpha=0.5 * one,
        delta_us=one,
        delta_kr=one,
        us_first=np.array([True]),
    )
    assert deal.package[0] == -1 and np.isnan(deal.base[0])


def test_unknown_concept_is_refused():
    us, kr = linear_side(0.0, 1.0), linear_side(1.0, 0.0)
    one = np.ones(1)
    with pytest.raises(ValueError, match="unknown solution concept"):
        solve_zone(
            us,
            kr,
            np.zeros((1, 1)),
            np.ones((1, 1)),
            0 * one,
            0 * one,
            concept="coin",
            alpha=one,
            delta_us=one,
            delta_kr=one,
            us_first=np.array([True]),
        )
