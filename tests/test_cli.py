"""Tests of the ``smasim`` command line (``cli.main``, the console script's entry point).

Bad input must end with exit code 2 and exactly one stderr line naming the offending field,
never a traceback and never a result folder (finished or partial). The happy path must print
the summary, write a complete result folder and let ``trace`` replay one draw of a run alone.
"""

from __future__ import annotations

import functools
import json
import math
import re
import shlex
import subprocess
import sys
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from smasim import cli
from smasim.experiments.config.load import bundled_configs
from smasim.experiments.config.schema import DEFAULT_CONFIG, MAX_DRAWS
from smasim.experiments.runs.store import read_draws
from smasim.models.bargaining import CONCEPTS as BARGAINING_CONCEPTS

REPO_ROOT = Path(__file__).resolve().parents[1]
YEARS = [str(y) for y in range(2026, 2031)]
QUANTILES = ("q05", "q25", "q50", "q75", "q95")
CONCEPTS = tuple(BARGAINING_CONCEPTS)  # the registry: a new concept is listed too
RUN_FILES = {"config.json", "metadata.json", "draws", "summary.json"}


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch):
    # rich reads COLUMNS on every print: a wide console keeps table cells unwrapped
    monkeypatch.setenv("COLUMNS", "200")


# --- helpers ---------------------------------------------------------------------------------
def bundled_text() -> str:
    """The bundled default config's TOML, with a small draw count for speed."""
    text = (
        resources.files("smasim.experiments.config") / "bundled" / f"{DEFAULT_CONFIG}.toml"
    ).read_text(encoding="utf-8")
    return set_line(text, "draws", "draws = 200")


def set_line(text: str, key: str, new_line: str) -> str:
    """Replace the line assigning ``key`` (which must exist exactly once)."""
    out, n = re.subn(rf"(?m)^{re.escape(key)}\s*=.*$", new_line, text)
    assert n == 1, f"bundled config has {n} lines assigning {key}"
    return out


def child(experiment: str = "draws = 200", tables: str = "") -> str:
    """A config extending the default one with overrides."""
    return f'[experiment]\nextends = "{DEFAULT_CONFIG}"\n{experiment}\n\n{tables}\n'


def params(body: str) -> str:
    return child(tables=f"[parameters]\n{body}\n")


def run_main(argv: list[str], capsys) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code: int, out: str, err: str, *fields: str) -> None:
    assert "Traceback" not in out + err
    assert code == 2, f"exit code {code}, stderr {err!r}"
    lines = err.splitlines()
    assert len(lines) == 1, f"stderr is not one line: {err!r}"
    assert lines[0].strip()
    for field in fields:
        assert field in lines[0], f"{field!r} not named in {lines[0]!r}"
    assert out == "", f"stdout not empty on error: {out!r}"


def assert_no_result_folder(tmp_path: Path) -> None:
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".out*partial")), "a partial result folder was left behind"


# --- A. bad input ----------------------------------------------------------------------------
# (case id, TOML text or None for a missing file, substrings the error line must contain)
BAD_CONFIGS = [
    pytest.param(
        bundled_text().replace("[calendar]", "[calendar", 1),
        ["malformed TOML", "bad.toml"],
        id="malformed-toml-table-header",
    ),
    pytest.param(child("draws = "), ["malformed TOML", "bad.toml"], id="malformed-toml-value"),
    pytest.param(None, ["config", "bad.toml"], id="missing-config-file"),
    pytest.param(child(tables="[scenario]\nname = 'x'\n"), ["scenario"], id="unknown-top-table"),
    pytest.param(
        child("draws = 200\ncolour = 'red'"), ["experiment.colour"], id="unknown-experiment-key"
    ),
    pytest.param(
        params("us_presure = 0.3"), ["parameters", "us_presure"], id="unknown-parameter-name"
    ),
    pytest.param(child('draws = "many"'), ["experiment.draws"], id="draws-not-a-number"),
    pytest.param(child('draws = "2000"'), ["experiment.draws"], id="draws-quoted-integer"),
    pytest.param(child("draws = true"), ["experiment.draws"], id="draws-boolean"),
    pytest.param(child("draws = 0"), ["experiment.draws"], id="draws-zero-in-toml"),
    pytest.param(
        set_line(bundled_text(), "draws", "draws = 0"),
        ["experiment.draws"],
        id="draws-zero-in-full-toml",
    ),
    pytest.param(child("draws = -5"), ["experiment.draws"], id="draws-negative-in-toml"),
    pytest.param(
        params('us_pressure = "high"'), ["parameters.us_pressure"], id="parameter-as-string"
    ),
    pytest.param(
        params('us_pressure = "0.3"'), ["parameters.us_pressure"], id="parameter-as-quoted-number"
    ),
    pytest.param(
        params('nk_threat = { dist = "beta", a = -1, b = 2 }'),
        ["parameters.nk_threat"],
        id="beta-negative-a",
    ),
    pytest.param(
        params('audience_cost = { dist = "uniform", loc = 0.02, scale = -0.01 }'),
        ["parameters.audience_cost"],
        id="uniform-negative-scale",
    ),
    pytest.param(
        params('veto_strength = { dist = "betta", a = 2, b = 2 }'),
        ["parameters.veto_strength", "betta"],
        id="unknown-scipy-distribution",
    ),
    pytest.param(
        params('us_pressure = { dist = "norm", loc = 0.3, scale = 0.1 }'),
        ["parameters.us_pressure"],
        id="normal-support-leaves-range",
    ),
    pytest.param(
        params('lapse_cost_us = { dist = "uniform", loc = "low", scale = 0.01 }'),
        ["parameters.lapse_cost_us"],
        id="distribution-argument-string",
    ),
    pytest.param(
        params("us_pressure = 1.5"), ["parameters.us_pressure"], id="constant-outside-range"
    ),
    pytest.param(
        params("us_pressure = { choices = [0.2, 0.8], weights = [1.0] }"),
        ["parameters.us_pressure"],
        id="choices-weights-length-mismatch",
    ),
    pytest.param(
        params("kr_ideal_increase = 0.10\nkr_reservation_increase = 0.02"),
        ["parameters.kr_reservation_increase"],
        id="kr-reservation-below-ideal",
    ),
    pytest.param(
        set_line(bundled_text(), "kr_reservation_increase", "kr_reservation_increase = -0.2"),
        ["parameters.kr_reservation_increase"],
        id="kr-reservation-below-ideal-full",
    ),
    pytest.param(
        params("us_ideal_increase = 0.05\nus_reservation_increase = 0.10"),
        ["parameters.us_reservation_increase"],
        id="us-reservation-above-ideal",
    ),
    pytest.param(
        '[experiment]\nextends = "sma99_nonexistent"\n',
        ["experiment.extends"],
        id="extends-unknown-config",
    ),
]


