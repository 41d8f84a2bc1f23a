"""CART: a classification tree as the second view of scenario discovery, its leaves as rules.

Breiman et al. (1984) grow a tree by splitting the draws, one parameter at a threshold at a
time, where the split most lowers the Gini impurity of the outcome; scenario discovery reads
each leaf whose majority is the outcome as a rule, the conjunction of the splits on the way
to it (Lempert et al. 2008). Next to PRIM's single box
(:mod:`experiments.discovery.prim`) the tree shows *all* the regions where the outcome is the
majority, each with the statistics PRIM reports:

* **coverage**: the share of all cases of interest that the leaf holds,
* **density**: the share of the leaf's draws that are cases of interest,
* **support**: the share of all draws in the leaf.

The tree is scikit-learn's :class:`~sklearn.tree.DecisionTreeClassifier` (the ``discover``
extra, imported only when a tree is grown), kept shallow (``max_depth``) and with leaves of
at least a share ``min_leaf`` of the draws, so that each rule is short and holds enough draws
to mean something. ``random_state`` is fixed: scikit-learn breaks ties between equally good
splits at random, and the same run must give the same rules.

A split sends ``x <= threshold`` left, so a rule's limits are ``lower < x <= upper``;
thresholds are midpoints between neighbouring sampled values (in single precision, as
scikit-learn computes them). The statistics are counted on
the run's table with the rule as written, so that they can be reproduced from it.

References
----------
Breiman, L., Friedman, J. H., Olshen, R. A. and Stone, C. J. (1984). Classification and
Regression Trees. Wadsworth.
Lempert, R. J., Bryant, B. P. and Bankes, S. C. (2008). Comparing algorithms for scenario
discovery. RAND Working Paper WR-557-NSF.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

EXTRA = 'pip install "smasim[discover]"'
MAX_DEPTH = 8  # deeper rules stop being readable, and the figure with them
RANDOM_STATE = 0


@dataclass(frozen=True)
class Rule:
    """One leaf that predicts the outcome: ``lower < x <= upper`` for every parameter.

    Attributes
    ----------
    leaf : int
        The leaf's node number in the tree (``node #`` in ``tree.png``).
    lower, upper : ndarray, shape (d,)
        The limits per parameter, in its unit; ``-inf`` / ``inf`` where the rule sets none.
    coverage, density, support : float
        Share of all cases inside; share of the leaf's draws that are cases; share of all
        draws inside.
    size : int
        Draws inside.
    """

    leaf: int
    lower: np.ndarray
    upper: np.ndarray
    coverage: float
    density: float
    support: float
    size: int

    @property
    def restricted(self) -> list[int]:
        """Indices of the parameters the rule limits."""
        return [int(j) for j in np.flatnonzero(np.isfinite(self.lower) | np.isfinite(self.upper))]

    def text(self, names: tuple[str, ...]) -> str:
        """The rule as ``a <= 0.31 and 1,200 < b <= 1,850`` (numbers rounded for reading)."""
        parts = []
        for j in self.restricted:
            lo, hi = self.lower[j], self.upper[j]
            if np.isfinite(lo) and np.isfinite(hi):
                parts.append(f"{number(lo)} < {names[j]} <= {number(hi)}")
            elif np.isfinite(lo):
                parts.append(f"{names[j]} > {number(lo)}")
            else:
                parts.append(f"{names[j]} <= {number(hi)}")
        return " and ".join(parts) or "(every draw)"


@dataclass(frozen=True)
class Tree:
    """A fitted tree and the rules of its leaves that predict the outcome.

    Attributes
    ----------
    names : tuple of str
        The parameters (columns of the ``x`` it was grown on).
    rules : list of Rule
        The leaves predicting the outcome, densest first (then by coverage); may be empty
        when the outcome is the minority everywhere.
    leaves : int
        All leaves of the tree.
    max_depth : int
    min_leaf : int
        Fewest draws a leaf may hold.
    model : sklearn.tree.DecisionTreeClassifier
        The fitted estimator (for :func:`tree_figure`).
    """

    names: tuple[str, ...]
    rules: list[Rule]
    leaves: int
    max_depth: int
    min_leaf: int
    model: Any

    def to_dict(self, units: dict[str, str] | None = None) -> dict[str, Any]:
        """JSON-ready rules; unbounded limits are ``null``."""
        units = units or {}

        def bound(v: float) -> float | None:
            return float(v) if np.isfinite(v) else None

        return {
            "max_depth": self.max_depth,
            "min_samples_leaf": self.min_leaf,
            "random_state": RANDOM_STATE,
            "leaves": self.leaves,
            "rules": [
                {
                    "leaf": r.leaf,
                    "rule": r.text(self.names),
                    "coverage": r.coverage,
                    "density": r.density,
                    "support": r.support,
                    "draws": r.size,
                    "limits": [
                        {
                            "name": self.names[j],
                            "unit": units.get(self.names[j], ""),
                            "lower": bound(r.lower[j]),
                            "upper": bound(r.upper[j]),
                        }
                        for j in r.restricted
                    ],
                }
                for r in self.rules
            ],
        }


def check_settings(*, max_depth: int, min_leaf: float) -> None:
    """Raise a ``ValueError`` naming the setting that is out of range."""
    if (
        isinstance(max_depth, bool)
        or not isinstance(max_depth, int | np.integer)
        or not (1 <= max_depth <= MAX_DEPTH)
    ):
        raise ValueError(f"max_depth: must be an integer from 1 to {MAX_DEPTH}, got {max_depth}")
    if not 0.0 < min_leaf < 0.5:
        raise ValueError(f"min_leaf: must be in (0, 0.5), got {min_leaf}")


def require_sklearn() -> None:
    """Raise a one-line ``ValueError`` naming the extra if scikit-learn is missing."""
    try:
        import sklearn.tree  # noqa: F401
    except ImportError:
        msg = f"tree: the CART tree needs scikit-learn, the discover extra: {EXTRA}"
        raise ValueError(msg) from None


def grow(
    x: np.ndarray,
    y: np.ndarray,
    *,
    names: tuple[str, ...],
    max_depth: int = 3,
    min_leaf: float = 0.01,
) -> Tree:
    """Grow the tree and read its rules (see the module notes).

    Parameters
    ----------
    x : ndarray, shape (n, d)
        The draws' parameters, each in its unit.
    y : ndarray of bool, shape (n,)
        Whether each draw is a case of interest.
    names : tuple of str, length d
        The parameters' names.
    max_depth : int
        Most splits from the root to a leaf, 1 to :data:`MAX_DEPTH`.
    min_leaf : float
        Fewest draws a leaf may hold, as a share of ``n`` in (0, 0.5).

    Returns
    -------
    Tree
    """
    check_settings(max_depth=max_depth, min_leaf=min_leaf)
    require_sklearn()
    from sklearn.tree import DecisionTreeClassifier

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=bool)
    n, d = x.shape
    if n == 0 or y.size != n or len(names) != d:
        raise ValueError("x, y: need one outcome and one name per parameter for each draw")
    smallest = max(1, math.ceil(min_leaf * n))
    model = DecisionTreeClassifier(
        max_depth=int(max_depth), min_samples_leaf=smallest, random_state=RANDOM_STATE
    ).fit(x, y)
    t = model.tree_
    positive = int(np.flatnonzero(model.classes_)[0]) if model.classes_.size == 2 else None
    cases = max(int(y.sum()), 1)
    rules, leaves = [], 0
    stack = [(0, np.full(d, -np.inf), np.full(d, np.inf))]
    while stack:
        node, lower, upper = stack.pop()
        left, right = t.children_left[node], t.children_right[node]
        if left == -1:
            leaves += 1
            if positive is not None and int(np.argmax(t.value[node][0])) == positive:
                inside = np.all((x > lower) & (x <= upper), axis=1)
                size, hits = int(inside.sum()), int(y[inside].sum())
                rules.append(Rule(int(node), lower, upper, hits / cases,
                                  hits / size if size else 0.0, size / n, size))  # fmt: skip
            continue
        j, threshold = int(t.feature[node]), float(t.threshold[node])
        left_upper, right_lower = upper.copy(), lower.copy()
        left_upper[j] = min(upper[j], threshold)
        right_lower[j] = max(lower[j], threshold)
        stack += [(right, right_lower, upper), (left, lower, left_upper)]
    rules.sort(key=lambda r: (-r.density, -r.coverage, r.leaf))
    return Tree(tuple(names), rules, leaves, int(max_depth), smallest, model)


def number(v: float) -> str:
    """``v`` for reading: four significant digits, thousands separated from 1,000 on."""
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.0f}" if float(v).is_integer() else f"{v:.4g}"


def tree_markdown(tree: Tree, *, draws: int) -> str:
    """The rules as a Markdown section of the discovery report."""
    covered = sum(r.coverage for r in tree.rules)
    lines = [
        f"CART tree (scikit-learn, depth <= {tree.max_depth}, leaves of at least "
        f"{tree.min_leaf:,} of {draws:,} draws): {len(tree.rules)} of {tree.leaves} leaves "
        f"predict the outcome, together holding {100 * covered:.1f} % of its draws.",
        "",
        "| leaf | rule | coverage | density | share of draws |",
        "|---:|---|---:|---:|---:|",
    ]
    for r in tree.rules:
        lines.append(
            f"| {r.leaf} | {r.text(tree.names)} | {r.coverage:.2f} | {r.density:.2f} "
            f"| {100 * r.support:.1f} % |"
        )
    if not tree.rules:
        lines.append("| | (no leaf: the outcome is the minority in every leaf) | | | |")
    return "\n".join(lines) + "\n"


_VALUE = re.compile(r"value = \[\s*([\d.]+),\s*([\d.]+)\s*\]")
_LARGE = re.compile(r"(?<![\d.])\d{4,}(?:\.\d+)?")


def _label(text: str) -> str:
    # "value = [7032.0, 12968.0]" -> "no / yes = 7,032 / 12,968": a list of numbers with
    # thousands separators would read as four numbers
    text = _VALUE.sub(lambda m: f"no / yes = {number(float(m[1]))} / {number(float(m[2]))}", text)
    return _LARGE.sub(lambda m: number(float(m[0])), text)


def tree_figure(tree: Tree, path: Path, *, outcome: str) -> None:
    """The tree drawn by :func:`sklearn.tree.plot_tree`, leaves numbered as in the rules (PNG)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from sklearn.tree import plot_tree

    width = max(8.0, 2.4 * tree.leaves)
    fig = Figure(figsize=(min(width, 40.0), 2.0 * (tree.max_depth + 1) + 0.6))
    FigureCanvasAgg(fig)  # plot_tree measures its boxes with the canvas's renderer
    ax = fig.subplots()
    labels = plot_tree(tree.model, ax=ax, feature_names=list(tree.names), class_names=["no", "yes"],
                       filled=True, impurity=False, node_ids=True, rounded=True, precision=3,
                       fontsize=8)  # fmt: skip
    for label in labels:  # thousands separated: "samples = 20,000", "no / yes = 7,032 / 12,968"
        label.set_text(_label(label.get_text()))
    ax.set_title(f"CART tree: draws where {outcome} (yes) or not (no)", fontsize=10)
    fig.savefig(path, dpi=150, format="png")
