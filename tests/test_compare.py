"""Tests of scenario comparison (``smasim.experiments.comparison``, ``smasim compare``).

The statistics must be what SciPy computes from the saved per-draw tables; a scenario against
itself must differ by exactly 0 with a zero-width interval; common random numbers must shrink
the interval of a difference; bad input must end in one line and exit code 2, writing nothing.
"""

from __future__ import annotations

import json
import math
import shutil
import warnings
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import scipy.stats

from smasim import cli
from smasim.experiments.comparison import compare as compare_module
from smasim.experiments.comparison import scenario as scenario_module
from smasim.experiments.comparison.analysis import compare_scenarios
from smasim.experiments.comparison.compare import run_comparison
from smasim.experiments.comparison.metrics import present_value
from smasim.experiments.comparison.options import CompareOptions
from smasim.experiments.comparison.scenario import Scenario, load_scenario, pairing
from smasim.experiments.comparison.stats import (
    bootstrap_differences,
    nanmedian,
    probability_greater,
)
from smasim.experiments.config.load import load_config
from smasim.experiments.runs.folders import StoreError
from smasim.experiments.runs.runner import run_experiment

YEARS = (2026, 2027, 2028, 2029, 2030)
QS = (5, 25, 50, 75, 95)
SMALL = "draws = 2000\nbatch_size = 500"


# --- helpers ---------------------------------------------------------------------------------
def write_config(folder: Path, name: str, body: str, *, extends: str = "sma12_may2024") -> Path:
    # on the priors: "close" changes one shared prior, which a calibrated run would keep while
    # drawing the others from the posterior, and the pairing would no longer be "close"
    path = folder / f"{name}.toml"
    path.write_text(
        f'[experiment]\nextends = "{extends}"\nname = "{name}"\n{SMALL}\n'
        f'[calibration]\nposterior = "none"\n\n{body}\n',
        encoding="utf-8",
    )
    return path


def run_folder(folder: Path, config: Path, *, seed: int | None = None) -> Path:
    run_experiment(config, seed=seed, out=folder)
    return folder


def read_table(folder: Path) -> dict[str, np.ndarray]:
    """The saved per-draw table, read with pyarrow alone (no smasim code): every Parquet file
    of the folder in name order (one ``draws.parquet``, or one part per batch)."""
    parts = [pq.read_table(p) for p in sorted(folder.rglob("*.parquet"))]
    assert parts, f"no per-draw table in {folder}"
    return {
        n: np.concatenate([t.column(n).to_numpy() for t in parts]) for n in parts[0].column_names
    }


def run_main(argv, capsys) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code: int, out: str, err: str, *fields: str) -> None:
    assert "Traceback" not in out + err
    assert code == 2, f"exit code {code}, stderr {err!r}"
    lines = err.splitlines()
    assert len(lines) == 1, f"stderr is not one line: {err!r}"
    for field in fields:
        assert field in lines[0], f"{field!r} not named in {lines[0]!r}"
    assert out == ""


def agreement_days(table: dict[str, np.ndarray]) -> np.ndarray:
    d = table["agreement_date"].astype("datetime64[D]")
    return d[~np.isnat(d)].astype(np.int64).astype(float)


