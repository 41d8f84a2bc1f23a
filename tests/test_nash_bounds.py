"""The Nash screen: its closed-form tangent step, and that it never drops a draw's winner."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from smasim.models import bargaining
from smasim.models.agents import amount_at_utility, utility
from smasim.models.bargaining import CONCEPTS, solve_zone
from smasim.models.nash_bounds import nash_candidates, tangent_nash
from tests.helpers import linear_side


def test_tangent_step_on_lines_is_the_linear_nash_solution():
    # Lines g_US = 1 + t and g_KR = 2 - t share a surplus of 3; with alpha = 1/2 the Nash
    # solution splits it equally: 1 + t = 2 - t = 1.5 at t = 0.5, and the closed form
    # t* = alpha g_KR / (-s_KR) - (1 - alpha) g_US / s_US = 0.5 * 2 - 0.5 * 1 = 0.5 agrees.
    point, bound, line_us, line_kr = tangent_nash(1.0, 1.0, 2.0, -1.0, 0.5, 10.0, 0.0, 20.0)
    assert point == pytest.approx(10.5)
    assert (line_us, line_kr) == pytest.approx((1.5, 1.5))
    assert bound == pytest.approx(math.log(1.5))
    # alpha = 0.8: t* = 0.8 * 2 - 0.2 * 1 = 1.4, gains 2.4 and 0.6 (shares 0.8 and 0.2 of 3)
    point, _, line_us, line_kr = tangent_nash(1.0, 1.0, 2.0, -1.0, 0.8, 0.0, -5.0, 5.0)
    assert point == pytest.approx(1.4)
    assert (line_us, line_kr) == pytest.approx((2.4, 0.6))
    # a zone ending at t = 0.2 binds: the concave objective's maximum is at that end
    point, bound, _, _ = tangent_nash(1.0, 1.0, 2.0, -1.0, 0.5, 0.0, 0.0, 0.2)
    assert point == 0.2
    assert bound == pytest.approx(0.5 * math.log(1.2) + 0.5 * math.log(1.8))


def _random_zones(rng, n, k, near_disagreement):
    """Draws whose packages share their curves (level factors 1), some of them repeated.

    A third of the draws have linear utilities: there the tangents are the gains, the screen's
    bound equals the optimum exactly, and only rounding separates the two.
    """

    def curvature():
        return np.where(rng.uniform(size=n) < 1 / 3, 0.0, rng.uniform(0, 3, n))

    us_r = rng.uniform(1400, 1500, n)
    us = linear_side(us_r, us_r + rng.uniform(50, 400, n), n_packages=k,
                     weight=rng.uniform(0.3, 1.0, n), curvature=curvature(),
                     discrete=rng.uniform(0, 1, (n, k)))  # fmt: skip
    kr_i = rng.uniform(1350, 1450, n)
    kr = linear_side(kr_i + rng.uniform(20, 200, n), kr_i, n_packages=k,
                     weight=rng.uniform(0.3, 1.0, n), curvature=curvature(),
                     discrete=rng.uniform(0, 1, (n, k)))  # fmt: skip
    # packages 1 and 2 repeat package 0 for both sides, as a 1-year term under every rule
    for side in (us, kr):
        side.discrete_value[:, 1] = side.discrete_value[:, 0]
        side.discrete_value[:, 2] = side.discrete_value[:, 0]
    t_us = rng.uniform(0.2, 0.9, n)
    lo = amount_at_utility(us, t_us)
    if near_disagreement:
        # zones of 0.01-0.5 bn KRW and disagreement 1e-5-1e-3 below the targets: the gains
        # stay ~1e-4 over the whole zone, as in talks that barely open
        first = np.zeros(n, dtype=int)
        t_kr = utility(kr, lo[:, 0] + rng.uniform(0.01, 0.5, n), first)
        gap = rng.uniform(1e-5, 1e-3, n)
    else:
        t_kr = rng.uniform(0.2, 0.9, n)
        gap = rng.uniform(0.05, 0.3, n)
    hi = amount_at_utility(kr, t_kr)
    return us, kr, lo, hi, t_us - gap, t_kr - gap  # disagreement just below the targets


@pytest.mark.parametrize("near_disagreement", [False, True])
def test_screen_keeps_every_draws_winner(near_disagreement):
    """Solving with the screen gives the same package and amount as solving every package.

    Near the disagreement point the gains are ~1e-4 and the log Nash products carry rounding
    errors far above any fixed margin; the screen must still keep the winner (a draw with a
    zone must always reach an agreement).
    """
    rng = np.random.default_rng(7)
    n, k = 4000, 12
    us, kr, lo, hi, d_us, d_kr = _random_zones(rng, n, k, near_disagreement)
    assert (lo <= hi).any(axis=1).mean() > 0.3  # the test needs draws with zones
    kwargs = dict(concept="nash", alpha=rng.uniform(0.2, 0.8, n), delta_us=np.full(n, 0.9),
                  delta_kr=np.full(n, 0.9), us_first=np.ones(n, dtype=bool))  # fmt: skip
    screened = solve_zone(us, kr, lo, hi, d_us, d_kr, **kwargs)
    keep, _ = nash_candidates(us, kr, np.arange(n), lo, hi, d_us, d_kr, kwargs["alpha"])
    assert keep.sum() < 0.5 * (lo <= hi).sum()  # the screen does drop packages
    full_rule = replace(CONCEPTS["nash"], candidates=None)
    original = CONCEPTS["nash"]
    try:
        bargaining.CONCEPTS["nash"] = full_rule
        full = solve_zone(us, kr, lo, hi, d_us, d_kr, **kwargs)
    finally:
        bargaining.CONCEPTS["nash"] = original
    np.testing.assert_array_equal(screened.package, full.package)
    np.testing.assert_allclose(screened.base, full.base, rtol=1e-12)
    assert (screened.package >= 0).sum() == (lo <= hi).any(axis=1).sum()


def test_screen_steps_aside_when_packages_do_not_share_curves():
    rng = np.random.default_rng(3)
    us, kr, lo, hi, d_us, d_kr = _random_zones(rng, 50, 4, near_disagreement=False)
    us = replace(us, level_factor=us.level_factor * 1.1)
    keep, start = nash_candidates(us, kr, np.arange(50), lo, hi, d_us, d_kr, np.full(50, 0.5))
    np.testing.assert_array_equal(keep, lo <= hi)
    assert start is None
