"""Tests of the forecast scores and the backtest.

The CRPS of a sample is checked against the closed form of a normal distribution and against
the O(n^2) definition; the backtest's actual outcomes against the record; the naive forecast
against its definition; the common-random-numbers simulation against the engine's run. Real
runs use few draws here; the Bayesian calibration is tested in test_calibration_abc.py.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from smasim import cli
from smasim.experiments.config.load import build_experiment, load_config
from smasim.experiments.record.backtest import run_backtest
from smasim.experiments.record.data import load_record
from smasim.experiments.record.forecast import (
    Case,
    actual_outcome,
    model_forecast,
    naive_forecast,
    score_forecast,
    simulate,
)
from smasim.experiments.record.scores import central_interval, crps_sample, inside, pit
from smasim.experiments.record.study import run_study
from smasim.experiments.runs.folders import StoreError
from smasim.simulation.montecarlo import run


@pytest.fixture(scope="module")
def record():
    return load_record()


# --- scores ----------------------------------------------------------------------------------
def crps_normal(mu: float, sigma: float, y: float) -> float:
    """Closed form (Gneiting and Raftery 2007): sigma [z (2 Phi(z) - 1) + 2 phi(z) - 1/sqrt(pi)]."""
    z = (y - mu) / sigma
    return sigma * (
        z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / math.sqrt(math.pi)
    )


@pytest.mark.parametrize(
    ("mu", "sigma", "y"), [(0.0, 1.0, 0.0), (1000.0, 50.0, 1100.0), (5, 2, -3)]
)
def test_crps_of_a_normal_sample_matches_the_closed_form(mu, sigma, y):
    # a quantile grid of the normal: no Monte Carlo noise, error O(log n / n)
    n = 200_000
    x = stats.norm.ppf((np.arange(n) + 0.5) / n, loc=mu, scale=sigma)
    assert crps_sample(x, y) == pytest.approx(crps_normal(mu, sigma, y), rel=2e-4)


def test_crps_sorted_formula_equals_the_double_sum():
    rng = np.random.default_rng(7)
    x = rng.gamma(2.0, 3.0, size=301)
    y = 4.2
    brute = np.mean(np.abs(x - y)) - 0.5 * np.mean(np.abs(x[:, None] - x[None, :]))
    assert crps_sample(x, y) == pytest.approx(brute, rel=1e-12)
    assert crps_sample(rng.permutation(x), y) == pytest.approx(brute, rel=1e-12)


def test_crps_of_a_point_forecast_is_the_absolute_error():
    assert crps_sample(np.full(10, 3.0), 5.5) == pytest.approx(2.5)
    assert crps_sample([7.0], 7.0) == 0.0
    with pytest.raises(ValueError, match="finite"):
        crps_sample([1.0, np.nan], 0.0)


def test_pit_counts_ties_half_and_intervals_are_central():
    x = np.array([1.0, 2.0, 2.0, 3.0])
    assert pit(x, 2.0) == pytest.approx(0.25 + 0.25)
    assert pit(x, 0.0) == 0.0 and pit(x, 9.0) == 1.0
    u = np.linspace(0.0, 100.0, 10_001)
    assert central_interval(u, level=0.9) == pytest.approx((5.0, 95.0))
    assert inside(u, 30.0, level=0.5) and not inside(u, 20.0, level=0.5)
    assert inside(u, 20.0, level=0.9)
    with pytest.raises(ValueError, match="level"):
        central_interval(u, level=1.0)


# --- actual outcomes and the naive forecast --------------------------------------------------
def test_actual_outcomes_follow_the_record(record):
    a11 = actual_outcome(record, 11)
    # agreed in March 2021 after 2020 passed in a lapse: scored on 2021
    assert (a11.first_year, a11.amount_bn_krw, a11.status_quo_bn_krw) == (2021, 1183.3, 1038.9)
    assert (a11.duration_years, a11.rule_kind) == (6, "defense")
    a10 = actual_outcome(record, 10)
    assert (a10.first_year, a10.duration_years, a10.rule_kind) == (2019, 1, None)
    a9 = actual_outcome(record, 9)  # concluded 12 Jan 2014: still the first year
    assert (a9.first_year, a9.amount_bn_krw, a9.rule_kind) == (2014, 920.0, "cpi")
    assert actual_outcome(record, 12).change_pct == pytest.approx(8.3, abs=0.05)
    assert actual_outcome(record, 7).amount_bn_krw == 725.5


def test_naive_forecast_is_the_status_quo_grown_by_historical_changes(record):
    f = naive_forecast(record, 7)
    changes = [15.4, 3.3, 9.6, 11.7, -8.9, 0.0]  # recorded changes before 2007
    assert f.first_year_bn_krw.mean() == pytest.approx(680.4 * (1 + np.mean(changes) / 100))
    assert f.first_year_bn_krw.size == len(changes)
    # earlier terms 3, 2, 3, 3, 3, 2 years, add-one smoothed over 6 terms
    assert f.duration_probs[2] == pytest.approx(3 / 12)
    assert f.duration_probs[6] == pytest.approx(1 / 12)
    assert sum(f.duration_probs.values()) == pytest.approx(1.0)
    # only the 6th SMA (frozen) has a machine-readable rule before the 7th
    assert f.rule_probs == pytest.approx({"frozen": 0.4, "fixed": 0.2, "cpi": 0.2, "defense": 0.2})


def test_model_forecast_and_scores_on_a_known_table(record):
    cfg = load_config("backtest_sma10")
    exp = build_experiment(cfg)
    # four draws: two agree (1 yr frozen, 3 yr cpi), one fails, one agrees on 1 yr cpi
    kinds = [r.kind for r in exp.setting.packages.rules]
    cols = {
        "outcome": np.array([0, 1, 2, 0]),
        "base_bn_krw": np.array([1000.0, 1040.0, np.nan, 1100.0]),
        "duration_years": np.array([1, 3, 0, 1]),
        "rule_index": np.array([kinds.index("frozen"), kinds.index("cpi"), -1, kinds.index("cpi")]),
    }
    f = model_forecast(exp, cols)
    np.testing.assert_allclose(f.first_year_bn_krw, [1000.0, 1040.0, 960.2, 1100.0])
    assert f.p_agreement == 0.75
    assert f.duration_probs[1] == pytest.approx(2 / 3)
    assert f.rule_probs["cpi"] == 1.0  # only the 3-year deal has an escalation
    s = score_forecast(f, actual_outcome(record, 10))
    assert s.pit == pytest.approx(0.5)  # below 1,038.9: 1,000 and 960.2
    assert math.isnan(s.p_rule)  # a one-year term has no rule to score
    assert s.crps_pct == pytest.approx(100 * s.crps_bn_krw / 960.2)


# --- simulation with common random numbers ---------------------------------------------------
def test_simulate_equals_the_engines_run():
    exp = build_experiment(load_config("backtest_sma09"))
    ours = simulate(exp, draws=300, seed=5)
    theirs = run(exp, draws=300, seed=5).columns
    for k in ("base_bn_krw", "package", "outcome", "amount_2014_bn_krw"):
        np.testing.assert_array_equal(ours[k], theirs[k])


# --- the backtest, on few draws ---------------------------------------------------------------
def test_run_backtest_writes_scores_table_and_plot(tmp_path):
    pytest.importorskip("matplotlib")
    cases = (Case(7, "backtest_sma07"), Case(11, "backtest_sma11"))
    result = run_backtest(cases=cases, draws=400, out=tmp_path / "bt")
    assert [r.case.sma_round for r in result.rows] == [7, 11]
    for r in result.rows:
        assert 0.0 <= r.model.pit <= 1.0 and r.model.crps_bn_krw >= 0.0
        assert r.model.n == 400
        q = r.model.quantiles_bn_krw
        assert q["q05"] <= q["q25"] <= q["q50"] <= q["q75"] <= q["q95"]
        assert r.model.in_90 == (q["q05"] <= r.actual.amount_bn_krw <= q["q95"])
    files = {p.name for p in (tmp_path / "bt").iterdir()}
    assert files == {"backtest.json", "backtest.md", "backtest.png"}
    data = json.loads((tmp_path / "bt" / "backtest.json").read_text())
    assert data["rows"][1]["actual"]["first_year"] == 2021
    assert (tmp_path / "bt" / "backtest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    again = run_backtest(cases=cases, draws=400)
    assert again.rows[1].model == result.rows[1].model  # same seed, same scores


def test_library_errors_name_the_parameter_not_a_flag(tmp_path):
    (tmp_path / "x").write_text("keep")
    # the folder is checked before any draw is run
    with pytest.raises(StoreError, match=r"^out: "):
        run_backtest(draws=10, out=tmp_path)
    with pytest.raises(StoreError, match=r"^out: "):
        run_study(draws=10, target_ess=5, out=tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["x"]
    assert (tmp_path / "x").read_text() == "keep"
    with pytest.raises(ValueError, match=r"^draws: "):
        run_backtest(draws=0)
    with pytest.raises(ValueError, match=r"^target_ess: "):
        run_study(draws=10, target_ess=10)


@pytest.mark.slow
def test_the_default_backtest_runs_in_under_a_minute():
    res = run_backtest()
    assert len(res.rows) == 7 and res.elapsed_s < 60.0


# --- CLI -------------------------------------------------------------------------------------
def test_backtest_cli_json(capsys):
    assert cli.main(["backtest", "--draws", "200", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["sma"] for r in data["rows"]] == [6, 7, 8, 9, 10, 11, 12]
    # the summary counts the rows whose interval holds the actual amount
    for forecast in ("model", "naive"):
        inside = sum(r[forecast]["in_90"] for r in data["rows"])
        assert data["summary"][forecast]["inside_90"] == inside
    assert data["units"]["amounts"] == "bn KRW per year"


def test_backtest_cli_table(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    assert cli.main(["backtest", "--draws", "200"]) == 0
    out = capsys.readouterr().out
    assert "11th SMA" in out and "bn KRW" in out and "mean CRPS" in out
    assert "empirical, time-respecting" in out and "exact 95 % CI" in out


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (["backtest", "--draws", "0"], "--draws"),
        (["backtest", "--seed", "-1"], "--seed"),
        (["calibrate", "--target-ess", "0"], "--target-ess"),
        (["calibrate", "--draws", "100", "--target-ess", "100"], "--target-ess"),
    ],
)
def test_bad_options_are_one_line_errors(argv, field, capsys):
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1 and field in captured.err


def test_backtest_refuses_a_non_empty_out(tmp_path, capsys):
    (tmp_path / "x").write_text("keep")
    assert cli.main(["backtest", "--draws", "10", "--out", str(tmp_path)]) == 2
    assert "--out" in capsys.readouterr().err
    assert (tmp_path / "x").read_text() == "keep"


def test_calibrate_cli_writes_its_folder_and_json(tmp_path, capsys):
    out = tmp_path / "cal"
    argv = ["calibrate", "--draws", "600", "--target-ess", "60", "--out", str(out), "--json"]
    assert cli.main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["output_folder"] == str(out)
    assert set(data["evaluations"]) == {"prior", "loo", "time"}
    assert data["posterior"]["ess"] == pytest.approx(60, rel=1e-3)
    assert json.loads((out / "calibration.json").read_text())["seed"] == data["seed"]


def test_the_backtest_page_figure_is_a_small_png():
    path = Path(__file__).resolve().parents[1] / "docs" / "backtest.png"
    if not path.parent.is_dir():
        pytest.skip("not a checkout: no docs/ folder")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) < 300_000


def test_backtest_end_to_end_in_a_subprocess(tmp_path):
    out = tmp_path / "bt"
    proc = subprocess.run(
        [sys.executable, "-m", "smasim", "backtest", "--draws", "300", "--json", "--out", str(out)],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["output_folder"] == str(out)
    assert {p.name for p in out.iterdir()} == {"backtest.json", "backtest.md", "backtest.png"}
