"""Tests of the figures (``smasim.experiments.comparison.plots``, ``smasim plot``) and of the
compare report.

Figures must be drawn on an Agg canvas (no pyplot, no GUI backend), be valid PNG files of
plausible size, and show what they say: the record, the quantiles of the saved draws, the
ECDF and the cumulative agreement probability.
"""

from __future__ import annotations

import csv
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from smasim import cli
from smasim.experiments.comparison.plots import (
    HISTORY_YEARS,
    agreement_dates_figure,
    fan_chart_figure,
    first_year_ecdf_figure,
    history,
)
from smasim.experiments.comparison.scenario import load_scenario
from smasim.experiments.runs.runner import run_experiment
from smasim.experiments.runs.store import read_draws

pytest.importorskip("matplotlib")

REPO_ROOT = Path(__file__).resolve().parents[1]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FIGURES = ("fan_chart.png", "first_year_ecdf.png", "agreement_dates.png")


def assert_valid_png(path: Path, *, min_bytes: int = 10_000, max_bytes: int = 1_000_000) -> None:
    """A PNG signature, an IHDR header of a plausible size, an IEND chunk at the end."""
    data = Path(path).read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert 400 <= width <= 4000 and 300 <= height <= 4000, (width, height)
    assert data[-8:-4] == b"IEND"
    assert min_bytes < len(data) < max_bytes, f"{path}: {len(data)} bytes"


def run_main(argv, capsys) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("runs")
    out = {}
    for name, extends in (("base", "sma12_may2024"), ("high", "sma12_high_pressure")):
        config = d / f"{name}.toml"
        config.write_text(
            f'[experiment]\nextends = "{extends}"\nname = "{name}"\ndraws = 2000\n'
            "batch_size = 1000\n",
            encoding="utf-8",
        )
        out[name] = d / name
        run_experiment(config, out=out[name])
    return out


# --- files ---------------------------------------------------------------------------------------
def test_plot_command_writes_three_valid_pngs(tmp_path, capsys, folders):
    """Protects: `smasim plot RUN --out DIR` writes the fan chart, the first-year ECDF and the
    agreement dates as valid PNG files of plausible size, and lists them."""
    out = tmp_path / "figs"
    code, stdout, err = run_main(["plot", folders["base"], "--out", out, "--json"], capsys)
    assert code == 0, err
    files = json.loads(stdout)["files"]
    assert [Path(f).name for f in files] == list(FIGURES)
    for f in files:
        assert_valid_png(Path(f))


@pytest.mark.parametrize(("fmt", "magic"), [("svg", b"<?xml"), ("pdf", b"%PDF")])
def test_plot_writes_vector_figures_for_reports(tmp_path, capsys, folders, fmt, magic):
    """`--format svg|pdf` writes the same three figures as vector files."""
    out = tmp_path / "figs"
    code, stdout, err = run_main(
        ["plot", folders["base"], "--out", out, "--format", fmt, "--json"], capsys
    )
    assert code == 0, err
    files = [Path(f) for f in json.loads(stdout)["files"]]
    assert [f.stem for f in files] == [Path(n).stem for n in FIGURES]
    assert all(f.suffix == f".{fmt}" and f.read_bytes().startswith(magic) for f in files)


def test_plot_refuses_an_unknown_format_naming_the_flag(tmp_path, capsys, folders):
    code, _, err = run_main(["plot", folders["base"], "--out", tmp_path / "f", "--format",
                             "gif"], capsys)  # fmt: skip
    assert code == 2 and err.startswith("error: --format: choose one of png, svg, pdf")
    assert not (tmp_path / "f").exists()


def test_plot_defaults_to_the_run_folder_and_keeps_it_intact(capsys, folders):
    """Protects: without --out the figures go to RUN/plots and the run's draws still pass
    their checksum."""
    code, stdout, err = run_main(["plot", folders["base"]], capsys)
    assert code == 0, err
    for name in FIGURES:
        assert_valid_png(folders["base"] / "plots" / name)
        assert name in stdout
    assert read_draws(folders["base"])["outcome"].size == 2000


def test_plot_refuses_a_non_empty_out_and_leaves_it_intact(tmp_path, capsys, folders):
    """Protects: `smasim plot RUN --out DIR` used to overwrite the files of a non-empty DIR."""
    out = tmp_path / "mine"
    out.mkdir()
    (out / "fan_chart.png").write_text("my own file")
    code, stdout, err = run_main(["plot", folders["base"], "--out", out], capsys)
    assert code == 2 and stdout == "" and "--out" in err and len(err.strip().splitlines()) == 1
    assert (out / "fan_chart.png").read_text() == "my own file"


def test_plot_of_a_missing_run_is_one_line(tmp_path, capsys):
    """Protects: `plot` of a folder that is not a result folder exits 2 with one line."""
    code, out, err = run_main(["plot", tmp_path / "nothing"], capsys)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and "summary.json" in err


def test_compare_out_writes_report_with_the_figures(tmp_path, capsys, folders):
    """Protects: `compare --out` writes report.md with the tables and the three figures
    embedded, the figures as valid PNGs, and comparison.json."""
    out = tmp_path / "cmp"
    code, _, err = run_main(
        ["compare", folders["base"], folders["high"], "--threshold", "1500", "--out", out],
        capsys,
    )
    assert code == 0, err
    assert {p.name for p in out.iterdir()} == {"report.md", "comparison.json", *FIGURES}
    report = (out / "report.md").read_text(encoding="utf-8")
    for name in FIGURES:
        assert f"]({name})" in report
        assert_valid_png(out / name)
    for text in (
        "## Agreement and lapse",
        "## Distributions side by side",
        "## `high` against `base`",
        "## Thresholds",
        "bn KRW",
        "pp",
    ):
        assert text in report, text
    assert json.loads((out / "comparison.json").read_text())["reference"] == "base"


