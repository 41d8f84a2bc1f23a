"""Scenario events and agreement forms: each one's neutral setting changes nothing, bit for
bit on common random numbers, and each moves the outcome the way the record says.

Runs ``today_reopening`` (reopened talks while the 12th SMA's formula runs) on its prior
draws with its scenario mechanisms switched off, then one input changed at a time; the same
parameters and noise otherwise.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy import stats

from smasim.experiments.config.load import build_experiment, load_config
from smasim.models.outlook import Outlook
from smasim.models.packages import EscalationRule
from smasim.models.pressure import us_side
from smasim.models.valuation import common_horizon, with_in_kind
from smasim.simulation.montecarlo import negotiate, sample_batch
from smasim.simulation.opening import opening_rounds
from smasim.simulation.outcomes import outcome_columns
from smasim.simulation.records import CalendarEvent
from smasim.simulation.sampling import EVENT_NOISE, Noise

DRAWS = 3000


@pytest.fixture(scope="module")
def reopening():
    experiment = replace(build_experiment(load_config("today_reopening")), posterior=None)
    values, noise = sample_batch(experiment, 3, 0, DRAWS)
    # talks in every draw from the first round, no linked costs, no dollar demand: each test
    # switches one mechanism on
    neutral = {"reopening_rate_per_year": 0.0, "coercion_cost_kr": 0.0, "us_demand_usd_bn": 0.0}
    values = {**values, "talks_probability": np.ones(DRAWS)}
    values.update({name: np.full(DRAWS, x) for name, x in neutral.items()})
    return experiment, values, noise


def table(experiment, values, noise):
    return outcome_columns(experiment, values, noise, negotiate(experiment, values, noise))


def total(experiment, cols):
    return sum(cols[f"amount_{y}_bn_krw"] for y in experiment.report_years)


def assert_same_bits(a: dict, b: dict) -> None:
    for name in ("outcome", "base_bn_krw", "package", "agreement_round", "vetoes"):
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def assert_not_lower(new: np.ndarray, old: np.ndarray) -> None:
    d = new - old
    assert d.mean() >= -3 * d.std() / np.sqrt(d.size) - 1e-9, (d.mean(), d.std())


def with_event(experiment, kind: str, day: float):
    events = tuple(sorted((*experiment.calendar.events, CalendarEvent(kind, day)),
                          key=lambda e: e.day))  # fmt: skip
    return replace(experiment, calendar=replace(experiment.calendar, events=events))


def with_noise(noise: Noise, name: str, u: np.ndarray) -> Noise:
    events = noise.events.copy()
    events[:, EVENT_NOISE[name]] = u
    return Noise(noise.talks, noise.election, noise.ratification, events, noise.packages)


# --- the reopening demand as a hazard -----------------------------------------------------------
def test_a_reopening_demand_at_once_without_coercion_changes_nothing(reopening):
    """A demand certain to come at the first round (hazard > 0, its variate 0) opens the talks
    exactly as talks that simply open then."""
    experiment, values, noise = reopening
    plain = table(experiment, values, noise)
    demand = {**values, "reopening_rate_per_year": np.full(DRAWS, 0.5)}
    at_once = with_noise(noise, "reopening", np.zeros(DRAWS))
    assert_same_bits(table(experiment, demand, at_once), plain)


def test_the_demand_arrives_as_an_exponential_waiting_time():
    """Constant pressure and no election inside the talks: P(talks open by round r) is the
    exponential CDF ``1 - exp(-h p t_r)`` at the round's day, within binomial error."""
    experiment = build_experiment(load_config("today_reopening"))
    cal = replace(experiment.calendar, events=(), inauguration_day=np.inf)
    n = 20000
    rng = np.random.default_rng(5)
    values = {
        "reopening_rate_per_year": np.full(n, 0.8),
        "us_pressure": np.full(n, 0.5),
        "p_high_pressure": np.zeros(n),
        "us_pressure_if_high": np.zeros(n),
        "us_pressure_if_low": np.zeros(n),
    }
    noise = Noise(np.zeros(n), np.zeros(n), np.zeros((n, 1)), rng.random((n, len(EVENT_NOISE))))
    opened = opening_rounds(values, noise, cal)
    days = cal.round_days
    for r in (1, 5, 12):
        # opening at round <= r means the demand came by day days[r]
        p = 1.0 - np.exp(-0.8 * 0.5 * days[r] / 365.25)
        k = int((opened <= r).sum())
        assert stats.binomtest(k, n, p).pvalue > 1e-3, (r, k / n, p)
    assert (opened == days.size).mean() == pytest.approx(
        np.exp(-0.8 * 0.5 * days[-1] / 365.25), abs=0.015
    )


