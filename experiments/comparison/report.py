"""The Markdown report of a comparison (``report.md``), also printed by ``smasim compare``.

Sections: the scenarios and how each pair was compared (paired by common random numbers or as
independent samples); event probabilities with their intervals; quantiles side by side per
metric; differences against the reference (means and medians with bootstrap intervals,
Kolmogorov-Smirnov, Wasserstein, P(B > A)); threshold crossings; the figures; a note on method.
Every number carries its unit.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from smasim.experiments.comparison.metrics import Metric, days_as_date
from smasim.experiments.comparison.results import Comparison
from smasim.experiments.comparison.stats import QUANTILES, Interval

if TYPE_CHECKING:
    from smasim.experiments.comparison.plots import Figures

REPORT_FILE = "report.md"


def _fmt(metric: Metric, x: float) -> str:
    """A value of ``metric`` (no unit; the unit is in the row or column label)."""
    if not math.isfinite(x):
        return "n/a"
    if metric.kind == "date":
        return days_as_date(x) or "n/a"
    if metric.kind == "months":
        return f"{x:.1f}"
    return f"{x:,.1f}"


def _fmt_distance(metric: Metric, x: float) -> str:
    """A distance in the unit of differences (days for dates)."""
    if not math.isfinite(x):
        return "n/a"
    return f"{x:,.1f}" if metric.kind != "months" else f"{x:.2f}"


def _fmt_diff(metric: Metric, x: float) -> str:
    if not math.isfinite(x):
        return "n/a"
    if metric.kind == "date":
        return f"{x:+,.0f}"
    if metric.kind == "months":
        return f"{x:+.2f}"
    return f"{x:+,.1f}"


def _interval(metric: Metric, iv: Interval) -> str:
    return (
        f"{_fmt_diff(metric, iv.estimate)} [{_fmt_diff(metric, iv.low)}, "
        f"{_fmt_diff(metric, iv.high)}]"
    )


def _pct(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{100 * x:.1f} %"


def _pp(iv: Interval) -> str:
    def f(x: float) -> str:
        return "n/a" if not math.isfinite(x) else f"{100 * x:+.1f}"

    return f"{f(iv.estimate)} pp [{f(iv.low)}, {f(iv.high)}]"


def _pvalue(p: float) -> str:
    if not math.isfinite(p):
        return "n/a"
    if p < 1e-16:  # below double precision's resolution of 1 - p
        return "< 1e-16"
    return f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"


def _table(header: list[str], rows: list[list[str]], *, right_from: int = 1) -> list[str]:
    align = ["---" if i < right_from else "---:" for i in range(len(header))]
    out = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return [*out, ""]


def _label(metric: Metric) -> str:
    unit = "date" if metric.kind == "date" else metric.unit
    return f"{metric.label} ({unit})"


def comparison_markdown(
    comparison: Comparison, *, figures: Figures | None = None, title: str | None = None
) -> str:
    """The report as Markdown.

    Parameters
    ----------
    comparison : Comparison
    figures : Figures, optional
        Embedded by file name (the report sits beside them); omitted when None.
    title : str, optional
        Default: "Scenario comparison: A vs B ...".

    Returns
    -------
    str
    """
    c = comparison
    level = f"{100 * c.options.confidence_level:g} %"
    labels = [s.label for s in c.scenarios]
    ref = labels[0]
    lines = [f"# {title or 'Scenario comparison: ' + ' vs '.join(labels)}", ""]

    lines += ["## Scenarios", ""]
    lines += _table(
        ["scenario", "source", "draws", "seed", "design", "description"],
        [
            [
                f"`{s.label}`" + (" (reference)" if i == 0 else ""),
                f"`{s.source}`",
                f"{s.draws:,}",
                str(s.seed),
                s.design,
                s.description,
            ]
            for i, s in enumerate(c.scenarios)
        ],
        right_from=99,
    )
    for p in c.pairs:
        lines.append(f"- `{p.scenario}` vs `{p.reference}`: {p.pairing}.")
    lines += [
        "",
        f"Differences are *scenario minus reference* (`{ref}`); intervals are {level} "
        "confidence intervals.",
        "",
    ]

    lines += ["## Agreement and lapse", ""]
    header = ["probability", *(f"`{x}`" for x in labels)]
    header += [f"`{p.scenario}` - `{ref}`" for p in c.pairs]
    rows = []
    for j, (event, _) in enumerate(c.scenarios[0].probabilities):
        row = [f"P({event.label})"]
        for s in c.scenarios:
            pr = s.probabilities[j][1]
            row.append(f"{_pct(pr.p)} [{_pct(pr.low)}, {_pct(pr.high)}]")
        row += [_pp(p.probabilities[j][1]) for p in c.pairs]
        rows.append(row)
    lines += _table(header, rows)
    lines += [
        "Probabilities in % of draws with Wilson intervals; differences in percentage "
        "points (pp) with bootstrap intervals.",
        "",
    ]

    lines += ["## Distributions side by side", ""]
    qs = [f"{q} %" for q in QUANTILES]
    rows = []
    for k, m in enumerate(c.metrics):
        for s in c.scenarios:
            d = s.distributions[k]
            rows.append(
                [_label(m), f"`{s.label}`", *(_fmt(m, v) for v in d.quantiles), _fmt(m, d.mean)]
            )
    lines += _table(["metric (unit)", "scenario", *qs, "mean"], rows, right_from=2)
    lines += [
        "The agreement date is over the draws that reach an agreement; the lapse length over "
        "all draws (0 without a lapse).",
        "",
    ]

    for p in c.pairs:
        lines += [f"## `{p.scenario}` against `{p.reference}`", ""]
        rows = []
        for d in p.metrics:
            m = d.metric
            rows.append(
                [
                    f"{m.label} ({m.difference_unit})",
                    _interval(m, d.mean),
                    _interval(m, d.median),
                    f"{d.ks_statistic:.3f}" if math.isfinite(d.ks_statistic) else "n/a",
                    _pvalue(d.ks_pvalue),
                    _fmt_distance(m, d.wasserstein),
                    _pct(d.p_greater),
                    _pct(d.p_tie),
                ]
            )
        lines += _table(
            [
                "metric (unit of differences)",
                f"mean difference [{level} CI]",
                f"median difference [{level} CI]",
                "KS D (0-1)",
                "KS p-value",
                "Wasserstein",
                "P(B > A)",
                "P(B = A)",
            ],
            rows,
        )
        how = "draw by draw" if p.paired else "over independent pairs of draws"
        lines += [
            f"B is `{p.scenario}`, A is `{p.reference}`; P(B > A) and P(B = A) {how}. The "
            "Wasserstein distance is in the unit of differences.",
            "",
        ]

    if c.options.thresholds_bn_krw:
        lines += ["## Thresholds", ""]
        rows = []
        first = c.scenarios[0]
        for i, t in enumerate(first.thresholds):
            row = [f"P({t.year} amount > {t.threshold_bn_krw:,.1f} bn KRW)"]
            for s in c.scenarios:
                pr = s.thresholds[i].probability
                row.append(f"{_pct(pr.p)} [{_pct(pr.low)}, {_pct(pr.high)}]")
            rows.append(row)
        lines += _table(["event", *(f"`{x}`" for x in labels)], rows)

    if figures is not None:
        lines += [
            "## Figures",
            "",
            f"![Contribution paths: median, 25-75 % and 5-95 % bands after the 2005-2025 "
            f"record (bn KRW per year)]({figures.fan_chart.name})",
            "",
            f"![First-year amount: empirical CDFs (bn KRW)]({figures.first_year_ecdf.name})",
            "",
            f"![Agreement dates: monthly share and cumulative probability]"
            f"({figures.agreement_dates.name})",
            "",
        ]

    o = c.options
    y0, y1 = c.years[0], c.years[-1]
    lines += [
        "## Method",
        "",
        f"- Present value: the amounts {y0}-{y1} discounted at {100 * o.discount_rate:g} %/yr "
        f"to {y0} (bn KRW of {y0}).",
        f"- Bootstrap: scipy.stats.bootstrap, percentile method, {o.n_resamples:,} resamples, "
        f"paired when the runs share draws; at most {o.max_bootstrap_draws:,} draws per run "
        "enter it (a random subsample, the interval rescaled to the full run), seed "
        f"{o.bootstrap_seed}.",
        "- Kolmogorov-Smirnov: scipy.stats.ks_2samp; Wasserstein: "
        "scipy.stats.wasserstein_distance; both over the draws where the metric is defined.",
        "- Event and threshold probabilities: Wilson score intervals "
        "(scipy.stats.binomtest(...).proportion_ci).",
        "",
    ]
    return "\n".join(lines)


def write_report(comparison: Comparison, *, folder: str | Path, figures: Figures | None) -> Path:
    """Write ``report.md`` into ``folder`` and return its path."""
    path = Path(folder) / REPORT_FILE
    path.write_text(comparison_markdown(comparison, figures=figures), encoding="utf-8")
    return path
