"""Commands over finished runs: ``compare`` (scenarios side by side) and ``plot`` (one run)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from smasim.commands.options import (
    BadInput,
    ExecutorOpt,
    JsonOpt,
    LateProgress,
    SchedulerOpt,
    WorkersOpt,
    check_draws,
    check_executor,
    check_positive,
    out_console,
    print_markdown,
)


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
    workers: WorkersOpt = 1,
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
    from smasim.experiments.comparison.compare import run_comparison
    from smasim.experiments.comparison.options import CompareOptions
    from smasim.experiments.comparison.report import comparison_markdown

    check_draws(draws)
    check_positive("--workers", workers)
    if len(sources) < 2:
        raise BadInput("compare: give at least two result folders or configs")
    check_executor(executor, scheduler)
    options = CompareOptions(thresholds_bn_krw=tuple(threshold or ()), discount_rate=discount_rate)
    with LateProgress("simulating the scenarios", quiet=as_json) as progress:
        done = run_comparison(
            sources,
            draws=draws,
            seed=seed,
            workers=workers,
            out=out,
            options=options,
            executor=executor,
            scheduler=scheduler,
            progress=progress,
        )
    if as_json:
        head = {"output_folder": None if out is None else str(out)}
        head["files"] = [str(f) for f in done.files]
        print(json.dumps(head | done.comparison.to_dict(), indent=2))
        return
    print_markdown(comparison_markdown(done.comparison))
    if out is not None:
        out_console.print(f"report, figures, data and run folders in {out}")


def plot(
    result: Annotated[Path, typer.Argument(help="Result folder of smasim run.")],
    out: Annotated[
        Path | None, typer.Option(help="Folder for the figures (default: RESULT/plots).")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="png (150 dpi), or svg / pdf (vector, for reports).")
    ] = "png",
    as_json: JsonOpt = False,
) -> None:
    """Draw one run's fan chart, first-year ECDF and agreement dates."""
    from smasim.experiments.comparison.plots import plot_run

    figures = plot_run(result, out=out, fmt=fmt)
    if as_json:
        print(json.dumps({"files": [str(p) for p in figures.paths()]}, indent=2))
        return
    for p in figures.paths():
        out_console.print(f"wrote {p}")