def test_a_harder_pressing_administration_demands_sooner(reopening):
    experiment, values, noise = reopening
    v = {**values, "reopening_rate_per_year": np.full(DRAWS, 0.3)}
    up = {**v, "us_pressure": np.minimum(v["us_pressure"] + 0.1, 1.0)}
    cal = experiment.calendar
    assert (opening_rounds(up, noise, cal) <= opening_rounds(v, noise, cal)).all()


# --- the coercion cost of linked pressure (tariffs) ---------------------------------------------
def test_linked_costs_never_lower_what_korea_pays(reopening):
    """A coercion cost before expiry lowers Korea's value of no deal: its expected total over
    the report years does not fall, and more reopened talks end in agreement."""
    experiment, values, noise = reopening
    plain = table(experiment, values, noise)
    coerced = table(experiment, {**values, "coercion_cost_kr": np.full(DRAWS, 0.03)}, noise)
    assert_not_lower(total(experiment, coerced), total(experiment, plain))
    assert (coerced["outcome"] <= 1).mean() > (plain["outcome"] <= 1).mean()


def test_more_pressure_with_a_hazard_and_linked_costs_lowers_what_korea_pays_only_by_veto(
    reopening,
):
    """The reopening as today's configs state it (the demand's hazard and the linked costs
    grow with pressure): every pressure index +0.1 never lowers Korea's expected total, but
    for the deals the president then vetoes (2019: a 13 % rise rejected, the 2020 amount
    frozen). Those lost deals are few, and each was vetoed."""
    experiment, values, noise = reopening
    v = {
        **values,
        "reopening_rate_per_year": np.full(DRAWS, 0.4),
        "coercion_cost_kr": np.full(DRAWS, 0.02),
    }
    up = dict(v)
    for name in ("us_pressure", "us_pressure_if_high", "us_pressure_if_low"):
        up[name] = np.minimum(v[name] + 0.1, 1.0)
    before, after = table(experiment, v, noise), table(experiment, up, noise)
    lost = (before["package"] >= 0) & (after["package"] < 0)
    assert (after["vetoes"][lost] > 0).all()
    assert lost.mean() < 0.05
    kept = ~lost
    assert_not_lower(total(experiment, after)[kept], total(experiment, before)[kept])


# --- a troop change -----------------------------------------------------------------------------
def test_a_troop_change_of_zero_changes_nothing(reopening):
    experiment, values, noise = reopening
    plain = table(experiment, values, noise)
    moved = with_event(experiment, "troop_change", 200.0)
    assert_same_bits(table(moved, {**values, "troop_change": np.zeros(DRAWS)}, noise), plain)


def test_a_troop_cut_lowers_the_amounts_agreed_after_it(reopening):
    """2005: -8.9 % with USFK cuts. A 10 % cut on day 1 lowers the first year of the draws
    that agree either way (paired), and never raises Korea's expected total."""
    experiment, values, noise = reopening
    moved = with_event(experiment, "troop_change", 1.0)
    kept = table(moved, values, noise)
    cut = table(moved, {**values, "troop_change": np.full(DRAWS, -0.1)}, noise)
    both = (kept["outcome"] <= 1) & (cut["outcome"] <= 1)
    assert both.sum() > 100
    assert cut["base_bn_krw"][both].mean() < kept["base_bn_krw"][both].mean()
    assert_not_lower(total(experiment, kept), total(experiment, cut))


