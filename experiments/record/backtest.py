"""Backtest: the model against the SMA negotiations that really happened.

For each past negotiation (7th, 9th, 10th, 11th and 12th SMA) a bundled config
(``backtest_smaNN``) holds only what was known when the talks opened. Its Monte Carlo run is
a forecast of the outcome, scored against what happened (:mod:`experiments.record`):

* **first-year amount**: the first amount paid under the new agreement (bn KRW). A draw that
  ends without agreement by the hard stop counts at the status quo (what is paid meanwhile).
  As in the model's contribution path, years that pass in a lapse are paid at the status quo
  and the agreed amount starts in the year of agreement: the 11th SMA, agreed in March 2021
  after 2020 passed in a lapse, is scored on its 2021 amount (1,183.3 bn KRW). Scores: PIT,
  inside the central 50 % / 90 % intervals, CRPS (:mod:`experiments.scores`), in bn KRW and
  in % of the status quo (comparable across SMAs);
* **duration**: the predicted probability of the actual term, given an agreement;
* **escalation rule**: the predicted probability of the actual rule kind (frozen, fixed,
  CPI-linked, defense-budget-linked), given an agreement of two years or more (a one-year
  term has no escalation, so the 10th SMA's rule is not scored).

The **naive forecast** knows the same: the status quo grown by the historical year-on-year
changes of the record (every recorded change before the new SMA's first year, 1995 on), an
equally weighted ensemble whose mean is the status quo grown by the mean historical growth;
for the duration and the rule kind, the frequencies among the earlier SMAs (add-one smoothed
over the 6 terms and the 4 kinds).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from smasim.experiments.config.load import build_experiment, load_config
from smasim.experiments.record.data import Record, load_record
from smasim.experiments.record.scores import crps_sample, inside, pit
from smasim.simulation.montecarlo import (
    Experiment,
    batch_sizes,
    negotiate,
    outcome_columns,
    sample_batch,
)

QUANTILES = (5, 25, 50, 75, 95)
RULE_KINDS = ("frozen", "fixed", "cpi", "defense")
DURATIONS = (1, 2, 3, 4, 5, 6)
DEFAULT_DRAWS = 20_000
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd")

Adjust = Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]
"""Maps a batch's sampled parameter arrays to adjusted ones (used by the calibration)."""


@dataclass(frozen=True)
class Case:
    """One past negotiation and its backtest config."""

    sma_round: int
    config: str

    @property
    def label(self) -> str:
        """``"7th SMA"``."""
        return f"{_ordinal(self.sma_round)} SMA"


CASES: tuple[Case, ...] = tuple(Case(n, f"backtest_sma{n:02d}") for n in (7, 9, 10, 11, 12))
"""The negotiations with a backtest config: every SMA since the 7th whose talks are recorded
well enough (the 8th SMA's opening date and rounds are not recorded)."""


@dataclass(frozen=True)
class Actual:
    """What a negotiation produced, from the record.

    Attributes
    ----------
    sma_round : int
    concluded : datetime.date
        Working-level agreement.
    first_year : int
        First year paid at the agreed amount (the year of agreement if it came after the
        SMA's first year).
    amount_bn_krw : float
        That year's amount, bn KRW.
    status_quo_bn_krw : float
        Amount of the year before the SMA's first year, bn KRW.
    duration_years : int
    rule_kind : str or None
        Kind of the escalation rule; None for a one-year term.
    """

    sma_round: int
    concluded: dt.date
    first_year: int
    amount_bn_krw: float
    status_quo_bn_krw: float
    duration_years: int
    rule_kind: str | None

    @property
    def change_pct(self) -> float:
        """First-year amount over the status quo, %."""
        return 100.0 * (self.amount_bn_krw / self.status_quo_bn_krw - 1.0)


def actual_outcome(record: Record, sma_round: int) -> Actual:
    """The recorded outcome of the ``sma_round``-th SMA (see the module notes)."""
    neg = record.negotiation(sma_round)
    if neg.concluded is None:
        raise ValueError(f"the record has no conclusion date for SMA {sma_round}")
    first = max(neg.first_year, neg.concluded.year)
    segments = record.segments(sma_round)
    kind = segments[-1].rule.kind if segments and neg.duration_years > 1 else None
    return Actual(
        sma_round=sma_round,
        concluded=neg.concluded,
        first_year=first,
        amount_bn_krw=record.amount(first),
        status_quo_bn_krw=record.amount(neg.first_year - 1),
        duration_years=neg.duration_years,
        rule_kind=kind,
    )


