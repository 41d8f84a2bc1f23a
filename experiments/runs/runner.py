"""The documented Python functions behind each CLI command.

Each works from a notebook as well as from ``smasim``::

    from smasim.experiments.runs.runner import run_experiment
    result, config = run_experiment("sma12_may2024", draws=20_000, seed=1)
    result.summary["years"]["2026"]
    result.to_pandas()          # per-draw table (needs pandas)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from smasim.experiments.config.load import build_experiment, load_config, resolved_dict
from smasim.experiments.config.schema import Config
from smasim.experiments.runs.store import RunWriter, read_config_json
from smasim.models.agents import amount_at_utility, disagreement_value
from smasim.models.bargaining import CONCEPTS, solve_zone
from smasim.models.outlook import Outlook
from smasim.models.pressure import kr_side, nash_weight, round_discount, us_side
from smasim.simulation.events import TRACE_LINES
from smasim.simulation.executors import BatchFailed, ExecutorKind
from smasim.simulation.montecarlo import batch_sizes, negotiate, run, sample_batch
from smasim.simulation.outcomes import outcome_columns, summary_columns
from smasim.simulation.records import Experiment, RunResult, TraceEvent


def run_experiment(
    source: str | Path | Config | None = None,
    *,
    draws: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    out: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
    executor: ExecutorKind = "local",
    scheduler: str | None = None,
    resume: bool = False,
    keep_draws: bool = True,
    in_memory: bool = True,
) -> tuple[RunResult, Config]:
    """Run a config's Monte Carlo experiment, optionally into a result folder.

    Parameters
    ----------
    source : path, str or Config, optional
        Config file, bundled config name or an already validated :class:`Config`; the
        default config when omitted.
    draws, seed : int, optional
        Override the config's ``experiment.draws`` / ``experiment.seed``.
    workers : int
        Processes of the local executor; the result is the same for any value.
    out : path, optional
        Result folder, written batch by batch and complete only at the end (see
        :mod:`experiments.store`); nothing is written when omitted.
    progress : callable, optional
        Called with the number of draws finished after each batch.
    executor : {"local", "dask"}
        Where batches run; ``scheduler`` is the Dask scheduler's address.
    resume : bool
        Continue the interrupted run into ``out`` from its finished batches.
    keep_draws : bool
        Write the whole per-draw table (True) or only the summary's columns.
    in_memory : bool
        Keep the per-draw table (with ``keep_draws=False``, the summary's columns) in
        ``result.columns`` (True), or nothing (``result.columns`` empty; the table is in
        ``out``): the summary is then read back from the parts one batch at a time, the same
        bits, in memory bounded for any number of draws.

    Returns
    -------
    result : RunResult
    config : Config
    """
    cfg = source if isinstance(source, Config) else load_config(source)
    experiment = build_experiment(cfg)
    n = cfg.experiment.draws if draws is None else draws
    s = cfg.experiment.seed if seed is None else seed
    if n < 1:
        raise ValueError(f"draws: must be a positive integer, got {n}")
    options = {"workers": workers, "executor": executor, "scheduler": scheduler}
    if out is None:
        if resume:
            raise ValueError("resume: needs out, the interrupted run's folder")
        result = run(experiment, draws=n, seed=s, progress=progress, **options)
        return result, cfg
    resolved = resolved_dict(cfg)
    resolved["experiment"]["draws"], resolved["experiment"]["seed"] = n, s
    writer = RunWriter(
        out,
        config=resolved,
        batch_size=experiment.batch_size,
        resume=resume,
        draws_columns=None if keep_draws else summary_columns(experiment),
    )
    retain = ("all" if keep_draws else "summary") if in_memory else "none"
    try:
        done = None
        if resume:
            # a streamed run checks its finished parts but holds none of their columns
            held = {"all": None, "summary": summary_columns(experiment), "none": ("draw",)}
            done = writer.finished_batches(held[retain])
        result = run(
            experiment,
            draws=n,
            seed=s,
            progress=progress,
            part_dir=writer.part_dir,
            part_columns=None if keep_draws else summary_columns(experiment),
            done=done,
            retain=retain,
            on_batch=writer.record,
            **options,
        )
        writer.finish(result)
    except (KeyboardInterrupt, BatchFailed):
        raise  # the finished batches are kept for --resume
    except BaseException:
        writer.discard_if_empty()  # e.g. no scheduler: nothing to resume, nothing left behind
        raise
    finally:
        writer.release()
    return result, cfg


@dataclass(frozen=True)
class ConceptSolution:
    """One solution concept's answer to the central bargaining problem."""

    concept: str
    base_bn_krw: float
    package: str
    u_us: float
    u_kr: float
    increase_pct: float


def solve_central(source: str | Path | None = None) -> tuple[list[ConceptSolution], Experiment]:
    """Solve the static bargaining problem at the central parameter values.

    The central value of each parameter is its constant, median or most likely choice. The
    problem is the set of packages both sides prefer to disagreement when talks open
    (targets equal to the disagreement values), solved by every solution concept.

    Returns
    -------
    solutions : list of ConceptSolution
    experiment : Experiment
    """
    experiment = build_experiment(load_config(source))
    values = {s.name: np.array([s.central()]) for s in experiment.specs}
    outlook = Outlook(
        values["us_pressure"],
        experiment.setting.talks_year,
        inauguration_day=experiment.calendar.inauguration_day,
    )
    us, kr = (
        us_side(experiment.setting, values, outlook),
        kr_side(experiment.setting, values, outlook),
    )
    # when talks open each side accepts what it prefers to no deal
    day, expiry = np.zeros(1), experiment.calendar.expiry_day
    d_us, d_kr = disagreement_value(us, day, expiry), disagreement_value(kr, day, expiry)
    lo, hi = amount_at_utility(us, d_us), amount_at_utility(kr, d_kr)
    out = []
    for concept in CONCEPTS:
        deal = solve_zone(
            us,
            kr,
            lo,
            hi,
            d_us,
            d_kr,
            concept=concept,
            alpha=nash_weight(us, kr),
            delta_us=round_discount(us, experiment.calendar.round_interval_days),
            delta_kr=round_discount(kr, experiment.calendar.round_interval_days),
            us_first=np.array([True]),
            rounds_left=experiment.calendar.round_days.size,
        )
        k = int(deal.package[0])
        base = float(deal.base[0])
        out.append(
            ConceptSolution(
                concept=concept,
                base_bn_krw=base,
                package=experiment.setting.packages.label(k) if k >= 0 else "none",
                u_us=float(deal.u_us[0]),
                u_kr=float(deal.u_kr[0]),
                increase_pct=100.0 * (base / experiment.setting.status_quo - 1.0),
            )
        )
    return out, experiment


@dataclass(frozen=True)
class DrawTrace:
    """The story of one draw, replayed alone; ``print(trace)`` tells it line by line."""

    experiment: Experiment
    draw: int
    events: list[TraceEvent]
    outcome: dict[str, Any]

    def lines(self) -> list[str]:
        """The story: a heading, one dated line per event, the outcome and the path."""
        exp, o = self.experiment, self.outcome
        out = [f"{exp.name}, draw {self.draw}: status quo {exp.setting.status_quo:,.1f} bn KRW/yr"]
        for e in self.events:
            text = TRACE_LINES[e.kind](e.detail, exp.setting.packages.label)
            # lines of a round carry its number
            where = f"round {e.round + 1:>2}  " if e.kind in ("round", "agreement") else ""
            out.append(f"{exp.date([e.day])[0]}  {where}{text}")
        out.append(
            f"outcome: {OUTCOME_LABELS[int(o['outcome'])]}; lapse {o['lapse_months']:.1f} months"
        )
        out.append(
            "path (bn KRW): "
            + ", ".join(f"{y} {o[f'amount_{y}_bn_krw']:,.1f}" for y in exp.report_years)
        )
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def __repr__(self) -> str:
        return (
            f"DrawTrace({self.experiment.name!r}, draw={self.draw}, "
            f"{len(self.events)} events, outcome={OUTCOME_LABELS[int(self.outcome['outcome'])]!r})"
        )


OUTCOME_LABELS = {
    0: "agreed before expiry",
    1: "agreed after a lapse",
    2: "no agreement",
    3: "no talks",
}


def trace_draw(
    source: str | Path | None = None,
    *,
    draw: int,
    draws: int | None = None,
    seed: int | None = None,
) -> DrawTrace:
    """Replay draw ``draw`` of a run alone and record its round-by-round story.

    The draw's parameters and noise are regenerated from its batch's seed, then the draw is
    negotiated on its own with tracing on; its outcome equals the one in the run's table.

    Parameters
    ----------
    source : path or str, optional
        The run's config, or its finished result folder (whose ``config.json`` holds the
        run's own draws, seed and calibration).
    draw : int
        Row of the run's per-draw table.
    draws, seed : int, optional
        The run's draw count and seed, if they overrode the config's.
    """
    folder = source is not None and (Path(source) / "summary.json").is_file()
    cfg = read_config_json(source) if folder else load_config(source)
    experiment = build_experiment(cfg)
    s = cfg.experiment.seed if seed is None else seed
    n = cfg.experiment.draws if draws is None else draws
    if not 0 <= draw < n:
        raise ValueError(f"draw: {draw} is not a row of a run of {n} draws")
    batch, row = divmod(draw, experiment.batch_size)
    size = batch_sizes(n, experiment.batch_size)[batch]
    values, noise = sample_batch(experiment, s, batch, size)
    one = {k: v[row : row + 1] for k, v in values.items()}
    noise1 = noise.take(slice(row, row + 1))
    # the trace also scores each side's offer on the other side's utility, which overflows
    # to -inf for offers far outside that side's range; -inf reads correctly as "rejected"
    with np.errstate(over="ignore"):
        outcome = negotiate(experiment, one, noise1, trace=True)
    cols = outcome_columns(experiment, one, noise1, outcome)
    cols["draw"] = np.array([draw])
    return DrawTrace(experiment, draw, outcome.trace, {k: v[0] for k, v in cols.items()})
