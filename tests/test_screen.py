"""The screening for each draw's first round with a zone of agreement.

The engine does not step every round: it bisects over rounds, following one package per draw
(:meth:`simulation.negotiation.BatchNegotiation._screen`), with blocked kernels
(:func:`models.acceptance.zone_open`, :func:`models.acceptance.package_open`). These tests hold the
shortcuts to the plain definition: the first round at which the zone the round solves over
(:meth:`BatchNegotiation._zone`, from :meth:`AcceptanceTable.bounds`) is non-empty.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from smasim.experiments.config.load import build_experiment, load_config
from smasim.models.acceptance import package_open, zone_open
from smasim.simulation.events import election
from smasim.simulation.montecarlo import sample_batch
from smasim.simulation.negotiation import BatchNegotiation
from smasim.simulation.records import ACTIVE
from tests.helpers import REOPENING_2027


def negotiation(config: str, draws: int, *, seed: int = 11, limits: bool = False):
    """A batch ready to screen; with ``limits``, vetoes and Assembly caps on some draws."""
    # on the priors: a calibrated posterior opens the zones at fewer distinct rounds
    experiment = dataclasses.replace(build_experiment(load_config(config)), posterior=None)
    values, noise = sample_batch(experiment, seed, 0, draws)
    # some draws with a small curvature take the log1p path, some are linear
    for side in ("us", "kr"):
        kappa = values[f"{side}_curvature"].copy()
        kappa[::37] = 0.0
        kappa[5::41] = 1e-4
        values[f"{side}_curvature"] = kappa
    ng = BatchNegotiation(
        experiment.setting, experiment.calendar, values, noise, concept=experiment.concept
    )
    if limits:
        rng = np.random.default_rng(seed)
        status_quo = experiment.setting.status_quo
        floored = rng.random(draws) < 0.3
        ng.us_floor[floored] = status_quo * rng.uniform(0.9, 1.3, floored.sum())
        capped = rng.random(draws) < 0.3
        ng.kr_cap[capped] = status_quo * rng.uniform(0.95, 1.2, capped.sum())
    return ng


def first_round_by_stepping(ng: BatchNegotiation, draws: np.ndarray, r_from: int, r_to: int):
    """Each draw's first round in ``[r_from, r_to)`` with a non-empty zone, stepping them all;
    never before the draw's talks open (a reopening demand's round)."""
    start = np.maximum(r_from, ng.open_round[draws])
    first = np.full(draws.size, ng.n_rounds)
    for r in range(r_to - 1, r_from - 1, -1):
        lo, hi = ng._zone(draws, np.full(draws.size, ng.calendar.round_days[r]))
        first = np.where((lo <= hi).any(axis=1) & (r >= start), r, first)
    return first


@pytest.mark.parametrize("limits", [False, True])
@pytest.mark.parametrize(
    "config",
    # with a formula in force; with a reopening demand's hazard and linked costs (targets
    # held at the disagreement value where it exceeds 1); with Korea's election
    ["sma12_may2024", REOPENING_2027, "sma12_high_pressure", "today_tariff_linkage",
     "sma13_2029"],
)  # fmt: skip
def test_screen_finds_the_first_round_with_a_zone(config, limits):
    # bisection following one package, checked by one round of every package, must give the
    # round that stepping through every round gives, for every draw (those still waiting
    # for a reopening demand too: screened from their round on)
    ng = negotiation(config, 3000, limits=limits)
    draws = np.flatnonzero((ng.status == ACTIVE) | ng.awaiting)
    r_to = ng._segment_end()
    for r_from in (0, r_to // 2):
        ng._screen(draws, r_from)
        expected = first_round_by_stepping(ng, draws, r_from, r_to)
        np.testing.assert_array_equal(ng.next_round[draws], expected)
        # the test means something only if the zones open at many different rounds
        assert np.unique(expected).size > 5


def test_screen_after_the_election_uses_the_new_sides():
    ng = negotiation("sma12_may2024", 2000)
    event = ng.calendar.events[0]
    assert event.kind == "election"
    ng.env.process(election(ng, event))  # the election changes what both sides expect
    ng.env.run(until=ng.calendar.election_day + 1e-9)
    assert ng.high_pressure.any() and not ng.high_pressure.all()
    draws = np.flatnonzero(ng.status == ACTIVE)
    r_from = ng.first_round_after(ng.calendar.election_day, inclusive=True)
    ng._screen(draws, r_from)
    r_to = ng._segment_end()  # the inauguration ends this segment
    assert r_from < r_to < ng.n_rounds
    np.testing.assert_array_equal(
        ng.next_round[draws], first_round_by_stepping(ng, draws, r_from, r_to)
    )


@pytest.mark.parametrize("limits", [False, True])
def test_blocked_kernels_equal_the_zone_bit_for_bit(limits):
    # zone_open and package_open decide exactly as (lo <= hi) on the round's zone, for any
    # round, including draws on the log1p path, linear draws, vetoes and caps
    ng = negotiation("sma12_may2024", 1500, limits=limits)
    draws = np.flatnonzero(ng.status == ACTIVE)[::2]
    floor, cap = ng.us_floor[draws], ng.kr_cap[draws]
    exp = ng.calendar.expiry_day
    from smasim.models.agents import target_utility

    rng = np.random.default_rng(3)
    for r in (0, 7, 15, 25, ng.n_rounds - 1):
        days = np.full(draws.size, ng.calendar.round_days[r])
        t_us = target_utility(ng.us, days, exp, draws)
        t_kr = target_utility(ng.kr, days, exp, draws)
        lo, hi = ng._zone(draws, days)
        zone = lo <= hi
        opened, widest = zone_open(
            ng.us_table, ng.kr_table, draws, t_us, t_kr,
            floor=floor, us_level_factor=ng.us.floor_factor, cap=cap, widest=True,
        )  # fmt: skip
        np.testing.assert_array_equal(opened, zone.any(axis=1))
        gap = np.where(np.isnan(hi - lo), -np.inf, hi - lo)
        np.testing.assert_array_equal(gap[np.arange(draws.size), widest], gap.max(axis=1))
        packages = rng.integers(0, lo.shape[1], draws.size)
        single = package_open(
            ng.us_table, ng.kr_table, draws, packages, t_us, t_kr,
            floor=floor, us_level_factor=ng.us.floor_factor, cap=cap,
        )  # fmt: skip
        np.testing.assert_array_equal(single, zone[np.arange(draws.size), packages])


def test_engine_outcomes_do_not_depend_on_the_screening_block_size(monkeypatch):
    # the kernels take draws in blocks sized for the cache; a block boundary must not matter
    import smasim.models.acceptance as acceptance
    from smasim.simulation.montecarlo import run

    experiment = dataclasses.replace(build_experiment(load_config(None)), batch_size=2000)
    reference = run(experiment, draws=4000, seed=5).columns
    monkeypatch.setattr(acceptance, "_BLOCK_ROWS", 37)
    other = run(experiment, draws=4000, seed=5).columns
    for name, column in reference.items():
        np.testing.assert_array_equal(other[name], column, err_msg=name)


def test_a_zone_narrower_than_rounding_is_no_zone():
    from smasim.models.acceptance import has_zone

    lo = np.array([1587.3137, 1587.3137, 1587.3137, 1587.3137, np.inf, 10.0])
    hi = np.array([1587.3137, 1587.3137 * (1 + 1e-13), 1587.3137 * (1 + 1e-9), 1587.3, 1e4, 10.5])
    np.testing.assert_array_equal(has_zone(lo, hi), [False, False, True, False, False, True])
    assert has_zone(0.0, 1e-13) is np.False_ and has_zone(0.0, 1e-11)  # amounts below 1: absolute
