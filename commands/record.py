"""Commands on the past negotiations: ``history``, ``backtest`` and ``calibrate``."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated

import typer
from rich.markdown import Markdown
from rich.table import Table

from smasim.commands.options import (
    BadInput,
    EachSeedOpt,
    JsonOpt,
    busy,
    check_draws,
    check_seed,
    out_console,
)
from smasim.experiments.config.load import bundled_configs
from smasim.experiments.config.schema import DEFAULT_CONFIG
from smasim.experiments.record.backtest import run_backtest
from smasim.experiments.record.calibrate import calibrate as fit
from smasim.experiments.record.data import load_record
from smasim.experiments.record.knobs import write_calibrated_config
from smasim.experiments.record.report import backtest_markdown, calibration_markdown


def history(as_json: JsonOpt = False) -> None:
    """Print the sourced SMA record: Korea's contribution by year, derived values marked."""
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


def backtest(
    draws: Annotated[int, typer.Option(help="Monte Carlo draws per negotiation.")] = 20_000,
    seed: EachSeedOpt = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for backtest.json, backtest.md and backtest.png."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Score the model on the past negotiations (7th-12th SMA) beside two baselines."""
    check_draws(draws)
    check_seed(seed)
    with busy("backtesting 5 negotiations", quiet=as_json):
        result = run_backtest(draws=draws, seed=seed, out=out)
    if as_json:
        print(json.dumps({"output_folder": _str_or_none(out), **result.to_dict()}, indent=2))
        return
    out_console.print(Markdown(backtest_markdown(result)))
    where = f"; backtest.json, backtest.md and backtest.png in {out}" if out else ""
    out_console.print(f"{len(result.rows)} negotiations in {result.elapsed_s:.1f} s{where}")


def calibrate(
    eval_draws: Annotated[
        int, typer.Option(help="Draws per negotiation in each objective evaluation.")
    ] = 2_000,
    max_evals: Annotated[int, typer.Option(help="Objective evaluations per fit.")] = 40,
    score_draws: Annotated[
        int, typer.Option(help="Draws per negotiation for the reported scores.")
    ] = 20_000,
    seed: EachSeedOpt = None,
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
    check_seed(seed)
    # checked before minutes of fitting, not when the config is written after them
    if base not in bundled_configs():
        raise BadInput(f"--base: {base!r} is not a bundled config; see smasim configs")
    if write is not None and write.exists():
        raise BadInput(f"--write: {write} already exists; choose another path")
    with busy("calibrating (a few minutes)", quiet=as_json):
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


def _str_or_none(p: Path | None) -> str | None:
    return None if p is None else str(p)
