"""The Monte Carlo engine: batches of draws, seeded, serial or on a process pool.

One :class:`numpy.random.SeedSequence` per run; batch ``b`` draws from the child with spawn key
``(b,)``. Batch sizes are fixed by the experiment, not by the worker count, so the per-draw
outcomes are the same bits whether the batches run on 1 process or many, in any order.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
from smasim.models.agents import DAYS_PER_MONTH
from smasim.models.packages import EscalationRule, contribution_path
from smasim.models.pressure import Setting
from smasim.simulation.executors import ExecutorKind, map_batches
from smasim.simulation.negotiation import (
    DONE,
    NO_TALKS,
    BatchNegotiation,
    BatchOutcome,
    Calendar,
    Noise,
)
from smasim.simulation.parts import part_name, write_part
from smasim.simulation.sampling import Design, ParameterSpec, sample

OUTCOMES = ("agreed_before_expiry", "agreed_after_lapse", "no_agreement", "no_talks")


@dataclass(frozen=True)
class Experiment:
    """Everything needed to run draws of one negotiation (picklable, no I/O).

    Attributes
    ----------
    name : str
    setting : Setting
    calendar : Calendar
    talks_open : numpy.datetime64
        Date of day 0 (the first round).
    specs : tuple of ParameterSpec
        One per named parameter, in registry order.
    design : {"montecarlo", "lhs", "sobol"}
    concept : str
    ratification_attempts : int
    batch_size : int
    start_year : int
        First calendar year the new agreement covers.
    report_years : tuple of int
    known_amounts : dict of int to float
        Amounts already fixed for report years before ``start_year``, bn KRW.
    status_quo_rule : EscalationRule
        How the amount moves without a new agreement (frozen for an expired SMA; the formula
        of one still in force).
    hard_stop_day : float
        Days after talks open when talks end without agreement.
    """

    name: str
    setting: Setting
    calendar: Calendar
    talks_open: np.datetime64
    specs: tuple[ParameterSpec, ...]
    design: Design
    concept: str
    ratification_attempts: int
    batch_size: int
    start_year: int
    report_years: tuple[int, ...]
    known_amounts: dict[int, float]
    status_quo_rule: EscalationRule
    hard_stop_day: float

    def date(self, day: np.ndarray) -> np.ndarray:
        """Days since talks open -> ``datetime64[D]`` (NaT for NaN)."""
        day = np.asarray(day, dtype=float)
        whole = np.where(np.isnan(day), 0, np.floor(day)).astype("timedelta64[D]")
        return np.where(np.isnan(day), np.datetime64("NaT"), self.talks_open + whole)


@dataclass
class RunResult:
    """A finished run: per-draw table, summary and provenance.

    Attributes
    ----------
    experiment : Experiment
    seed : int
    draws : int
    columns : dict of str to ndarray, each shape (draws,)
        The per-draw table (see the README's output format).
    summary : dict
        JSON-ready summary (see :func:`summarize`).
    elapsed_s : float
        Wall time of the simulation, seconds.
    workers : int
    """

    experiment: Experiment
    seed: int
    draws: int
    columns: dict[str, np.ndarray]
    summary: dict[str, Any] = field(default_factory=dict)
    elapsed_s: float = 0.0
    workers: int = 1

    def to_arrow(self):
        """The per-draw table as a :class:`pyarrow.Table`."""
        import pyarrow as pa

        return pa.table(self.columns)

    def to_pandas(self):
        """The per-draw table as a :class:`pandas.DataFrame` (needs pandas)."""
        return self.to_arrow().to_pandas()


def batch_sizes(draws: int, batch_size: int) -> list[int]:
    """Sizes of the batches a run of ``draws`` is split into."""
    full, rest = divmod(draws, batch_size)
    return [batch_size] * full + ([rest] if rest else [])


def batch_rng(seed: int, batch: int) -> np.random.Generator:
    """Generator of batch ``batch`` of a run seeded ``seed`` (child ``batch`` of the run's seed)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(batch,)))


def simulate_batch(
    experiment: Experiment, seed: int, batch: int, size: int, *, trace: bool = False
) -> tuple[dict[str, np.ndarray], BatchOutcome]:
    """Sample and negotiate one batch.

    Returns
    -------
    columns : dict of str to ndarray, shape (size,)
    outcome : BatchOutcome
    """
    values, noise = sample_batch(experiment, seed, batch, size)
    outcome = negotiate(experiment, values, noise, trace=trace)
    return outcome_columns(experiment, values, noise, outcome), outcome


def sample_batch(
    experiment: Experiment, seed: int, batch: int, size: int
) -> tuple[dict[str, np.ndarray], Noise]:
    """Parameters and noise of batch ``batch`` (of ``size`` draws) of a run seeded ``seed``."""
    return sample(
        experiment.specs,
        size,
        design=experiment.design,
        n_attempts=experiment.ratification_attempts,
        rng=batch_rng(seed, batch),
    )


def negotiate(
    experiment: Experiment, values: dict[str, np.ndarray], noise: Noise, *, trace: bool = False
) -> BatchOutcome:
    """Run the SimPy negotiation for given parameter arrays and noise."""
    return BatchNegotiation(
        experiment.setting,
        experiment.calendar,
        values,
        noise,
        concept=experiment.concept,
        trace=trace,
    ).run()


def simulate_batches(
    experiment: Experiment, seed: int, batches: Sequence[tuple[int, int]]
) -> list[dict[str, np.ndarray]]:
    """Sample batches with their own random streams and negotiate them together.

    Each batch is sampled exactly as :func:`simulate_batch` samples it, and a draw's outcome
    does not depend on the other draws it is negotiated with, so the per-batch tables are
    those of :func:`simulate_batch`, bit for bit. Negotiating several batches at once spreads
    each round's fixed cost (hundreds of numpy calls) over more draws.

    Parameters
    ----------
    batches : sequence of (batch index, size)

    Returns
    -------
    list of dict of str to ndarray
        Each batch's per-draw table, with its ``draw`` numbers, in the order of ``batches``.
    """
    samples = [sample_batch(experiment, seed, b, size) for b, size in batches]
    if len(samples) == 1:
        values, noise = samples[0]
    else:
        values = {k: np.concatenate([v[k] for v, _ in samples]) for k in samples[0][0]}
        noise = Noise(*(np.concatenate([getattr(n, f) for _, n in samples]) for f in _NOISE_FIELDS))
    cols = outcome_columns(experiment, values, noise, negotiate(experiment, values, noise))
    tables, start = [], 0
    for b, size in batches:
        rows = slice(start, start + size)
        table = {k: v[rows] for k, v in cols.items()}
        first = b * experiment.batch_size
        table["draw"] = np.arange(first, first + size, dtype=np.int64)
        tables.append(table)
        start += size
    return tables


_NOISE_FIELDS = tuple(f.name for f in fields(Noise))
COMPUTE_DRAWS = 32768  # draws negotiated together: enough to spread per-round costs, small
# enough that the (draws, packages) tables stay modest in memory


def batch_groups(
    sizes: Sequence[int], todo: Sequence[int], batch_size: int, workers: int
) -> list[tuple[tuple[int, int], ...]]:
    """Consecutive batches to negotiate together, ``(batch, size)`` pairs per group.

    Groups hold up to :data:`COMPUTE_DRAWS` draws but are made smaller when that would leave
    workers idle (fewer than two groups per worker), and the last ``workers`` groups are split
    into single batches so that workers finish close together. The result does not depend on
    it.
    """
    per_group = max(1, min(COMPUTE_DRAWS // batch_size, len(todo) // (2 * workers)))
    groups: list[tuple[tuple[int, int], ...]] = []
    current: list[tuple[int, int]] = []
    for b in todo:
        if current and (len(current) == per_group or b != current[-1][0] + 1):
            groups.append(tuple(current))
            current = []
        current.append((b, sizes[b]))
    if current:
        groups.append(tuple(current))
    if workers > 1 and len(groups) > workers:
        tail = [(pair,) for group in groups[-workers:] for pair in group]
        groups = groups[:-workers] + tail
    return groups


def _batch_worker(job: tuple) -> list[tuple[int, dict[str, np.ndarray]]]:
    """Simulate a group of batches; write their parts if asked; return the columns kept.

    Writing the parts here, in the worker, keeps compression off the collecting process.
    """
    experiment, seed, batches, part_dir, part_columns, keep = job
    out = []
    for (b, _), cols in zip(batches, simulate_batches(experiment, seed, batches), strict=True):
        if part_dir is not None:
            write_part(Path(part_dir) / part_name(b), _select_columns(cols, part_columns))
        out.append((b, _select_columns(cols, keep)))
    return out


SUMMARY_COLUMNS = (
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


def run(
    experiment: Experiment,
    *,
    draws: int,
    seed: int,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
    executor: ExecutorKind = "local",
    scheduler: str | None = None,
    part_dir: str | Path | None = None,
    part_columns: tuple[str, ...] | None = None,
    done: dict[int, dict[str, np.ndarray]] | None = None,
    retain: str = "all",
) -> RunResult:
    """Run ``draws`` draws of an experiment.

    Parameters
    ----------
    experiment : Experiment
    draws : int
        Number of draws, > 0.
    seed : int
        Root of the run's :class:`numpy.random.SeedSequence`.
    workers : int
        Processes of the local pool; 1 runs in this process. The result does not depend on it.
    progress : callable, optional
        Called with the number of draws finished after each batch.
    executor : {"local", "dask"}
        Where batches run (:mod:`simulation.executors`); the result does not depend on it.
    scheduler : str, optional
        Dask scheduler address, for ``executor="dask"``.
    part_dir : path, optional
        Folder to write each batch's per-draw table into as it finishes (one Parquet part per
        batch, written atomically by the process that ran the batch; see
        :mod:`simulation.parts`). With the Dask executor it must be on a file system the
        workers share.
    part_columns : tuple of str, optional
        Columns written to the parts (all when omitted).
    done : dict of int to dict, optional
        Batches already finished (by batch index: their per-draw tables, or at least the
        summary's columns), as when resuming an interrupted run; they are not computed again.
    retain : {"all", "summary"}
        Which columns the result keeps in memory: the whole per-draw table, or only those the
        summary needs (:func:`summary_columns`), so that memory stays bounded for any number
        of draws when the parts keep the rest.

    Returns
    -------
    RunResult
    """
    if draws < 1:
        msg = "draws must be a positive integer"
        raise ValueError(msg)
    if workers < 1:
        msg = "workers must be a positive integer"
        raise ValueError(msg)
    sizes = batch_sizes(draws, experiment.batch_size)
    done = dict(done or {})
    if retain not in ("all", "summary"):
        msg = f"retain must be 'all' or 'summary', not {retain!r}"
        raise ValueError(msg)
    keep = summary_columns(experiment) if retain == "summary" else None
    where = None if part_dir is None else str(part_dir)
    todo = [b for b in range(len(sizes)) if b not in done]
    jobs = [
        (experiment, seed, group, where, part_columns, keep)
        for group in batch_groups(sizes, todo, experiment.batch_size, workers)
    ]
    start = time.perf_counter()
    # the result's columns are filled in place, batch by batch: no concatenation copy
    columns: dict[str, np.ndarray] = {}

    def store(b: int, cols: dict[str, np.ndarray]) -> None:
        rows = slice(b * experiment.batch_size, b * experiment.batch_size + sizes[b])
        for name, values in _select_columns(cols, keep).items():
            if name not in columns:
                columns[name] = np.empty(draws, dtype=values.dtype)
            columns[name][rows] = values

    for b, cols in done.items():
        store(b, cols)
    if progress and done:
        progress(sum(sizes[b] for b in done))
    batches = map_batches(
        _batch_worker,
        jobs,
        batch_of=lambda job: job[2][0][0],
        executor=executor,
        workers=workers,
        scheduler=scheduler,
    )
    for _, parts in batches:
        for b, part in parts:
            store(b, part)
            if progress:
                progress(sizes[b])
        del parts
    elapsed = time.perf_counter() - start
    result = RunResult(experiment, seed, draws, columns, elapsed_s=elapsed, workers=workers)
    result.summary = summarize(experiment, columns)
    return result


def _select_columns(cols: dict[str, np.ndarray], keep) -> dict[str, np.ndarray]:
    return cols if keep is None else {k: cols[k] for k in keep}


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
    path, _ = contribution_path(
        np.where(agreed, out.base, e.setting.status_quo),
        np.nan_to_num(growth),
        np.maximum(duration, 1),
        start_year=e.start_year,
        first_year=first_year,
        status_quo=0.0,
        years=years,
    )
    lapsed_years = years[None, :] < first_year[:, None]
    path = np.where(
        agreed[:, None] & ~lapsed_years & (years[None, :] >= e.start_year), path, fallback
    )

    end_day = np.where(
        agreed, out.in_force_day, np.where(outcome == 3, cal.expiry_day, e.hard_stop_day)
    )
    lapse_months = np.maximum(end_day - cal.expiry_day, 0.0) / DAYS_PER_MONTH

    cols: dict[str, np.ndarray] = {
        "draw": np.arange(n, dtype=np.int64),  # the row in its batch; run() sets the global one
        "outcome": outcome,
        "agreement_date": e.date(out.agree_day),
        "in_force_date": e.date(out.in_force_day),
        "agreement_round": out.agree_round.astype(np.int16),
        "lapse_months": lapse_months,
        "base_bn_krw": np.where(agreed, out.base, np.nan),
        "package": np.where(agreed, out.package, -1).astype(np.int16),
        "rule_index": rule_index.astype(np.int8),
        "duration_years": duration.astype(np.int8),
        "growth_rate": growth,
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
        "solution_concept": experiment.concept,
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
    }
