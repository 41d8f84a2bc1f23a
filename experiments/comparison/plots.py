"""Figures of one run or of scenarios compared (matplotlib; PNG, SVG or PDF).

Three figures, each for one or more scenarios
(:class:`smasim.experiments.comparison.scenario.Scenario`):

* ``fan_chart.png``: the contribution path per scenario (one panel each): median, 25-75 % and
  5-95 % bands of the amount paid per report year, after the record of 2005-2025 (package
  data copied from ``data/sma_history.csv``); the reference scenario's median is repeated as
  a dashed line in the other panels.
* ``first_year_ecdf.png``: overlaid empirical CDFs of the amount paid in the first year the
  new SMA covers, with the status quo marked.
* ``agreement_dates.png``: when working-level agreements are reached: the share of all
  draws agreeing in each month, and the cumulative probability of an agreement by each date,
  with the old SMA's expiry, the U.S. election and the hard stop marked.

Figures are built with :class:`matplotlib.figure.Figure` on an explicit Agg canvas, never
through ``pyplot``: no GUI backend and no global figure state are touched, so the module is
safe in CI, in worker processes and in notebooks alike.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from smasim.experiments.comparison.metrics import dates_as_days
from smasim.experiments.comparison.scenario import Scenario, load_scenario
from smasim.experiments.comparison.stats import QUANTILES
from smasim.experiments.record.data import load_record
from smasim.experiments.runs.folders import StoreError, atomic_folder, require_empty

HISTORY_YEARS = (2005, 2025)
"""Years of the record drawn before the simulated paths."""

DPI = 150


@dataclass(frozen=True)
class Figures:
    """Paths of the PNG files written by :func:`plot_scenarios`."""

    fan_chart: Path
    first_year_ecdf: Path
    agreement_dates: Path

    def paths(self) -> tuple[Path, ...]:
        """All three paths."""
        return (self.fan_chart, self.first_year_ecdf, self.agreement_dates)


def require_matplotlib() -> None:
    """Raise a one-line ``ValueError`` if matplotlib (the ``plot`` extra) is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        msg = "figures need matplotlib; install it with: pip install 'smasim[plot]'"
        raise ValueError(msg) from None


