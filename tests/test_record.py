"""Tests of the SMA record, the escalation-rule replay and the backtest configs' information.

The replay must reproduce every sourced annual amount 2005-2026 from the negotiated
first-year amounts, the rules and the macro series, to within 0.1 bn KRW; the derived
2023-2025 values must be labelled derived. Each backtest config may use only what was known
when its talks opened: its information date is the opening date of the record, it lists no
round after that date (later rounds come from the assumed cadence), its status quo and
expiry are the record's, and its rules' caps are those of SMAs concluded before.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pytest

from smasim import cli
from smasim.experiments.config.load import load_config, read_raw
from smasim.experiments.record.data import FILES, data_files, load_record, parse_date
from smasim.experiments.record.forecast import CASES
from smasim.experiments.record.replay import replay_record, replay_rule
from smasim.models.packages import EscalationRule
from smasim.models.parameters import PARAMETERS

REPO_DATA = Path(__file__).resolve().parents[1] / "data"
SITUATION = {  # parameters a backtest config sets for its own negotiation
    "us_pressure",
    "p_high_pressure",
    "us_pressure_if_high",
    "us_pressure_if_low",
    "talks_probability",
    "assembly_threshold",
    "nk_threat",
    "withdrawal_credibility",
    "us_deadline_months",
    "kr_deadline_months",
    "cpi_rate",
    "defense_growth_rate",
    "previous_increase",
    "krw_per_usd",
    "troop_change",  # the 6th SMA's USFK cut
    "troop_cost_share",
}


@pytest.fixture(scope="module")
def record():
    return load_record()


# --- the data --------------------------------------------------------------------------------
@pytest.mark.skipif(not REPO_DATA.is_dir(), reason="not a checkout: no data/ folder")
def test_package_copies_match_the_data_folder():
    shipped = data_files()
    for name in FILES:
        assert shipped[name] == (REPO_DATA / name).read_bytes(), (
            f"the installed smasim.data/{name} differs from data/{name}: reinstall smasim"
        )


def test_every_amount_has_a_status_and_a_source(record):
    assert [r.year for r in record.history] == list(range(1991, 2031))
    for r in record.history:
        assert r.status in {"sourced", "derived", "missing", "future"}
        assert math.isnan(r.amount_bn_krw) == (r.status in {"missing", "future"}), r.year
        assert r.source.strip(), r.year
    assert {r.year for r in record.history if r.status == "future"} == set(range(2027, 2031))


def test_the_derived_2023_2025_values_are_labelled_derived(record):
    for year in (2023, 2024, 2025):
        assert record.year(year).status == "derived"
    for year in (2022, 2026):
        assert record.year(year).status == "sourced"
    assert record.amount(2025) == pytest.approx(1402.8)


def test_parse_date_reads_the_record_formats():
    assert parse_date("2019-09-24 (Seoul, KIDA)") == (dt.date(2019, 9, 24), "day")
    assert parse_date("2006-05 (month only)") == (dt.date(2006, 5, 1), "month")
    assert parse_date("2013 (began 'on the 2nd'; July 2013 from memory)") == (
        dt.date(2013, 7, 1),
        "month",
    )
    assert parse_date("late 1993") == (dt.date(1993, 1, 1), "year")
    assert parse_date("") == (None, None)


def test_negotiations_parse(record):
    n11 = record.negotiation(11)
    assert (n11.first_year, n11.last_year, n11.duration_years) == (2020, 2025, 6)
    assert n11.opening == dt.date(2019, 9, 24) and n11.opening_verified
    assert n11.concluded == dt.date(2021, 3, 7)
    n9 = record.negotiation(9)  # 2 Jul 2013, found in MBN and NewDaily (record_notes.md)
    assert n9.opening == dt.date(2013, 7, 2) and n9.opening_verified
    n8 = record.negotiation(8)  # month derived from an article numbering, marked unverified
    assert n8.opening_precision == "month" and not n8.opening_verified


# --- escalation rules and the replay ---------------------------------------------------------
def test_rule_index_lag_defaults_to_the_sma_texts():
    assert EscalationRule("c", "cpi").index_lag == 2
    assert EscalationRule("d", "defense").index_lag == 1
    assert EscalationRule("f", "fixed", 0.04).index_lag == 0
    assert EscalationRule("c1", "cpi", lag=1).index_lag == 1
    with pytest.raises(ValueError, match="lag"):
        EscalationRule("c", "cpi", lag=-1)


def test_rate_in_year_uses_the_lagged_index_the_floor_and_the_cap():
    cpi = {2008: 0.047, 2009: 0.028, 2010: -0.01}
    capped = EscalationRule("cpi_cap4", "cpi", cap=0.04)
    assert capped.rate_in_year(2010, cpi=cpi, defense_growth={}) == pytest.approx(0.04)
    assert capped.rate_in_year(2011, cpi=cpi, defense_growth={}) == pytest.approx(0.028)
    assert capped.rate_in_year(2012, cpi=cpi, defense_growth={}) == 0.0  # never a cut
    defense = EscalationRule("d", "defense")
    assert defense.rate_in_year(2022, cpi={}, defense_growth={2021: 0.054}) == pytest.approx(0.054)
    fixed = EscalationRule("f", "fixed", 0.139)
    assert fixed.rate_in_year(2021, cpi={}, defense_growth={}) == pytest.approx(0.139)
    with pytest.raises(KeyError):
        capped.rate_in_year(2030, cpi=cpi, defense_growth={})
    # the same arithmetic as the model's constant-rate path
    g = capped.annual_rate(np.array([0.047, 0.028, -0.01]), np.zeros(3))
    np.testing.assert_allclose(g, [0.04, 0.028, 0.0])


def test_replay_rule_known_answer_8th_sma():
    # 2009 = 760.0; 2010 = 760.0 x 1.04 (2008 CPI 4.7% above the cap); 2011 = x 1.028
    years, amount, rate = replay_rule(
        EscalationRule("cpi_cap4", "cpi", cap=0.04),
        base_bn_krw=760.0,
        base_year=2009,
        last_year=2011,
        cpi={2008: 0.047, 2009: 0.028},
        defense_growth={},
    )
    assert years.tolist() == [2010, 2011]
    np.testing.assert_allclose(amount, [790.4, 812.5])
    np.testing.assert_allclose(rate, [0.04, 0.028])


def test_replay_reproduces_every_sourced_amount_2005_2026(record):
    replay = replay_record(record)
    by_year = {y.year: y for y in replay.years}
    assert set(range(2005, 2027)) <= set(by_year)
    for year in range(2005, 2027):
        row = record.year(year)
        if row.status != "sourced":
            continue
        got = by_year[year].amount_bn_krw
        assert abs(got - row.amount_bn_krw) <= 0.1, (year, got, row.amount_bn_krw)
    # most years come from the rules, not from the record: the check has teeth
    ruled = [y.year for y in replay.years if y.how == "rule" and 2005 <= y.year <= 2026]
    assert len(ruled) >= 15
    assert replay.max_abs_error_bn_krw() <= 0.1


def test_replay_reproduces_and_labels_the_derived_2023_2025(record):
    by_year = {y.year: y for y in replay_record(record).years}
    for year in (2023, 2024, 2025):
        assert by_year[year].status == "derived"
        assert by_year[year].how == "rule"
        assert abs(by_year[year].error_bn_krw) <= 0.1


def test_replay_stops_where_the_index_is_unknown(record):
    by_year = {y.year: y for y in replay_record(record).years}
    assert by_year[2027].amount_bn_krw == pytest.approx(1551.1)  # 2025 CPI 2.1%
    assert by_year[2027].status == "future"
    assert 2028 not in by_year  # needs the 2026 CPI


def test_a_wrong_lag_breaks_the_replay(record):
    # CPI of the previous year instead of two years earlier misses the 9th SMA's amounts
    years, amount, _ = replay_rule(
        EscalationRule("cpi_cap4", "cpi", cap=0.04, lag=1),
        base_bn_krw=920.0,
        base_year=2014,
        last_year=2016,
        cpi=record.cpi(),
        defense_growth=record.defense_growth(),
    )
    recorded = [record.amount(int(y)) for y in years]
    assert np.max(np.abs(amount - recorded)) > 0.1


# --- backtest configs: only what was known when the talks opened -----------------------------
def _is_us_presidential_election(d: dt.date) -> bool:
    """The Tuesday after the first Monday of November in a year divisible by 4."""
    first_monday = 1 + (0 - dt.date(d.year, 11, 1).weekday()) % 7
    return d.year % 4 == 0 and d.month == 11 and d.day == first_monday + 1


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.config)
def test_backtest_config_uses_only_what_was_known_at_the_opening(case, record):
    cfg = load_config(case.config)
    info = cfg.experiment.information_date
    neg = record.negotiation(case.sma_round)
    # the information date is the talks' opening (the earliest date the record allows)
    assert neg.opening is not None
    assert info == neg.opening
    assert info < neg.concluded
    # the calendar lists no round after the information date: later rounds are the
    # assumed cadence (round_interval_days), not the real dates
    assert all(d <= info for d in cfg.calendar.round_dates)
    assert cfg.calendar.round_dates[0] == info
    # the status quo, the years covered and the old SMA's expiry are the record's
    a = cfg.agreement
    assert a.start_year == neg.first_year
    assert a.status_quo_bn_krw == pytest.approx(record.amount(a.start_year - 1))
    assert cfg.calendar.expiry == dt.date(a.start_year - 1, 12, 31)
    assert all(int(y) < a.start_year for y in a.known_amounts_bn_krw)
    # an election in the calendar is a scheduled one, still ahead
    if cfg.calendar.election is not None:
        assert _is_us_presidential_election(cfg.calendar.election)
        assert cfg.calendar.election > info
    # rule caps are those of SMAs concluded before the talks opened
    earlier_caps = {
        round(s.rule.cap, 6)
        for s in record.rules
        if math.isfinite(s.rule.cap) and record.negotiation(s.sma_round).concluded < info
    }
    for rule in a.rules:
        if rule.cap_per_year is not None:
            assert round(rule.cap_per_year, 6) in earlier_caps, (rule.name, rule.cap_per_year)


def test_backtest_configs_share_their_behavioural_priors():
    shared = [p for p in PARAMETERS if p not in SITUATION]
    raws = [read_raw(c.config)[0]["parameters"] for c in CASES]
    for name in shared:
        # a parameter a config leaves out takes the registry default, the same for all
        values = [json.dumps(r.get(name), sort_keys=True) for r in raws]
        assert len(set(values)) == 1, f"{name} differs between the backtest configs"


# --- smasim history --------------------------------------------------------------------------
def test_history_cli_marks_derived_values(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    assert cli.main(["history"]) == 0
    out = capsys.readouterr().out
    line_2024 = next(line for line in out.splitlines() if "│ 2024 │" in line)
    assert "1,346.3 *" in line_2024 and "derived" in line_2024
    line_2022 = next(line for line in out.splitlines() if "│ 2022 │" in line)
    assert "1,247.2 *" not in line_2022 and "sourced" in line_2022
    assert "bn KRW" in out


def test_history_cli_json(capsys):
    assert cli.main(["history", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    by_year = {r["year"]: r for r in rows}
    assert by_year[2023]["status"] == "derived"
    assert by_year[2026]["amount_bn_krw"] == 1519.2
    assert by_year[1992]["amount_bn_krw"] is None
    assert all(r["source"] for r in rows)
