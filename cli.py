"""The ``smasim`` command line: thin wrappers over :mod:`experiments.runner`.

Every command takes a config (a TOML path or a bundled name; the default config when omitted),
makes one library call and prints the result. Bad input ends with one line naming the field on
stderr and exit code 2.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from smasim.experiments.config.load import (
    DEFAULT_CONFIG,
    MAX_DRAWS,
    ConfigError,
    bundled_configs,
    load_config,
)
from smasim.experiments.runs.store import StoreError

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Simulate the Korea-U.S. SMA negotiations: who pays what for USFK from 2026 on.",
    no_args_is_help=True,
)
out_console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

ConfigArg = Annotated[
    str | None,
    typer.Argument(help=f"Config TOML path or bundled name (default: {DEFAULT_CONFIG})."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on stdout instead of tables.")]
ExecutorOpt = Annotated[str, typer.Option(help="Where batches run: local or dask.")]
SchedulerOpt = Annotated[str | None, typer.Option(help="Dask scheduler address (tcp://host:port).")]


class BadInput(Exception):
    """A one-line input error (exit code 2)."""


def _positive(name: str, value: int | None) -> None:
    if value is not None and value < 1:
        raise BadInput(f"{name}: must be a positive integer, got {value}")


def _draw_count(value: int | None) -> None:
    _positive("--draws", value)
    if value is not None and value > MAX_DRAWS:
        raise BadInput(f"--draws: at most {MAX_DRAWS:,} (a run's columns live in memory)")


def _executor(executor: str, scheduler: str | None) -> None:
    # checked here, before a result folder is started, rather than when the first batch is sent
    if executor not in ("local", "dask"):
        raise BadInput(f"--executor: must be local or dask, got {executor!r}")
    if executor == "dask" and not scheduler:
        raise BadInput(
            "--scheduler: --executor dask needs the scheduler's address (tcp://host:port)"
        )


@app.command()
def run(
    config: ConfigArg = None,
    draws: Annotated[
        int | None, typer.Option(help="Monte Carlo draws (default: config's).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Root seed (default: config's).")] = None,
    workers: Annotated[
        int, typer.Option(help="Worker processes; results do not depend on it.")
    ] = 1,
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
    as_json: JsonOpt = False,
) -> None:
    """Run a config's Monte Carlo experiment and summarise the contribution path."""
    from smasim.experiments.runs.runner import run_experiment

    _draw_count(draws)
    _positive("--workers", workers)
    if seed is not None and seed < 0:
        raise BadInput(f"--seed: must be a non-negative integer, got {seed}")
    _executor(executor, scheduler)
    cfg = load_config(config)  # validate before anything is created
    n = cfg.experiment.draws if draws is None else draws
    if out is None:
        if resume:
            raise BadInput("--resume: name the interrupted run's folder with --out")
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        out = Path("runs") / f"{cfg.experiment.name}-{stamp}"
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BadInput(f"--out: {out} already exists and is not empty")
    try:
        with _progress(n, quiet=as_json) as advance:
            result, _ = run_experiment(
                config,
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
        from smasim.experiments.runs.store import partial_folder

        done = len(list((partial_folder(out) / "draws").glob("part-*.parquet")))
        args = " ".join(sys.argv[1:]) if sys.argv[1:] else "run"
        resume_hint = args if "--out" in args else f"{args} --out {out}"
        err_console.print(
            f"interrupted: {done} batches finished and kept; no result folder was completed. "
            f"Continue with: smasim {resume_hint}{'' if resume else ' --resume'}",
            markup=False,
            soft_wrap=True,
        )
        raise typer.Exit(130) from None
    if as_json:
        print(json.dumps({"result_folder": str(out), **result.summary}, indent=2))
        return
    _print_summary(result.summary, result.experiment.setting.status_quo)
    rate = result.draws / max(result.elapsed_s, 1e-9)
    out_console.print(
        f"{result.draws:,} draws in {result.elapsed_s:.1f} s ({rate:,.0f} draws/s, "
        f"{workers} worker{'s' if workers > 1 else ''}); results in {out}"
    )


@app.command()
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


@app.command()
def trace(
    config: ConfigArg = None,
    draw: Annotated[int, typer.Option(help="Row of the run's per-draw table.")] = 0,
    draws: Annotated[int | None, typer.Option(help="The run's draws, if not the config's.")] = None,
    seed: Annotated[int | None, typer.Option(help="The run's seed, if not the config's.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Replay one draw of a run alone and print its round-by-round story."""
    from smasim.experiments.runs.runner import trace_draw

    _draw_count(draws)
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
        print(
            json.dumps(
                {
                    "draw": draw,
                    "events": events,
                    "outcome": {k: _plain(v) for k, v in t.outcome.items()},
                },
                indent=2,
            )
        )
        return
    pk = exp.setting.packages
    out_console.print(
        f"[bold]{exp.name}[/bold], draw {draw}: status quo {exp.setting.status_quo:,.1f} bn KRW/yr"
    )
    for e in t.events:
        date = exp.date([e.day])[0]
        d = e.detail
        if e.kind == "round":
            out_console.print(
                f"{date}  round {e.round + 1:>2}  U.S. asks {d['us_offer']:,.1f} "
                f"({pk.label(d['us_package'])}), Korea offers {d['kr_offer']:,.1f} "
                f"({pk.label(d['kr_package'])}) bn KRW; targets U.S. {d['us_target']:.2f} / "
                f"KR {d['kr_target']:.2f}; {'Korea accepts' if d['kr_accepts'] else 'rejected'}"
                f"{', U.S. accepts' if d['us_accepts'] else ''}"
            )
        elif e.kind == "agreement":
            out_console.print(
                f"{date}  round {e.round + 1:>2}  [bold]working-level agreement[/bold]: "
                f"{d['base']:,.1f} bn KRW, {pk.label(d['package'])} "
                f"(u U.S. {d['u_us']:.3f}, u KR {d['u_kr']:.3f})"
            )
        elif e.kind == "veto":
            out_console.print(
                f"{date}  [bold]U.S. president vetoes[/bold] (floor level "
                f"{d['floor_level']:,.1f} bn KRW/yr); talks go on"
            )
        elif e.kind == "ratification":
            verdict = "ratifies" if d["approved"] else "[bold]refuses[/bold]"
            out_console.print(
                f"{date}  National Assembly {verdict} ({d['increase_pct']:+.1f}% "
                f"first year, P(refusal) {d['p_reject']:.0%})"
            )
        elif e.kind == "election":
            kind = "high-pressure" if d["high_pressure"] else "low-pressure"
            out_console.print(
                f"{date}  U.S. election: {kind} administration (pressure {d['pressure']:.2f})"
            )
        elif e.kind == "expiry":
            out_console.print(f"{date}  the old SMA expires")
    o = t.outcome
    labels = {
        0: "agreed before expiry",
        1: "agreed after a lapse",
        2: "no agreement",
        3: "no talks",
    }
    out_console.print(f"outcome: {labels[int(o['outcome'])]}; lapse {o['lapse_months']:.1f} months")
    years = exp.report_years
    out_console.print(
        "path (bn KRW): " + ", ".join(f"{y} {o[f'amount_{y}_bn_krw']:,.1f}" for y in years)
    )


@app.command()
def validate(
    config: Annotated[str, typer.Argument(help="Config TOML path or bundled name.")],
) -> None:
    """Check a config and print what it sets up."""
    from smasim.experiments.config.load import build_experiment

    cfg = load_config(config)
    exp = build_experiment(cfg)
    uncertain = sum(s.uncertain for s in exp.specs)
    out_console.print(
        f"{config}: valid. {cfg.experiment.name}: {exp.setting.packages.size} packages, "
        f"{exp.calendar.round_days.size} rounds from {exp.talks_open}, {uncertain} uncertain "
        f"parameters, {cfg.experiment.draws:,} draws, concept {cfg.experiment.concept}"
    )


@app.command()
def configs(as_json: JsonOpt = False) -> None:
    """List the bundled configs."""
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


@app.command()
def compare(
    sources: Annotated[
        list[str],
        typer.Argument(
            help="Two or more result folders or configs (TOML path or bundled name); "
            "the first is the reference. Configs are run with the same seed."
        ),
    ],
    threshold: Annotated[
        list[float] | None,
        typer.Option(help="Report P(amount > X) per year, X in bn KRW; repeatable."),
    ] = None,
    draws: Annotated[
        int | None,
        typer.Option(help="Draws of the configs run (default: first folder's, else config's)."),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(help="Seed of the configs run (default: first folder's, else config's)."),
    ] = None,
    workers: Annotated[
        int, typer.Option(help="Worker processes; results do not depend on it.")
    ] = 1,
    discount_rate: Annotated[
        float, typer.Option(help="Discount rate of the present value, fraction per year.")
    ] = 0.03,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for report.md, comparison.json, figures and run folders."),
    ] = None,
    executor: ExecutorOpt = "local",
    scheduler: SchedulerOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Compare outcome distributions between scenarios: tables, figures and a report."""
    import contextlib

    from rich.markdown import Markdown

    from smasim.experiments.comparison.compare import run_comparison
    from smasim.experiments.comparison.options import CompareOptions
    from smasim.experiments.comparison.report import comparison_markdown

    _positive("--draws", draws)
    _positive("--workers", workers)
    if seed is not None and seed < 0:
        raise BadInput(f"--seed: must be a non-negative integer, got {seed}")
    if not discount_rate > -1.0:
        raise BadInput(f"--discount-rate: must be > -1 (a fraction per year), got {discount_rate}")
    if len(sources) < 2:
        raise BadInput("compare: give at least two result folders or configs")
    _executor(executor, scheduler)
    options = CompareOptions(thresholds_bn_krw=tuple(threshold or ()), discount_rate=discount_rate)
    busy = not as_json and err_console.is_terminal
    with err_console.status("comparing scenarios") if busy else contextlib.nullcontext():
        done = run_comparison(
            sources,
            draws=draws,
            seed=seed,
            workers=workers,
            out=out,
            options=options,
            executor=executor,
            scheduler=scheduler,
        )
    if as_json:
        head = {"output_folder": None if out is None else str(out)}
        head["files"] = [str(f) for f in done.files]
        print(json.dumps(head | done.comparison.to_dict(), indent=2))
        return
    out_console.print(Markdown(comparison_markdown(done.comparison)))
    if out is not None:
        out_console.print(f"report, figures, data and run folders in {out}")


@app.command()
def plot(
    result: Annotated[Path, typer.Argument(help="Result folder of smasim run.")],
    out: Annotated[
        Path | None, typer.Option(help="Folder for the PNG figures (default: RESULT/plots).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Draw one run's fan chart, first-year ECDF and agreement dates (PNG files)."""
    from smasim.experiments.comparison.plots import plot_run

    figures = plot_run(result, out=out)
    if as_json:
        print(json.dumps({"files": [str(p) for p in figures.paths()]}, indent=2))
        return
    for p in figures.paths():
        out_console.print(f"wrote {p}")


@app.command()
def sensitivity(
    config: ConfigArg = None,
    params: Annotated[
        str | None,
        typer.Option(help="Comma-separated parameters (default: the uncertain political ones)."),
    ] = None,
    groups: Annotated[
        str | None, typer.Option(help="Groups analysed as one factor each: us=a+b,kr=c+d.")
    ] = None,
    metric: Annotated[
        str, typer.Option(help="first_year, amount_YYYY, total, p_lapse, lapse_months, ...")
    ] = "first_year",
    n: Annotated[int, typer.Option("--n", help="Base rows N of the design (a power of 2).")] = 8192,
    seed: Annotated[int | None, typer.Option(help="Root seed (default: config's).")] = None,
    others: Annotated[
        str, typer.Option(help="Parameters not analysed: random (common draws) or central.")
    ] = "random",
    workers: Annotated[
        int, typer.Option(help="Worker processes; results do not depend on it.")
    ] = 1,
    out: Annotated[
        Path | None, typer.Option(help="Result folder (default: runs/NAME-sensitivity-TIME).")
    ] = None,
    executor: ExecutorOpt = "local",
    scheduler: SchedulerOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Sobol' indices of a metric over political parameters, with a tornado (one at a time)."""
    from smasim.experiments.sensitivity import analysis as sa

    _positive("--workers", workers)
    _executor(executor, scheduler)
    cfg = load_config(config)
    out = _fresh_out(out, cfg.experiment.name, "sensitivity")
    names = None if params is None else [p.strip() for p in params.split(",") if p.strip()]
    result = sa.sensitivity(
        config,
        params=names,
        groups=sa.parse_groups(groups),
        metric=metric,
        n=n,
        seed=seed,
        others=others,
        workers=workers,
        out=out,
        executor=executor,
        scheduler=scheduler,
    )
    for w in result.sobol.warnings:
        err_console.print(f"warning: {w}", markup=False, soft_wrap=True)
    if as_json:
        print(json.dumps({"result_folder": str(out), **result.to_dict()}, indent=2))
        return
    _print_sensitivity(result)
    oat_runs = 0 if result.oat is None else result.oat.draws * (2 * len(result.oat.rows) + 1)
    where = (
        f"{workers} worker{'s' if workers > 1 else ''}"
        if executor == "local"
        else f"Dask at {scheduler}"
    )
    out_console.print(
        f"{result.evaluations:,} model runs for the indices and {oat_runs:,} one at a time in "
        f"{result.elapsed_s:.1f} s ({where}); results in {out}"
    )


@app.command()
def sweep(
    config: ConfigArg = None,
    param: Annotated[
        str, typer.Option(help="NAME or NAME=lo:hi:n (default range: 5%-95% quantiles, 11 points).")
    ] = ...,
    param2: Annotated[
        str | None, typer.Option(help="A second parameter, NAME or NAME=lo:hi:n: a heatmap.")
    ] = None,
    metric: Annotated[
        str, typer.Option(help="p_lapse, first_year, amount_YYYY, total, ...")
    ] = "p_lapse",
    draws_per_point: Annotated[
        int, typer.Option(help="Common draws averaged at every grid point.")
    ] = 2048,
    seed: Annotated[int | None, typer.Option(help="Root seed (default: config's).")] = None,
    others: Annotated[
        str, typer.Option(help="Parameters not swept: random (common draws) or central.")
    ] = "random",
    workers: Annotated[
        int, typer.Option(help="Worker processes; results do not depend on it.")
    ] = 1,
    out: Annotated[
        Path | None, typer.Option(help="Result folder (default: runs/NAME-sweep-TIME).")
    ] = None,
    executor: ExecutorOpt = "local",
    scheduler: SchedulerOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A metric over a grid of one or two parameters (line plot or heatmap)."""
    from smasim.experiments.sensitivity import analysis as sa

    _positive("--workers", workers)
    _executor(executor, scheduler)
    cfg = load_config(config)
    out = _fresh_out(out, cfg.experiment.name, "sweep")
    result = sa.sweep(
        config,
        axes=[param] if param2 is None else [param, param2],
        metric=metric,
        draws_per_point=draws_per_point,
        seed=seed,
        others=others,
        workers=workers,
        out=out,
        executor=executor,
        scheduler=scheduler,
    )
    if as_json:
        print(json.dumps({"result_folder": str(out), **result.to_dict()}, indent=2))
        return
    _print_sweep(result)
    out_console.print(f"{result.elapsed_s:.1f} s; results in {out}")


def _fresh_out(out: Path | None, name: str, kind: str) -> Path:
    from smasim.experiments.sensitivity.store import default_folder

    out = default_folder(name, kind) if out is None else out
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BadInput(f"--out: {out} already exists and is not empty")
    return out


def _fmt_metric(x: float, unit: str) -> str:
    if unit == "probability":
        return f"{100 * x:.1f}%"
    return f"{x:,.1f}" if unit == "bn KRW" else f"{x:,.2f}"


def _print_sensitivity(result) -> None:
    s, m, u = result.sobol, result.metric, result.metric.unit
    pct = round(100 * s.confidence)
    table = Table(
        title=f"{result.experiment.name}: Sobol' indices of the {m.description} ({u}), % of "
        f"its variance given the model's own randomness; N = {s.indices.n:,} base rows, "
        f"other parameters {result.others}"
    )
    table.add_column("factor", no_wrap=True)
    table.add_column(f"S1 % [{pct}% CI]", justify="right", no_wrap=True)
    table.add_column(f"ST % [{pct}% CI]", justify="right", no_wrap=True)
    for row in result.indices_table():
        name = row["factor"] if "+" not in row["members"] else f"{row['factor']} ({row['members']})"
        table.add_row(
            name,
            f"{100 * row['S1']:5.1f} [{100 * row['S1_low']:5.1f}, {100 * row['S1_high']:5.1f}]",
            f"{100 * row['ST']:5.1f} [{100 * row['ST_low']:5.1f}, {100 * row['ST_high']:5.1f}]",
        )
    out_console.print(table)
    out_console.print(
        f"metric mean {_fmt_metric(s.mean, u)} {u}; sd {_fmt_metric(s.variance**0.5, u)} {u} in "
        f"all, {_fmt_metric(s.conditional_variance**0.5, u)} {u} given the model's own "
        f"randomness and the parameters not analysed, which alone explain "
        f"{100 * s.noise_share:.1f}% of the variance"
    )
    check = (
        "indices agree within their intervals"
        if s.converged
        else f"WARNING: {len(s.warnings)} indices disagree beyond their intervals (see above)"
    )
    out_console.print(
        f"convergence check (N/2 = {s.half.n:,} vs N = {s.indices.n:,} base rows): {check}"
    )
    oat = result.oat
    if oat is None:
        return
    q_lo, q_hi = (round(100 * q) for q in oat.quantiles)
    table = Table(
        title=f"one at a time, the others central: {m.description} ({u}), mean over the same "
        f"{oat.draws:,} noise rows; all central {_fmt_metric(oat.base, u)} {u}"
    )
    table.add_column("parameter", no_wrap=True)
    table.add_column(f"{q_lo}% / {q_hi}% value (unit)")
    for col in (f"at {q_lo}%", f"at {q_hi}%", "swing"):
        table.add_column(f"{col} ({u})", justify="right", no_wrap=True)
    for r in oat.rows:
        table.add_row(
            r.name,
            f"{r.low_value:.3g} / {r.high_value:.3g} ({_unit(r.name)})",
            _fmt_metric(r.low, u),
            _fmt_metric(r.high, u),
            _fmt_metric(r.swing, u),
        )
    out_console.print(table)


def _unit(name: str) -> str:
    from smasim.models.parameters import PARAMETERS

    return PARAMETERS[name].unit


def _print_sweep(result) -> None:
    m, axes = result.metric, result.axes
    a0 = axes[0]
    title = (
        f"{result.experiment.name}: {m.mean_label} ({m.unit}) over "
        f"{result.draws_per_point:,} common draws per point, other parameters {result.others}"
    )
    table = Table(title=title)
    table.add_column(f"{a0.name} ({_unit(a0.name)})", justify="right")
    if len(axes) == 1:
        table.add_column(f"{m.name} ({m.unit})", justify="right")
        table.add_column("± se", justify="right")
        for x, y, se in zip(a0.values, result.mean, result.se, strict=True):
            table.add_row(f"{x:.4g}", _fmt_metric(y, m.unit), _fmt_metric(se, m.unit))
    else:
        a1 = axes[1]
        table.title = f"{title}\nrows: {a0.name}; columns: {a1.name} ({_unit(a1.name)})"
        for x in a1.values:
            table.add_column(f"{x:.4g}", justify="right")
        for i, x in enumerate(a0.values):
            table.add_row(f"{x:.4g}", *(_fmt_metric(y, m.unit) for y in result.mean[i]))
    out_console.print(table)


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
    median = summary["agreement_date"]["q50"] or "none (no draw reached an agreement)"
    out_console.print(f"median agreement date:               {median}")


class _progress:
    """A rich progress bar over draws on stderr (silent for --json or a non-terminal)."""

    def __init__(self, total: int, *, quiet: bool) -> None:
        self.total = total
        self.enabled = not quiet and err_console.is_terminal
        self.bar = Progress(
            TextColumn("simulating"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("draws"),
            TimeRemainingColumn(),
            console=err_console,
            transient=True,
        )

    def __enter__(self):
        if not self.enabled:
            return None
        self.bar.start()
        task = self.bar.add_task("run", total=self.total)
        return lambda n: self.bar.advance(task, n)

    def __exit__(self, *exc) -> None:
        if self.enabled:
            self.bar.stop()


def _plain(v: Any) -> Any:
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, dt.date | dt.datetime):
        return v.isoformat()
    if isinstance(v, float) and v != v:
        return None
    return v


def _terminate(signum, frame) -> None:
    raise KeyboardInterrupt


@app.command()
def history(as_json: JsonOpt = False) -> None:
    """Print the sourced SMA record: Korea's contribution by year, derived values marked."""
    import math

    from smasim.experiments.record.data import load_record

    rows = load_record().history
    if as_json:
        print(json.dumps([r.to_dict() for r in rows], indent=2))
        return
    table = Table(title="Korea's SMA contribution by year (data/sma_history.csv)")
    for col in ("year", "SMA", "amount (bn KRW)", "change (%)", "status", "how it was set"):
        table.add_column(col, justify="right" if col in ("year", "SMA") or "(" in col else "left")
    for r in rows:
        derived = r.status == "derived"
        amount = "" if math.isnan(r.amount_bn_krw) else f"{r.amount_bn_krw:,.1f}"
        table.add_row(
            str(r.year),
            str(r.sma_round),
            amount + (" *" if derived else ""),
            "" if math.isnan(r.change_pct) else f"{r.change_pct:+.1f}",
            r.status,
            _first_clause(r.rule),
        )
    out_console.print(table)
    out_console.print(
        "* derived: arithmetic on sourced inputs, not read from a source (data/record_notes.md); "
        "missing: no KRW figure found; future: set by the 12th SMA's CPI formula. "
        "Sources: smasim history --json"
    )


@app.command()
def backtest(
    draws: Annotated[int, typer.Option(help="Monte Carlo draws per negotiation.")] = 20_000,
    seed: Annotated[
        int | None, typer.Option(help="One seed for every config (default: each config's).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for backtest.json, backtest.md and backtest.png."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Score the model on the past negotiations (7th-12th SMA) against a naive forecast."""
    from rich.markdown import Markdown

    from smasim.experiments.record.backtest import run_backtest
    from smasim.experiments.record.report import backtest_markdown

    _positive("--draws", draws)
    _backtest_checks(seed, out)
    busy = not as_json and err_console.is_terminal
    with err_console.status("backtesting 5 negotiations") if busy else _nullcontext():
        result = run_backtest(draws=draws, seed=seed, out=out)
    if as_json:
        print(json.dumps({"output_folder": _str_or_none(out), **result.to_dict()}, indent=2))
        return
    out_console.print(Markdown(backtest_markdown(result)))
    where = f"; backtest.json, backtest.md and backtest.png in {out}" if out else ""
    out_console.print(f"{len(result.rows)} negotiations in {result.elapsed_s:.1f} s{where}")


@app.command()
def calibrate(
    eval_draws: Annotated[
        int, typer.Option(help="Draws per negotiation in each objective evaluation.")
    ] = 2_000,
    max_evals: Annotated[int, typer.Option(help="Objective evaluations per fit.")] = 40,
    score_draws: Annotated[
        int, typer.Option(help="Draws per negotiation for the reported scores.")
    ] = 20_000,
    seed: Annotated[
        int | None, typer.Option(help="One seed for every config (default: each config's).")
    ] = None,
    loo: Annotated[
        bool, typer.Option("--loo/--no-loo", help="Also fit leaving each negotiation out.")
    ] = True,
    write: Annotated[
        Path | None,
        typer.Option(help="Write a config (TOML) extending --base with the fitted values."),
    ] = None,
    base: Annotated[
        str, typer.Option(help="Bundled config the --write config extends.")
    ] = DEFAULT_CONFIG,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for calibration.json, calibration.md and calibration.png."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Fit the shared behavioural parameters to the past negotiations, with leave-one-out."""
    from rich.markdown import Markdown

    from smasim.experiments.record.calibrate import calibrate as fit
    from smasim.experiments.record.knobs import write_calibrated_config
    from smasim.experiments.record.report import calibration_markdown

    for name, v in (("--eval-draws", eval_draws), ("--max-evals", max_evals)):
        _positive(name, v)
    _positive("--score-draws", score_draws)
    _backtest_checks(seed, out)
    if base not in bundled_configs():
        raise BadInput(f"--base: {base!r} is not a bundled config; see smasim configs")
    if write is not None and write.exists():
        raise BadInput(f"--write: {write} already exists; choose another path")
    busy = not as_json and err_console.is_terminal
    with err_console.status("calibrating (a few minutes)") if busy else _nullcontext():
        result = fit(
            eval_draws=eval_draws,
            max_evals=max_evals,
            score_draws=score_draws,
            seed=seed,
            leave_one_out=loo,
            out=out,
        )
    written = None
    if write is not None:
        written = write_calibrated_config(result.fit.parameters, write, base=base)
    if as_json:
        head = {"output_folder": _str_or_none(out), "written_config": _str_or_none(written)}
        print(json.dumps(head | result.to_dict(), indent=2, default=str))
        return
    out_console.print(Markdown(calibration_markdown(result)))
    out_console.print(
        f"calibrated in {result.elapsed_s:.1f} s"
        + (f"; files in {out}" if out else "")
        + (f"; config written to {written}" if written else "")
    )


def _first_clause(text: str) -> str:
    """``text`` up to its first ``;`` outside parentheses."""
    depth = 0
    for i, ch in enumerate(text):
        depth += (ch == "(") - (ch == ")")
        if ch == ";" and depth == 0:
            return text[:i]
    return text


def _backtest_checks(seed: int | None, out: Path | None) -> None:
    if seed is not None and seed < 0:
        raise BadInput(f"--seed: must be a non-negative integer, got {seed}")
    if out is not None and out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BadInput(f"--out: {out} already exists and is not empty")


def _str_or_none(p: Path | None) -> str | None:
    return None if p is None else str(p)


def _nullcontext():
    import contextlib

    return contextlib.nullcontext()


def _one_line(text: str) -> str:
    """``text`` on one printable line, whatever a library's message holds.

    Line breaks become spaces; other unprintable characters (which ``str.splitlines`` also
    treats as line breaks, e.g. ``\\x1e``) are escaped as in a Python string.
    """
    text = " ".join(text.splitlines())
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


_PATH_ERRORS = {errno.ENAMETOOLONG, errno.EACCES, errno.EROFS, errno.ENOTDIR}


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning every input error into one line and exit code 2."""
    from smasim.simulation.executors import BatchFailed
    from smasim.simulation.memory import keep_freed_memory

    signal.signal(signal.SIGTERM, _terminate)  # stop like Ctrl-C: finished batches are kept
    keep_freed_memory()  # this process is ours: see simulation.memory
    try:
        code = app(args=argv, standalone_mode=False)
    except (ConfigError, StoreError, BadInput, ValueError) as exc:
        line = _one_line(str(exc))
        err_console.print(f"error: {line}", markup=False, soft_wrap=True)
        return 2
    except OSError as exc:
        # a path the user gave that cannot be created is bad input, not a crash
        if exc.errno not in _PATH_ERRORS:
            raise
        reason = exc.strerror or type(exc).__name__
        err_console.print(
            f"error: --out: cannot create {_one_line(str(exc.filename))}: {reason}",
            markup=False,
            soft_wrap=True,
        )
        return 2
    except BatchFailed as exc:
        # only `run` keeps its finished batches; compare, sensitivity and sweep start over
        resumable = (sys.argv[1:] if argv is None else argv)[:1] == ["run"]
        hint = "; the finished batches are kept: rerun with --resume" if resumable else ""
        err_console.print(f"error: {exc}{hint}", markup=False, soft_wrap=True)
        return 1
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("interrupted: no result folder was written", markup=False)
        return 130
    except typer.Exit as exc:
        return exc.exit_code
    except Exception as exc:
        # usage errors of Typer's command-line parser (Click's ClickException family)
        code = getattr(exc, "exit_code", None)
        if code is None or not hasattr(exc, "format_message"):
            raise
        ctx = getattr(exc, "ctx", None)
        where = f"{ctx.command_path}: " if ctx is not None else ""
        message = _one_line(f"{where}{exc.format_message()}")
        err_console.print(f"error: {message}", markup=False, soft_wrap=True)
        return code
    # Typer returns the code of a typer.Exit raised in a command when not standalone
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
