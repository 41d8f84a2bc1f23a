"""``smasim discover``: PRIM and CART on a run's per-draw table, reported like every result.

The candidate drivers are the run's sampled parameters (the ``param_*`` columns that vary);
the cases of interest are the draws where the outcome expression holds
(:mod:`experiments.discovery.expression`). The result: the peeling trajectory (coverage,
density, support), the chosen box with each restricted parameter's range and quasi-p-value
(:mod:`experiments.discovery.prim`), with ``tree`` a CART tree's rules on the same parameters
and outcome (:mod:`experiments.discovery.tree`), and, with ``out``, ``discovery.json``,
``discovery.md`` and ``tradeoff.png`` (and ``tree.json``, ``tree.png``) written atomically.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from smasim.experiments.discovery.expression import evaluate
from smasim.experiments.discovery.prim import Box, expected_steps, peel, restrictions, select
from smasim.experiments.discovery.tree import (
    Tree,
    check_settings,
    grow,
    require_sklearn,
    tree_figure,
    tree_markdown,
)
from smasim.experiments.runs.folders import require_empty, write_folder
from smasim.experiments.runs.store import read_config_json, read_draws
from smasim.models.parameters import PARAMETERS

PARAM_PREFIX = "param_"


@dataclass(frozen=True)
class Discovery:
    """What led to the outcome in one run.

    Attributes
    ----------
    source : str
        The result folder.
    outcome : str
        The outcome expression.
    names : tuple of str
        The candidate parameters (columns of ``x``).
    draws, cases : int
        Draws in the run; draws where the outcome holds.
    trajectory : list of Box
    chosen : int
        Index of the reported box.
    limits : list of dict
        The chosen box's restricted parameters (see :func:`experiments.discovery.prim.restrictions`)
        with ``name`` and ``unit``.
    tree : Tree or None
        The CART view (:mod:`experiments.discovery.tree`), when asked for.
    """

    source: str
    outcome: str
    names: tuple[str, ...]
    draws: int
    cases: int
    trajectory: list[Box]
    chosen: int
    limits: list[dict]
    tree: Tree | None = None

    @property
    def box(self) -> Box:
        """The reported box."""
        return self.trajectory[self.chosen]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready result."""
        return {
            "source": self.source,
            "outcome": self.outcome,
            "draws": self.draws,
            "cases": self.cases,
            "base_rate": self.cases / self.draws,
            "candidates": list(self.names),
            "chosen": self.chosen,
            "box": {
                "coverage": self.box.coverage,
                "density": self.box.density,
                "support": self.box.support,
                "draws": self.box.size,
                "limits": self.limits,
            },
            "trajectory": [
                {
                    "coverage": b.coverage,
                    "density": b.density,
                    "support": b.support,
                    "restricted": _restricted_count(b, self.trajectory[0]),
                }
                for b in self.trajectory
            ],
            "tree": None if self.tree is None else self.tree_dict(),
        }

    def tree_dict(self) -> dict[str, Any]:
        """The CART view as written to ``tree.json``."""
        if self.tree is None:
            raise ValueError("tree: this discovery grew no tree")
        units = {n: _unit(n) for n in self.names}
        return {"source": self.source, "outcome": self.outcome, "draws": self.draws,
                "cases": self.cases, **self.tree.to_dict(units)}  # fmt: skip