def write_bad(tmp_path: Path, text: str | None) -> Path:
    path = tmp_path / "bad.toml"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "fields"), BAD_CONFIGS)
def test_run_refuses_bad_config_in_one_line_without_result_folder(tmp_path, capsys, text, fields):
    """Protects: a bad config ends `run` with exit 2, one stderr line naming the field, no
    traceback, and nothing written."""
    path = write_bad(tmp_path, text)
    result = run_main(["run", path, "--out", tmp_path / "out"], capsys)
    assert_one_line_error(*result, *fields)
    assert_no_result_folder(tmp_path)


@pytest.mark.parametrize(("text", "fields"), BAD_CONFIGS)
def test_validate_refuses_bad_config_in_one_line(tmp_path, capsys, text, fields):
    """Protects: `smasim validate` reports the same one-line, field-naming error (exit 2)."""
    path = write_bad(tmp_path, text)
    assert_one_line_error(*run_main(["validate", path], capsys), *fields)


BAD_OPTIONS = [
    pytest.param(["run", "--draws", "0"], "--draws", id="run-draws-zero"),
    pytest.param(["run", "--draws", "-5"], "--draws", id="run-draws-negative"),
    pytest.param(["run", "--draws", "many"], "--draws", id="run-draws-not-integer"),
    pytest.param(["run", "--draws", "2.5"], "--draws", id="run-draws-fraction"),
    pytest.param(["run", "--draws", "200", "--seed", "-1"], "--seed", id="run-seed-negative"),
    pytest.param(["run", "--draws", "200", "--workers", "0"], "--workers", id="run-workers-zero"),
    pytest.param(["trace", "--draws", "0"], "--draws", id="trace-draws-zero"),
    pytest.param(["trace", "--draw", "-1", "--draws", "200"], "--draw", id="trace-draw-negative"),
    pytest.param(
        ["trace", "--draw", "200", "--draws", "200"], "draw: 200", id="trace-draw-past-run"
    ),
]


@pytest.mark.parametrize(("argv", "field"), BAD_OPTIONS)
def test_bad_option_is_refused_in_one_line_without_result_folder(tmp_path, capsys, argv, field):
    """Protects: a bad command-line value ends with exit 2, one line naming the option."""
    extra = ["--out", tmp_path / "out"] if argv[0] == "run" else []
    assert_one_line_error(*run_main([*argv, *extra], capsys), field)
    assert_no_result_folder(tmp_path)