@dataclass(frozen=True)
class Forecast:
    """A forecast of one negotiation's outcome.

    Attributes
    ----------
    first_year_bn_krw : ndarray, shape (n,)
        Sample of the first-year amount, bn KRW.
    duration_probs : dict of int to float
        P(term = n years | agreement).
    rule_probs : dict of str to float
        P(rule kind | agreement of 2 years or more); empty if no such agreement.
    p_agreement : float
        P(agreement by the hard stop); 1 for the naive forecast.
    """

    first_year_bn_krw: np.ndarray
    duration_probs: dict[int, float]
    rule_probs: dict[str, float]
    p_agreement: float


def model_forecast(experiment: Experiment, columns: Mapping[str, np.ndarray]) -> Forecast:
    """The forecast in a run's per-draw table (see :func:`simulate`)."""
    agreed = columns["outcome"] <= 1
    sq = experiment.setting.status_quo
    first = np.where(agreed, columns["base_bn_krw"], sq)
    dur = columns["duration_years"][agreed]
    kinds = np.array([r.kind for r in experiment.setting.packages.rules])
    multi = dur >= 2
    rule_kind = kinds[columns["rule_index"][agreed][multi]]
    return Forecast(
        first_year_bn_krw=first,
        duration_probs={d: float(np.mean(dur == d)) if dur.size else 0.0 for d in DURATIONS},
        rule_probs={k: float(np.mean(rule_kind == k)) for k in RULE_KINDS}
        if rule_kind.size
        else {},
        p_agreement=float(np.mean(agreed)),
    )


def naive_forecast(record: Record, sma_round: int) -> Forecast:
    """The naive forecast of the ``sma_round``-th SMA (see the module notes)."""
    neg = record.negotiation(sma_round)
    start = neg.first_year
    sq = record.amount(start - 1)
    growth = np.array(
        [
            r.change_pct / 100.0
            for r in record.history
            if r.year < start and not math.isnan(r.change_pct)
        ]
    )
    earlier = [n for n in record.negotiations if n.sma_round < sma_round]
    dur = np.array([n.duration_years for n in earlier])
    kinds = []
    for n in earlier:
        seg = record.segments(n.sma_round)
        if seg and n.duration_years > 1:
            kinds.append(seg[-1].rule.kind)
    return Forecast(
        first_year_bn_krw=sq * (1.0 + growth),
        duration_probs={
            d: (np.sum(dur == d) + 1.0) / (dur.size + len(DURATIONS)) for d in DURATIONS
        },
        rule_probs={k: (kinds.count(k) + 1.0) / (len(kinds) + len(RULE_KINDS)) for k in RULE_KINDS},
        p_agreement=1.0,
    )