def test_figures_never_touch_pyplot(tmp_path, folders):
    """Protects: plotting runs on an explicit Agg canvas: pyplot is never imported, so no
    GUI backend is selected, even when MPLBACKEND names one."""
    code = (
        "import sys\n"
        "from smasim.experiments.comparison.plots import plot_run\n"
        f"plot_run({str(folders['base'])!r}, out={str(tmp_path / 'p')!r})\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "MPLBACKEND": "TkAgg"},
        cwd=REPO_ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    for name in FIGURES:
        assert_valid_png(tmp_path / "p" / name)


# --- contents ------------------------------------------------------------------------------------
def test_fan_chart_shows_the_record_and_the_saved_quantiles(folders):
    """Protects: each panel draws the 2005-2025 record from the package data, the median of
    the saved draws per year and the 5-95 % band's extremes; on an Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    scenarios = [load_scenario(folders["base"]), load_scenario(folders["high"])]
    fig = fan_chart_figure(scenarios)
    assert isinstance(fig.canvas, FigureCanvasAgg)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 2
    years, amounts = history()
    assert (years[0], years[-1]) == HISTORY_YEARS
    for ax, s in zip(axes, scenarios, strict=True):
        assert "bn KRW" in ax.get_ylabel() or ax is not axes[0]
        assert ax.get_title().startswith(s.label)
        lines = {ln.get_label(): ln for ln in ax.get_lines()}
        rec = next(ln for k, ln in lines.items() if k.startswith("paid"))
        np.testing.assert_array_equal(rec.get_xdata(), years)
        np.testing.assert_array_equal(rec.get_ydata(), amounts)
        table = read_draws(folders[s.label])
        cols = np.column_stack([table[f"amount_{y}_bn_krw"] for y in s.report_years])
        np.testing.assert_allclose(lines["median"].get_ydata(), np.median(cols, axis=0))
        band = next(c for c in ax.collections if c.get_label() == "5-95 %")
        ys = band.get_paths()[0].vertices[:, 1]
        assert ys.min() == pytest.approx(np.percentile(cols, 5, axis=0).min())
        assert ys.max() == pytest.approx(np.percentile(cols, 95, axis=0).max())
    assert "median of base" in {ln.get_label() for ln in axes[1].get_lines()}


def test_ecdf_and_agreement_dates_show_the_saved_draws(folders):
    """Protects: the ECDF runs over the sorted first-year amounts up to 1, and the cumulative
    agreement curve ends at the share of draws with an agreement."""
    s = load_scenario(folders["base"])
    table = read_draws(folders["base"])
    ecdf = first_year_ecdf_figure([s]).axes[0]
    assert "bn KRW" in ecdf.get_xlabel()
    line = ecdf.get_lines()[0]
    np.testing.assert_array_equal(
        line.get_xdata()[1:], np.sort(table[f"amount_{s.first_year}_bn_krw"])
    )
    assert line.get_ydata()[-1] == 1.0
    fig = agreement_dates_figure([s])
    top, bottom = fig.axes
    cum = bottom.get_lines()[0].get_ydata()
    share = np.mean(~np.isnat(table["agreement_date"]))
    assert cum[-1] == pytest.approx(share)
    assert np.all(np.diff(cum) >= 0)
    assert "P(agreement" in bottom.get_ylabel()
    marks = [t.get_text() for t in top.texts]
    assert {"U.S. election", "old SMA expires", "hard stop"} <= set(marks)


def test_history_package_data_matches_the_record():
    """Protects: the record shipped as package data (for installs without data/) equals the
    year and amount columns of data/sma_history.csv."""
    source = REPO_ROOT / "data" / "sma_history.csv"
    if not source.is_file():
        pytest.skip("data/sma_history.csv is not in this checkout")
    with open(source, encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["amount_krw_billion"]]
    years, amounts = history(years=(1900, 2100))
    assert years.tolist() == [int(r["year"]) for r in rows]
    assert amounts.tolist() == [float(r["amount_krw_billion"]) for r in rows]


def test_the_comparing_page_figure_is_a_small_valid_png():
    """Protects: docs/comparing.md's example figure exists, is a valid PNG, under 300 kB."""
    assert_valid_png(REPO_ROOT / "docs" / "compare_example_fan.png", max_bytes=300_000)


def test_the_fan_chart_marks_an_amount_many_draws_pay_exactly():
    """A band hides an atom (e.g. the frozen status quo paid through a lapse): a year where
    one amount is paid by 5 % or more of the draws is marked with its share; a year every
    draw pays alike (a known amount) and a spread-out year are not."""
    from types import SimpleNamespace

    from smasim.experiments.comparison.plots import _atoms

    rng = np.random.default_rng(0)
    spread = rng.uniform(1450, 1600, 1000)
    frozen = spread.copy()
    frozen[:120] = 1402.8  # 12 % at the status quo
    s = SimpleNamespace(
        report_years=(2025, 2026, 2027),
        columns={
            "amount_2025_bn_krw": np.full(1000, 1402.8),
            "amount_2026_bn_krw": frozen,
            "amount_2027_bn_krw": spread,
        },
    )
    assert _atoms(s) == [(2026, 1402.8, 0.12)]
