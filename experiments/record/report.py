"""Markdown of a backtest (the ``.md`` file and the CLI's tables)."""

from __future__ import annotations

import math

from smasim.experiments.record.forecast import ForecastScore
from smasim.experiments.record.results import BacktestResult


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
    lines += ["", *baseline_markdown(result)]
    return "\n".join(lines) + "\n"


_NAMES = {
    "model": None,  # the result's label
    "naive": "naive forecast",
    "empirical": "empirical, time-respecting",
    "empirical_loo": "empirical, leave-one-out",
}


def baseline_markdown(result: BacktestResult, *, explain: bool = True) -> list[str]:
    """The model beside every baseline: scores, exact coverage intervals, paired differences.

    ``explain=False`` leaves out the paragraph saying what the columns are (for a second
    table of the same kind right below a first).
    """
    s = result.summary()
    k = s["negotiations"]
    intro = [
        f"The model beside the baselines over {k} negotiations: mean CRPS of the first-year "
        "amount, actual amounts inside the 90 % interval (exact 95 % interval of the rate), "
        "mean log score of the actual term and rule (probabilities floored at "
        f"{s['log_score_floor']}; higher is better), and the model's CRPS minus the "
        "baseline's (mean and 95 % t interval over the negotiations; negative: the model is "
        "better); the mean PIT is 0.5 for unbiased forecasts (below: the outcomes fall low in "
        "them; p: exact two-sided p-value of no bias).",
        "",
    ]
    lines = [
        *(intro if explain else []),
        "| forecast | mean CRPS, % of SQ (bn KRW) | inside 90 % (exact 95 % CI) "
        "| log score term / rule | mean PIT (p) | model minus it, CRPS points (95 % CI) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for who, name in _NAMES.items():
        f = s[who]
        ci = f["inside_90_exact_95ci"]
        rule = f["mean_log_score_rule"]
        diff = s["model_minus_baseline_crps_pct"].get(who)
        diff_text = ""
        if diff is not None:
            diff_text = f"{diff['mean']:+.2f} ({diff['low']:+.2f} to {diff['high']:+.2f})"
        lines.append(
            f"| {name or result.label} | {f['mean_crps_pct_of_status_quo']:.2f} % "
            f"({f['mean_crps_bn_krw']:,.1f}) | {f['inside_90']} of {k} "
            f"({ci[0]:.2f}-{ci[1]:.2f}) | {f['mean_log_score_term']:.2f} / "
            f"{'n/a' if rule is None else f'{rule:.2f}'} | {_mean_pit(f['mean_pit'])} "
            f"| {diff_text} |"
        )
    return lines


def _mean_pit(t: dict[str, float]) -> str:
    if math.isnan(t["mean"]):
        return "n/a"
    p = t["p_value"]
    return f"{t['mean']:.2f} ({'<0.01' if p < 0.01 else 'n/a' if math.isnan(p) else f'{p:.2f}'})"


def _interval(s: ForecastScore) -> str:
    q = s.quantiles_bn_krw
    return f"{q['q05']:,.1f} - {q['q95']:,.1f}"


def _yn(b: bool) -> str:
    return "yes" if b else "no"


def _p(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:.2f}"
