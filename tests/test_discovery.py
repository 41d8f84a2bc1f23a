"""Scenario discovery: PRIM on data with a known box, the outcome expressions, the command."""

from __future__ import annotations

import json

import numpy as np
import pytest

from smasim.experiments.discovery.expression import OutcomeError, evaluate
from smasim.experiments.discovery.prim import peel, restrictions, select


def test_prim_finds_the_planted_box_and_ignores_the_irrelevant_parameter(planted):
    x, y = planted
    trajectory = peel(x, y, alpha=0.05, min_support=0.05)
    assert trajectory[0].coverage == 1.0 and trajectory[0].support == 1.0
    # density rises along the trajectory as coverage falls
    assert trajectory[-1].density > trajectory[0].density
    box = trajectory[select(trajectory, min_coverage=0.8)]
    assert box.density > 0.95 and box.coverage >= 0.8
    limits = {r["index"]: r for r in restrictions(x, y, box)}
    assert set(limits) == {0, 1}  # x3 is not restricted
    assert limits[0]["lower"] == pytest.approx(0.7, abs=0.03)
    assert limits[0]["upper"] == limits[0]["data_upper"]  # x1 is limited from below only
    assert limits[1]["upper"] == pytest.approx(0.4, abs=0.03)
    assert limits[1]["lower"] == limits[1]["data_lower"]
    assert all(r["p_value"] < 1e-10 for r in limits.values())


def test_prim_peels_whole_categories_of_a_discrete_parameter():
    rng = np.random.default_rng(1)
    x = np.column_stack([rng.integers(0, 4, 20_000), rng.uniform(size=20_000)])
    y = x[:, 0] == 3
    box = peel(x, y, alpha=0.05)[-1]
    assert box.lower[0] == 3 and box.density == 1.0


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("outcome == 2", [False, True, False, True]),
        ("amount > 1800", [False, False, True, True]),
        ("outcome == 2 and amount > 1800", [False, False, False, True]),
        ("outcome == 0 or amount >= 1900", [True, False, False, True]),
        ("amount<1.5e3", [True, False, False, False]),
    ],
)
def test_outcome_expressions(expression, expected):
    cols = {"outcome": np.array([0, 2, 1, 2]), "amount": np.array([1400.0, 1700, 1850, 1900])}
    np.testing.assert_array_equal(evaluate(expression, cols), expected)


@pytest.mark.parametrize(
    "expression",
    ["", "outcome = 2", "__import__('os').system('x') == 1", "nope > 1", "outcome > two"],
)
def test_bad_outcome_expressions_name_the_field(expression):
    with pytest.raises(OutcomeError, match=r"^outcome: "):
        evaluate(expression, {"outcome": np.array([0, 2])})


