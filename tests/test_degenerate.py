"""Degenerate models: each gives a correct, explained outcome, never a NaN or a solver error.

The cases (issue 7) and what the model does with them:

* **No zone of agreement at any time** (Korea's reservation below the U.S. reservation, no
  lapse costs to widen what either accepts): every draw ends without agreement at the hard
  stop (outcome 2); each year is paid at the status quo; the agreement-date quantiles are
  ``None``, the rule shares 0 and the duration shares empty.
* **Reservation equal to an ideal** (either side): refused at validation, naming the
  reservation, because the amount score ``(b a - R) / (I - R)`` is undefined and the side
  has no room to concede. Sampled values that cross (a distribution straddling the ideal) are
  held ``MIN_GAP`` of the status quo inside the ideal (:mod:`models.pressure`) and run.
* **Zero-width distributions**: ``uniform`` with ``scale = 0`` is refused with a message
  pointing to a constant or a one-value choice; a one-value choice runs, draws its value
  every time and keeps its column of the design (the other parameters' draws are unchanged).
* **One round** (one date, the hard stop on it): on the talks' first day neither side has
  conceded (each targets utility 1), so there is a deal only where the ideals themselves
  overlap; then it is the Nash point of the overlap.
* **Hard stop on the first round's date**: the later listed dates are dropped; one round.
* **Expiry before the first round**: every deal comes after a lapse (outcome 1, none
  before expiry); lapse costs accrue from the first day.
* **All draws lapsing**: summary quantiles are the status quo, P(lapse) = 1, the median lapse
  is the months from expiry to the hard stop.
* **talks_probability = 0**: no talks in any draw (outcome 3): the status-quo path is paid,
  frozen or by the rule in force; no lapse is counted (talks never opened).

Lapses are measured up to the hard stop: when the hard stop comes before the expiry (the old
SMA still in force when the talks end, as in ``today_reopening``), a failure shows no lapse.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from smasim import cli
from smasim.experiments.config.load import build_experiment, read_raw, validate
from smasim.experiments.config.schema import ConfigError
from smasim.experiments.runs.runner import run_experiment
from smasim.experiments.runs.store import read_draws
from smasim.models.outlook import Outlook
from smasim.models.pressure import MIN_GAP, kr_side, us_side
from smasim.simulation.montecarlo import negotiate, sample_batch
from tests.helpers import TOY_PARAMETERS
from tests.test_fuzz_config import toml_dumps

DAY = 365.25 / 12  # days per month in the model
DRAWS = 64
STATUS_QUO = 100.0
YEARS = ("2031", "2032", "2033")


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")


def toy(**params: Any) -> dict[str, Any]:
    """One package (frozen, 1 year), linear utilities, constants: outcomes in closed form.

    Status quo 100 bn KRW. U.S.: reservation 110, ideal 150; Korea: ideal 100, reservation
    120. Both concede linearly to their reservation by day 100. Rounds every 25 days from
    1 Jan 2030 (day 0) to the hard stop on 30 Jun 2030 (day 180); the old SMA expires at the
    end of 30 Apr 2030 (day 119, so lapse costs run from day 120); no election; the Assembly
    votes 10 days after a deal.
    """
    cfg, _ = read_raw("sma12_may2024")
    cfg = copy.deepcopy(cfg)
    cfg["experiment"].update(name="toy", draws=DRAWS, seed=3, batch_size=32, design="lhs")
    cfg["agreement"] = {
        "status_quo_bn_krw": STATUS_QUO,
        "status_quo_rule": "frozen",
        "start_year": 2031,
        "horizon_years": 1,
        "report_first_year": 2031,
        "report_last_year": 2033,
        "durations_years": [1],
        "rules": [{"name": "frozen", "kind": "frozen"}],
    }
    cfg["calendar"] = {
        "round_dates": [dt.date(2030, 1, 1)],
        "round_interval_days": 25,
        "expiry": dt.date(2030, 4, 30),
        "hard_stop": dt.date(2030, 6, 30),
        "ratification_lag_days": 10,
    }
    p = {name: float(v) if not isinstance(v, dict) else v for name, v in _TOY.items()}
    p.update(params)
    cfg["parameters"] = p
    return cfg


# an uncertain parameter the model does not use here: the design has a column
_TOY = {**TOY_PARAMETERS, "krw_per_usd": {"dist": "uniform", "loc": 1300.0, "scale": 100.0}}


def write(tmp_path: Path, cfg: dict[str, Any], name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(toml_dumps(cfg), encoding="utf-8")
    return path


def run_cli(tmp_path: Path, cfg: dict[str, Any], capsys) -> tuple[dict, dict, str]:
    """``smasim run`` of ``cfg``: summary.json, the per-draw table and the printed table."""
    out = tmp_path / "out"
    code = cli.main(["run", str(write(tmp_path, cfg)), "--draws", str(DRAWS), "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.err == ""
    text = (out / "summary.json").read_text(encoding="utf-8")
    summary = json.loads(text, parse_constant=_no_nan)  # strict JSON: no NaN, no Infinity
    return summary, read_draws(out), captured.out


def _no_nan(token: str):
    raise AssertionError(f"summary.json holds {token}")


def refused(tmp_path: Path, cfg: dict[str, Any], capsys) -> str:
    """``smasim run`` of ``cfg`` must exit 2 with one line and write nothing."""
    out = tmp_path / "out"
    code = cli.main(["run", str(write(tmp_path, cfg)), "--draws", str(DRAWS), "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 2, captured.err
    lines = captured.err.splitlines()
    assert len(lines) == 1 and captured.out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]
    return lines[0]


def table_rows(printed: str) -> dict[str, list[str]]:
    """The printed quantile table: year -> its cells."""
    rows = {}
    for line in printed.splitlines():
        cells = [c.strip() for c in re.split(r"[│┃]", line) if c.strip()]
        if cells and re.fullmatch(r"\d{4}", cells[0]):
            rows[cells[0]] = cells[1:]
    return rows


def assert_status_quo_paid(summary: dict, table: dict, printed: str, amount: float) -> None:
    """Every draw pays ``amount`` each year: columns, summary and the printed table."""
    for y in YEARS:
        assert np.array_equal(table[f"amount_{y}_bn_krw"], np.full(DRAWS, amount))
        assert set(summary["years"][y]["quantiles_bn_krw"].values()) == {amount}
        assert summary["years"][y]["mean_bn_krw"] == amount
    rows = table_rows(printed)
    assert sorted(rows) == list(YEARS)
    for cells in rows.values():
        assert cells[:5] == [f"{amount:,.1f}"] * 5
        assert "nan" not in " ".join(cells).lower()


def assert_no_agreement_summary(summary: dict, printed: str) -> None:
    assert all(v is None for v in summary["agreement_date"].values())
    assert all(v is None for v in summary["in_force_date"].values())
    assert summary["duration_share"] == {}
    assert summary["rule_share"] == {"frozen": 0.0}
    assert summary["p_agreement_before_expiry"] == {"p": 0.0, "se": 0.0}
    assert "median agreement date:               none (no draw reached an agreement)" in printed


# --- no zone of agreement at any time; all draws lapsing -------------------------------------
def test_no_zone_at_any_time_pays_the_status_quo_and_every_draw_lapses(tmp_path, capsys):
    # Korea never pays above 104 bn KRW, the U.S. never takes below 110, and without lapse
    # costs neither target falls below 0: no zone in any round, before or after expiry
    cfg = toy(kr_reservation_increase=0.04)
    summary, table, printed = run_cli(tmp_path, cfg, capsys)
    assert (table["outcome"] == 2).all()
    assert (table["agreement_round"] == -1).all() and (table["package"] == -1).all()
    assert np.isnat(table["agreement_date"]).all()
    assert np.isnan(table["base_bn_krw"]).all()  # no agreed amount: NaN by definition
    # the lapse ends: renewed talks settle the year after the hard stop (2031) at the increase
    # both sides expect, the midpoint of the reservations (+10 %, +4 %) = +7 %, over the
    # status quo paid in lapse; CPI (2 %) after that
    for year, amount in (("2031", 107.0), ("2032", 107.0 * 1.02), ("2033", 107.0 * 1.02**2)):
        assert table[f"amount_{year}_bn_krw"] == pytest.approx(np.full(DRAWS, amount))
    assert_no_agreement_summary(summary, printed)
    # all draws lapse: from the end of 30 Apr (day 120) to the hard stop (day 180)
    lapse = (180 - 120) / DAY
    assert table["lapse_months"] == pytest.approx(np.full(DRAWS, lapse), rel=1e-12)
    assert summary["median_lapse_months_given_lapse"] == pytest.approx(lapse, rel=1e-12)
    assert summary["p_lapse"] == {"p": 1.0, "se": 0.0}
    assert summary["p_no_agreement_by_hard_stop"] == {"p": 1.0, "se": 0.0}
    assert summary["solver_not_converged"] == 0
    assert "P(lapse):                            100.0% (± 0.0)" in printed


def test_lapse_costs_open_a_zone_that_was_not_there(tmp_path, capsys):
    # the same sides, but Korea loses 1 of utility a month after expiry: by the last round
    # (day 175, 55 days after expiry) its target is 1 - (1 + 1.81) = -1.81, so it accepts up
    # to 104 + 1.81 x 4 = 111.2 bn KRW, past the U.S. reservation 110: a deal after the lapse
    summary, table, _ = run_cli(
        tmp_path, toy(kr_reservation_increase=0.04, lapse_cost_kr=1.0), capsys
    )
    assert (table["outcome"] == 1).all()
    assert (table["agreement_round"] == 7).all()
    top = 104 + 4 * (1 + 55 / DAY)
    assert (table["base_bn_krw"] >= 110.0 - 1e-9).all()
    assert (table["base_bn_krw"] <= top + 1e-9).all()
    assert summary["p_lapse"]["p"] == 1.0 and summary["p_agreement_before_expiry"]["p"] == 0.0


# --- reservation equal to ideal ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "field"),
    [
        pytest.param(
            {"us_reservation_increase": 0.5},
            "parameters.us_reservation_increase",
            id="us-reservation-at-ideal",
        ),
        pytest.param(
            {"kr_reservation_increase": 0.0},
            "parameters.kr_reservation_increase",
            id="kr-reservation-at-ideal",
        ),
        pytest.param(
            {"kr_ideal_increase": 0.2},
            "parameters.kr_reservation_increase",
            id="kr-ideal-at-reservation",
        ),
        # the U.S. ideal and reservation move with pressure; equal at pressure 1 is refused too
        pytest.param(
            {"pressure_reservation_gain": 0.4},
            "parameters.us_reservation_increase",
            id="us-equal-at-full-pressure",
        ),
    ],
)
def test_reservation_equal_to_ideal_is_refused_naming_the_reservation(
    tmp_path, capsys, params, field
):
    line = refused(tmp_path, toy(**params), capsys)
    assert line.startswith(f"error: {field}: ")
    assert "at or beyond its ideal" in line and "no room to concede" in line
    with pytest.raises(ConfigError, match=rf"^{re.escape(field)}: "):
        validate(toy(**params))


def test_sampled_reservations_beyond_the_ideal_are_held_inside_it(tmp_path, capsys):
    # Korea's reservation straddles its ideal (+0%): the central value +2% passes, and the
    # draws below +0% are held MIN_GAP of the status quo above the ideal, so utilities exist
    cfg = toy(kr_reservation_increase={"dist": "uniform", "loc": -0.06, "scale": 0.16})
    experiment = build_experiment(validate(cfg))
    values, _ = sample_batch(experiment, 3, 0, DRAWS)
    outlook = Outlook(values["us_pressure"], experiment.setting.talks_year)
    kr = kr_side(experiment.setting, values, outlook)
    crossed = values["kr_reservation_increase"] <= 0.0
    assert crossed.any() and (~crossed).any()
    assert kr.reservation[crossed] == pytest.approx(STATUS_QUO * (1 + MIN_GAP), rel=1e-12)
    assert (kr.reservation > kr.ideal).all()
    us = us_side(experiment.setting, values, outlook)
    assert (us.reservation < us.ideal).all()

    _, table, printed = run_cli(tmp_path, cfg, capsys)
    # a Korea that will pay no more than +0% meets a U.S. that wants at least +10%: no deal
    assert (table["outcome"][table["param_kr_reservation_increase"] <= 0.10] == 2).all()
    for y in YEARS:
        assert np.isfinite(table[f"amount_{y}_bn_krw"]).all()
    assert np.isfinite(table["base_bn_krw"][table["outcome"] <= 1]).all()
    assert "nan" not in printed.lower()


# --- zero-width distributions ------------------------------------------------------------------
@pytest.mark.parametrize("scale", [0.0, -0.0])
def test_uniform_of_zero_width_is_refused_with_the_alternatives(tmp_path, capsys, scale):
    cfg = toy(us_pressure={"dist": "uniform", "loc": 0.3, "scale": scale})
    line = refused(tmp_path, cfg, capsys)
    assert line.startswith("error: parameters.us_pressure: uniform with scale 0 has no spread")
    assert "write a number" in line and "{ choices = [x] }" in line


def test_one_value_choice_draws_its_value_and_keeps_the_design_column(tmp_path):
    # the default config with us_pressure a one-value choice: every draw has 0.3, and every
    # other parameter is drawn exactly as in the default run (common random numbers)
    base, _ = read_raw("sma12_may2024")
    one = copy.deepcopy(base)
    one["parameters"]["us_pressure"] = {"choices": [0.3]}
    one["experiment"]["name"] = "one_value"
    a, _ = run_experiment(write(tmp_path, base, "a.toml"), draws=500, seed=9)
    b, _ = run_experiment(write(tmp_path, one, "b.toml"), draws=500, seed=9)
    assert (b.columns["param_us_pressure"] == 0.3).all()
    assert not (a.columns["param_us_pressure"] == 0.3).any()
    for name in a.columns:
        if name.startswith(("param_", "noise_")) and name != "param_us_pressure":
            assert np.array_equal(a.columns[name], b.columns[name]), name
    for y in range(2026, 2031):
        assert np.isfinite(b.columns[f"amount_{y}_bn_krw"]).all()


def test_one_value_choice_with_zero_weight_is_refused(tmp_path, capsys):
    line = refused(tmp_path, toy(us_pressure={"choices": [0.3], "weights": [0.0]}), capsys)
    assert line == "error: parameters.us_pressure: weights must sum to a positive number"


# --- one round; the hard stop on the first round's date ----------------------------------------
def one_round(cfg: dict[str, Any]) -> dict[str, Any]:
    cfg["calendar"]["hard_stop"] = cfg["calendar"]["round_dates"][0]
    return cfg


def test_one_round_on_the_first_day_gives_no_deal_and_no_lapse(tmp_path, capsys):
    # on day 0 neither side has conceded (targets 1): the U.S. asks 150, Korea offers 100
    cfg = one_round(toy())
    experiment = build_experiment(validate(cfg))
    assert experiment.calendar.round_days.tolist() == [0.0]
    assert experiment.hard_stop_day == 0.0
    summary, table, printed = run_cli(tmp_path, cfg, capsys)
    assert (table["outcome"] == 2).all()
    assert_status_quo_paid(summary, table, printed, STATUS_QUO)
    assert_no_agreement_summary(summary, printed)
    # the talks end on day 0, before the expiry on day 121: no lapse is counted
    assert (table["lapse_months"] == 0.0).all()
    assert summary["p_lapse"]["p"] == 0.0 and summary["median_lapse_months_given_lapse"] is None
    assert "P(no agreement by hard stop):        100.0% (± 0.0)" in printed


def test_one_round_with_overlapping_ideals_settles_at_the_nash_point(tmp_path, capsys):
    # U.S. ideal +10% (reservation +5%), Korea ideal +20% (reservation +30%): on day 0 each
    # accepts only its ideal or better, the zone is [110, 120], and the symmetric Nash point
    # of (b - 105)(130 - b) is 117.5, inside it
    cfg = one_round(
        toy(
            us_ideal_increase=0.1,
            us_reservation_increase=0.05,
            kr_ideal_increase=0.2,
            kr_reservation_increase=0.3,
        )
    )
    summary, table, printed = run_cli(tmp_path, cfg, capsys)
    assert (table["outcome"] == 0).all() and (table["agreement_round"] == 0).all()
    assert table["base_bn_krw"] == pytest.approx(np.full(DRAWS, 117.5), rel=1e-9)
    assert table["amount_2031_bn_krw"] == pytest.approx(np.full(DRAWS, 117.5), rel=1e-9)
    assert summary["agreement_date"]["q50"] == "2030-01-01"
    assert summary["in_force_date"]["q50"] == "2030-01-11"
    assert summary["rule_share"] == {"frozen": 1.0} and summary["duration_share"] == {"1": 1.0}
    # after the 1-year term the agreement is renegotiated at the increase both sides expect,
    # the midpoint of the reservations (+5 %, +30 %): 2032 = 117.5 x 1.175 = 138.06, then CPI
    # (2 %): 2033 = 140.82
    assert table["amount_2032_bn_krw"] == pytest.approx(np.full(DRAWS, 117.5 * 1.175))
    assert table_rows(printed)["2033"][:5] == ["140.8"] * 5


def test_hard_stop_on_the_first_rounds_date_drops_the_later_rounds(tmp_path, capsys):
    # the bundled default's nine listed rounds, the hard stop on the first: one round
    base, _ = read_raw("sma12_may2024")
    cfg = one_round(copy.deepcopy(base))
    experiment = build_experiment(validate(cfg))
    assert experiment.calendar.round_days.tolist() == [0.0]
    out = tmp_path / "out"
    code = cli.main(["run", str(write(tmp_path, cfg)), "--draws", "200", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    table = read_draws(out)
    # on day 0 no draw has a zone; talks open ~20 months before the expiry: no lapse
    assert (table["outcome"] == 2).all() and (table["lapse_months"] == 0).all()
    for y in range(2026, 2031):
        assert (table[f"amount_{y}_bn_krw"] == 1402.8).all()
    assert table_rows(printed)["2030"][:5] == ["1,402.8"] * 5


# --- expiry before the first round -------------------------------------------------------------
def test_expiry_before_the_first_round_means_every_deal_follows_a_lapse(tmp_path, capsys):
    cfg = toy(lapse_cost_kr=0.05, lapse_cost_us=0.05)
    cfg["calendar"]["expiry"] = dt.date(2029, 12, 1)  # a month before the talks open
    experiment = build_experiment(validate(cfg))
    assert experiment.calendar.expiry_day == -30.0
    summary, table, printed = run_cli(tmp_path, cfg, capsys)
    assert set(np.unique(table["outcome"])) <= {1, 2}
    assert summary["p_agreement_before_expiry"]["p"] == 0.0
    assert summary["p_lapse"]["p"] == 1.0
    # at least the month before the talks, plus the talks up to the deal's entry into force
    assert (table["lapse_months"] >= 30 / DAY).all()
    agreed = table["outcome"] == 1
    assert agreed.all()  # lapse costs move both targets below 0: the zone opens
    assert np.isfinite(table["base_bn_krw"]).all()
    assert "nan" not in printed.lower()


def test_expiry_before_the_first_round_at_the_engine_level_has_no_nan():
    cfg = toy(lapse_cost_kr=0.3, lapse_cost_us=0.3)
    cfg["calendar"]["expiry"] = dt.date(2028, 1, 1)  # two years before the talks
    experiment = build_experiment(validate(cfg))
    values, noise = sample_batch(experiment, 3, 0, DRAWS)
    out = negotiate(experiment, values, noise)
    assert out.converged.all()
    done = out.status == 2
    assert done.all()
    for a in (out.base, out.u_us, out.u_kr, out.agree_day, out.in_force_day):
        assert np.isfinite(a[done]).all()
    # on day 0 nobody has conceded (targets 1 whatever the disagreement values); by day 25
    # two years of lapse costs have pushed both targets far below 0: the zone opens
    assert (out.agree_round == 1).all()


# --- talks_probability 0 -----------------------------------------------------------------------
def test_no_talks_at_all_pays_the_frozen_status_quo(tmp_path, capsys):
    summary, table, printed = run_cli(tmp_path, toy(talks_probability=0.0), capsys)
    assert (table["outcome"] == 3).all()
    assert summary["p_no_talks"] == {"p": 1.0, "se": 0.0}
    assert summary["p_lapse"]["p"] == 0.0 and (table["lapse_months"] == 0).all()
    assert summary["p_veto"]["p"] == 0.0 and summary["p_ratification_rejected"]["p"] == 0.0
    assert_status_quo_paid(summary, table, printed, STATUS_QUO)
    assert_no_agreement_summary(summary, printed)


def test_no_talks_in_force_agreement_follows_its_formula(tmp_path, capsys):
    # today_reopening without a reopening: 2026 and 2027 are the known amounts, then the
    # 12th SMA formula continues: 1,551.1 x (1 + min(CPI, 5%))^(y - 2027)
    base, _ = read_raw("today_reopening")
    cfg = copy.deepcopy(base)
    cfg["parameters"]["talks_probability"] = 0.0
    out = tmp_path / "out"
    code = cli.main(["run", str(write(tmp_path, cfg)), "--draws", "200", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    table = read_draws(out)
    assert (table["outcome"] == 3).all()
    assert (table["amount_2026_bn_krw"] == 1519.2).all()
    assert (table["amount_2027_bn_krw"] == 1551.1).all()
    g = np.minimum(table["param_cpi_rate"], 0.05)
    for y in (2028, 2029, 2030):
        expected = 1551.1 * (1 + g) ** (y - 2027)
        assert table[f"amount_{y}_bn_krw"] == pytest.approx(expected, rel=1e-12)
    assert table_rows(printed)["2026"][:5] == ["1,519.2"] * 5


# --- the summary of a run without agreements -------------------------------------------------
def test_summary_json_of_a_run_without_agreements_is_strict_json(tmp_path, capsys):
    summary, _, _ = run_cli(tmp_path, toy(talks_probability=0.0), capsys)

    def leaves(x):
        if isinstance(x, dict):
            for v in x.values():
                yield from leaves(v)
        else:
            yield x

    assert all(not (isinstance(v, float) and not math.isfinite(v)) for v in leaves(summary))
    code = cli.main(
        [
            "run",
            str(tmp_path / "config.toml"),
            "--draws",
            str(DRAWS),
            "--json",
            "--out",
            str(tmp_path / "out2"),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert json.loads(printed, parse_constant=_no_nan)["agreement_date"]["q50"] is None
