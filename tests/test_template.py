"""`smasim init`: a commented config template that validates as written and when uncommented."""

from __future__ import annotations

import re

import numpy as np
import pytest

from smasim import cli
from smasim.experiments.config.load import build_experiment, load_config
from smasim.experiments.config.template import config_template, toml_value
from smasim.simulation.montecarlo import run


@pytest.mark.parametrize("base", ["sma12_may2024", "today_reopening", "sma13_2029"])
def test_the_template_runs_as_its_base_as_written_and_with_every_value_uncommented(base, tmp_path):
    """As written it only renames its base; uncommenting every value line (tables and
    parameters, not the example event) restates the base's values: the same draws, bit for
    bit."""
    text = config_template("mine", base)
    written = tmp_path / "mine.toml"
    written.write_text(text)
    # the calendar events are commented as a block: restating the base keeps its list
    events = re.findall(r"^# \[\[calendar\.events\]\]\n(?:# [a-z]+ = .*\n)+", text, re.M)
    assert events
    body = text
    for block in events:
        body = body.replace(block, "")
    restated_text = re.sub(r"^# ([a-z_0-9]+ = .*$)", r"\1", body, flags=re.M)
    restated = tmp_path / "restated.toml"
    restated.write_text(restated_text)
    assert restated_text.count("\n# ") < text.count("\n# ") / 2  # most lines now set a value
    # one line uncommented alone lands in its own table
    one = tmp_path / "one.toml"
    one.write_text(re.sub(r"^# (hard_stop = .*)$", r"\1", text, count=1, flags=re.M))
    assert load_config(one).calendar.hard_stop == load_config(base).calendar.hard_stop
    tables = {}
    for path in (written, restated, None):
        cfg = load_config(base if path is None else path)
        tables[path] = run(build_experiment(cfg), draws=500, seed=3).columns
    for name in ("outcome", "base_bn_krw", "total_bn_krw"):
        for path in (written, restated):
            np.testing.assert_array_equal(tables[path][name], tables[None][name], err_msg=name)


def test_init_writes_a_new_file_and_refuses_to_overwrite_or_a_bad_base(tmp_path, capsys):
    out = tmp_path / "x.toml"
    assert cli.main(["init", "x", "--from", "today_base", "--out", str(out)]) == 0
    assert 'extends = "today_base"' in out.read_text()
    assert cli.main(["init", "x", "--out", str(out)]) == 2
    assert "--out" in capsys.readouterr().err
    assert cli.main(["init", "y", "--from", "nope", "--out", str(tmp_path / "y.toml")]) == 2
    assert "--from" in capsys.readouterr().err
    assert not (tmp_path / "y.toml").exists()


def test_toml_values_round_trip():
    import tomllib

    value = {"dist": "uniform", "loc": 0.5, "a b": [1, 2.5], "q": 'say "x"'}
    assert tomllib.loads(f"v = {toml_value(value)}")["v"] == value