@dataclass(frozen=True)
class ForecastScore:
    """Where the actual outcome falls in a forecast.

    Attributes
    ----------
    quantiles_bn_krw : dict of str to float
        ``q05`` .. ``q95`` of the first-year amount, bn KRW.
    pit : float
        Mid-PIT of the actual first-year amount, in [0, 1].
    in_50, in_90 : bool
        Actual amount inside the central 50 % / 90 % interval.
    crps_bn_krw : float
        CRPS of the first-year amount, bn KRW.
    crps_pct : float
        The same in % of the status quo.
    p_duration : float
        Predicted probability of the actual term (given an agreement).
    p_rule : float
        Predicted probability of the actual rule kind (given an agreement of 2+ years);
        NaN where the actual term is one year or no draw agreed on 2+ years.
    p_agreement : float
    n : int
        Sample size.
    """

    quantiles_bn_krw: dict[str, float]
    pit: float
    in_50: bool
    in_90: bool
    crps_bn_krw: float
    crps_pct: float
    p_duration: float
    p_rule: float
    p_agreement: float
    n: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (NaN as None)."""
        return {k: _plain(v) for k, v in self.__dict__.items()}


def score_forecast(forecast: Forecast, actual: Actual) -> ForecastScore:
    """Score a forecast against the actual outcome."""
    x, y = forecast.first_year_bn_krw, actual.amount_bn_krw
    crps = crps_sample(x, y)
    p_rule = (
        forecast.rule_probs.get(actual.rule_kind, math.nan)
        if actual.rule_kind is not None
        else math.nan
    )
    q = np.percentile(x, QUANTILES)
    return ForecastScore(
        quantiles_bn_krw={f"q{p:02d}": float(v) for p, v in zip(QUANTILES, q, strict=True)},
        pit=pit(x, y),
        in_50=inside(x, y, level=0.5),
        in_90=inside(x, y, level=0.9),
        crps_bn_krw=crps,
        crps_pct=100.0 * crps / actual.status_quo_bn_krw,
        p_duration=float(forecast.duration_probs.get(actual.duration_years, 0.0)),
        p_rule=float(p_rule),
        p_agreement=forecast.p_agreement,
        n=int(x.size),
    )


@dataclass(frozen=True)
class BacktestRow:
    """One negotiation's backtest.

    Attributes
    ----------
    case : Case
    information_date : datetime.date
        The config's information date (the talks' opening).
    actual : Actual
    model, naive : ForecastScore
    seed : int
    """

    case: Case
    information_date: dt.date
    actual: Actual
    model: ForecastScore
    naive: ForecastScore
    seed: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        a = self.actual
        return {
            "sma": self.case.sma_round,
            "config": self.case.config,
            "information_date": self.information_date.isoformat(),
            "seed": self.seed,
            "actual": {
                "concluded": a.concluded.isoformat(),
                "first_year": a.first_year,
                "amount_bn_krw": a.amount_bn_krw,
                "change_pct": a.change_pct,
                "status_quo_bn_krw": a.status_quo_bn_krw,
                "duration_years": a.duration_years,
                "rule_kind": a.rule_kind,
            },
            "model": self.model.to_dict(),
            "naive": self.naive.to_dict(),
        }


@dataclass(frozen=True)
class BacktestResult:
    """The backtest of several negotiations.

    Attributes
    ----------
    rows : tuple of BacktestRow
    draws : int
        Draws per negotiation.
    elapsed_s : float
        Wall time, seconds.
    adjustment : dict of str to float
        Calibrated parameters applied to every config (empty: the configs as written).
    label : str
        What the model rows are ("model", "calibrated, leave-one-out", ...).
    """

    rows: tuple[BacktestRow, ...]
    draws: int
    elapsed_s: float
    adjustment: dict[str, float] = field(default_factory=dict)
    label: str = "model"

    def summary(self) -> dict[str, Any]:
        """Mean scores and interval coverage, model and naive."""
        out: dict[str, Any] = {"negotiations": len(self.rows)}
        for who in ("model", "naive"):
            s = [getattr(r, who) for r in self.rows]
            out[who] = {
                "mean_crps_pct_of_status_quo": float(np.mean([x.crps_pct for x in s])),
                "mean_crps_bn_krw": float(np.mean([x.crps_bn_krw for x in s])),
                "inside_50": int(sum(x.in_50 for x in s)),
                "inside_90": int(sum(x.in_90 for x in s)),
                "mean_p_duration": float(np.mean([x.p_duration for x in s])),
                "mean_p_rule": _plain(_nanmean([x.p_rule for x in s])),
            }
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready result."""
        return {
            "label": self.label,
            "draws_per_negotiation": self.draws,
            "elapsed_s": round(self.elapsed_s, 3),
            "adjustment": dict(self.adjustment),
            "units": {
                "amounts": "bn KRW per year",
                "crps_pct": "% of the status quo",
                "p": "probability",
            },
            "rows": [r.to_dict() for r in self.rows],
            "summary": self.summary(),
        }