def test_existing_non_empty_out_is_refused_and_left_untouched(tmp_path, capsys):
    """Protects: `run` never writes into (or replaces) a non-empty result folder."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("earlier results", encoding="utf-8")
    assert_one_line_error(*run_main(["run", "--draws", "200", "--out", out], capsys), "--out")
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert (out / "keep.txt").read_text(encoding="utf-8") == "earlier results"
    assert not list(tmp_path.glob(".out*partial"))


@pytest.mark.parametrize("kind", ["too-long", "under-a-file"])
def test_an_impossible_out_path_is_refused_in_one_line(tmp_path, capsys, kind):
    """Protects: an --out that cannot be created ends with exit 2 and one line, no traceback."""
    (tmp_path / "file").write_text("not a folder", encoding="utf-8")
    out = tmp_path / ("x" * 300) if kind == "too-long" else tmp_path / "file" / "out"
    code, _, err = run_main(["run", "--draws", "200", "--out", out], capsys)
    assert_one_line_error(code, _, err, "--out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["calibrate", "--draws", "400", "--target-ess", "100"], id="calibrate"),
        pytest.param(["backtest", "--draws", "200"], id="backtest"),
        pytest.param(["sensitivity", "--n", "16"], id="sensitivity"),
        pytest.param(["sweep", "--param", "us_pressure"], id="sweep"),
        pytest.param(["compare", DEFAULT_CONFIG, "sma12_high_pressure"], id="compare"),
    ],
)
def test_an_out_that_cannot_be_created_is_refused_before_any_work(
    tmp_path, capsys, monkeypatch, argv
):
    """Protects: commands that write their folder at the end check first that it can be
    created; `calibrate --out` under a file ran the whole calibration (~30 s), then lost it.
    Any negotiation simulated before the refusal fails this test."""

    def simulated(*args, **kwargs):
        raise AssertionError("a negotiation was simulated before --out was checked")

    monkeypatch.setattr("smasim.simulation.negotiation.BatchNegotiation.__init__", simulated)
    (tmp_path / "file").write_text("not a folder", encoding="utf-8")
    out = tmp_path / "file" / "out"
    code, stdout, err = run_main([*argv, "--out", out], capsys)
    assert_one_line_error(code, stdout, err)
    assert err.startswith(f"error: --out: cannot create {out}: {tmp_path / 'file'} is not a"), err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


@pytest.mark.parametrize(
    ("target", "argv"),
    [
        (
            "smasim.experiments.comparison.compare.run_comparison",
            ["compare", DEFAULT_CONFIG, "sma12_high_pressure"],
        ),
        ("smasim.experiments.sensitivity.analysis.sensitivity", ["sensitivity", "--n", "16"]),
        ("smasim.experiments.sensitivity.analysis.sweep", ["sweep", "--param", "us_pressure"]),
        ("smasim.experiments.record.study.run_study", ["calibrate"]),
    ],
)
def test_ctrl_c_in_a_command_says_it_was_interrupted(tmp_path, capsys, monkeypatch, target, argv):
    """Protects: Ctrl-C in compare, sensitivity, sweep or calibrate ends with exit 130 and one
    line saying nothing was written. Typer turns a command's KeyboardInterrupt into a returned
    130, so the interrupted branch was never reached and the command ended without a word."""

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(target, interrupted)
    code, stdout, err = run_main([*argv, "--out", tmp_path / "out"], capsys)
    assert (code, stdout, err) == (130, "", "interrupted: no result folder was written\n")
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_is_one_line_and_the_run_goes_on_with_resume(tmp_path, capsys, monkeypatch):
    """Protects: a full disk (ENOSPC, as pyarrow raises it) while a run writes its third part
    is one line and exit 1, not a traceback; it names the two batches kept and the command
    that goes on, and that command gives the bits of a run that never stopped. Compare's
    folder, written at the end, fails the same way with nothing left behind."""
    import errno

    import pyarrow.parquet as pq

    config = tmp_path / "c.toml"
    config.write_text(child("draws = 1200\nbatch_size = 400"), encoding="utf-8")
    write_table, calls = pq.write_table, [0]

    def full_after_two(*args, **kwargs):
        calls[0] += 1
        if calls[0] > 2:
            raise OSError(errno.ENOSPC, "Error writing bytes to file. Detail: [errno 28] ...")
        return write_table(*args, **kwargs)

    monkeypatch.setattr(pq, "write_table", full_after_two)
    out = tmp_path / "out"
    code, stdout, err = run_main(["run", config, "--out", out], capsys)
    assert code == 1 and "Traceback" not in stdout + err and len(err.splitlines()) == 1, err
    assert err.startswith("error: cannot write: No space left on device; 2 batches finished"), err
    again = shlex.join(["run", str(config), "--out", str(out), "--resume"])
    assert err.rstrip().endswith(f"Continue with: smasim {again}"), err
    monkeypatch.setattr(pq, "write_table", write_table)
    assert run_main(["run", config, "--out", out, "--resume"], capsys)[0] == 0
    assert run_main(["run", config, "--out", tmp_path / "whole"], capsys)[0] == 0
    resumed, whole = read_draws(out), read_draws(tmp_path / "whole")
    assert all(np.array_equal(resumed[c], whole[c], equal_nan=True) for c in whole)

    monkeypatch.setattr(
        "smasim.experiments.comparison.compare.write_report",
        lambda *a, **k: (_ for _ in ()).throw(OSError(errno.EFBIG, "File too large")),
    )
    argv = ["compare", out, tmp_path / "whole", "--out", tmp_path / "report"]
    code, stdout, err = run_main(argv, capsys)
    assert (code, err) == (1, "error: cannot write: File too large\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.toml", "out", "whole"]


def test_a_disk_full_before_the_first_batch_is_exit_1_and_leaves_nothing(
    tmp_path, capsys, monkeypatch
):
    """Protects: a full disk while the run's partial folder is set up is not bad input (it
    was `--out: cannot create ...`, exit 2) and leaves no partial that --resume cannot use."""
    import errno

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("smasim.experiments.runs.store.write_json", full)
    code, stdout, err = run_main(["run", "--draws", "200", "--out", tmp_path / "out"], capsys)
    assert (code, stdout) == (1, "")
    assert err == (
        "error: cannot write: No space left on device; no batch had finished; nothing was kept\n"
    )
    assert list(tmp_path.iterdir()) == []


# library errors name the field they refuse (out:, n:, axes[1]:); the command line names the
# flag that sets it. (argv, the flag that must lead the error line)
FLAG_ERRORS = [
    pytest.param(["sensitivity", "--n", "3"], "--n", id="sensitivity-n"),
    # 2^40 rows once went to numpy and failed allocating 304 TiB, with a traceback
    pytest.param(["sensitivity", "--n", str(2**40)], "--n", id="sensitivity-n-too-large"),
    pytest.param(["sweep", "--param", "nope"], "--param", id="sweep-axes0"),
    pytest.param(
        ["sweep", "--param", "us_pressure", "--param2", "nope"], "--param2", id="sweep-axes1"
    ),
    pytest.param(
        ["sweep", "--param", "us_pressure", "--draws-per-point", "1"],
        "--draws-per-point",
        id="sweep-draws-per-point",
    ),
    pytest.param(
        ["sweep", "--param", "us_pressure", "--draws-per-point", str(10**11)],
        "--draws-per-point",
        id="sweep-draws-per-point-too-large",
    ),
    pytest.param(
        ["compare", DEFAULT_CONFIG, "sma12_high_pressure", "--threshold", "inf"],
        "--threshold",
        id="compare-thresholds",
    ),
    pytest.param(
        ["compare", DEFAULT_CONFIG, "sma12_high_pressure", "--seed", "-1"],
        "--seed",
        id="compare-seed",
    ),
    pytest.param(["calibrate", "--target-ess", "0"], "--target-ess", id="calibrate-target-ess"),
    pytest.param(["trace", "--draw", "200", "--draws", "200"], "--draw", id="trace-draw"),
    pytest.param(["run", "--resume", "--draws", "200"], "--resume", id="run-resume"),
]


@pytest.mark.parametrize(("argv", "flag"), FLAG_ERRORS)
def test_a_library_error_names_the_flag(tmp_path, capsys, argv, flag):
    """Protects: a library error that starts with a field (`n: ...`) reaches the user as the
    flag that sets it (`--n: ...`), in one line, with nothing written."""
    extra = ["--out", tmp_path / "out"] if argv[0] in ("sensitivity", "sweep", "run") else []
    code, out, err = run_main([*argv, *extra], capsys)
    assert_one_line_error(code, out, err)
    assert err.startswith(f"error: {flag}: "), err
    assert list(tmp_path.iterdir()) == []


def test_compare_into_a_non_empty_out_names_the_flag(tmp_path, capsys):
    """Protects: the library's `out: ... already exists` reaches the user as `--out:`."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("earlier", encoding="utf-8")
    argv = ["compare", DEFAULT_CONFIG, "sma12_high_pressure", "--draws", "200", "--out", out]
    code, stdout, err = run_main(argv, capsys)
    assert_one_line_error(code, stdout, err)
    assert err.startswith(f"error: --out: {out} already exists and is not empty"), err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_a_run_into_a_non_empty_out_names_the_flag(tmp_path, capsys):
    """Protects: `run` names --out when its folder is taken (the message the store gives)."""
    out = tmp_path / "out"
    assert run_main(["run", "--draws", "200", "--out", out], capsys)[0] == 0
    code, stdout, err = run_main(["run", "--draws", "200", "--out", out], capsys)
    assert_one_line_error(code, stdout, err)
    assert err.startswith(f"error: --out: {out} already exists"), err


