"""``smasim discover``: which ranges of a run's sampled parameters lead to an outcome.

PRIM's box always; a CART tree's rules with ``--tree``. The tree is asked for rather than
grown whenever scikit-learn happens to be installed: the same command then prints the same
report on every machine, or says in one line which extra it needs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from smasim.commands.options import JsonOpt, LateProgress, out_console, print_markdown


def discover(
    result: Annotated[Path, typer.Argument(help="Result folder of smasim run.")],
    outcome: Annotated[
        str,
        typer.Option(help="Draws of interest: e.g. 'outcome == 2' or 'amount_2030_bn_krw > 1800'."),
    ],
    min_coverage: Annotated[
        float, typer.Option(help="Report the densest box holding at least this share of them.")
    ] = 0.5,
    alpha: Annotated[float, typer.Option(help="Share of the box peeled at each step.")] = 0.05,
    min_support: Annotated[
        float, typer.Option(help="Stop before the box holds less than this share of draws.")
    ] = 0.05,
    tree: Annotated[
        bool, typer.Option("--tree", help="Also a CART tree's rules (needs smasim[discover]).")
    ] = False,
    max_depth: Annotated[int, typer.Option(help="With --tree: most splits per rule.")] = 3,
    min_leaf: Annotated[
        float, typer.Option(help="With --tree: fewest draws per leaf, as a share of all.")
    ] = 0.01,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Folder for discovery.json, discovery.md, tradeoff.png (tree.json, tree.png)."
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Scenario discovery: the parameter ranges where an outcome happens (PRIM, CART)."""
    from smasim.experiments.discovery.study import discover as run_discovery
    from smasim.experiments.discovery.study import discovery_markdown

    # the library checks its arguments; the command line names them as flags (cli.main)
    with LateProgress("peeling", quiet=as_json, unit="steps") as progress:
        found = run_discovery(result, outcome, alpha=alpha, min_support=min_support,
                              min_coverage=min_coverage, tree=tree, max_depth=max_depth,
                              min_leaf=min_leaf, out=out, progress=progress)  # fmt: skip
    if as_json:
        print(json.dumps({"output_folder": None if out is None else str(out),
                          **found.to_dict()}, indent=2))  # fmt: skip
        return
    print_markdown(discovery_markdown(found))
    if out is not None:
        also = ", tree.json, tree.png" if tree else ""
        out_console.print(f"discovery.json, discovery.md, tradeoff.png{also} in {out}")