# --- Korea's presidential election --------------------------------------------------------------
def test_who_wins_korea_matters_only_through_the_winners_shift(reopening):
    """A conservative certain to win with shift x equals a progressive certain to win with
    the same shift, bit for bit: the winner acts only through its shift."""
    experiment, values, noise = reopening
    e = with_event(experiment, "kr_election", 300.0)
    x = np.full(DRAWS, 0.03)
    conservative = {**values, "p_kr_conservative": np.ones(DRAWS),
                    "kr_shift_if_conservative": x}  # fmt: skip
    progressive = {**values, "p_kr_conservative": np.zeros(DRAWS),
                   "kr_shift_if_progressive": x}  # fmt: skip
    assert_same_bits(table(e, conservative, noise), table(e, progressive, noise))


def test_an_alliance_first_winner_in_seoul_never_lowers_what_korea_pays(reopening):
    experiment, values, noise = reopening
    e = with_event(experiment, "kr_election", 300.0)
    sure = {**values, "p_kr_conservative": np.ones(DRAWS)}
    neutral = table(e, sure, noise)
    friendly = table(e, {**sure, "kr_shift_if_conservative": np.full(DRAWS, 0.05)}, noise)
    assert_not_lower(total(e, friendly), total(e, neutral))


# --- a demand stated in dollars -----------------------------------------------------------------
def test_a_dollar_demand_sets_the_ideal_of_the_administration_that_made_it(reopening):
    """$10 bn at 1,450 KRW/USD is 14,500 bn KRW: the U.S. ideal while that administration is
    in office, and no longer once its successor has taken office."""
    experiment, values, _ = reopening
    s = experiment.setting
    v = {**values, "us_demand_usd_bn": np.full(DRAWS, 10.0),
         "krw_per_usd": np.full(DRAWS, 1450.0)}  # fmt: skip
    now = us_side(s, v, Outlook(v["us_pressure"], s.talks_year))
    plain = us_side(s, values, Outlook(values["us_pressure"], s.talks_year))
    assert np.array_equal(now.ideal, np.maximum(plain.ideal, 14500.0))
    successor = Outlook(v["us_pressure"], s.talks_year + 2)
    assert np.array_equal(us_side(s, v, successor).ideal, us_side(s, values, successor).ideal)


# --- the formula plus a top-up ------------------------------------------------------------------
def test_a_top_up_adds_to_the_formulas_rate_and_a_top_up_of_zero_is_the_formula():
    cpi, defense = np.array([0.01, 0.03, 0.07]), np.zeros(3)
    formula = EscalationRule("cpi_cap5", "cpi", cap=0.05)
    plus = EscalationRule("cpi_cap5_plus1", "cpi", cap=0.05, top_up=0.01)
    zero = EscalationRule("cpi_cap5_plus0", "cpi", cap=0.05, top_up=0.0)
    assert np.array_equal(zero.annual_rate(cpi, defense), formula.annual_rate(cpi, defense))
    # CPI 1 %, 3 %, 7 % capped at 5 %: plus one point each
    np.testing.assert_allclose(plus.annual_rate(cpi, defense), [0.02, 0.04, 0.06])


# --- a one-off in-kind package ------------------------------------------------------------------
def test_an_in_kind_package_is_worth_its_value_per_year_of_the_horizon(reopening):
    """Known answer: a one-off V in the first year is worth ``V / sum_{j<H} (1 + rho)^-j`` a
    year over the horizon H: Korea's cost of the package with it exceeds the same package
    without it by that much, and the U.S. gains ``in_kind_us_value`` times it."""
    experiment, values, _ = reopening
    base_rules = experiment.setting.packages.rules
    arms = replace(base_rules[1], name="cpi_cap5_arms", in_kind_bn_krw=2900.0)
    packages = replace(experiment.setting.packages, rules=(*base_rules, arms))
    setting = replace(experiment.setting, packages=packages)
    menu = np.zeros((DRAWS, packages.size))
    rate = values["kr_discount_rate"]
    h = common_horizon(setting.horizon_years, packages.duration)
    annuity = sum((1.0 + rate) ** -j for j in range(h))
    got = with_in_kind(menu, packages, setting.horizon_years, rate, 0.7)
    d = len(packages.durations)
    np.testing.assert_allclose(got[:, -d:], (0.7 * 2900.0 / annuity)[:, None] * np.ones(d))
    assert not got[:, :-d].any()
    # no in-kind part anywhere: the menu itself, untouched (so such configs keep their bits)
    plain = np.zeros((DRAWS, experiment.setting.packages.size))
    assert with_in_kind(plain, experiment.setting.packages, 3, rate, 0.7) is plain


