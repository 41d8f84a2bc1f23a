"""Commands on the past negotiations: ``history``, ``backtest`` and ``calibrate``."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from smasim.commands.options import (
    BACKTEST_BYTES_PER_DRAW,
    CALIBRATE_BYTES_PER_DRAW,
    EachSeedOpt,
    JsonOpt,
    check_draws,
    check_seed,
    draw_progress,
    out_console,
    print_markdown,
)
from smasim.experiments.record.defaults import STUDY_DRAWS, STUDY_SEED, TARGET_ESS


def history(as_json: JsonOpt = False) -> None:
    """Print the sourced SMA record: Korea's contribution by year, derived values marked."""
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


def backtest(
    draws: Annotated[int, typer.Option(help="Monte Carlo draws per negotiation.")] = 20_000,
    seed: EachSeedOpt = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for backtest.json, backtest.md and backtest.png."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Score the model on the past negotiations (6th-12th SMA) beside two baselines."""
    from smasim.experiments.record.backtest import run_backtest
    from smasim.experiments.record.report import backtest_markdown

    check_draws(draws, bytes_per_draw=BACKTEST_BYTES_PER_DRAW)
    check_seed(seed)
    from smasim.experiments.record.forecast import CASES

    with draw_progress(draws * len(CASES), quiet=as_json) as advance:
        result = run_backtest(draws=draws, seed=seed, out=out, progress=advance)
    if as_json:
        print(json.dumps({"output_folder": _str_or_none(out), **result.to_dict()}, indent=2))
        return
    print_markdown(backtest_markdown(result))
    where = f"; backtest.json, backtest.md and backtest.png in {out}" if out else ""
    out_console.print(f"{len(result.rows)} negotiations in {result.elapsed_s:.1f} s{where}")


def calibrate(
    draws: Annotated[
        int, typer.Option(help="Common prior draws, simulated once per past negotiation.")
    ] = STUDY_DRAWS,
    seed: Annotated[int, typer.Option(help="Seed of the shared parameters' draws.")] = STUDY_SEED,
    target_ess: Annotated[
        int, typer.Option(help="Effective draws each fit keeps (sets the ABC bandwidth).")
    ] = int(TARGET_ESS),
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for calibration.json and calibration.md."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Bayesian calibration on the past negotiations, judged leave-one-out and in time order."""
    from smasim.experiments.record.forecast import CASES
    from smasim.experiments.record.study import run_study, study_markdown

    check_draws(draws, bytes_per_draw=CALIBRATE_BYTES_PER_DRAW)
    check_seed(seed)
    with draw_progress(draws * len(CASES), quiet=as_json) as advance:
        study = run_study(draws=draws, seed=seed, target_ess=target_ess, out=out,
                          progress=advance)  # fmt: skip
    if as_json:
        print(json.dumps({"output_folder": _str_or_none(out), **study.to_dict()}, indent=2))
        return
    print_markdown(study_markdown(study))
    where = f"; calibration.json and calibration.md in {out}" if out else ""
    out_console.print(f"calibrated in {study.elapsed_s:.1f} s{where}")


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
