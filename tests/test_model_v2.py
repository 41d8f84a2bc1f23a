"""Model v2: how the SMA is bargained, as properties of every bundled config and known answers.

The properties run each config's prior draws twice on common random numbers (the same
parameters and noise, one input changed), so a difference of means is measured against its
paired standard error; "never lowers" allows 3 of those. Known answers derive the package's
money value, the floor of an agreement in force and Korea's look-ahead from closed forms.
"""

from __future__ import annotations

import tomllib
from dataclasses import replace
from importlib import resources

import numpy as np
import pytest

from smasim.experiments.config.load import build_experiment, bundled_configs, load_config
from smasim.models.outlook import Outlook, expected_jump, increases
from smasim.models.pressure import kr_side
from smasim.models.setting import in_force_floor, package_tables
from smasim.models.valuation import (
    common_horizon,
    expected_next_jump,
    next_inauguration_year,
    package_money_value,
)
from smasim.simulation.events import EVENTS
from smasim.simulation.montecarlo import negotiate, sample_batch
from smasim.simulation.negotiation import BatchNegotiation
from smasim.simulation.outcomes import outcome_columns

CONFIGS = sorted(bundled_configs())
BUNDLED_DIR = resources.files("smasim.experiments.config").joinpath("bundled")
BASE_CONFIGS = [
    name
    for name in CONFIGS
    if "extends"
    not in tomllib.loads(BUNDLED_DIR.joinpath(f"{name}.toml").read_text())["experiment"]
]
DRAWS = 3000


def table(experiment, values, noise):
    return outcome_columns(experiment, values, noise, negotiate(experiment, values, noise))


def total(experiment, cols):
    return sum(cols[f"amount_{y}_bn_krw"] for y in experiment.report_years)


@pytest.fixture(scope="module", params=CONFIGS)
def prior(request):
    # the model's structure over its prior range (calibrated configs taken uncalibrated)
    experiment = replace(build_experiment(load_config(request.param)), posterior=None)
    values, noise = sample_batch(experiment, 7, 0, DRAWS)
    return experiment, values, noise, table(experiment, values, noise)


def assert_not_lower(new: np.ndarray, old: np.ndarray) -> None:
    d = new - old
    se = d.std() / np.sqrt(d.size)
    assert d.mean() >= -3 * se - 1e-9, (d.mean(), se)


# --- properties of every bundled config ---------------------------------------------------------
def test_more_us_pressure_never_lowers_what_korea_pays(prior):
    """Every U.S. pressure index +0.1 (the administration in office and either election
    winner): Korea's expected total over the report years does not fall."""
    experiment, values, noise, cols = prior
    up = dict(values)
    for name in ("us_pressure", "us_pressure_if_high", "us_pressure_if_low"):
        up[name] = np.minimum(values[name] + 0.1, 1.0)
    assert_not_lower(total(experiment, table(experiment, up, noise)), total(experiment, cols))


def test_faster_defense_growth_never_lowers_the_first_year(prior):
    """Defense-budget growth +2 points: the expected first-year amount does not fall."""
    experiment, values, noise, cols = prior
    faster = {**values, "defense_growth_rate": values["defense_growth_rate"] + 0.02}
    year = f"amount_{experiment.start_year}_bn_krw"
    assert_not_lower(table(experiment, faster, noise)[year], cols[year])


def test_every_term_and_rule_on_the_menu_is_chosen_somewhere_in_the_prior(prior):
    """No package is structurally dominated: each rule and each term of the menu is agreed
    in some draw of the prior. (A scenario that extends a config conditions its prior, e.g.
    on one election winner or on no talks at all, so only the configs it extends are held
    to this.)"""
    experiment, values, noise, cols = prior
    if experiment.name not in BASE_CONFIGS:
        pytest.skip("a scenario conditions the prior of the config it extends")
    if values["reopening_rate_per_year"].any() or (values["talks_probability"] < 1).any():
        # a property of the package menu, not of whether talks open: talks in every draw
        n = values["talks_probability"].size
        opened = {**values, "talks_probability": np.ones(n),
                  "reopening_rate_per_year": np.zeros(n)}  # fmt: skip
        cols = table(experiment, opened, noise)
    agreed = cols["outcome"] <= 1
    pk = experiment.setting.packages
    assert set(cols["rule_index"][agreed]) == set(range(len(pk.rules)))
    assert set(cols["duration_years"][agreed]) == set(pk.durations)


def test_a_failed_negotiation_is_not_frozen_to_the_end_of_the_report(prior):
    """A lapse ends: where talks fail before the last report year, that year is not paid at
    the status quo (renewed talks settle above it; 2021: +13.9 % after the 2020 lapse)."""
    experiment, _, _, cols = prior
    stop_year = int(str(experiment.date([experiment.hard_stop_day])[0])[:4])
    last = experiment.report_years[-1]
    failed = cols["outcome"] == 2
    if stop_year >= last or experiment.hard_stop_day <= experiment.calendar.expiry_day:
        pytest.skip("no lapse can end inside the report years")
    if not failed.any():
        # the default config's prior does fail (test_the_default_config_can_fail_to_agree)
        pytest.skip("no draw of this config's prior fails to agree")
    assert (cols[f"amount_{last}_bn_krw"][failed] > experiment.setting.status_quo).all()


