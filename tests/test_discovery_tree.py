"""Scenario discovery's CART view: the planted box, its rules' statistics, the settings."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from smasim.experiments.discovery.tree import grow, tree_markdown

pytest.importorskip("sklearn")  # the discover extra, part of the test extra

NAMES = ("x1", "x2", "x3")


def test_tree_best_leaf_is_the_planted_box(planted):
    x, y = planted
    tree = grow(x, y, names=NAMES, max_depth=3, min_leaf=0.01)
    best = tree.rules[0]
    assert best.density >= 0.9
    assert best.restricted == [0, 1]  # x3 is not in the rule
    assert best.lower[0] == pytest.approx(0.7, abs=0.05) and best.upper[0] == np.inf
    assert best.upper[1] == pytest.approx(0.4, abs=0.05) and best.lower[1] == -np.inf
    # the statistics are the rule's, counted on the draws: PRIM's definitions
    inside = (x[:, 0] > best.lower[0]) & (x[:, 1] <= best.upper[1])
    assert best.size == inside.sum()
    assert best.density == pytest.approx(y[inside].mean())
    assert best.coverage == pytest.approx(y[inside].sum() / y.sum())
    assert best.support == pytest.approx(inside.mean())
    assert best.text(NAMES) == f"x1 > {best.lower[0]:.4g} and x2 <= {best.upper[1]:.4g}"


def test_tree_rules_partition_the_draws_they_predict(planted):
    x, y = planted
    tree = grow(x, y, names=NAMES, max_depth=4, min_leaf=0.01)
    hits = np.zeros(y.size, dtype=int)
    for r in tree.rules:
        hits += np.all((x > r.lower) & (x <= r.upper), axis=1)
        assert r.size >= tree.min_leaf == 400
    assert hits.max() == 1  # no draw is in two leaves
    assert [r.density for r in tree.rules] == sorted((r.density for r in tree.rules), reverse=True)


def test_tree_is_reproducible(planted):
    x, y = planted
    first = grow(x, y, names=NAMES, max_depth=3).to_dict()
    assert grow(x.copy(), y.copy(), names=NAMES, max_depth=3).to_dict() == first


def test_a_minority_everywhere_gives_no_rule():
    rng = np.random.default_rng(2)
    x = rng.uniform(size=(5000, 2))
    y = rng.uniform(size=5000) < 0.1  # noise, unrelated to x
    tree = grow(x, y, names=("a", "b"), max_depth=2)
    assert tree.rules == [] and tree.leaves >= 1
    assert "(no leaf: the outcome is the minority in every leaf)" in tree_markdown(tree, draws=5000)


def test_large_thresholds_read_with_thousands_separators():
    from smasim.experiments.discovery.tree import _label, number

    assert number(1834.567) == "1,835" and number(0.57499) == "0.575" and number(7.0) == "7"
    label = "b <= 1834.5\nsamples = 20000\nvalue = [7032.0, 12968.0]\nclass = yes"
    assert _label(label) == "b <= 1,834\nsamples = 20,000\nno / yes = 7,032 / 12,968\nclass = yes"


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"max_depth": 0}, "max_depth"),
        ({"max_depth": 2.5}, "max_depth"),
        ({"max_depth": 9}, "max_depth"),
        ({"min_leaf": 0.0}, "min_leaf"),
        ({"min_leaf": 0.5}, "min_leaf"),
    ],
)
def test_bad_tree_settings_name_the_field(planted, settings, field):
    x, y = planted
    with pytest.raises(ValueError, match=rf"^{field}: "):
        grow(x, y, names=NAMES, **settings)


def test_missing_sklearn_names_the_extra(planted, monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.tree", None)
    x, y = planted
    with pytest.raises(ValueError, match=r'^tree: .*pip install "smasim\[discover\]"$'):
        grow(x, y, names=NAMES)