def test_the_package_deal_scenario_pairs_with_today_base_and_adds_one_in_kind_rule():
    """``today_package_deal`` only adds a rule and fixes a constant: its batches draw the same
    parameters and noise as ``today_base``'s (so ``compare`` pairs them draw by draw), and its
    menu is ``today_reopening``'s plus the formula with an in-kind package."""
    deal, base, reopening = (build_experiment(load_config(name)) for name in
                             ("today_package_deal", "today_base", "today_reopening"))  # fmt: skip
    v_deal, n_deal = sample_batch(deal, 20261126, 0, 500)
    v_base, n_base = sample_batch(base, 20261126, 0, 500)
    # today_base sets the reopening's rate and costs to constants; every sampled value matches
    sampled = [name for name, x in v_base.items() if np.ptp(x) > 0]
    assert len(sampled) > 20
    for name in sampled:
        np.testing.assert_array_equal(v_deal[name], v_base[name], err_msg=name)
    np.testing.assert_array_equal(n_deal.events, n_base.events)
    rules = deal.setting.packages.rules
    assert rules[:-1] == reopening.setting.packages.rules
    assert rules[-1].in_kind_bn_krw > 0 and rules[-1].kind == "cpi"


def test_an_in_kind_package_worth_nothing_to_the_us_is_never_agreed(reopening):
    """Property: a package that costs Korea its value and gives Washington nothing is
    dominated by the same rule without it, so no draw agrees to it."""
    experiment, values, noise = reopening
    base_rules = experiment.setting.packages.rules
    arms = replace(base_rules[1], name="cpi_cap5_arms", in_kind_bn_krw=1450.0)
    packages = replace(experiment.setting.packages, rules=(*base_rules, arms))
    with_arms = replace(experiment, setting=replace(experiment.setting, packages=packages))
    # the appeal's normals are drawn for the bundled menu: none for this one
    cols = table(with_arms, {**values, "in_kind_us_value": np.zeros(DRAWS)},
                 replace(noise, packages=None))  # fmt: skip
    agreed = cols["package"] >= 0
    assert agreed.sum() > 100
    in_kind = cols["package"] >= len(base_rules) * len(packages.durations)
    assert not in_kind[agreed].any()


def test_each_event_draws_its_own_stream_of_uniforms():
    """Column j is the j-th ``rng.random(n)`` after everything else: an event added at the
    end of EVENT_NOISE leaves the others' uniforms, and so their configs' bits, unchanged."""
    from smasim.simulation.sampling import draw_event_noise

    n = 7
    noise = Noise(np.zeros(n), np.zeros(n), np.zeros((n, 1)))
    got = draw_event_noise(noise, np.random.default_rng(3)).events
    rng = np.random.default_rng(3)
    for j in range(len(EVENT_NOISE)):
        np.testing.assert_array_equal(got[:, j], rng.random(n))


def test_a_second_event_of_a_kind_is_refused(tmp_path):
    """Each scenario event kind has one uniform per draw: a second Korean election would
    repeat the first winner and apply its shift twice."""
    from smasim.experiments.config.constants import ConfigError

    path = tmp_path / "two.toml"
    path.write_text(
        '[experiment]\nextends = "sma13_2029"\nname = "two"\n\n'
        '[[calendar.events]]\nkind = "kr_election"\ndate = 2030-06-04\n\n'
        '[[calendar.events]]\nkind = "kr_election"\ndate = 2031-06-04\n'
    )
    with pytest.raises(ConfigError, match="at most one 'kr_election'"):
        load_config(path)