def test_the_default_config_can_fail_to_agree():
    """Talks that reach no agreement by the hard stop exist in the default config's prior, so
    the lapse-ends property above is exercised."""
    experiment = replace(build_experiment(load_config("sma12_may2024")), posterior=None)
    assert (table(experiment, *sample_batch(experiment, 7, 0, DRAWS))["outcome"] == 2).any()


def test_talks_while_an_agreement_runs_never_pay_less_than_its_formula():
    """Reopened talks (today_reopening: the 12th SMA's CPI formula runs to 2030): in every
    year it still covers, every draw pays at least the formula, deal or no deal."""
    experiment = build_experiment(load_config("today_reopening"))
    assert experiment.setting.in_force_years == 3
    values, noise = sample_batch(experiment, 11, 0, 6000)
    # talks in every draw, from the first round
    values = {**values, "talks_probability": np.ones(6000),
              "reopening_rate_per_year": np.zeros(6000)}  # fmt: skip
    cols = table(experiment, values, noise)
    assert (cols["outcome"] <= 1).sum() > 1000
    g = experiment.status_quo_rule.annual_rate(values["cpi_rate"], values["defense_growth_rate"])
    for j, year in enumerate(range(experiment.start_year, 2031)):
        formula = experiment.setting.status_quo * (1.0 + g) ** (j + 1)
        assert (cols[f"amount_{year}_bn_krw"] >= formula * (1 - 1e-12)).all(), year


def test_a_high_pressure_winner_takes_office_at_the_inauguration_not_the_election():
    """The election reveals the winner; the U.S. pressure in office changes only on
    20 January, and a high-pressure winner's concession clock starts then."""
    experiment = build_experiment(load_config("sma12_may2024"))
    values, noise = sample_batch(experiment, 5, 0, 500)
    values = {**values, "p_high_pressure": np.ones(500)}  # a high-pressure winner
    ng = BatchNegotiation(
        experiment.setting, experiment.calendar, values, noise, concept=experiment.concept
    )
    election, inauguration = (e.day for e in experiment.calendar.events)
    assert (election, inauguration) == (196.0, 272.0)  # 5 Nov 2024, 20 Jan 2025
    process = ng.env.process(ng._talks())
    for e in experiment.calendar.events:
        ng.env.process(EVENTS[e.kind].process(ng, e))
    ng.env.run(until=election + 1)
    assert ng.high_pressure.all()
    np.testing.assert_array_equal(ng.pressure, values["us_pressure"])
    np.testing.assert_array_equal(ng.outlook.successor_pressure, values["us_pressure_if_high"])
    ng.env.run(until=inauguration + 1)
    np.testing.assert_array_equal(ng.pressure, values["us_pressure_if_high"])
    assert (ng.us.clock_start_day == inauguration).all()
    assert process.is_alive


# --- known answers --------------------------------------------------------------------------
def test_money_value_of_a_fixed_escalator_over_the_horizon():
    """No discounting, no renegotiation within H: V/S = mean over j < H of (1+g)^j - 1
    = ((1+g)^H - 1) / (g H) - 1."""
    g, h = 0.04, 6
    v = package_money_value(
        np.array([[g]]), np.array([6]), np.zeros((1, 1)), np.zeros(1), np.array([0.0]), h
    )
    assert v[0, 0] == pytest.approx(((1 + g) ** h - 1) / (g * h) - 1, rel=1e-13)


def test_money_value_of_a_short_frozen_term_is_the_expected_jump():
    """A frozen 1-year term renegotiated at +J, nothing after: years 1..H-1 pay (1 + J);
    at discount rate r, V/S = J sum_{j>=1} (1+r)^-j / sum_{j>=0} (1+r)^-j."""
    jump, r, h = 0.12, 0.05, 7
    v = package_money_value(
        np.zeros((1, 1)), np.array([1]), np.full((1, 1), jump), np.zeros(1), np.array([r]), h
    )
    disc = [(1 + r) ** -j for j in range(h)]
    assert v[0, 0] == pytest.approx(jump * sum(disc[1:]) / sum(disc), rel=1e-13)
    # and a frozen term as long as the horizon, with no jump in view, is worth nothing
    zero = package_money_value(
        np.zeros((1, 1)), np.array([h]), np.full((1, 1), jump), np.zeros(1), np.array([r]), h
    )
    assert zero[0, 0] == 0.0


