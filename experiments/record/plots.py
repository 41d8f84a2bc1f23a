"""The backtest figure: predicted intervals against actual outcomes over the SMAs (PNG).

Built with :class:`matplotlib.figure.Figure` on an explicit Agg canvas, never through
``pyplot``, like every figure of smasim: no GUI backend and no global figure state.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from smasim.experiments.record.results import BacktestResult

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd")


def plot_backtest(
    results: Sequence[BacktestResult], path: str | Path, *, title: str | None = None
) -> Path:
    """Predicted intervals against actual outcomes over the SMAs (PNG).

    Left: the first-year amount as a change over the status quo (%): per negotiation, the
    50 % (thick) and 90 % (thin) intervals and the median of each result's model forecast
    and of the naive forecast, and the actual outcome (a red line across them). Right: the
    predicted probability of the actual term and of the actual rule kind.

    Parameters
    ----------
    results : sequence of BacktestResult
        Over the same negotiations; the naive forecast is taken from the first.
    path : path
        PNG file to write.
    title : str, optional
    """
    # lazy: matplotlib is an optional extra, and the shared check still lives in the
    # comparison package (no circle: it imports only experiments.record.data from here)
    from smasim.experiments.comparison.plots import require_matplotlib

    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    first = results[0]
    cases = [r.case for r in first.rows]
    series = [(res.label, [r.model for r in res.rows]) for res in results]
    series.append(("naive forecast", [r.naive for r in first.rows]))
    colors = [*PALETTE[: len(series) - 1], "#7f7f7f"]  # naive in grey
    fig = Figure(figsize=(11.0, 5.0), layout="constrained")
    FigureCanvasAgg(fig)
    ax, bx = fig.subplots(1, 2, width_ratios=[1.6, 1.0])
    x = np.arange(len(cases))
    width = 0.7 / len(series)
    for j, ((_, scores), color) in enumerate(zip(series, colors, strict=True)):
        off = x - 0.35 + width * (j + 0.5)
        for i, (s, row) in enumerate(zip(scores, first.rows, strict=True)):
            sq = row.actual.status_quo_bn_krw
            q = {k: 100.0 * (v / sq - 1.0) for k, v in s.quantiles_bn_krw.items()}
            ax.vlines(off[i], q["q05"], q["q95"], color=color, lw=1.2)
            ax.vlines(off[i], q["q25"], q["q75"], color=color, lw=5.0)
            ax.plot(off[i], q["q50"], "o", color="white", mec=color, ms=4.5, zorder=3)
    actual = np.array([r.actual.change_pct for r in first.rows])
    ax.hlines(actual, x - 0.4, x + 0.4, color="#d62728", lw=1.8, zorder=4)
    ax.axhline(0.0, color="black", lw=0.6)
    ax.set_xticks(
        x, [f"{c.label}\n{r.actual.first_year}" for c, r in zip(cases, first.rows, strict=True)]
    )
    ax.set_ylabel("first-year amount over the status quo (%)")
    ax.set_title("First-year amount: 50 % (thick) and 90 % (thin) intervals, median (dot)")
    ax.grid(axis="y", alpha=0.3)

    bar = 0.8 / (2 * len(series))
    for j, ((_, scores), color) in enumerate(zip(series, colors, strict=True)):
        pd = [s.p_duration for s in scores]
        pr = [0.0 if math.isnan(s.p_rule) else s.p_rule for s in scores]
        bx.bar(x - 0.4 + bar * (j + 0.5), pd, bar, color=color)
        bx.bar(x + bar * (j + 0.5), pr, bar, color=color, alpha=0.45, hatch="//")
    for i, r in enumerate(first.rows):
        if r.actual.rule_kind is None:
            bx.text(x[i] + 0.2, 0.02, "no rule\n(1 yr)", ha="center", fontsize=6.5)
    # one short item a line ("6th", "2 yr", "defense"): "11th SMA / 6 yr, defense" overran
    # the neighbouring labels in this narrower panel; the left panel names the SMAs in full
    bx.set_xticks(x, [f"{c.label.removesuffix(' SMA')}\n{r.actual.duration_years} yr\n"
                      f"{r.actual.rule_kind or '-'}"
                      for c, r in zip(cases, first.rows, strict=True)], fontsize=8)  # fmt: skip
    bx.set_ylim(0, 1)
    bx.set_ylabel("predicted probability of what happened")
    bx.set_title("Actual term (solid) and rule kind (hatched)")
    bx.grid(axis="y", alpha=0.3)
    handles = [Patch(color=c, label=label) for (label, _), c in zip(series, colors, strict=True)]
    handles.append(Line2D([], [], color="#d62728", lw=1.8, label="actual outcome"))
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=8.5)
    fig.suptitle(title or f"Backtest of smasim on the SMA record ({first.draws:,} draws each)")
    path = Path(path)
    fig.savefig(path, dpi=100)
    return path