def test_a_distribution_slow_to_sample_is_warned_of(tmp_path, capsys):
    """Protects: a family whose inverse CDF scipy solves numerically (gausshyper: ~1 ms a
    draw, 25x the whole model) is accepted, but `validate` and `run` say so in one line naming
    the parameter; a closed-form family (beta) and a calibrated config's posterior draws are
    not warned of (every bundled config validates with an empty stderr, tested above)."""
    slow = 'us_pressure = { dist = "gausshyper", a = 2, b = 2, c = 1, z = 1 }'
    config = tmp_path / "slow.toml"
    config.write_text(child(tables=f'[calibration]\nposterior = "none"\n[parameters]\n{slow}'))
    code, stdout, err = run_main(["validate", config], capsys)
    assert code == 0 and "valid" in stdout, err
    assert re.fullmatch(
        r"warning: parameters\.us_pressure: gausshyper's inverse CDF takes ~[\d,]+ us a draw "
        r"\(the whole model ~40 us\), ~\d+ s over 200 draws; a beta, truncnorm or gamma "
        r"takes ~1 us\n",
        err,
    ), err
    code, _, err = run_main(["run", config, "--out", tmp_path / "out"], capsys)
    assert code == 0 and err.startswith("warning: parameters.us_pressure: gausshyper"), err
    beta = 'us_pressure = { dist = "beta", a = 2, b = 3 }'
    config.write_text(child(tables=f'[calibration]\nposterior = "none"\n[parameters]\n{beta}'))
    assert run_main(["validate", config], capsys)[2] == ""