def test_terms_meet_the_successor_from_the_next_inauguration():
    """Inaugurations every four years from 1789 (..., 2021, 2025, 2029); a term of n years
    from start_year is renegotiated in start_year + n - 1, under the successor from then."""
    assert [next_inauguration_year(y) for y in (2018, 2020, 2021, 2024, 2025)] == [
        2021,
        2021,
        2025,
        2025,
        2029,
    ]
    jump = expected_next_jump(
        np.array([1, 2, 3, 4]),
        start_year=2026,
        now_year=2025,
        jump_now=np.array([0.1]),
        jump_next_administration=np.array([0.3]),
    )
    np.testing.assert_array_equal(jump, [[0.1, 0.1, 0.1, 0.3]])  # renegotiated 2026..2029
    assert common_horizon(5, np.array([1, 6])) == 7


def test_the_floor_of_an_agreement_in_force():
    """Formula +3 % a year over 3 remaining years: a frozen 1-year package must start at
    1.03^2 of the formula's first year (to pay at least its third year); a 5 % escalator
    over 3 years needs no more than the formula's first year."""
    r = in_force_floor(np.array([[0.0, 0.05]]), np.array([1, 3]), np.array([0.03]), years=3)
    np.testing.assert_allclose(r, [[1.03**2, 1.0]], rtol=1e-14)


def test_korea_looks_ahead_to_the_successor_it_expects():
    """Linear utilities, a known high-pressure winner whose reservation is +30 %: Korea,
    with reservation +10 % and ideal 0 %, weighs no deal before the inauguration at
    w (b - R) / (I - R) = w (1.30 - 1.10) / (1.00 - 1.10) = -2 w, bounded at one full span
    below today's (-1): its disagreement value is shifted by kr_anticipation x (-1)."""
    experiment = build_experiment(load_config("sma12_may2024"))
    n = 3
    values = {s.name: np.full(n, s.central()) for s in experiment.specs}
    values.update(
        kr_curvature=np.zeros(n),
        kr_anticipation=np.array([0.0, 0.5, 1.0]),
        kr_amount_weight=np.full(n, 0.8),
        # Korea: ideal +0 %, reservation +10 % with every driver off
        kr_ideal_increase=np.zeros(n),
        kr_reservation_increase=np.full(n, 0.10),
        kr_defense_pass_through=np.zeros(n),
        kr_wage_pass_through=np.zeros(n),
        kr_precedent_weight=np.zeros(n),
        nk_threat_gain=np.zeros(n),
        withdrawal_gain=np.zeros(n),
        audience_cost=np.zeros(n),
        # the successor: U.S. reservation +30 % at pressure 1
        us_reservation_increase=np.full(n, 0.10),
        pressure_reservation_gain=np.full(n, 0.20),
    )
    x = increases(values, np.ones(n))
    assert x["us_reservation"] == pytest.approx(0.30) and x["kr_reservation"] == pytest.approx(0.1)
    outlook = Outlook(np.zeros(n), 2024, successor_pressure=np.ones(n), inauguration_day=272.0)
    kr = kr_side(experiment.setting, values, outlook, package_tables(experiment.setting, values))
    np.testing.assert_allclose(kr.waiting_shift, [0.0, -0.5, -1.0], atol=1e-12)
    assert kr.waiting_until_day == 272.0
    # a milder successor (+5 %, below Korea's reservation) is no threat: no shift
    mild = Outlook(np.zeros(n), 2024, successor_pressure=np.full(n, 0.0), inauguration_day=272.0)
    kr = kr_side(experiment.setting, values, mild, package_tables(experiment.setting, values))
    np.testing.assert_array_equal(kr.waiting_shift, 0.0)
    # and the increase both expect of talks under pressure p is the reservations' midpoint
    assert expected_jump(values, np.ones(n)) == pytest.approx(np.full(n, 0.2))


def test_the_inauguration_follows_the_election_on_20_january():
    """An election inside the talks brings its inauguration on 20 January after it: on the
    calendar as an event when it falls before the hard stop, and as the end of Korea's
    look-ahead either way; without an election ahead there is neither."""
    for name in CONFIGS:
        cfg = load_config(name)
        e = build_experiment(cfg)
        kinds = [x.kind for x in e.calendar.events]
        first = cfg.calendar.round_dates[0]
        if cfg.calendar.election is None or cfg.calendar.election <= first:
            assert "inauguration" not in kinds and e.calendar.inauguration_day == np.inf, name
            continue
        taking_office = np.datetime64(f"{cfg.calendar.election.year + 1}-01-20", "D")
        day = float((taking_office - e.talks_open).astype(int))
        assert e.calendar.inauguration_day == day, name
        if taking_office <= np.datetime64(cfg.calendar.hard_stop, "D"):
            # after the election (other events may fall between: the 6th SMA's troop cut)
            assert kinds.index("inauguration") > kinds.index("election"), name
            inauguration = next(x for x in e.calendar.events if x.kind == "inauguration")
            assert inauguration.day == day, name


def test_the_setting_knows_when_an_agreement_is_still_in_force():
    """Expiry end-2030 and start 2028: three years covered; end-2025 and start 2026: none."""
    assert build_experiment(load_config("today_reopening")).setting.in_force_years == 3
    assert build_experiment(load_config("sma12_may2024")).setting.in_force_years == 0
