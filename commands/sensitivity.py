"""Sensitivity commands: ``sensitivity`` (Sobol' indices and a tornado) and ``sweep`` (a grid)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from smasim.commands.options import (
    ConfigArg,
    ExecutorOpt,
    JsonOpt,
    LateProgress,
    SchedulerOpt,
    SeedOpt,
    WorkersOpt,
    check_executor,
    check_positive,
    err_console,
    out_console,
)
from smasim.experiments.runs.folders import require_empty

if TYPE_CHECKING:  # the results are imported with the analysis, when a command runs
    from smasim.experiments.sensitivity.results import SensitivityResult, SweepResult


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
    seed: SeedOpt = None,
    others: Annotated[
        str, typer.Option(help="Parameters not analysed: random (common draws) or central.")
    ] = "random",
    workers: WorkersOpt = 1,
    out: Annotated[
        Path | None, typer.Option(help="Result folder (default: runs/NAME-sensitivity-TIME).")
    ] = None,
    executor: ExecutorOpt = "local",
    scheduler: SchedulerOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Sobol' indices of a metric over political parameters, with a tornado (one at a time)."""
    from smasim.experiments.config.load import load_config
    from smasim.experiments.sensitivity import analysis as sa
    from smasim.experiments.sensitivity.store import default_folder

    check_positive("--workers", workers)
    check_executor(executor, scheduler)
    cfg = load_config(config)
    out = require_empty(default_folder(cfg.experiment.name, "sensitivity") if out is None else out)
    names = None if params is None else [p.strip() for p in params.split(",") if p.strip()]
    with LateProgress("Sobol' indices", quiet=as_json, unit="model runs") as progress:
        result = sa.sensitivity(
            cfg,
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
            progress=progress,
        )
    _report_sensitivity(result, out, workers, executor, scheduler, as_json)


def _report_sensitivity(result, out, workers, executor, scheduler, as_json) -> None:
    for w in result.sobol.warnings:
        err_console.print(f"warning: {w}", markup=False, soft_wrap=True)
    if as_json:
        print(json.dumps({"result_folder": str(out), **result.to_dict()}, indent=2))
        return
    _print_sensitivity(result)
    oat_runs = 0 if result.oat is None else result.oat.evaluations
    where = (
        f"{workers} worker{'s' if workers > 1 else ''}"
        if executor == "local"
        else f"Dask at {scheduler}"
    )
    out_console.print(
        f"{result.evaluations:,} model runs for the indices and {oat_runs:,} one at a time in "
        f"{result.elapsed_s:.1f} s ({where}); results in {out}"
    )


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
    seed: SeedOpt = None,
    others: Annotated[
        str, typer.Option(help="Parameters not swept: random (common draws) or central.")
    ] = "random",
    workers: WorkersOpt = 1,
    out: Annotated[
        Path | None, typer.Option(help="Result folder (default: runs/NAME-sweep-TIME).")
    ] = None,
    executor: ExecutorOpt = "local",
    scheduler: SchedulerOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A metric over a grid of one or two parameters (line plot or heatmap)."""
    from smasim.experiments.config.load import load_config
    from smasim.experiments.sensitivity import analysis as sa
    from smasim.experiments.sensitivity.store import default_folder

    check_positive("--workers", workers)
    check_executor(executor, scheduler)
    cfg = load_config(config)
    out = require_empty(default_folder(cfg.experiment.name, "sweep") if out is None else out)
    with LateProgress("sweep", quiet=as_json, unit="model runs") as progress:
        result = sa.sweep(
            cfg,
            axes=[param] if param2 is None else [param, param2],
            metric=metric,
            draws_per_point=draws_per_point,
            seed=seed,
            others=others,
            workers=workers,
            out=out,
            executor=executor,
            scheduler=scheduler,
            progress=progress,
        )
    if as_json:
        print(json.dumps({"result_folder": str(out), **result.to_dict()}, indent=2))
        return
    _print_sweep(result)
    out_console.print(f"{result.elapsed_s:.1f} s; results in {out}")


def _fmt_metric(x: float, unit: str) -> str:
    if unit == "probability":
        return f"{100 * x:.1f}%"
    return f"{x:,.1f}" if unit == "bn KRW" else f"{x:,.2f}"


def _unit(name: str) -> str:
    from smasim.models.parameters import PARAMETERS

    return PARAMETERS[name].unit


def _print_sensitivity(result: SensitivityResult) -> None:
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


def _print_sweep(result: SweepResult) -> None:
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