def test_small_batches_are_warned_of_before_the_run(tmp_path, capsys):
    """Protects: a config whose batches are a few draws (a part file and the solver's set-up
    each, ~300x slower at 1 draw) is named in one warning line before the user waits, and the
    run still completes; a short run of small batches (the fuzzers' 50 draws) is not warned of."""
    from smasim.commands.run import small_batch_warning

    assert small_batch_warning(16384, 10**8) is None
    assert small_batch_warning(1, 100) is None  # 100 batches: seconds
    assert "101 batches" in small_batch_warning(1, 101)
    assert small_batch_warning(4, 404).startswith("experiment.batch_size = 4: 404 draws")
    config = tmp_path / "c.toml"
    config.write_text(child("batch_size = 4"), encoding="utf-8")
    code, _, err = run_main(["run", config, "--draws", "404", "--out", tmp_path / "o"], capsys)
    assert code == 0 and err.startswith("warning: experiment.batch_size = 4: 404 draws in 101")
    assert len(err.splitlines()) == 1, err


def test_validate_warns_of_an_event_that_changes_nothing(tmp_path, capsys):
    """Protects: a dated event outside the talks is valid (exit 0) but named on stderr in one
    warning line, so that a mistyped date does not pass silently."""
    config = tmp_path / "c.toml"
    config.write_text(
        child(tables='[[calendar.events]]\nkind = "troop_change"\ndate = 2024-01-02\n'),
        encoding="utf-8",
    )
    code, stdout, err = run_main(["validate", config], capsys)
    assert code == 0 and "valid" in stdout
    assert err.startswith("warning: calendar.events.0.date: the troop_change event on 2024-01-02")
    assert len(err.splitlines()) == 1, err


def test_a_config_error_found_at_build_is_one_line_without_warnings(tmp_path, capsys):
    """Protects: warnings are printed only for a config that will run. Here the information
    date precedes the calibration's (found when the experiment is built, after loading) and
    an event changes nothing: stderr is the one error line, not a warning then the error."""
    config = tmp_path / "c.toml"
    config.write_text(
        child(
            "information_date = 2024-05-01",
            tables='[[calendar.events]]\nkind = "troop_change"\ndate = 2024-01-02\n',
        ),
        encoding="utf-8",
    )
    code, stdout, err = run_main(["run", config, "--draws", "100", "--out", tmp_path / "o"], capsys)
    assert_one_line_error(code, stdout, err)
    assert err.startswith("error: experiment.information_date: 2024-05-01"), err


def test_config_errors_and_positional_values_are_not_taken_for_flags(tmp_path, capsys, monkeypatch):
    """Protects: only a library field becomes a flag. A config's unknown table `[out]` and a
    result folder the user named `out` keep their names, though `run` and `plot` have --out."""
    config = tmp_path / "c.toml"
    config.write_text(child(tables="[out]\nx = 1\n"), encoding="utf-8")
    code, stdout, err = run_main(["run", config, "--out", tmp_path / "o"], capsys)
    assert_one_line_error(code, stdout, err)
    assert err.startswith("error: out: unknown table"), err
    monkeypatch.chdir(tmp_path)
    Path("out").mkdir()
    code, stdout, err = run_main(["plot", "out"], capsys)
    assert_one_line_error(code, stdout, err)
    assert err.startswith("error: out: not a complete result folder"), err


@pytest.mark.parametrize("command", ["compare", "backtest"])
def test_too_many_draws_is_refused_in_one_line(tmp_path, capsys, command):
    """Protects: compare and backtest bound --draws as run does (their columns live in memory),
    with one line and exit 2 before anything runs."""
    sources = [DEFAULT_CONFIG, "sma12_high_pressure"] if command == "compare" else []
    argv = [command, *sources, "--draws", MAX_DRAWS + 1, "--out", tmp_path / "out"]
    code, stdout, err = run_main(argv, capsys)
    assert_one_line_error(code, stdout, err)
    assert err.startswith(f"error: --draws: at most {MAX_DRAWS:,}"), err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", sorted(bundled_configs()))
