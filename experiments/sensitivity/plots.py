"""Figures of a sensitivity analysis: Sobol' indices, tornado, sweep line or heatmap.

Drawn with :class:`matplotlib.figure.Figure` directly (no ``pyplot`` state), so plotting is
safe in worker processes and notebooks alike. matplotlib is the optional ``plot`` extra:
:func:`available` says whether it is installed, and the result folders skip the PNGs without it.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from smasim.models.parameters import PARAMETERS

if TYPE_CHECKING:
    from smasim.experiments.sensitivity.results import SensitivityResult, SweepResult

DPI = 110


def available() -> bool:
    """Whether matplotlib is installed."""
    return find_spec("matplotlib") is not None


def _label(name: str) -> str:
    return f"{name} ({PARAMETERS[name].unit})" if name in PARAMETERS else name


def plot_indices(result: SensitivityResult, path: str | Path) -> Path:
    """Horizontal bars of first-order and total indices with their intervals.

    Parameters
    ----------
    result : SensitivityResult
    path : path
        PNG to write.
    """
    from matplotlib.figure import Figure

    s = result.sobol
    ix = s.indices
    names = [
        f.name if len(f.members) == 1 else f"{f.name} [{'+'.join(f.members)}]" for f in s.factors
    ]
    order = np.argsort(ix.total_order)
    y = np.arange(len(names))
    fig = Figure(figsize=(8.5, 1.4 + 0.42 * len(names)), layout="constrained")
    ax = fig.add_subplot()
    for k, (vals, ci, lab, off, color) in enumerate(
        (
            (ix.first_order, ix.first_order_ci, "first order $S_1$", 0.2, "#1f77b4"),
            (ix.total_order, ix.total_order_ci, "total $S_T$", -0.2, "#d62728"),
        )
    ):
        v, c = vals[order], ci[order]
        err = np.vstack([np.maximum(v - c[:, 0], 0), np.maximum(c[:, 1] - v, 0)])
        ax.barh(y + off, v, height=0.38, color=color, alpha=0.85, label=lab, zorder=2 + k)
        ax.errorbar(v, y + off, xerr=err, fmt="none", ecolor="black", capsize=2, lw=0.8, zorder=5)
    ax.set_yticks(y, [names[i] for i in order], fontsize=8)
    ax.set_xlabel("Sobol' index (share of variance given the model's own randomness, 0-1)")
    ax.axvline(0, color="black", lw=0.6)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    m = result.metric
    ax.set_title(
        f"{result.experiment.name}: Sobol' indices of the {m.description} ({m.unit})\n"
        f"N = {ix.n:,} base rows ({result.evaluations:,} model runs), "
        f"{round(100 * s.confidence)}% bootstrap intervals, other parameters {result.others}",
        fontsize=9,
    )
    fig.savefig(path, dpi=DPI)
    return Path(path)


def plot_tornado(result: SensitivityResult, path: str | Path) -> Path:
    """Tornado plot of the one-at-a-time analysis: bars from the base to low and high results.

    Parameters
    ----------
    result : SensitivityResult
        With an OAT analysis.
    path : path
        PNG to write.
    """
    from matplotlib.figure import Figure

    oat = result.oat
    if oat is None:
        raise ValueError("no one-at-a-time analysis to plot")
    m = result.metric
    rows = list(oat.rows)[::-1]  # largest swing at the top
    y = np.arange(len(rows))
    fig = Figure(figsize=(8.5, 1.4 + 0.42 * len(rows)), layout="constrained")
    ax = fig.add_subplot()
    q_lo, q_hi = (round(100 * q) for q in oat.quantiles)
    low = np.array([r.low for r in rows])
    high = np.array([r.high for r in rows])
    ax.barh(
        y + 0.18,
        low - oat.base,
        left=oat.base,
        height=0.36,
        color="#1f77b4",
        label=f"parameter at its {q_lo}% quantile",
    )
    ax.barh(
        y - 0.18,
        high - oat.base,
        left=oat.base,
        height=0.36,
        color="#ff7f0e",
        label=f"parameter at its {q_hi}% quantile",
    )
    ax.axvline(oat.base, color="black", lw=0.8)
    ax.use_sticky_edges = False
    span = max(np.ptp(np.concatenate([low, high, [oat.base]])), 1e-9)
    ax.set_xlim(
        min(low.min(), high.min(), oat.base) - 0.12 * span,
        max(low.max(), high.max(), oat.base) + 0.12 * span,
    )
    for yy, v in [(y + 0.18, low), (y - 0.18, high)]:
        for yi, vi in zip(yy, v, strict=True):
            if vi == oat.base:
                continue
            right = vi > oat.base
            ax.annotate(
                f"{vi:,.4g}",
                (vi, yi),
                xytext=(3 if right else -3, 0),
                textcoords="offset points",
                va="center",
                fontsize=7,
                ha="left" if right else "right",
            )
    for yi, lo, hi in zip(y, low, high, strict=True):
        if lo == oat.base and hi == oat.base:
            ax.annotate(
                "no change",
                (oat.base, yi),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize=7,
                color="grey",
            )
    labels = [
        f"{r.name}\n{r.low_value:.3g} / {r.high_value:.3g} ({PARAMETERS[r.name].unit})"
        for r in rows
    ]
    ax.set_yticks(y, labels, fontsize=7)
    ax.set_xlabel(
        f"{m.mean_label} ({m.unit}); line: all parameters central, {oat.base:,.4g} {m.unit}",
        fontsize=9,
    )
    ax.grid(axis="x", alpha=0.3)
    fig.legend(loc="outside lower center", ncols=2, fontsize=7)
    ax.set_title(
        f"{result.experiment.name}: one at a time around the central values\n"
        f"each bar: one parameter moved, the others central; mean over the same "
        f"{oat.draws:,} noise rows",
        fontsize=9,
    )
    fig.savefig(path, dpi=DPI)
    return Path(path)


def plot_sweep(result: SweepResult, path: str | Path) -> Path:
    """A line with a 95% band for one swept parameter, a heatmap for two.

    Parameters
    ----------
    result : SweepResult
    path : path
        PNG to write.
    """
    from matplotlib.figure import Figure

    m = result.metric
    fig = Figure(figsize=(7.5, 5.0), layout="constrained")
    ax = fig.add_subplot()
    a0 = result.axes[0]
    if len(result.axes) == 1:
        x, mean, se = a0.values, result.mean, result.se
        ax.plot(x, mean, marker="o", ms=3, color="#1f77b4")
        ax.fill_between(
            x, mean - 1.96 * se, mean + 1.96 * se, alpha=0.25, color="#1f77b4", label="95% interval"
        )
        ax.set_xlabel(_label(a0.name))
        ax.set_ylabel(f"{m.mean_label} ({m.unit})")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    else:
        a1 = result.axes[1]
        mesh = ax.pcolormesh(
            _edges(a1.values), _edges(a0.values), result.mean, shading="flat", cmap="viridis"
        )
        cbar = fig.colorbar(mesh, ax=ax)
        cbar.set_label(f"{m.mean_label} ({m.unit})")
        ax.set_xlabel(_label(a1.name))
        ax.set_ylabel(_label(a0.name))
    ax.set_title(
        f"{result.experiment.name}: {m.name} over "
        f"{' x '.join(a.name for a in result.axes)}\n"
        f"{result.draws_per_point:,} common draws per point, others {result.others}",
        fontsize=10,
    )
    fig.savefig(path, dpi=DPI)
    return Path(path)


def _edges(v: np.ndarray) -> np.ndarray:
    """Cell edges around grid values, shape (n + 1,)."""
    mid = (v[1:] + v[:-1]) / 2
    return np.concatenate([[v[0] - (mid[0] - v[0])], mid, [v[-1] + (v[-1] - mid[-1])]])