def discover(
    folder: str | Path,
    outcome: str,
    *,
    alpha: float = 0.05,
    min_support: float = 0.05,
    min_coverage: float = 0.5,
    tree: bool = False,
    max_depth: int = 3,
    min_leaf: float = 0.01,
    out: str | Path | None = None,
    progress=None,
) -> Discovery:
    """Scenario discovery on a finished run folder (see the module notes).

    With ``tree``, a CART tree of depth at most ``max_depth`` and leaves of at least a share
    ``min_leaf`` of the draws is grown on the same parameters and outcome
    (:func:`experiments.discovery.tree.grow`; needs the ``discover`` extra). ``progress``
    (an object with ``start(total)`` and ``advance(n)``, e.g. a progress bar) is told the
    expected peeling steps, then each step (at 10^6 draws a step takes ~0.5 s).

    Raises
    ------
    OutcomeError
        If the expression cannot be read (names ``outcome``).
    StoreError
        If the folder is not a valid finished run or ``out`` is not empty.
    ValueError
        If the outcome never or always holds, or the run kept no parameters (``--no-draws``),
        or ``tree`` is asked for without scikit-learn (names ``tree`` and the extra).
    """
    if out is not None:
        require_empty(out)
    check_settings(max_depth=max_depth, min_leaf=min_leaf)
    if tree:
        require_sklearn()
    if not 0.0 <= min_coverage <= 1.0:
        raise ValueError(f"min_coverage: must be in [0, 1], got {min_coverage}")
    if not 0.0 < alpha < 0.5:  # checked again by peel, but before the table is read
        raise ValueError(f"alpha: must be in (0, 0.5), got {alpha}")
    if not 0.0 < min_support < 1.0:
        raise ValueError(f"min_support: must be in (0, 1), got {min_support}")
    read_config_json(folder)  # a hostile folder is refused before its data is used
    table = read_draws(folder)
    y = evaluate(outcome, table)
    names = tuple(
        k[len(PARAM_PREFIX) :]
        for k in table
        if k.startswith(PARAM_PREFIX) and np.unique(table[k]).size > 1
    )
    if not names:
        raise ValueError(
            "folder: the run kept no sampled parameters (run without --no-draws to discover)"
        )
    if not 0 < y.sum() < y.size:
        raise ValueError(
            f"outcome: {outcome!r} holds in {int(y.sum())} of {y.size:,} draws; "
            "discovery needs some draws where it holds and some where it does not"
        )
    x = np.column_stack([table[PARAM_PREFIX + n] for n in names])
    step = None
    if progress is not None:
        progress.start(expected_steps(alpha, min_support))
        step = functools.partial(progress.advance, 1)
    trajectory = peel(x, y, alpha=alpha, min_support=min_support, on_step=step)
    chosen = select(trajectory, min_coverage=min_coverage)
    limits = [
        {"name": names[r["index"]], "unit": _unit(names[r["index"]]), **r}
        for r in restrictions(x, y, trajectory[chosen])
    ]
    cart = grow(x, y, names=names, max_depth=max_depth, min_leaf=min_leaf) if tree else None
    result = Discovery(str(folder), outcome, names, int(y.size), int(y.sum()), trajectory,
                       chosen, limits, cart)  # fmt: skip
    if out is not None:
        prim_only = {k: v for k, v in result.to_dict().items() if k != "tree"}
        files = {
            "discovery.json": lambda p: p.write_text(json.dumps(prim_only, indent=2)),
            "discovery.md": lambda p: p.write_text(discovery_markdown(result)),
            "tradeoff.png": lambda p: tradeoff_figure(result, p),
        }
        if cart is not None:
            files["tree.json"] = lambda p: p.write_text(json.dumps(result.tree_dict(), indent=2))
            files["tree.png"] = lambda p: tree_figure(cart, p, outcome=outcome)
        write_folder(out, files)
    return result


def discovery_markdown(d: Discovery) -> str:
    """The chosen box and the trade-off it was picked from, as Markdown."""
    b = d.box
    lines = [
        f"Outcome `{d.outcome}` holds in {d.cases:,} of {d.draws:,} draws "
        f"({100 * d.cases / d.draws:.1f} %). PRIM over {len(d.names)} sampled parameters; "
        f"box {d.chosen} of {len(d.trajectory) - 1} peeling steps: coverage {b.coverage:.2f} "
        f"(share of the outcome's draws inside), density {b.density:.2f} (share of the box's "
        f"draws with the outcome), {100 * b.support:.1f} % of all draws.",
        "",
        "| parameter | unit | range in the box | range in the run | quasi-p-value |",
        "|---|---|---:|---:|---:|",
    ]
    for r in d.limits:
        lines.append(
            f"| {r['name']} | {r['unit']} | {r['lower']:.4g} to {r['upper']:.4g} "
            f"| {r['data_lower']:.4g} to {r['data_upper']:.4g} | {r['p_value']:.1e} |"
        )
    if not d.limits:
        lines.append("| (no restriction: the whole run) | | | | |")
    lines += [
        "",
        "Peeling trajectory (every few steps): coverage, density, parameters restricted.",
        "",
        "| step | coverage | density | support | restricted |",
        "|---:|---:|---:|---:|---:|",
    ]
    step = max(1, len(d.trajectory) // 12)
    for i in sorted({*range(0, len(d.trajectory), step), d.chosen, len(d.trajectory) - 1}):
        t = d.trajectory[i]
        mark = " (chosen)" if i == d.chosen else ""
        lines.append(
            f"| {i}{mark} | {t.coverage:.2f} | {t.density:.2f} | {t.support:.3f} "
            f"| {_restricted_count(t, d.trajectory[0])} |"
        )
    if d.tree is not None:
        lines += ["", tree_markdown(d.tree, draws=d.draws).rstrip("\n")]
    return "\n".join(lines) + "\n"


def tradeoff_figure(d: Discovery, path: Path) -> None:
    """Coverage against density along the trajectory, the chosen box marked (PNG)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4.5))
    ax = fig.subplots()
    cov = [b.coverage for b in d.trajectory]
    den = [b.density for b in d.trajectory]
    n = [_restricted_count(b, d.trajectory[0]) for b in d.trajectory]
    points = ax.scatter(cov, den, c=n, cmap="viridis", s=18)
    ax.scatter([d.box.coverage], [d.box.density], s=120, facecolors="none", edgecolors="red",
               label=f"chosen box ({d.chosen})")  # fmt: skip
    fig.colorbar(points, ax=ax, label="parameters restricted")
    ax.set_xlabel("coverage (share of the outcome's draws in the box)")
    ax.set_ylabel("density (share of the box's draws with the outcome)")
    ax.set_title(f"PRIM trade-off: {d.outcome}", fontsize=10)
    ax.legend(loc="lower left")
    fig.savefig(path, dpi=150, format="png")


def _restricted_count(box: Box, whole: Box) -> int:
    return int(np.sum((box.lower > whole.lower) | (box.upper < whole.upper)))


def _unit(name: str) -> str:
    spec = PARAMETERS.get(name)
    return spec.unit if spec is not None else ""