def iso(days: float) -> str:
    return str(np.datetime64(math.floor(days + 0.5), "D"))


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture(scope="module")
def configs(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("configs")
    return {
        "base": write_config(d, "base", ""),
        "high": write_config(d, "high", "", extends="sma12_high_pressure"),
        # close to the base: Korea's reservation 0.5 pp higher
        "close": write_config(
            d,
            "close",
            '[parameters]\nkr_reservation_increase = { dist = "uniform", loc = -0.015, '
            "scale = 0.06 }",
        ),
        # high pressure certain as a constant: one design column fewer than the base
        "high_constant": write_config(d, "high_constant", "[parameters]\np_high_pressure = 1.0"),
    }


@pytest.fixture(scope="module")
def folders(tmp_path_factory, configs) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("runs")
    return {
        "base": run_folder(d / "base", configs["base"]),
        "high": run_folder(d / "high", configs["high"]),
        "close": run_folder(d / "close", configs["close"]),
        "close_seed1": run_folder(d / "close_seed1", configs["close"], seed=1),
        "high_constant": run_folder(d / "high_constant", configs["high_constant"]),
    }


@pytest.fixture(scope="module")
def crn(folders):
    """The base against a close scenario: same seed (paired) and another seed (independent)."""
    base = load_scenario(folders["base"])
    same = compare_scenarios([base, load_scenario(folders["close"])]).pairs[0]
    other = compare_scenarios([base, load_scenario(folders["close_seed1"])]).pairs[0]
    return same, other


# --- A. the statistics are scipy's, from the saved files ---------------------------------------
def test_statistics_equal_scipy_recomputed_from_saved_draws(tmp_path, capsys, configs):
    """Protects: `compare` of two configs runs both with one seed into --out/runs, and every
    number in its JSON (quantiles, present value, KS, Wasserstein, P(B > A), Wilson intervals,
    bootstrap intervals) equals what numpy/scipy compute from the saved parquet files."""
    out = tmp_path / "cmp"
    argv = ["compare", configs["base"], configs["high"], "--threshold", "1500", "--out", out]
    code, stdout, err = run_main([*argv, "--json"], capsys)
    assert code == 0, err
    doc = json.loads(stdout)
    assert doc == {
        "output_folder": str(out),
        "files": doc["files"],
        **json.loads((out / "comparison.json").read_text()),
    }
    a_dir, b_dir = out / "runs" / "base", out / "runs" / "high"
    meta = [json.loads((f / "metadata.json").read_text()) for f in (a_dir, b_dir)]
    assert meta[0]["seed"] == meta[1]["seed"] == 20240521
    assert meta[0]["draws"] == meta[1]["draws"] == 2000
    a, b = read_table(a_dir), read_table(b_dir)
    (pair,) = doc["comparisons"]
    assert (pair["reference"], pair["scenario"], pair["paired"]) == ("base", "high", True)
    sa, sb = doc["scenarios"]

    disc = 1.03 ** -(np.array(YEARS) - 2026)
    values = {f"amount_{y}": (a[f"amount_{y}_bn_krw"], b[f"amount_{y}_bn_krw"]) for y in YEARS}
    values["pv"] = tuple(
        sum(t[f"amount_{y}_bn_krw"] * w for y, w in zip(YEARS, disc, strict=True)) for t in (a, b)
    )
    values["lapse_months"] = (a["lapse_months"], b["lapse_months"])
    for key, (x, y) in values.items():
        for s, v in ((sa, x), (sb, y)):
            got = s["metrics"][key]["quantiles"]
            assert [got[f"q{q:02d}"] for q in QS] == pytest.approx(
                np.percentile(v, QS), rel=1e-12
            ), key
            assert s["metrics"][key]["mean"] == pytest.approx(np.mean(v), rel=1e-12)
        m = pair["metrics"][key]
        ks = scipy.stats.ks_2samp(x, y)
        assert m["ks_statistic"] == pytest.approx(ks.statistic, rel=1e-12), key
        assert m["ks_pvalue"] == pytest.approx(ks.pvalue, rel=1e-9, abs=1e-300), key
        assert m["wasserstein"] == pytest.approx(
            scipy.stats.wasserstein_distance(x, y), rel=1e-12, abs=1e-12
        ), key
        assert m["p_greater"] == pytest.approx(np.mean(y > x), abs=1e-15), key
        assert m["p_tie"] == pytest.approx(np.mean(y == x), abs=1e-15), key
        assert m["mean_difference"]["estimate"] == pytest.approx(np.mean(y) - np.mean(x))
        assert m["median_difference"]["estimate"] == pytest.approx(np.median(y) - np.median(x))

    # agreement dates: over draws that agree; quantiles as ISO dates
    da, db = agreement_days(a), agreement_days(b)
    for s, v in ((sa, da), (sb, db)):
        got = s["metrics"]["agreement_date"]["quantiles"]
        assert [got[f"q{q:02d}"] for q in QS] == [iso(x) for x in np.percentile(v, QS)]
        assert s["metrics"]["agreement_date"]["defined"] == v.size
    m = pair["metrics"]["agreement_date"]
    assert m["ks_statistic"] == pytest.approx(scipy.stats.ks_2samp(da, db).statistic)
    assert m["wasserstein"] == pytest.approx(scipy.stats.wasserstein_distance(da, db))
    assert m["mean_difference"]["estimate"] == pytest.approx(db.mean() - da.mean())

    # bootstrap intervals: scipy.stats.bootstrap with the documented seeds (pair 0, metric j)
    def diff(x, y, axis=-1):
        return np.stack(
            [
                np.nanmean(y, axis=axis) - np.nanmean(x, axis=axis),
                np.nanmedian(y, axis=axis) - np.nanmedian(x, axis=axis),
            ]
        )

    keys = [*(f"amount_{y}" for y in YEARS), "pv", "agreement_date", "lapse_months"]
    date_col = [
        np.where(np.isnat(t["agreement_date"]), np.nan, t["agreement_date"].astype(np.int64))
        for t in (a, b)
    ]
    for j, key in enumerate(keys):
        if key not in ("amount_2030", "pv", "agreement_date"):
            continue
        x, y = date_col if key == "agreement_date" else values[key]
        res = scipy.stats.bootstrap(
            (x.astype(float), y.astype(float)),
            diff,
            paired=True,
            vectorized=True,
            n_resamples=999,
            method="percentile",
            rng=np.random.default_rng(np.random.SeedSequence(0, spawn_key=(0, j))),
        )
        m = pair["metrics"][key]
        for k, stat in enumerate(("mean_difference", "median_difference")):
            assert m[stat]["ci_low"] == pytest.approx(res.confidence_interval.low[k], rel=1e-9)
            assert m[stat]["ci_high"] == pytest.approx(res.confidence_interval.high[k], rel=1e-9)

    # probabilities: Wilson intervals of scipy.stats.binomtest
    for s, t in ((sa, a), (sb, b)):
        for key, hits in (
            ("agreement_before_expiry", t["outcome"] == 0),
            ("agreement_by_hard_stop", t["outcome"] <= 1),
            ("lapse", t["lapse_months"] > 0),
        ):
            ci = scipy.stats.binomtest(int(hits.sum()), hits.size).proportion_ci(method="wilson")
            got = s["probabilities"][key]
            assert (got["p"], got["ci_low"], got["ci_high"]) == pytest.approx(
                (hits.mean(), ci.low, ci.high), rel=1e-12
            )
        crossing = next(c for c in s["thresholds"] if c["year"] == 2028)
        hits = t["amount_2028_bn_krw"] > 1500
        ci = scipy.stats.binomtest(int(hits.sum()), hits.size).proportion_ci(method="wilson")
        assert (crossing["p"], crossing["ci_low"], crossing["ci_high"]) == pytest.approx(
            (hits.mean(), ci.low, ci.high), rel=1e-12
        )
    lapse = pair["probability_differences"]["lapse"]
    assert lapse["estimate"] == pytest.approx(
        np.mean(b["lapse_months"] > 0) - np.mean(a["lapse_months"] > 0)
    )
    assert lapse["ci_low"] <= lapse["estimate"] <= lapse["ci_high"]


def test_unpaired_p_greater_is_mann_whitney_without_half_ties(crn, folders):
    """Protects: for independent runs, P(B > A) + P(B = A) / 2 is the Mann-Whitney U of B
    over n_A n_B, and the ties are counted exactly."""
    _, other = crn
    assert not other.paired
    a, b = read_table(folders["base"]), read_table(folders["close_seed1"])
    for y in (2026, 2030):
        x, z = a[f"amount_{y}_bn_krw"], b[f"amount_{y}_bn_krw"]
        d = other.difference(f"amount_{y}")
        u = scipy.stats.mannwhitneyu(z, x).statistic / (x.size * z.size)
        assert d.p_greater + d.p_tie / 2 == pytest.approx(u, rel=1e-12)
        assert d.p_tie == pytest.approx(np.mean(z[:, None] == x[None, :]), rel=1e-12)


def test_probability_greater_known_answers():
    """Protects: P(B > A) and ties on small samples counted by hand."""
    a = np.array([1.0, 2.0, 3.0, np.nan])
    b = np.array([2.0, 2.0, 1.0, 5.0])
    # paired over the 3 rows where both are defined: (1,2) >, (2,2) =, (3,1) <
    assert probability_greater(a, b, paired=True) == (1 / 3, 1 / 3)
    # unpaired over 3 x 4 pairs: each b=2 beats 1 and ties 2; b=1 ties 1; b=5 beats all 3
    assert probability_greater(a, b, paired=False) == (5 / 12, 3 / 12)


def test_present_value_at_zero_rate_is_the_total(folders):
    """Protects: the present value at 0 %/yr is the run's own sum of the path."""
    s = load_scenario(folders["base"])
    pv = present_value(s, years=YEARS, discount_rate=0.0)
    np.testing.assert_allclose(pv, s.columns["total_bn_krw"], rtol=1e-12)
    pv3 = present_value(s, years=YEARS, discount_rate=0.03)
    assert np.all(pv3 < pv)


# --- B. a scenario against itself --------------------------------------------------------------
def test_scenario_against_itself_differs_by_exactly_zero(tmp_path, capsys, folders):
    """Protects: the paired comparison of a run with itself gives differences of exactly 0
    with zero-width intervals, zero distances and no draw where one exceeds the other."""
    f = folders["base"]
    code, stdout, err = run_main(["compare", f, f, "--json"], capsys)
    assert code == 0, err
    doc = json.loads(stdout)
    assert [s["label"] for s in doc["scenarios"]] == ["base", "base-2"]
    (pair,) = doc["comparisons"]
    assert pair["paired"] is True
    for key, m in pair["metrics"].items():
        for stat in ("mean_difference", "median_difference"):
            assert (m[stat]["estimate"], m[stat]["ci_low"], m[stat]["ci_high"]) == (
                0.0,
                0.0,
                0.0,
            ), key
        assert (m["ks_statistic"], m["wasserstein"], m["p_greater"]) == (0.0, 0.0, 0.0), key
        assert m["ks_pvalue"] == 1.0
    for key, d in pair["probability_differences"].items():
        assert (d["estimate"], d["ci_low"], d["ci_high"]) == (0.0, 0.0, 0.0), key


# --- C. common random numbers ------------------------------------------------------------------
def test_common_random_numbers_shrink_the_interval_of_a_close_difference(crn):
    """Protects: two close scenarios run with the same seed are paired, and the interval of
    their difference is several times narrower than with independent seeds."""
    same, other = crn
    assert same.paired and "common random numbers" in same.pairing
    assert not other.paired and "seeds differ" in other.pairing
    for key in ("amount_2028", "amount_2030", "pv"):
        narrow, wide = same.difference(key).mean, other.difference(key).mean
        assert narrow.low <= narrow.estimate <= narrow.high
        assert narrow.width > 0
        assert wide.width > 3 * narrow.width, (key, narrow, wide)
    # the paired interval resolves the +0.5 pp shift of Korea's reservation
    assert same.difference("pv").mean.low > 0


def test_bundled_pressure_scenarios_share_the_baselines_random_numbers(folders):
    """Protects: sma12_high_pressure keeps p_high_pressure as a design column, so with the
    same seed every other parameter and all noise equal the baseline's draw for draw; a
    constant would drop the column, shift the draws and make the runs independent."""
    base, high, const = (read_table(folders[k]) for k in ("base", "high", "high_constant"))
    shared = [k for k in base if k.startswith(("param_", "noise_"))]
    differ = [k for k in shared if not np.array_equal(base[k], high[k])]
    assert differ == ["param_p_high_pressure"]
    assert np.all(high["param_p_high_pressure"] == 1.0)
    assert np.all(high["high_pressure_after_election"])
    assert not np.array_equal(base["param_us_pressure"], const["param_us_pressure"])
    s = {k: load_scenario(folders[k]) for k in ("base", "high", "high_constant")}
    assert pairing(s["base"], s["high"])[0]
    paired, why = pairing(s["base"], s["high_constant"])
    assert not paired and "p_high_pressure" in why


def test_bundled_pressure_configs_differ_from_the_baseline_only_in_the_election(tmp_path):
    """Protects: the bundled scenario configs override nothing but p_high_pressure (and
    their name and description)."""
    base = load_config("sma12_may2024").model_dump(mode="json")
    for name, p in (("sma12_high_pressure", 1.0), ("sma12_low_pressure", 0.0)):
        cfg = load_config(name).model_dump(mode="json")
        assert cfg["experiment"]["name"] == name and cfg["experiment"]["description"]
        assert cfg["parameters"].pop("p_high_pressure") == {"choices": [p], "weights": None}
        for d in (cfg, base):
            d["experiment"] = {
                k: v
                for k, v in d["experiment"].items()
                if k not in ("name", "description", "extends")
            }
        assert cfg["parameters"] == {
            k: v for k, v in base["parameters"].items() if k != "p_high_pressure"
        }
        assert {k: v for k, v in cfg.items() if k != "parameters"} == {
            k: v for k, v in base.items() if k != "parameters"
        }


def test_subsampled_bootstrap_is_rescaled_to_the_full_sample():
    """Protects: above max_draws the interval is rescaled to the full sample: for normal
    data its width matches 2 z sigma sqrt(2 / n) (independent) and 2 z tau / sqrt(n) (paired,
    tau the sd of the differences) within sampling tolerance (10 %), around the full-sample
    estimate."""
    rng = np.random.default_rng(5)
    n = 200_000
    x = rng.normal(0.0, 10.0, n)
    y = x + rng.normal(1.0, 2.0, n)
    z = 1.959964
    mean, median = bootstrap_differences(x, y, paired=True, max_draws=10_000, rng=1)
    assert mean.estimate == pytest.approx(np.mean(y) - np.mean(x), rel=1e-12)
    assert median.estimate == pytest.approx(np.median(y) - np.median(x), rel=1e-12)
    assert mean.width == pytest.approx(2 * z * 2.0 / math.sqrt(n), rel=0.10)
    y2 = rng.normal(1.0, 10.0, n)
    (mean2,) = bootstrap_differences(
        x, y2, statistics=("mean",), paired=False, max_draws=10_000, rng=2
    )
    assert mean2.width == pytest.approx(2 * z * 10.0 * math.sqrt(2 / n), rel=0.10)
    assert mean2.low < mean2.estimate < mean2.high


def test_nanmedian_equals_numpy():
    """Protects: the vectorized NaN-ignoring median equals numpy.nanmedian bit for bit,
    along every axis, all-NaN slices included."""
    rng = np.random.default_rng(0)
    for shape in [(9,), (6, 7), (3, 4, 8)]:
        a = rng.integers(0, 5, shape).astype(float)
        a[rng.random(shape) < 0.4] = np.nan
        a[(0,) * (len(shape) - 1)] = np.nan
        for axis in range(len(shape)):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices
                expected = np.nanmedian(a, axis=axis)
            np.testing.assert_array_equal(nanmedian(a, axis=axis), expected)


def test_comparison_needs_a_shared_report_year(folders):
    """Protects: scenarios without a common report year are refused in one line."""
    s = load_scenario(folders["base"])
    config = {
        **s.config,
        "agreement": {**s.config["agreement"], "report_first_year": 2040, "report_last_year": 2041},
    }
    other = Scenario("x", "x", None, config, s.seed, s.draws, s.batch_size, s.columns)
    with pytest.raises(ValueError, match="share no report year"):
        compare_scenarios([s, other])


def test_options_are_validated():
    """Protects: impossible settings name their field."""
    with pytest.raises(ValueError, match=r"^discount_rate"):
        CompareOptions(discount_rate=-1.0)
    with pytest.raises(ValueError, match=r"^thresholds_bn_krw"):
        CompareOptions(thresholds_bn_krw=(math.nan,))
    with pytest.raises(ValueError, match=r"^confidence_level"):
        CompareOptions(confidence_level=1.0)


def test_library_errors_name_the_field_not_the_flag(tmp_path, folders):
    """Protects: run_comparison's errors lead with the field (``out:``, ``draws:``,
    ``sources:``), never a command-line flag; the command line maps the field to its flag.
    A non-empty out is left untouched."""
    two = [folders["base"], folders["high"]]
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("earlier", encoding="utf-8")
    for call, exc, field in (
        (lambda: run_comparison(two, out=out), StoreError, "out"),
        (lambda: run_comparison(two, draws=0), ValueError, "draws"),
        (lambda: run_comparison(two[:1]), ValueError, "sources"),
        (lambda: compare_scenarios([load_scenario(two[0])]), ValueError, "scenarios"),
    ):
        with pytest.raises(exc, match=rf"^{field}: ") as info:
            call()
        assert "--" not in str(info.value).replace(str(tmp_path), ""), info.value
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


# --- D. the command line -----------------------------------------------------------------------
def test_compare_prints_tables_with_units(capsys, folders):
    """Protects: without --json, compare prints the probabilities, quantiles and differences
    with their units, and writes nothing without --out."""
    code, stdout, err = run_main(
        ["compare", folders["base"], folders["high"], "--threshold", "1600"], capsys
    )
    assert code == 0, err
    for text in (
        "P(lapse after expiry)",
        "2030 amount (bn KRW)",
        "agreement date (days)",
        "lapse length (months)",
        "P(2030 amount > 1,600.0 bn KRW)",
        "pp",
        "%",
    ):
        assert text in stdout, text


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        pytest.param(["compare", "{base}"], "compare", id="one-scenario"),
        pytest.param(["compare", "{base}", "no_such_thing"], "no_such_thing", id="unknown"),
        pytest.param(
            ["compare", "{base}", "{base}", "--discount-rate", "-1"],
            "--discount-rate",
            id="discount-rate",
        ),
        pytest.param(["compare", "{base}", "{base}", "--draws", "0"], "--draws", id="draws"),
        pytest.param(["compare", "{base}", "{bad}"], "experiment.nme", id="bad-config"),
        pytest.param(["compare", "{base}", "{damaged}"], "checksum", id="damaged-folder"),
        pytest.param(["compare", "{base}", "{empty}"], "summary.json", id="not-a-result"),
        # no bound once: 13 scenarios ran, and their columns could exhaust memory
        pytest.param(["compare", *["{base}"] * 13], "sources: give two to 12", id="thirteen"),
        # 2 x 10^7 draws of two configs (~25 GB of columns) are refused before either runs
        pytest.param(
            ["compare", "sma12_may2024", "sma12_high_pressure", "--draws", "10000001"],
            "--draws: the scenarios hold 20,000,002 draws",
            id="draws-held",
        ),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys, folders, argv, field):
    """Protects: every bad compare argument ends with one stderr line naming it, exit code 2,
    and no output folder (finished or partial)."""
    bad = tmp_path / "bad.toml"
    bad.write_text('[experiment]\nextends = "sma12_may2024"\nnme = "x"\n', encoding="utf-8")
    damaged = tmp_path / "damaged"
    shutil.copytree(folders["base"], damaged)
    with open(sorted(damaged.rglob("*.parquet"))[0], "ab") as f:
        f.write(b"\0")
    empty = tmp_path / "empty"
    empty.mkdir()
    names = {"base": folders["base"], "bad": bad, "damaged": damaged, "empty": empty}
    out = tmp_path / "out"
    args = [a.format(**names) for a in argv]
    assert_one_line_error(*run_main([*args, "--out", out], capsys), field)
    assert not out.exists()
    assert not list(tmp_path.glob(".out.*"))