def simulate(
    experiment: Experiment, *, draws: int, seed: int, adjust: Adjust | None = None
) -> dict[str, np.ndarray]:
    """Run an experiment's draws, optionally adjusting the sampled parameters first.

    With ``adjust=None`` the per-draw table equals :func:`simulation.montecarlo.run`'s (the
    same batches, seeds and functions). ``adjust`` maps each batch's parameter arrays to new
    ones before the negotiation: the draws of the unit cube stay the same whatever the
    adjustment (common random numbers).

    Returns
    -------
    dict of str to ndarray, each shape (draws,)
        The per-draw table (see the README's output format).
    """
    parts = []
    for b, size in enumerate(batch_sizes(draws, experiment.batch_size)):
        values, noise = sample_batch(experiment, seed, b, size)
        if adjust is not None:
            values = adjust(values)
        out = negotiate(experiment, values, noise)
        parts.append(outcome_columns(experiment, values, noise, out))
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def run_case(
    case: Case,
    *,
    draws: int = DEFAULT_DRAWS,
    seed: int | None = None,
    adjust: Adjust | None = None,
    record: Record | None = None,
) -> BacktestRow:
    """Run one negotiation's config and score it, with the naive forecast beside it.

    Parameters
    ----------
    case : Case
    draws : int
        Monte Carlo draws.
    seed : int, optional
        The config's seed when omitted.
    adjust : callable, optional
        Parameter adjustment (see :func:`simulate`).
    record : Record, optional
        The bundled record when omitted.
    """
    record = load_record() if record is None else record
    cfg = load_config(case.config)
    experiment = build_experiment(cfg)
    s = cfg.experiment.seed if seed is None else seed
    actual = actual_outcome(record, case.sma_round)
    columns = simulate(experiment, draws=draws, seed=s, adjust=adjust)
    return BacktestRow(
        case=case,
        information_date=cfg.experiment.information_date,
        actual=actual,
        model=score_forecast(model_forecast(experiment, columns), actual),
        naive=score_forecast(naive_forecast(record, case.sma_round), actual),
        seed=s,
    )


def run_backtest(
    *,
    cases: Sequence[Case] = CASES,
    draws: int = DEFAULT_DRAWS,
    seed: int | None = None,
    adjust: Adjust | None = None,
    out: str | Path | None = None,
) -> BacktestResult:
    """Backtest the model on past negotiations.

    Parameters
    ----------
    cases : sequence of Case
        The negotiations (default: all five).
    draws : int
        Draws per negotiation (20,000 by default: all five in ~10 s on one core).
    seed : int, optional
        One seed for every config; each config's own seed when omitted.
    adjust : callable, optional
        Parameter adjustment applied to every config (see :func:`simulate`).
    out : path, optional
        Folder to write ``backtest.json``, ``backtest.md`` and ``backtest.png`` into
        (atomically; must not exist or be empty).

    Returns
    -------
    BacktestResult
    """
    if draws < 1:
        raise ValueError(f"draws: must be a positive integer, got {draws}")
    start = time.perf_counter()
    record = load_record()
    rows = tuple(run_case(c, draws=draws, seed=seed, adjust=adjust, record=record) for c in cases)
    result = BacktestResult(rows, draws, time.perf_counter() - start)
    if out is not None:
        write_backtest(result, out)
    return result