# --- the command on a real run (the run_folder fixture: conftest) ---------------------------
def test_discover_writes_its_folder_and_its_box_holds_the_outcome(run_folder, tmp_path, capsys):
    from smasim import cli
    from smasim.experiments.runs.store import read_draws

    out = tmp_path / "d"
    assert cli.main(["discover", str(run_folder), "--outcome", "lapse_months > 0",
                     "--out", str(out), "--json"]) == 0  # fmt: skip
    doc = json.loads(capsys.readouterr().out)
    assert {p.name for p in out.iterdir()} == {"discovery.json", "discovery.md", "tradeoff.png"}
    assert doc["tree"] is None
    assert (out / "tradeoff.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    box = doc["box"]
    assert box["coverage"] >= 0.5 and box["density"] > doc["base_rate"]
    # the reported limits reproduce the box's statistics from the per-draw table
    table = read_draws(run_folder)
    inside = np.ones(doc["draws"], dtype=bool)
    for r in box["limits"]:
        x = table["param_" + r["name"]]
        inside &= (x >= r["lower"]) & (x <= r["upper"])
    y = table["lapse_months"] > 0
    assert inside.sum() == box["draws"]
    assert y[inside].mean() == pytest.approx(box["density"])


def test_discover_shows_a_bar_over_its_peeling_steps(run_folder, monkeypatch, capsys):
    """Protects: discover at 10^6 draws ran ~45 s without a word; it now shows a bar (with an
    ETA) over the ~ln(min_support) / ln(1 - alpha) peeling steps, advanced once a step."""
    from smasim import cli
    from smasim.commands import discover as command

    seen = []

    class Recorder:
        def __init__(self, label, *, quiet, unit):
            seen.append(("bar", label, unit))

        def start(self, n):
            seen.append(("start", n))

        def advance(self, n):
            seen.append(("advance", n))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            seen.append(("stop",))

    monkeypatch.setattr(command, "LateProgress", Recorder)
    argv = ["discover", str(run_folder), "--outcome", "lapse_months > 0", "--json"]
    assert cli.main(argv) == 0
    steps = len(json.loads(capsys.readouterr().out)["trajectory"]) - 1
    # ln(0.05) / ln(0.95) = 58.4: at most 59 steps of 5 %
    assert seen[:2] == [("bar", "peeling", "steps"), ("start", 59)] and seen[-1] == ("stop",)
    assert seen[2:-1] == [("advance", 1)] * steps and 0 < steps <= 59


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (["--outcome", "lapse_months >> 0"], "--outcome"),
        (["--outcome", "outcome == 9"], "outcome"),
        (["--outcome", "outcome == 0", "--alpha", "0.7"], "--alpha"),
        (["--outcome", "outcome == 0", "--tree", "--max-depth", "0"], "--max-depth"),
        (["--outcome", "outcome == 0", "--tree", "--max-depth", "12"], "--max-depth"),
        (["--outcome", "outcome == 0", "--tree", "--min-leaf", "0.6"], "--min-leaf"),
    ],
)
def test_bad_discover_input_is_one_line(run_folder, argv, field, capsys):
    from smasim import cli

    assert cli.main(["discover", str(run_folder), *argv]) == 2
    err = capsys.readouterr().err
    assert field in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_discover_tree_writes_its_rules_and_figure(run_folder, tmp_path, capsys):
    pytest.importorskip("sklearn")
    from smasim import cli
    from smasim.experiments.runs.store import read_draws

    out = tmp_path / "d"
    argv = ["discover", str(run_folder), "--outcome", "lapse_months > 0", "--tree", "--json"]
    assert cli.main([*argv, "--out", str(out)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {p.name for p in out.iterdir()} == {
        "discovery.json", "discovery.md", "tradeoff.png", "tree.json", "tree.png"
    }  # fmt: skip
    assert (out / "tree.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    tree = json.loads((out / "tree.json").read_text())
    assert tree == doc["tree"] and "tree" not in json.loads((out / "discovery.json").read_text())
    assert tree["max_depth"] == 3 and tree["min_samples_leaf"] == 40  # 1 % of 4,000 draws
    assert "CART tree" in (out / "discovery.md").read_text()
    # each rule's limits reproduce its statistics from the per-draw table
    table = read_draws(run_folder)
    y = table["lapse_months"] > 0
    assert tree["rules"] and tree["cases"] == y.sum()
    for rule in tree["rules"]:
        inside = np.ones(y.size, dtype=bool)
        for lim in rule["limits"]:
            x = table["param_" + lim["name"]]
            inside &= (x > (-np.inf if lim["lower"] is None else lim["lower"])) & (
                x <= (np.inf if lim["upper"] is None else lim["upper"])
            )
        assert inside.sum() == rule["draws"]
        assert y[inside].mean() == pytest.approx(rule["density"])
        assert y[inside].sum() / y.sum() == pytest.approx(rule["coverage"])
    # the same input gives the same rules
    assert cli.main(argv) == 0
    assert json.loads(capsys.readouterr().out)["tree"] == tree


def test_discover_tree_without_the_extra_is_one_line(run_folder, monkeypatch, capsys):
    import sys

    from smasim import cli

    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.tree", None)
    argv = ["discover", str(run_folder), "--outcome", "lapse_months > 0"]
    assert cli.main([*argv, "--tree"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("error: --tree: ") and 'pip install "smasim[discover]"' in err
    assert cli.main([*argv, "--json"]) == 0  # PRIM needs no extra