def history(*, years: tuple[int, int] = HISTORY_YEARS) -> tuple[np.ndarray, np.ndarray]:
    """Korea's recorded SMA contribution.

    Parameters
    ----------
    years : (int, int)
        First and last calendar year, inclusive.

    Returns
    -------
    year : ndarray of int, shape (n,)
    amount : ndarray of float, shape (n,), bn KRW per year
        Years without a sourced amount are left out.
    """
    rows = [
        r
        for r in load_record().history
        if years[0] <= r.year <= years[1] and not math.isnan(r.amount_bn_krw)
    ]
    year = np.array([r.year for r in rows], dtype=int)
    amount = np.array([r.amount_bn_krw for r in rows])
    return year, amount


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _colors(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    return [cmap(i % 10) for i in range(n)]


def fan_chart_figure(scenarios: Sequence[Scenario]):
    """Fan chart of each scenario's contribution path after the 2005-2025 record.

    Parameters
    ----------
    scenarios : sequence of Scenario
        One panel each (up to three per row), sharing the amount axis; the first is the
        reference.

    Returns
    -------
    matplotlib.figure.Figure
        On an Agg canvas.
    """
    from matplotlib.ticker import StrMethodFormatter

    n = len(scenarios)
    ncols = min(n, 3)
    nrows = math.ceil(n / ncols)
    fig = _figure(max(5.4 * ncols, 8.0), 4.3 * nrows + 0.4)
    axes = fig.subplots(nrows, ncols, sharey=True, squeeze=False).ravel()
    hist_years, hist_amounts = history()
    colors = _colors(n)
    ref = scenarios[0]
    ref_years = np.asarray(ref.report_years)
    ref_median = _path_quantiles(ref)[:, QUANTILES.index(50)]
    for i, (ax, s) in enumerate(zip(axes, scenarios, strict=False)):
        years = np.asarray(s.report_years)
        q = _path_quantiles(s)
        c = colors[i]
        ax.plot(
            hist_years,
            hist_amounts,
            color="black",
            marker="o",
            ms=3,
            lw=1.4,
            label=f"paid {hist_years[0]}-{hist_years[-1]} (SMA record)",
        )
        ax.fill_between(years, q[:, 0], q[:, 4], color=c, alpha=0.18, lw=0, label="5-95 %")
        ax.fill_between(years, q[:, 1], q[:, 3], color=c, alpha=0.40, lw=0, label="25-75 %")
        ax.plot(years, q[:, 2], color=c, marker="o", ms=4, lw=2, label="median")
        if i > 0:
            ax.plot(
                ref_years, ref_median, color="0.35", ls="--", lw=1.2, label=f"median of {ref.label}"
            )
        for year, value, share in _atoms(s):
            # a band hides that many draws pay one amount exactly (the frozen status quo)
            ax.plot([year], [value], marker="D", ms=5, color="black", zorder=5)
            ax.annotate(f"{share:.0%} of draws: {value:,.1f}", (year, value), fontsize=7,
                        xytext=(4, -10), textcoords="offset points")  # fmt: skip
        ax.axvline(hist_years[-1] + 0.5, color="0.6", ls=":", lw=1)
        ax.set_title(f"{s.label} ({s.draws:,} draws)", fontsize=10)
        ax.set_xlabel("year")
        ax.grid(alpha=0.3)
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        ax.legend(loc="upper left", fontsize=8, frameon=False)
    for ax in axes[: ncols * nrows : ncols]:
        ax.set_ylabel("Korea's contribution, bn KRW per year")
    for ax in axes[n:]:
        ax.set_visible(False)
    first = min(s.report_years[0] for s in scenarios)
    last = max(s.report_years[-1] for s in scenarios)
    fig.suptitle(
        f"Korea's SMA contribution, bn KRW per year: record {hist_years[0]}-{hist_years[-1]}, "
        f"simulated {first}-{last}",
        fontsize=12,
    )
    return fig


ATOM_SHARE = 0.05  # a single amount paid by at least this share of draws is marked


def _atoms(s: Scenario) -> list[tuple[int, float, float]]:
    """Years in which one amount (to 0.1 bn KRW) is paid by at least ``ATOM_SHARE`` of draws.

    Returns
    -------
    list of (int, float, float)
        ``(year, amount in bn KRW, share)``; a year all draws pay alike is left out.
    """
    atoms = []
    for year in s.report_years:
        amounts = s.columns[f"amount_{year}_bn_krw"]
        amounts = np.round(amounts[np.isfinite(amounts)], 1)
        if amounts.size == 0:
            continue
        values, counts = np.unique(amounts, return_counts=True)
        share = counts.max() / amounts.size
        if ATOM_SHARE <= share < 1.0:  # a year everyone pays alike (a known amount) is no atom
            atoms.append((int(year), float(values[counts.argmax()]), float(share)))
    return atoms


def _path_quantiles(s: Scenario) -> np.ndarray:
    """Quantiles of the amount per report year: shape (years, len(QUANTILES)), bn KRW."""
    amounts = np.column_stack([s.columns[f"amount_{y}_bn_krw"] for y in s.report_years])
    return np.nanpercentile(amounts, QUANTILES, axis=0).T


def first_year_ecdf_figure(scenarios: Sequence[Scenario]):
    """Overlaid empirical CDFs of the amount paid in each scenario's first new-SMA year.

    Returns
    -------
    matplotlib.figure.Figure
        On an Agg canvas; x in bn KRW, y the share of draws at or below (percent).
    """
    from matplotlib.ticker import PercentFormatter, StrMethodFormatter

    fig = _figure(8.0, 4.8)
    ax = fig.subplots()
    colors = _colors(len(scenarios))
    years = sorted({s.first_year for s in scenarios})
    for c, s in zip(colors, scenarios, strict=True):
        x = np.sort(np.asarray(s.columns[f"amount_{s.first_year}_bn_krw"], dtype=float))
        x = x[~np.isnan(x)]
        y = np.arange(1, x.size + 1) / x.size
        ax.step(
            np.concatenate([[x[0]], x]),
            np.concatenate([[0.0], y]),
            where="post",
            color=c,
            lw=1.8,
            label=f"{s.label}: median {np.median(x):,.1f} bn KRW ({s.first_year})",
        )
    for sq in sorted({s.status_quo for s in scenarios}):
        ax.axvline(sq, color="0.4", ls=":", lw=1.2, label=f"status quo {sq:,.1f} bn KRW/yr")
    ax.set_xlabel(
        f"amount paid in the first year of the new SMA ({', '.join(map(str, years))}), bn KRW"
    )
    ax.set_ylabel("share of draws at or below (ECDF)")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("First-year contribution: empirical distribution over draws", fontsize=12)
    return fig


def agreement_dates_figure(scenarios: Sequence[Scenario]):
    """When agreements are reached: monthly share of draws and cumulative probability.

    Returns
    -------
    matplotlib.figure.Figure
        On an Agg canvas; two panels sharing the date axis, y in percent of all draws.
    """
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.ticker import PercentFormatter

    fig = _figure(9.0, 6.2)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[1, 1.2])
    colors = _colors(len(scenarios))
    lo, hi = None, None
    for c, s in zip(colors, scenarios, strict=True):
        days = dates_as_days(s.columns["agreement_date"])
        days = np.sort(days[~np.isnan(days)])
        share = days.size / s.draws
        label = f"{s.label}: P(agreement by hard stop) {100 * share:.1f} %"
        start = np.datetime64(_talks_open(s), "M")
        stop = (s.calendar_date("hard_stop") or start).astype("datetime64[M]") + 1
        edges_m = np.arange(start, stop + 1)
        edges = edges_m.astype("datetime64[D]")
        if days.size:
            months = days.astype("datetime64[D]").astype("datetime64[M]")
            counts = np.array([np.sum(months == m) for m in edges_m[:-1]]) / s.draws
        else:
            counts = np.zeros(edges.size - 1)
        top.stairs(counts, edges, color=c, lw=1.6, label=label)
        x = np.concatenate([[edges[0]], days.astype("datetime64[D]"), [edges[-1]]])
        cum = np.arange(days.size + 1) / s.draws
        bottom.step(x, np.concatenate([cum, [share]]), where="post", color=c, lw=1.8, label=label)
        lo = edges[0] if lo is None else min(lo, edges[0])
        hi = edges[-1] if hi is None else max(hi, edges[-1])
    marks = {}
    for s in scenarios:
        for key, text in (
            ("election", "U.S. election"),
            ("expiry", "old SMA expires"),
            ("hard_stop", "hard stop"),
        ):
            d = s.calendar_date(key)
            if d is not None and lo <= d <= hi:
                marks.setdefault((key, d), text)
    styles = {
        "election": ("tab:purple", "-."),
        "expiry": ("tab:red", "--"),
        "hard_stop": ("0.3", ":"),
    }
    for (key, d), text in sorted(marks.items(), key=lambda kv: kv[0][1]):
        color, ls = styles[key]
        for ax in (top, bottom):
            ax.axvline(d, color=color, ls=ls, lw=1.1)
        top.annotate(
            text,
            (d, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(-3, -4),
            textcoords="offset points",
            rotation=90,
            va="top",
            ha="right",
            fontsize=8,
            color=color,
            bbox={"facecolor": "white", "alpha": 0.75, "edgecolor": "none", "pad": 1.0},
        )
    top.set_ylabel("share of draws agreeing\nin the month")
    bottom.set_ylabel("P(agreement by date)")
    bottom.set_xlabel("date of the working-level agreement")
    for ax in (top, bottom):
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.grid(alpha=0.3)
    bottom.set_ylim(0, 1.02)
    bottom.set_xlim(lo, hi)
    locator = AutoDateLocator()
    bottom.xaxis.set_major_locator(locator)
    bottom.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    top.legend(loc="center right", fontsize=8)
    fig.suptitle("When is a deal reached? Agreement dates over all draws", fontsize=12)
    return fig


def _talks_open(s: Scenario) -> np.datetime64:
    return np.datetime64(str(s.config["calendar"]["round_dates"][0]), "D")


FORMATS = ("png", "svg", "pdf")


def save_png(fig, path: str | Path, *, dpi: int = DPI) -> Path:
    """Write ``fig`` in the format its suffix names (png, svg, pdf) and return its path."""
    path = Path(path)
    fig.savefig(path, dpi=dpi, format=path.suffix[1:])
    return path


def plot_scenarios(
    scenarios: Sequence[Scenario], *, folder: str | Path, dpi: int = DPI, fmt: str = "png"
) -> Figures:
    """Draw the three figures of one or more scenarios into ``folder`` (created if needed).

    ``fmt`` is the files' format: png (raster, ``dpi``), svg or pdf (vector, for reports).

    Returns
    -------
    Figures
    """
    require_matplotlib()
    if fmt not in FORMATS:
        raise ValueError(f"fmt: choose one of {', '.join(FORMATS)}, got {fmt!r}")
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"out: cannot create {folder}: {exc.strerror}") from None
    return Figures(
        fan_chart=save_png(fan_chart_figure(scenarios), folder / f"fan_chart.{fmt}", dpi=dpi),
        first_year_ecdf=save_png(
            first_year_ecdf_figure(scenarios), folder / f"first_year_ecdf.{fmt}", dpi=dpi
        ),
        agreement_dates=save_png(
            agreement_dates_figure(scenarios), folder / f"agreement_dates.{fmt}", dpi=dpi
        ),
    )


def plot_run(folder: str | Path, *, out: str | Path | None = None, fmt: str = "png") -> Figures:
    """Draw the three figures of one result folder.

    Parameters
    ----------
    folder : path
        A result folder of ``smasim run``.
    out : path, optional
        A new (or empty) folder for the figures, written atomically like every result
        folder. By default ``FOLDER/plots``, whose figures a new plot replaces.
    fmt : {"png", "svg", "pdf"}

    Returns
    -------
    Figures

    Raises
    ------
    StoreError
        If ``out`` exists and is not empty (the message names ``out``).
    """
    scenario = load_scenario(folder)
    if out is None:
        return plot_scenarios([scenario], folder=Path(folder) / "plots", fmt=fmt)
    require_empty(out)
    drawn: list[Figures] = []
    atomic_folder(out, lambda tmp: drawn.append(plot_scenarios([scenario], folder=tmp, fmt=fmt)))
    return Figures(*(Path(out) / Path(p).name for p in drawn[0].paths()))