# --- output --------------------------------------------------------------------------------
def backtest_markdown(result: BacktestResult) -> str:
    """The backtest as two Markdown tables (first-year amount; term and rule) and a summary."""
    lines = [
        f"First-year amount, {result.label} ({result.draws:,} draws per negotiation) and naive "
        "forecast: actual, 90 % interval and median (bn KRW), PIT, inside the 50 % / 90 % "
        "intervals, CRPS (bn KRW and % of the status quo).",
        "",
        "| SMA | talks opened | status quo (bn KRW) | actual (bn KRW) | model 5-95 % (bn KRW) "
        "| model median (bn KRW) | model PIT | model in 50/90 | model CRPS (bn KRW / %) "
        "| naive 5-95 % (bn KRW) | naive PIT | naive in 50/90 | naive CRPS (bn KRW / %) |",
        "|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---|---:|",
    ]
    for r in result.rows:
        a, m, n = r.actual, r.model, r.naive
        lines.append(
            f"| {r.case.label} | {r.information_date} | {a.status_quo_bn_krw:,.1f} "
            f"| {a.amount_bn_krw:,.1f} ({a.first_year}, {a.change_pct:+.1f}%) "
            f"| {_interval(m)} | {m.quantiles_bn_krw['q50']:,.1f} | {m.pit:.2f} "
            f"| {_yn(m.in_50)}/{_yn(m.in_90)} | {m.crps_bn_krw:,.1f} / {m.crps_pct:.1f}% "
            f"| {_interval(n)} | {n.pit:.2f} | {_yn(n.in_50)}/{_yn(n.in_90)} "
            f"| {n.crps_bn_krw:,.1f} / {n.crps_pct:.1f}% |"
        )
    lines += [
        "",
        "Term and escalation rule: predicted probability of what happened (model: given an "
        "agreement; rule: given an agreement of 2+ years).",
        "",
        "| SMA | actual term (years) | model P(term) | naive P(term) | actual rule "
        "| model P(rule) | naive P(rule) | model P(agreement by hard stop) |",
        "|---|---:|---:|---:|---|---:|---:|---:|",
    ]
    for r in result.rows:
        a, m, n = r.actual, r.model, r.naive
        lines.append(
            f"| {r.case.label} | {a.duration_years} | {_p(m.p_duration)} | {_p(n.p_duration)} "
            f"| {a.rule_kind or 'n/a (1 year)'} | {_p(m.p_rule)} | {_p(n.p_rule)} "
            f"| {_p(m.p_agreement)} |"
        )
    s = result.summary()
    k = s["negotiations"]
    lines += [
        "",
        f"Mean CRPS of the first-year amount: {result.label} "
        f"{s['model']['mean_crps_pct_of_status_quo']:.2f}% of the status quo "
        f"({s['model']['mean_crps_bn_krw']:,.1f} bn KRW), naive "
        f"{s['naive']['mean_crps_pct_of_status_quo']:.2f}% "
        f"({s['naive']['mean_crps_bn_krw']:,.1f} bn KRW). Inside the 90 % interval: "
        f"{result.label} {s['model']['inside_90']} of {k}, naive {s['naive']['inside_90']} of "
        f"{k}; inside the 50 % interval: {s['model']['inside_50']} and "
        f"{s['naive']['inside_50']} of {k}.",
    ]
    return "\n".join(lines) + "\n"


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
    bx.set_xticks(x, [f"{c.label}\n{r.actual.duration_years} yr, {r.actual.rule_kind or '-'}"
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


def write_backtest(result: BacktestResult, out: str | Path) -> Path:
    """Write ``backtest.json``, ``backtest.md`` and ``backtest.png`` into ``out`` atomically."""
    files = {
        "backtest.json": lambda p: p.write_text(json.dumps(result.to_dict(), indent=2) + "\n"),
        "backtest.md": lambda p: p.write_text(backtest_markdown(result)),
        "backtest.png": lambda p: plot_backtest([result], p),
    }
    return write_folder(out, files)


def write_folder(out: str | Path, files: Mapping[str, Callable[[Path], object]]) -> Path:
    """Write files into a new folder atomically (a hidden temporary folder, renamed at the end).

    Parameters
    ----------
    out : path
        Must not exist, or be an empty folder.
    files : mapping of str to callable
        File name -> function writing that file at the path it is given.

    Raises
    ------
    ValueError
        If ``out`` exists and is not an empty folder.
    """
    folder = Path(out)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ValueError(f"--out: {folder} already exists and is not empty")
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".partial", dir=folder.parent))
    try:
        for name, write in files.items():
            write(tmp / name)
        if folder.exists():
            folder.rmdir()
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def _interval(s: ForecastScore) -> str:
    q = s.quantiles_bn_krw
    return f"{q['q05']:,.1f} - {q['q95']:,.1f}"


def _yn(b: bool) -> str:
    return "yes" if b else "no"


def _p(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:.2f}"


def _nanmean(xs: Sequence[float]) -> float:
    v = [x for x in xs if not math.isnan(x)]
    return float(np.mean(v)) if v else math.nan


def _plain(v: Any) -> Any:
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, np.floating | np.integer | np.bool_):
        return v.item()
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    return v


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