def test_validate_accepts_every_bundled_config(capsys, name):
    """Protects: every shipped config passes `smasim validate` (exit 0)."""
    code, out, err = run_main(["validate", name], capsys)
    assert code == 0, err
    assert "valid" in out
    assert err == ""


# --- B. happy path ---------------------------------------------------------------------------
def test_run_prints_table_and_writes_complete_result_folder(tmp_path, capsys):
    """Protects: `run` exits 0, prints every report year and P(lapse), and writes all four
    result files with the draws and seed it was given."""
    out = tmp_path / "out"
    code, stdout, err = run_main(["run", "--draws", "2000", "--seed", "7", "--out", out], capsys)
    assert code == 0, err
    for year in YEARS:
        assert year in stdout
    assert "P(lapse)" in stdout
    assert {p.name for p in out.iterdir()} == RUN_FILES
    meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    assert (meta["draws"], meta["seed"]) == (2000, 7)
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert (config["experiment"]["draws"], config["experiment"]["seed"]) == (2000, 7)
    assert len(read_draws(out)["outcome"]) == 2000
    assert not list(tmp_path.glob(".out*partial"))


def test_run_json_is_valid_summary_and_reproducible(tmp_path, capsys):
    """Protects: `run --json` prints only JSON with ordered quantiles for 2026-2030 and
    probabilities in [0, 1], equal to the summary.json of the folder it wrote."""
    out = tmp_path / "out"
    code, stdout, err = run_main(
        ["run", "--draws", "2000", "--seed", "7", "--json", "--out", out], capsys
    )
    assert code == 0, err
    data = json.loads(stdout)
    assert sorted(data["years"]) == YEARS
    for year, v in data["years"].items():
        qs = [v["quantiles_bn_krw"][q] for q in QUANTILES]
        assert all(math.isfinite(q) for q in qs), year
        assert qs == sorted(qs), f"{year}: quantiles out of order {qs}"
    probs = {k: v["p"] for k, v in data.items() if k.startswith("p_")}
    assert {"p_agreement_before_expiry", "p_lapse", "p_no_agreement_by_hard_stop"} <= set(probs)
    for key, p in probs.items():
        assert 0.0 <= p <= 1.0, key
    assert data["result_folder"] == str(out)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary == {k: v for k, v in data.items() if k != "result_folder"}


def test_configs_lists_the_default_bundled_config(capsys):
    """Protects: `configs` lists the bundled configs (table and JSON)."""
    code, out, _ = run_main(["configs"], capsys)
    assert code == 0
    assert DEFAULT_CONFIG in out
    code, out, _ = run_main(["configs", "--json"], capsys)
    assert code == 0
    assert DEFAULT_CONFIG in json.loads(out)


def test_solve_prints_every_solution_concept(capsys):
    """Protects: `solve` reports all five bargaining concepts (table and JSON)."""
    code, out, err = run_main(["solve"], capsys)
    assert code == 0, err
    for concept in CONCEPTS:
        assert concept in out
    code, out, err = run_main(["solve", "--json"], capsys)
    assert code == 0, err
    solutions = json.loads(out)
    assert [s["concept"] for s in solutions] == list(CONCEPTS)
    for s in solutions:
        assert math.isfinite(s["base_bn_krw"]) and s["base_bn_krw"] > 0


def assert_trace_matches_row(outcome: dict, table: dict[str, np.ndarray], row: int) -> None:
    """The traced outcome equals row ``row`` of the run's table, column by column."""
    # "draw" is left out: trace_draw reports the batch-local index 0 (see the report).
    columns = [c for c in table if c != "draw"]
    assert set(outcome) >= set(columns)
    for col in ("outcome", "agreement_round", "base_bn_krw", "amount_2026_bn_krw", *columns):
        expected, got = table[col][row], outcome[col]
        if np.issubdtype(table[col].dtype, np.datetime64):
            assert got == (None if np.isnat(expected) else str(expected)), col
        elif np.issubdtype(table[col].dtype, np.floating):
            if np.isnan(expected):
                assert got is None, f"{col}: {got} instead of NaN"
            else:
                assert got == pytest.approx(float(expected), rel=1e-12, abs=1e-12), col
        else:
            assert got == expected.item(), col


def trace_json(capsys, *argv) -> dict:
    code, out, err = run_main(["trace", *argv, "--json"], capsys)
    assert code == 0, err
    return json.loads(out)


def test_trace_replays_one_draw_of_a_run_alone(tmp_path, capsys):
    """Protects: `trace --draw 3` regenerates draw 3 of `run --draws 2000 --seed 7` alone and
    gets the same outcome as row 3 of the per-draw table; also for a draw without agreement."""
    out = tmp_path / "out"
    assert run_main(["run", "--draws", "2000", "--seed", "7", "--out", out], capsys)[0] == 0
    table = read_draws(out)
    traced = trace_json(capsys, "--draw", "3", "--draws", "2000", "--seed", "7")
    assert traced["draw"] == 3
    assert traced["events"], "no events traced"
    assert_trace_matches_row(traced["outcome"], table, 3)

    no_deal = np.flatnonzero(np.isnan(table["base_bn_krw"]))
    if no_deal.size == 0:
        pytest.skip("no draw without agreement in this run")
    row = int(no_deal[0])
    traced = trace_json(capsys, "--draw", row, "--draws", "2000", "--seed", "7")
    assert_trace_matches_row(traced["outcome"], table, row)


