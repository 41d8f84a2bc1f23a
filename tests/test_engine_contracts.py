"""Contracts of the engine that planted one-line bugs once slipped past.

Each test names the bug it catches: batches drawing one batch's numbers, talks resuming after
(not on) election day, and lapse years paid as nothing instead of the status quo.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from smasim.experiments.config.load import build_experiment, load_config
from smasim.simulation.montecarlo import batch_rng, negotiate, run, sample_batch
from smasim.simulation.outcomes import outcome_columns
from smasim.simulation.records import DONE, CalendarEvent
from smasim.simulation.sampling import sample


def test_batch_b_draws_from_seed_sequence_spawn_key_b():
    """Batch ``b`` is pinned to ``SeedSequence(seed, spawn_key=(b,))``, and batches differ.

    Catches every batch drawing batch 0's numbers (``spawn_key=(0,)``): the second and third
    batches would repeat the first.
    """
    # uncalibrated: a calibrated batch then takes posterior rows (tests/test_posteriors.py)
    e = dataclasses.replace(build_experiment(load_config()), batch_size=300, posterior=None)
    seed = 7
    for b in (0, 1, 2):
        values, _ = sample_batch(e, seed, b, 300)
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(b,)))
        expected, _ = sample(
            e.specs, 300, design=e.design, n_attempts=e.ratification_attempts, rng=rng
        )
        for name, column in expected.items():
            np.testing.assert_array_equal(values[name], column, err_msg=f"batch {b}: {name}")
    first = sample_batch(e, seed, 0, 300)[0]["us_pressure"]
    second = sample_batch(e, seed, 1, 300)[0]["us_pressure"]
    assert not np.array_equal(first, second)
    # and the run's table holds different numbers in different batches
    cols = run(e, draws=900, seed=seed).columns
    rows = cols["param_us_pressure"].reshape(3, 300)
    assert not np.array_equal(rows[0], rows[1]) and not np.array_equal(rows[1], rows[2])
    assert np.array_equal(batch_rng(seed, 2).random(3), np.random.default_rng(
        np.random.SeedSequence(seed, spawn_key=(2,))).random(3))  # fmt: skip


def test_talks_resume_on_election_day_not_after():
    """On a round's day the election comes first and that very round can strike a deal.

    An election on a round's day with a certain low-pressure winner (no clock restart, no new
    floor to reach): draws whose zone first opens at that round agree on election day.
    Catches re-screening from the round after the election.
    """
    base = build_experiment(load_config())
    day = float(base.calendar.round_days[9])  # 191 days in, a round with many first zones
    cal = dataclasses.replace(base.calendar, events=(CalendarEvent("election", day),))
    e = dataclasses.replace(base, calendar=cal)
    values, noise = sample_batch(e, 3, 0, 4000)
    values = {**values, "p_high_pressure": np.zeros(4000)}
    out = negotiate(e, values, noise)
    on_the_day = (out.status == DONE) & (out.agree_day == day)
    assert on_the_day.sum() >= 5, "no draw agreed in the election day's round"


@pytest.fixture(scope="module")
def lapse_run():
    # the 11th SMA: the 10th expired end-2019 with no formula, so a lapse year is paid frozen
    e = build_experiment(load_config("backtest_sma11"))
    values, noise = sample_batch(e, 5, 0, 4000)
    # slow concession on both sides (30-month deadlines): most deals are struck in 2021
    slow = np.full(4000, 30.0)
    values = {**values, "us_deadline_months": slow, "kr_deadline_months": slow}
    out = negotiate(e, values, noise)
    return e, outcome_columns(e, values, noise, out)


def test_a_late_deals_lapse_years_are_paid_at_the_status_quo(lapse_run):
    """Years between the old SMA's expiry and the year a late deal is struck are paid at the
    status quo (frozen here), not as nothing. Catches lapse years paid as 0."""
    e, cols = lapse_run
    # a deal's first year is the year it is struck (or start_year, if later)
    year = cols["agreement_date"].astype("datetime64[Y]").astype(np.int64) + 1970
    late = (cols["outcome"] <= 1) & (year > e.start_year)
    assert late.sum() >= 5, "the test needs deals struck after start_year"
    for y in e.report_years:
        lapsed = late & (year > y)
        if lapsed.any():
            np.testing.assert_array_equal(cols[f"amount_{y}_bn_krw"][lapsed], e.setting.status_quo)


def test_every_draw_pays_a_positive_amount_every_report_year(lapse_run):
    """Agreed or not, Korea pays something every year (a lapse is paid at the status quo)."""
    e, cols = lapse_run
    for y in e.report_years:
        assert (cols[f"amount_{y}_bn_krw"] > 0).all(), y


def test_quantile_monte_carlo_interval_matches_the_order_statistic_closed_form():
    """For n uniform draws the q quantile's 95 % interval has half-width
    1.96 sqrt(q (1 - q) / n) (the quantile function is the identity): 0.0031 for the median
    of 100,000 draws, 0.0014 for the 5 % quantile."""
    from smasim.simulation.outcomes import _quantile_mc_halfwidths

    n = 100_000
    a = np.random.default_rng(3).uniform(size=n)
    half = _quantile_mc_halfwidths(a, (5, 50))
    for q, key in ((0.05, "q05"), (0.5, "q50")):
        assert half[key] == pytest.approx(1.96 * np.sqrt(q * (1 - q) / n), rel=0.05)
