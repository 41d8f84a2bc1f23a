"""What a run records: the per-draw table of outcomes, and the summary of a run's table.

:func:`outcome_columns` turns a batch's raw outcome into the per-draw columns (outcome code,
dates, the contribution path by year, sampled parameters and noise); :func:`summarize` reduces
a run's columns to the JSON summary that ``smasim run`` prints.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from smasim.models.agents import DAYS_PER_MONTH
from smasim.models.outlook import renegotiated_increase
from smasim.models.packages import contribution_path
from smasim.simulation.records import DONE, NO_TALKS, OUTCOMES, BatchOutcome, Experiment
from smasim.simulation.sampling import EVENT_NOISE, Noise

SUMMARY_COLUMNS = (
    "draw",  # the global draw index: lets --resume check that a part holds its own batch
    "outcome",
    "agreement_date",
    "in_force_date",
    "lapse_months",
    "duration_years",
    "rule_index",
    "vetoes",
    "ratification_rejections",
    "solver_converged",
    "param_krw_per_usd",
)


def summary_columns(experiment: Experiment) -> tuple[str, ...]:
    """The per-draw columns :func:`summarize` needs (kept in memory by streamed runs)."""
    years = tuple(f"amount_{y}_bn_krw" for y in experiment.report_years)
    return (*SUMMARY_COLUMNS, *years)


def outcome_columns(
    experiment: Experiment, values: dict[str, np.ndarray], noise: Noise, out: BatchOutcome
) -> dict[str, np.ndarray]:
    """The per-draw table of a batch: outcomes, contribution path, parameters and noise."""
    e, cal = experiment, experiment.calendar
    pk = e.setting.packages
    n = out.status.size
    agreed = out.status == DONE
    in_force_before = agreed & (out.in_force_day <= cal.expiry_day)
    outcome = np.select(
        [in_force_before, agreed, out.status == NO_TALKS], [0, 1, 3], default=2
    ).astype(np.int8)

    k = np.where(agreed, out.package, 0)
    growth_all = pk.growth(values["cpi_rate"], values["defense_growth_rate"])
    growth = np.where(agreed, growth_all[np.arange(n), k], np.nan)
    duration = np.where(agreed, pk.duration[k], 0)
    rule_index = np.where(agreed, pk.rule_index[k], -1)

    years = np.asarray(e.report_years)
    g_sq = e.status_quo_rule.annual_rate(values["cpi_rate"], values["defense_growth_rate"])
    steps = np.maximum(years[None, :] - e.start_year + 1, 0)
    fallback = e.setting.status_quo * (1.0 + g_sq[:, None]) ** steps
    known = np.array([e.known_amounts.get(int(y), np.nan) for y in years])
    fallback = np.where(years[None, :] < e.start_year, known[None, :], fallback)

    agree_year = e.date(out.agree_day).astype("datetime64[Y]").astype(np.int64) + 1970
    first_year = np.maximum(np.where(agreed, agree_year, e.start_year), e.start_year)
    # after its term an agreement is renegotiated at the increase expected then (the
    # continuation assumption, the same the sides value packages by)
    term_end = e.start_year + np.maximum(duration, 1) - 1
    path, _ = contribution_path(
        np.where(agreed, out.base, e.setting.status_quo),
        np.nan_to_num(growth),
        np.maximum(duration, 1),
        start_year=e.start_year,
        first_year=first_year,
        status_quo=0.0,
        years=years,
        next_jump=renegotiated_increase(values, out.pressure_final, term_end, agree_year),
        later_growth=values["cpi_rate"],
    )
    lapsed_years = years[None, :] < first_year[:, None]
    path = np.where(
        agreed[:, None] & ~lapsed_years & (years[None, :] >= e.start_year), path, fallback
    )
    if e.setting.in_force_years > 0:
        # while the agreement in force runs, no year falls below its formula: the U.S. floor
        # holds a deal struck before start_year to it, and the U.S. takes no less in a later
        # year (a deal struck late, a short term renegotiated) than the formula still owed
        covered = years[None, :] < e.start_year + e.setting.in_force_years
        path = np.where(covered, np.maximum(path, fallback), path)
    # a lapse ends: the year after the hard stop, renewed talks settle at the increase
    # expected then over what was paid in lapse (2021: +13.9 % after 15 months)
    stop_year = int(e.date([e.hard_stop_day])[0].astype("datetime64[Y]").astype(np.int64)) + 1970
    if e.hard_stop_day > cal.expiry_day:
        failed = outcome == 2
        settle = renegotiated_increase(
            values, out.pressure_final, np.full(n, stop_year), np.full(n, stop_year)
        )
        last = e.setting.status_quo * (1.0 + g_sq) ** max(stop_year - e.start_year + 1, 0)
        after = np.maximum(years[None, :] - stop_year - 1, 0)
        renewed = (
            last[:, None] * (1.0 + settle[:, None]) * (1.0 + values["cpi_rate"][:, None]) ** after
        )
        path = np.where(failed[:, None] & (years[None, :] > stop_year), renewed, path)

    end_day = np.where(
        agreed, out.in_force_day, np.where(outcome == 3, cal.expiry_day, e.hard_stop_day)
    )
    lapse_months = np.maximum(end_day - cal.expiry_day, 0.0) / DAYS_PER_MONTH

    cols: dict[str, np.ndarray] = {
        "draw": np.arange(n, dtype=np.int64),  # the row in its batch; run() sets the global one
        "outcome": outcome,
        "agreement_date": e.date(out.agree_day),
        # the round the talks opened at (a reopening demand's); NaT: no talks
        "talks_open_date": e.date(out.open_day),
        "in_force_date": e.date(out.in_force_day),
        "agreement_round": out.agree_round.astype(np.int16),
        "lapse_months": lapse_months,
        "base_bn_krw": np.where(agreed, out.base, np.nan),
        "package": np.where(agreed, out.package, -1).astype(np.int16),
        "rule_index": rule_index.astype(np.int8),
        "duration_years": duration.astype(np.int8),
        "growth_rate": growth,
        "in_kind_bn_krw": np.where(agreed, pk.in_kind[k], 0.0),
        "u_us": np.where(agreed, out.u_us, np.nan),
        "u_kr": np.where(agreed, out.u_kr, np.nan),
        "vetoes": out.vetoes.astype(np.int16),
        "ratification_rejections": out.rejections.astype(np.int8),
        "high_pressure_after_election": out.high_pressure,
        "us_pressure_final": out.pressure_final,
        "solver_converged": out.converged,
    }
    for j, y in enumerate(years):
        cols[f"amount_{y}_bn_krw"] = path[:, j]
    # the last year of the agreed term; later years continue frozen (the stated assumption)
    cols["term_end_year"] = np.where(agreed, e.start_year + duration - 1, -1).astype(np.int16)
    cols["total_bn_krw"] = path.sum(axis=1)
    for name, arr in values.items():
        cols[f"param_{name}"] = arr
    cols["noise_talks"] = noise.talks
    cols["noise_election"] = noise.election
    for a in range(noise.ratification.shape[1]):
        cols[f"noise_ratification_{a}"] = noise.ratification[:, a]
    for name in EVENT_NOISE:
        cols[f"noise_{name}"] = noise.event(name)
    return cols


def summarize(experiment: Experiment, columns: dict[str, np.ndarray]) -> dict[str, Any]:
    """JSON-ready summary of a run's per-draw table.

    Probabilities carry their Monte Carlo standard error ``sqrt(p (1 - p) / n)``.
    """
    n = columns["outcome"].size
    outcome = columns["outcome"]
    qs = (5, 25, 50, 75, 95)

    def prob(mask):
        p = float(np.mean(mask))
        return {"p": p, "se": float(np.sqrt(p * (1 - p) / n))}

    years = {}
    for y in experiment.report_years:
        a = columns[f"amount_{y}_bn_krw"]
        usd = a * 1000.0 / columns["param_krw_per_usd"]
        years[str(y)] = {
            "quantiles_bn_krw": {
                f"q{q:02d}": float(v) for q, v in zip(qs, np.nanpercentile(a, qs), strict=True)
            },
            "quantiles_mc_95_halfwidth_bn_krw": _quantile_mc_halfwidths(a, qs),
            "mean_bn_krw": float(np.nanmean(a)),
            "median_usd_m": float(np.nanmedian(usd)),
        }
    agreed = outcome <= 1
    dates = columns["agreement_date"][agreed]
    in_force = columns["in_force_date"][agreed]

    def date_q(d, q):
        if d.size == 0:
            return None
        days = d.astype("datetime64[D]").astype(np.int64)
        return str(np.datetime64(int(np.percentile(days, q, method="nearest")), "D"))

    durations = columns["duration_years"][agreed]
    return {
        "experiment": experiment.name,
        "draws": n,
        "concept": experiment.concept,
        "units": {"amounts": "bn KRW per year", "usd": "USD M per year", "dates": "ISO date"},
        "years": years,
        "p_agreement_before_expiry": prob(outcome == 0),
        "p_lapse": prob(columns["lapse_months"] > 0),
        "p_no_agreement_by_hard_stop": prob(outcome == 2),
        "p_no_talks": prob(outcome == 3),
        "p_veto": prob(columns["vetoes"] > 0),
        "p_ratification_rejected": prob(columns["ratification_rejections"] > 0),
        "agreement_date": {f"q{q:02d}": date_q(dates, q) for q in qs},
        "in_force_date": {f"q{q:02d}": date_q(in_force, q) for q in qs},
        "median_lapse_months_given_lapse": (
            float(np.median(columns["lapse_months"][columns["lapse_months"] > 0]))
            if np.any(columns["lapse_months"] > 0)
            else None
        ),
        "duration_share": {
            str(int(d)): float(np.mean(durations == d)) for d in np.unique(durations)
        },
        # shares among agreements; all 0 when no draw agrees (a mean of nothing is NaN)
        "rule_share": {
            r.name: float(np.sum(columns["rule_index"][agreed] == i) / max(durations.size, 1))
            for i, r in enumerate(experiment.setting.packages.rules)
        },
        "solver_not_converged": int(np.sum(~columns["solver_converged"])),
        "outcome_codes": dict(enumerate(OUTCOMES)),
        "calibration": _calibration(experiment),
    }


def _quantile_mc_halfwidths(a: np.ndarray, qs) -> dict[str, float]:
    """Half-width of each quantile's 95 % Monte Carlo interval, bn KRW.

    The distribution-free interval of the ``q`` quantile of ``n`` draws runs between the
    sample quantiles at ``q -/+ 1.96 sqrt(q (1 - q) / n)`` (order statistics; the number of
    draws below the true quantile is binomial). It measures sampling noise only: more draws
    shrink it, while the quantiles' spread is the inputs' uncertainty.
    """
    x = a[~np.isnan(a)]
    if x.size == 0:
        return {f"q{q:02d}": float("nan") for q in qs}
    p = np.asarray(qs, dtype=float) / 100.0
    half = 1.96 * np.sqrt(p * (1.0 - p) / x.size)
    ends = np.quantile(x, np.concatenate([np.maximum(p - half, 0.0), np.minimum(p + half, 1.0)]))
    lo, hi = ends[: p.size], ends[p.size :]
    return {f"q{q:02d}": float((b - a) / 2.0) for q, a, b in zip(qs, lo, hi, strict=True)}


def _calibration(experiment: Experiment) -> dict[str, Any] | None:
    """What the run's behavioural parameters were drawn from (None: the config's priors)."""
    p = experiment.posterior
    if p is None:
        return None
    keep = ("method", "information_date", "fitted_on", "fitted", "ess", "study_scores")
    return {
        "posterior": p.name,
        "parameters": list(p.names),
        "kept_prior": list(p.kept_prior),
        **{k: p.provenance[k] for k in keep},
        "summary": p.describe(),
    }
