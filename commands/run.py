"""One config's commands: ``run``, ``solve``, ``trace``, ``validate`` and ``configs``."""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from smasim.commands import options
from smasim.commands.options import (
    BadInput,
    ConfigArg,
    ExecutorOpt,
    JsonOpt,
    SchedulerOpt,
    SeedOpt,
    StoppedRun,
    WorkersOpt,
    check_draws,
    check_executor,
    check_positive,
    check_seed,
    draw_progress,
    err_console,
    out_console,
)
from smasim.experiments.runs.folders import DISK_ERRORS, require_empty


def run(
    config: ConfigArg = None,
    draws: Annotated[
        int | None, typer.Option(help="Monte Carlo draws (default: config's).")
    ] = None,
    seed: SeedOpt = None,
    workers: WorkersOpt = 1,
    out: Annotated[
        Path | None, typer.Option(help="Result folder (default: runs/NAME-TIME).")
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the interrupted run into --out.")
    ] = False,
    no_draws: Annotated[
        bool, typer.Option("--no-draws", help="Keep only the summary's per-draw columns.")
    ] = False,
    executor: ExecutorOpt = "local",
    scheduler: SchedulerOpt = None,
    prior: Annotated[
        bool,
        typer.Option(
            "--prior", help="Draw every parameter from the config's priors (no calibration)."
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Run a config's Monte Carlo experiment and summarise the contribution path."""
    from smasim.experiments.config.load import build_experiment, load_config
    from smasim.experiments.runs.runner import run_experiment

    check_draws(draws, streamed=True)
    check_positive("--workers", workers)
    check_seed(seed)
    check_executor(executor, scheduler)
    cfg = load_config(config)  # validate before anything is created
    if prior:
        cfg = cfg.model_copy(update={"calibration": None})
    if out is None:
        if resume:
            raise BadInput("--resume: name the interrupted run's folder with --out")
        out = _default_out(cfg.experiment.name)
    require_empty(out)
    experiment = build_experiment(cfg)  # the calibration's checks: errors before warnings
    total = cfg.experiment.draws if draws is None else draws
    warnings = [small_batch_warning(cfg.experiment.batch_size, total)]
    _warn([*cfg.calendar.idle_dates(), *_slow(experiment, total), *warnings])
    try:
        with draw_progress(total, quiet=as_json) as advance:
            result, _ = run_experiment(
                cfg,
                draws=draws,
                seed=seed,
                workers=workers,
                out=out,
                progress=advance,
                executor=executor,
                scheduler=scheduler,
                resume=resume,
                keep_draws=not no_draws,
                in_memory=False,
            )
    except KeyboardInterrupt:
        raise StoppedRun(f"interrupted: {_kept(out, resume)}", 130) from None
    except OSError as exc:
        if exc.errno not in DISK_ERRORS:
            raise
        reason = os.strerror(exc.errno)
        raise StoppedRun(f"error: cannot write: {reason}; {_kept(out, resume)}", 1) from None
    if as_json:
        print(json.dumps({"result_folder": str(out), **result.summary}, indent=2))
        return
    _print_summary(result.summary, result.experiment.setting.status_quo)
    calibration = result.summary["calibration"]
    out_console.print(
        calibration["summary"]
        if calibration
        else "uncalibrated: every parameter from the "
        "config's priors" + (" (--prior)" if prior else "")
    )
    rate = result.draws / max(result.elapsed_s, 1e-9)
    out_console.print(
        f"{result.draws:,} draws in {result.elapsed_s:.1f} s ({rate:,.0f} draws/s, "
        f"{workers} worker{'s' if workers > 1 else ''}); results in {out}"
    )


def _warn(warnings: list[str | None]) -> None:
    """Print each warning as one line on stderr (``None`` entries are no warning)."""
    for w in warnings:
        if w:
            err_console.print(f"warning: {w}", markup=False, soft_wrap=True)


def _slow(experiment, draws: int) -> list[str]:
    """Warnings of the experiment's distributions too slow to sample ``draws`` of."""
    from smasim.experiments.config.specs import slow_distributions

    posterior = experiment.posterior
    return slow_distributions(
        experiment.specs, draws, sampled_elsewhere=posterior.names if posterior else ()
    )


SMALL_BATCH = 1024  # draws; below this a batch's fixed costs (its part file, the solver's
# set-up per round) outweigh its draws: 1-draw batches run ~300x slower than 16,384-draw ones
MANY_BATCHES = 100  # fewer small batches than this cost seconds, not worth a warning


def small_batch_warning(batch_size: int, draws: int) -> str | None:
    """Why a run of ``draws`` in batches of ``batch_size`` will be slow, or None."""
    batches = -(-draws // batch_size)
    if batch_size >= SMALL_BATCH or batches <= MANY_BATCHES:
        return None
    return (
        f"experiment.batch_size = {batch_size:,}: {draws:,} draws in {batches:,} batches, a "
        f"file each; batches under {SMALL_BATCH:,} draws run far slower (1 draw: ~300x) than "
        "the default 16,384"
    )


def _default_out(name: str) -> Path:
    """``runs/NAME-TIME``, with a suffix when a run started in the same second took it."""
    from smasim.experiments.runs.store import partial_folder

    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out, n = Path("runs") / f"{name}-{stamp}", 1
    # a run in progress is its hidden partial folder; the store's lock settles exact ties
    while out.exists() or partial_folder(out).exists():
        n += 1
        out = Path("runs") / f"{name}-{stamp}-{n}"
    return out


def solve(config: ConfigArg = None, as_json: JsonOpt = False) -> None:
    """Solve one bargaining problem at the central parameter values, by every concept."""
    from smasim.experiments.runs.runner import solve_central

    solutions, experiment = solve_central(config)
    if as_json:
        print(json.dumps([s.__dict__ for s in solutions], indent=2))
        return
    table = Table(
        title=f"{experiment.name}: central bargaining problem when talks open "
        f"(status quo {experiment.setting.status_quo:,.1f} bn KRW/yr)"
    )
    for col in ("concept", "first year (bn KRW)", "change (%)", "package", "u US", "u KR"):
        left = col in ("concept", "package")
        table.add_column(col, justify="left" if left else "right", no_wrap=left)
    for s in solutions:
        table.add_row(
            s.concept,
            f"{s.base_bn_krw:,.1f}",
            f"{s.increase_pct:+.1f}",
            s.package,
            f"{s.u_us:.3f}",
            f"{s.u_kr:.3f}",
        )
    out_console.print(table)


def trace(
    config: Annotated[
        str | None,
        typer.Argument(help="Config TOML path or bundled name, or a result folder of smasim run."),
    ] = None,
    draw: Annotated[int, typer.Option(help="Row of the run's per-draw table.")] = 0,
    draws: Annotated[int | None, typer.Option(help="The run's draws, if not the config's.")] = None,
    seed: Annotated[int | None, typer.Option(help="The run's seed, if not the config's.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Replay one draw of a run alone and print its round-by-round story.

    CONFIG may be the run's result folder: its config, draws, seed and calibration are used.
    """
    from smasim.experiments.runs.runner import trace_draw

    check_draws(draws)
    if draw < 0:
        raise BadInput(f"--draw: must be a non-negative integer, got {draw}")
    t = trace_draw(config, draw=draw, draws=draws, seed=seed)
    exp = t.experiment
    if as_json:
        events = [
            {
                "date": str(exp.date([e.day])[0]),
                "round": e.round,
                "kind": e.kind,
                **{k: v for k, v in e.detail.items() if k != "draw"},
            }
            for e in t.events
        ]
        outcome = {k: _plain(v) for k, v in t.outcome.items()}
        print(json.dumps({"draw": draw, "events": events, "outcome": outcome}, indent=2))
        return
    for line in t.lines():
        out_console.print(line, markup=False)


def validate(
    config: Annotated[str, typer.Argument(help="Config TOML path or bundled name.")],
) -> None:
    """Check a config and print what it sets up."""
    from smasim.experiments.config.load import build_experiment, load_config

    cfg = load_config(config)
    exp = build_experiment(cfg)
    _warn([*cfg.calendar.idle_dates(), *_slow(exp, cfg.experiment.draws)])
    uncertain = sum(s.uncertain for s in exp.specs)
    out_console.print(
        f"{config}: valid. {cfg.experiment.name}: {exp.setting.packages.size} packages, "
        f"{exp.calendar.round_days.size} rounds from {exp.talks_open}, {uncertain} uncertain "
        f"parameters, {cfg.experiment.draws:,} draws, concept {cfg.experiment.concept}"
    )


def configs(as_json: JsonOpt = False) -> None:
    """List the bundled configs."""
    from smasim.experiments.config.load import bundled_configs
    from smasim.experiments.config.schema import DEFAULT_CONFIG

    found = bundled_configs()
    if as_json:
        print(json.dumps(found, indent=2))
        return
    table = Table(title="bundled configs")
    table.add_column("name")
    table.add_column("description")
    for name, desc in found.items():
        table.add_row(name + (" (default)" if name == DEFAULT_CONFIG else ""), desc)
    out_console.print(table)


def _kept(out: Path, resume: bool) -> str:
    """What a stopped run into ``out`` kept, and the command that continues it."""
    from smasim.experiments.runs.store import finished_parts, partial_folder

    n = finished_parts(out)
    if n == 0 and not partial_folder(out).exists():
        return "no batch had finished; nothing was kept"
    again = list(options.ARGV) or ["run"]
    named = any(a == "--out" or a.startswith("--out=") for a in again)
    again += [] if named else ["--out", str(out)]
    again += [] if resume else ["--resume"]
    return (
        f"{n} batches finished and kept; no result folder was completed. "
        f"Continue with: smasim {shlex.join(again)}"
    )


def _print_summary(summary: dict[str, Any], status_quo: float) -> None:
    table = Table(
        title=f"{summary['experiment']}: contribution by year, bn KRW "
        f"({summary['draws']:,} draws; status quo {status_quo:,.1f} bn KRW/yr)"
    )
    table.add_column("year")
    for q in ("5%", "25%", "50%", "75%", "95%"):
        table.add_column(q, justify="right")
    table.add_column("median USD M", justify="right")
    for year, v in summary["years"].items():
        qs = v["quantiles_bn_krw"]
        table.add_row(
            year,
            *(f"{qs[k]:,.1f}" for k in ("q05", "q25", "q50", "q75", "q95")),
            f"{v['median_usd_m']:,.0f}",
        )
    out_console.print(table)

    def pct(key):
        p = summary[key]
        return f"{100 * p['p']:.1f}% (± {100 * p['se']:.1f})"

    out_console.print(f"P(agreement in force before expiry): {pct('p_agreement_before_expiry')}")
    out_console.print(f"P(lapse):                            {pct('p_lapse')}")
    out_console.print(f"P(no agreement by hard stop):        {pct('p_no_agreement_by_hard_stop')}")
    out_console.print(f"P(no talks):                         {pct('p_no_talks')}")
    median = summary["agreement_date"]["q50"] or "none (no draw reached an agreement)"
    out_console.print(f"median agreement date:               {median}")
    out_console.print("(± are Monte Carlo standard errors, in percentage points)")
    mc = max(
        (
            h
            for v in summary["years"].values()
            for h in v["quantiles_mc_95_halfwidth_bn_krw"].values()
        ),
        default=0.0,
    )
    out_console.print(
        f"Monte Carlo error of the table's quantiles: at most ± {mc:,.1f} bn KRW (95 %); the "
        "spread from 5% to 95% is the inputs' uncertainty (parameters, elections, votes), "
        "which more draws do not shrink"
    )


def _plain(v: Any) -> Any:
    """A per-draw value as JSON has it: a Python scalar, an ISO date, None for NaN."""
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, dt.date | dt.datetime):
        return v.isoformat()
    if isinstance(v, float) and v != v:
        return None
    return v


def init(
    name: Annotated[str, typer.Argument(help="Name of the new config (and of its file).")],
    base: Annotated[
        str, typer.Option("--from", help="Bundled config the new one extends.")
    ] = "sma12_may2024",
    out: Annotated[
        Path | None, typer.Option("--out", help="File to write (default NAME.toml).")
    ] = None,
) -> None:
    """Write a commented config that extends a bundled one.

    Every value it can override is listed, commented out, with its meaning, unit, range and
    the bundled config's value.
    """
    from smasim.experiments.config.constants import ConfigError
    from smasim.experiments.config.template import write_template

    try:
        path = write_template(name, base, out)
    except ConfigError as exc:
        field, _, rest = str(exc).partition(": ")
        flag = {"out": "--out", "base": "--from", "name": "NAME"}.get(field)
        raise BadInput(f"{flag}: {rest}" if flag else str(exc)) from None
    out_console.print(
        f"wrote {path}: extends {base}; uncomment a line to change it, then "
        f"`smasim validate {path}`",
        markup=False,
    )