def test_trace_replays_a_draw_in_a_later_batch(tmp_path, capsys):
    """Protects: replaying a draw finds its batch's seed and row (batches of 500 draws)."""
    config = tmp_path / "small_batches.toml"
    config.write_text(child("batch_size = 500"), encoding="utf-8")
    out = tmp_path / "out"
    argv = ["--draws", "1500", "--seed", "11"]
    assert run_main(["run", config, *argv, "--out", out], capsys)[0] == 0
    traced = trace_json(capsys, config, "--draw", "1234", *argv)
    assert_trace_matches_row(traced["outcome"], read_draws(out), 1234)


# --- C. end to end in a subprocess -----------------------------------------------------------
def run_module(*argv) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "smasim", *map(str, argv)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_subprocess_run_json_succeeds(tmp_path):
    """Protects: `python -m cli run --json` works as a program: exit 0 and JSON on stdout."""
    out = tmp_path / "out"
    proc = run_module("run", "--draws", "1500", "--json", "--out", out)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert sorted(data["years"]) == YEARS
    assert data["draws"] == 1500
    assert {p.name for p in out.iterdir()} == RUN_FILES


def test_subprocess_malformed_config_exits_2_in_one_line(tmp_path):
    """Protects: as a program, a malformed TOML gives exit 2, one stderr line, no traceback."""
    path = write_bad(tmp_path, bundled_text().replace("[calendar]", "[calendar", 1))
    proc = run_module("run", path, "--draws", "200", "--out", tmp_path / "out")
    assert_one_line_error(proc.returncode, proc.stdout, proc.stderr, "malformed TOML")
    assert_no_result_folder(tmp_path)


def test_version_prints_the_package_version(capsys):
    """Protects: `smasim --version` names the installed version and exits 0."""
    from smasim import __version__

    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"smasim {__version__}"


def test_run_prints_every_outcome_probability_and_labels_standard_errors(tmp_path, capsys):
    """Protects: the run summary shows P(no talks) beside the other outcomes (they sum to 1
    with the agreement and no-agreement shares) and says what the ± figures are."""
    code = cli.main(["run", "today_reopening", "--draws", "2000", "--out", str(tmp_path / "r")])
    out = capsys.readouterr().out
    assert code == 0
    assert re.search(r"P\(no talks\): +\d+\.\d% \(± \d+\.\d\)", out)
    assert "(± are Monte Carlo standard errors, in percentage points)" in out