def test_folders_too_large_to_hold_are_refused_before_their_draws_are_read(folders, monkeypatch):
    """Protects: the draws of result folders count against the memory bound from their
    metadata, before any part is read (a folder's draw count is checked against its config)."""
    monkeypatch.setattr(scenario_module, "MAX_HELD_DRAWS", 3999)  # the two folders hold 4,000
    monkeypatch.setattr(compare_module, "load_scenario", None)  # never reached
    with pytest.raises(ValueError, match=r"^sources: the scenarios hold 4,000 draws in all"):
        run_comparison([folders["base"], folders["high"]])


def test_plot_refuses_a_folder_too_large_to_read_in_one_line(folders, capsys, monkeypatch):
    """Protects: `plot` reads a whole folder's columns; one larger than half the machine's
    memory is refused in one line after its first part (a 10^8-draw folder is ~90 GB)."""

    monkeypatch.setattr("smasim.simulation.memory.physical_memory", lambda: 1 << 20)
    out = folders["base"].parent / "p"
    code, stdout, err = run_main(["plot", folders["base"], "--out", out], capsys)
    assert (code, stdout) == (2, "") and len(err.splitlines()) == 1, err
    assert "per-draw table of 2,000 draws takes" in err and not out.exists()


def test_a_comparison_is_bounded_by_this_machines_memory(monkeypatch):
    """Protects: on a 2 GB machine, half of it holds ~1.7 million draws at ~620 bytes: two
    configs of a million draws each are refused before either runs, not killed midway."""
    monkeypatch.setattr("smasim.simulation.memory.physical_memory", lambda: 2 << 30)
    monkeypatch.setattr(compare_module, "_run_config", None)  # never reached
    with pytest.raises(ValueError, match=r"^draws: the scenarios hold 2,000,000 draws in all, "
                                         r"at most 1,731,841 fit in memory"):  # fmt: skip
        run_comparison(["sma12_may2024", "sma12_high_pressure"], draws=1_000_000)


def test_existing_non_empty_out_is_refused_and_left_untouched(tmp_path, capsys, folders):
    """Protects: compare never writes into a non-empty --out."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("earlier", encoding="utf-8")
    code, stdout, err = run_main(
        ["compare", folders["base"], folders["high"], "--out", out], capsys
    )
    assert_one_line_error(code, stdout, err, "out")
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