def test_help_starts_without_the_model_or_scipy():
    """`smasim --help` used to take 1.6-2.5 s importing SciPy and the engine up front."""
    import subprocess
    import sys

    code = (
        "import sys; from smasim import cli\n"
        "heavy = [m for m in ('scipy', 'smasim.models.bargaining', 'smasim.simulation.negotiation',"
        " 'pyarrow', 'matplotlib', 'sklearn') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@functools.cache  # one reference report per kind, for both widths
def _report(kind: str) -> str:
    if kind == "backtest":
        from smasim.experiments.record.backtest import run_backtest
        from smasim.experiments.record.report import backtest_markdown

        return backtest_markdown(run_backtest(draws=300))
    from smasim.experiments.record.study import run_study, study_markdown

    return study_markdown(run_study(draws=600, target_ess=60))


@pytest.mark.parametrize("columns", ["80", "100"])
@pytest.mark.parametrize(
    ("kind", "argv"),
    [
        ("backtest", ["backtest", "--draws", "300"]),
        ("calibrate", ["calibrate", "--draws", "600", "--target-ess", "60"]),
    ],
)
def test_report_tables_never_cut_a_number(kind, argv, columns, capsys, monkeypatch):
    """At 80 and 100 columns the rendered backtest and calibration tables cut numbers
    ("1,36..."): every number of the report must be printed whole, at any width."""
    import re

    from smasim import cli

    monkeypatch.setenv("COLUMNS", columns)
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "…" not in out
    # the elapsed seconds ("...; 3.0 s)") differ between the two runs: not a value to compare
    report = re.sub(r"\d+(?:\.\d+)? s\b", "s", _report(kind))
    numbers = set(re.findall(r"[-+]?\d[\d,]*(?:\.\d+)?", report))
    flat = " ".join(out.split())  # the terminal may wrap long lines
    missing = sorted(n for n in numbers if n not in flat)
    assert not missing, missing[:10]


def test_trace_of_a_result_folder_replays_the_runs_own_draw(tmp_path, capsys):
    """`smasim trace RUN_FOLDER --draw I` takes the run's config, seed, draws and calibration
    from the folder (no retyping) and tells the story of the table's row I."""
    from smasim import cli
    from smasim.experiments.runs.store import read_draws

    out = tmp_path / "r"
    assert cli.main(["run", "--draws", "1500", "--seed", "9", "--out", str(out), "--json"]) == 0
    capsys.readouterr()
    table = read_draws(out)
    for draw in (0, 17, 1499):
        assert cli.main(["trace", str(out), "--draw", str(draw), "--json"]) == 0
        outcome = json.loads(capsys.readouterr().out)["outcome"]
        assert outcome["outcome"] == int(table["outcome"][draw])
        base = outcome["base_bn_krw"]  # JSON writes a draw without agreement's NaN as null
        expected = float(table["base_bn_krw"][draw])
        assert (base is None and expected != expected) or base == pytest.approx(expected)
    assert cli.main(["trace", str(out), "--draw", "1500"]) == 2
    assert "draw" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "total"),
    [
        (["backtest", "--draws", "200"], 7 * 200),
        (["compare", "sma12_may2024", "sma12_high_pressure", "--draws", "300"], 2 * 300),
        # 4 political parameters: N (4 + 2) Sobol runs, then the tornado's (1 + 2 x 4)
        # points x 4,096 draws, each phase adding its runs to the bar
        (
            [
                "sensitivity",
                "--n",
                "64",
                "--params",
                "us_pressure,p_high_pressure,assembly_threshold,audience_cost",
            ],
            64 * 6 + 9 * 4096,
        ),
        (["sweep", "--param", "us_pressure=0:1:5", "--draws-per-point", "32"], 5 * 32),
    ],
)
def test_long_commands_report_progress_in_draws(argv, total, monkeypatch, capsys):
    """backtest and compare used to show a spinner: now a bar over the draws they simulate,
    which reaches its total."""
    from smasim import cli
    from smasim.commands import options

    seen = []

    class Recorder:
        def __init__(self, *a, **k):
            self.done = 0

        def start(self, n):
            seen.append(("start", n))

        def advance(self, n):
            self.done += n
            seen.append(("advance", self.done))

        def stop(self):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.stop()

    import contextlib

    @contextlib.contextmanager
    def draws_bar(n, *, quiet):
        r = Recorder()
        r.start(n)
        yield r.advance

    monkeypatch.setattr(options, "LateProgress", Recorder)
    monkeypatch.setattr(options, "draw_progress", draws_bar)
    for module in ("compare", "record", "sensitivity"):
        mod = __import__(f"smasim.commands.{module}", fromlist=["x"])
        if hasattr(mod, "LateProgress"):
            monkeypatch.setattr(mod, "LateProgress", Recorder)
        if hasattr(mod, "draw_progress"):
            monkeypatch.setattr(mod, "draw_progress", draws_bar)
    assert cli.main(argv) == 0
    capsys.readouterr()
    assert sum(n for kind, n in seen if kind == "start") == total
    assert seen[0][0] == "start" and seen[-1] == ("advance", total)


def test_a_draw_trace_prints_as_its_story():
    """DrawTrace had no readable printout (a 14 kB repr); str() is the story trace prints."""
    from smasim.experiments.runs.runner import trace_draw

    t = trace_draw(draw=3, draws=500, seed=1)
    text = str(t)
    assert text.splitlines()[0].startswith("sma12_may2024, draw 3: status quo 1,402.8")
    assert "outcome: " in text and "path (bn KRW): 2026 " in text
    assert len(repr(t)) < 200 and "draw=3" in repr(t)


def test_escape_sequences_typed_on_the_command_line_never_reach_the_terminal(
    tmp_path, monkeypatch, capsys
):
    """A path or name typed with a terminal escape (OSC 52 clipboard write, OSC 0 title, CSI
    clear) is echoed back escaped, on success ("results in OUT") and in errors alike."""
    from smasim import cli

    monkeypatch.chdir(tmp_path)
    osc52, osc0, csi = "\x1b]52;c;SGVsbG8=\x07", "\x1b]0;pwn\x07", "\x1b[2J"
    assert cli.main(["run", "--draws", "200", "--out", "r1"]) == 0
    cases = [
        (["run", "--draws", "200", "--out", f"o{osc0}"], 0),
        (["plot", "r1", "--out", f"p{osc52}"], 0),
        (["init", "nm", "--out", f"f{csi}.toml"], 0),
        (["run", f"x{osc52}"], 2),
        (["compare", f"a{csi}", "r1"], 2),
        (["discover", "r1", "--outcome", f"outcome{csi}==2"], 2),
        (["sweep", "--param", f"a{csi}"], 2),
    ]
    capsys.readouterr()
    for argv, code in cases:
        assert cli.main(argv) == code, argv
        out = capsys.readouterr()
        assert "\x1b" not in out.out + out.err, argv
        assert "\\x1b" in out.out + out.err, argv  # shown, escaped
