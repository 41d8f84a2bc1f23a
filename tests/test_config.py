"""Tests of config loading and validation (:mod:`experiments.config`).

Every bundled config must load and build; ``extends`` must override only what the child
writes; bad parameters must be refused with a one-line :class:`ConfigError` naming the field.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from smasim.experiments.config.load import build_experiment, bundled_configs, load_config
from smasim.experiments.config.schema import DEFAULT_CONFIG, ConfigError
from smasim.models.parameters import PARAMETERS
from smasim.simulation.sampling import ParameterSpec


def write_child(tmp_path: Path, body: str, name: str = "child.toml") -> Path:
    """A config file extending the default bundled config."""
    path = tmp_path / name
    path.write_text(f'[experiment]\nextends = "{DEFAULT_CONFIG}"\n{body}\n', encoding="utf-8")
    return path


def with_parameter(tmp_path: Path, line: str) -> Path:
    return write_child(tmp_path, f"\n[parameters]\n{line}")


def refused(path: Path, field_pattern: str) -> ConfigError:
    """Assert loading ``path`` fails with one line that starts by naming the field."""
    with pytest.raises(ConfigError, match=rf"^{field_pattern}") as info:
        load_config(path)
    assert "\n" not in str(info.value)
    return info.value


# --- bundled configs -------------------------------------------------------------------------
def test_default_config_is_bundled():
    """Protects: the CLI's default config name resolves to a bundled file."""
    assert DEFAULT_CONFIG in bundled_configs()
    assert load_config(None) == load_config(DEFAULT_CONFIG)


@pytest.mark.parametrize("name", sorted(bundled_configs()))
def test_bundled_config_loads_and_builds_with_increasing_rounds(name):
    """Protects: every shipped config validates and becomes a runnable Experiment whose
    round days start at 0, strictly increase and stay within the hard stop."""
    cfg = load_config(name)
    assert cfg.experiment.description, "bundled configs describe themselves"
    exp = build_experiment(cfg)
    days = exp.calendar.round_days
    assert days.size >= len([d for d in cfg.calendar.round_dates if d <= cfg.calendar.hard_stop])
    assert days[0] == 0.0
    assert np.all(np.diff(days) > 0), "round days are not strictly increasing"
    assert days[-1] <= exp.hard_stop_day
    assert {s.name for s in exp.specs} == set(PARAMETERS)
    assert exp.report_years == tuple(
        range(cfg.agreement.report_first_year, cfg.agreement.report_last_year + 1)
    )


# --- extends ---------------------------------------------------------------------------------
def test_extends_overrides_only_the_parameter_it_writes(tmp_path):
    """Protects: a child changing parameters.us_pressure keeps everything else of the parent
    (calendar, agreement, experiment, the other parameters)."""
    parent = load_config(DEFAULT_CONFIG)
    kid = load_config(with_parameter(tmp_path, "us_pressure = 0.5"))
    assert kid.parameters["us_pressure"] == 0.5
    assert parent.parameters["us_pressure"] != 0.5
    assert kid.calendar == parent.calendar
    assert kid.agreement == parent.agreement
    assert kid.experiment.model_dump(exclude={"extends"}) == parent.experiment.model_dump(
        exclude={"extends"}
    )
    others = set(PARAMETERS) - {"us_pressure"}
    # (a parameter neither writes takes the registry default in both)
    assert {p: kid.parameters.get(p) for p in others} == {
        p: parent.parameters.get(p) for p in others
    }
    np.testing.assert_array_equal(
        build_experiment(kid).calendar.round_days, build_experiment(parent).calendar.round_days
    )


def test_extends_merges_tables_key_by_key(tmp_path):
    """Protects: overriding one key of [experiment] or [calendar] keeps the table's others."""
    parent = load_config(DEFAULT_CONFIG)
    kid = load_config(write_child(tmp_path, "draws = 500\n\n[calendar]\nexpiry = 2026-06-30"))
    assert kid.experiment.draws == 500
    assert kid.experiment.seed == parent.experiment.seed
    assert kid.experiment.name == parent.experiment.name
    assert kid.calendar.expiry == dt.date(2026, 6, 30)
    assert kid.calendar.round_dates == parent.calendar.round_dates
    assert kid.calendar.hard_stop == parent.calendar.hard_stop


def test_extends_replaces_arrays_whole(tmp_path):
    """Protects: an array in the child (round_dates) replaces the parent's, not appends."""
    kid = load_config(write_child(tmp_path, "\n[calendar]\nround_dates = [2024-04-23, 2024-05-21]"))
    assert kid.calendar.round_dates == [dt.date(2024, 4, 23), dt.date(2024, 5, 21)]
    days = build_experiment(kid).calendar.round_days
    assert days[:2].tolist() == [0.0, 28.0]
    assert np.all(np.diff(days) > 0)


@pytest.mark.parametrize("target", ['"sma99_nonexistent"', '"other.toml"', "3"])
def test_extends_a_non_bundled_config_is_refused(tmp_path, target):
    """Protects: `extends` only accepts bundled config names, naming experiment.extends."""
    (tmp_path / "other.toml").write_text('[experiment]\nname = "other"\n', encoding="utf-8")
    path = tmp_path / "child.toml"
    path.write_text(f"[experiment]\nextends = {target}\n", encoding="utf-8")
    refused(path, r"experiment\.extends:")


# --- parameters ------------------------------------------------------------------------------
def test_categorical_parameter_is_accepted_with_normalised_weights(tmp_path):
    """Protects: a valid {choices, weights} parameter loads, weights normalised to 1."""
    cfg = load_config(
        with_parameter(tmp_path, "us_pressure = { choices = [0.2, 0.8], weights = [1.0, 3.0] }")
    )
    spec = next(s for s in build_experiment(cfg).specs if s.name == "us_pressure")
    assert isinstance(spec, ParameterSpec)
    assert spec.choices == (0.2, 0.8)
    assert spec.weights == pytest.approx((0.25, 0.75))


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("{ choices = [0.2, 0.8], weights = [1.0] }", id="fewer-weights"),
        pytest.param("{ choices = [0.2], weights = [0.5, 0.5] }", id="more-weights"),
        pytest.param("{ choices = [0.2, 1.8] }", id="choice-above-range"),
        pytest.param("{ choices = [-0.1, 0.5], weights = [1.0, 1.0] }", id="choice-below-range"),
        pytest.param("{ choices = [0.2, 0.8], weights = [0.0, 0.0] }", id="zero-weights"),
        pytest.param("{ choices = [0.2, 0.8], weights = [-1.0, 2.0] }", id="negative-weight"),
        pytest.param("{ choices = [] }", id="no-choices"),
    ],
)
def test_bad_categorical_parameter_is_refused_naming_it(tmp_path, value):
    """Protects: mismatched or out-of-range categorical parameters are refused, naming the
    parameter."""
    refused(with_parameter(tmp_path, f"us_pressure = {value}"), r"parameters\.us_pressure\b")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("us_pressure", "1.5"),
        ("us_pressure", "-0.1"),
        ("us_pressure", "nan"),
        ("us_pressure", "inf"),
        ("krw_per_usd", "50.0"),
        ("us_amount_weight", "0"),
    ],
)
def test_constant_outside_parameter_range_is_refused(tmp_path, name, value):
    """Protects: a constant outside the parameter's admissible range is refused, naming it."""
    info = PARAMETERS[name]
    assert not info.low <= float(value) <= info.high  # the case really is out of range
    refused(with_parameter(tmp_path, f"{name} = {value}"), rf"parameters\.{name}:")


@pytest.mark.parametrize("name", ["us_pressure", "krw_per_usd"])
def test_constant_at_range_bounds_is_accepted(tmp_path, name):
    """Protects: the range check is inclusive (a bound itself is a valid constant)."""
    info = PARAMETERS[name]
    for bound in (info.low, info.high):
        cfg = load_config(with_parameter(tmp_path, f"{name} = {float(bound)!r}"))
        assert cfg.parameters[name] == bound


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ('nk_threat = { dist = "beta", a = -1, b = 2 }', "nk_threat"),
        ('audience_cost = { dist = "uniform", loc = 0.02, scale = -0.01 }', "audience_cost"),
        ('veto_strength = { dist = "no_such_dist", a = 2 }', "veto_strength"),
        ('us_pressure = { dist = "norm", loc = 0.3, scale = 0.1 }', "us_pressure"),
        ('us_pressure = { dist = "uniform", loc = 0.1, scale = 0.3, shape = 2 }', "us_pressure"),
        ('us_pressure = "0.3"', "us_pressure"),
    ],
)
def test_bad_distribution_is_refused_naming_the_parameter(tmp_path, line, field):
    """Protects: impossible or unbounded distributions (and strings) are refused by name."""
    refused(with_parameter(tmp_path, line), rf"parameters\.{field}\b")


def test_bounded_distribution_inside_range_is_accepted(tmp_path):
    """Protects: the distribution checks do not refuse a valid truncated normal."""
    line = 'us_pressure = { dist = "truncnorm", a = -2, b = 2, loc = 0.5, scale = 0.2 }'
    spec = next(
        s
        for s in build_experiment(load_config(with_parameter(tmp_path, line))).specs
        if s.name == "us_pressure"
    )
    assert spec.central() == pytest.approx(0.5)


def test_reservations_beyond_ideals_are_refused(tmp_path):
    """Protects: the reservation-vs-ideal check for both sides, naming the reservation."""
    kr = write_child(
        tmp_path,
        "\n[parameters]\nkr_ideal_increase = 0.10\nkr_reservation_increase = 0.02",
        name="kr.toml",
    )
    refused(kr, r"parameters\.kr_reservation_increase:")
    us = write_child(
        tmp_path,
        "\n[parameters]\nus_ideal_increase = 0.05\nus_reservation_increase = 0.10",
        name="us.toml",
    )
    refused(us, r"parameters\.us_reservation_increase:")


def test_a_parameter_the_config_leaves_out_takes_its_registry_default():
    """Protects: a config lists only what it sets; left-out parameters take the registry's
    defaults (the default config's values), so a config without [parameters] runs the very
    draws of the default config, bit for bit."""
    from smasim.experiments.config.load import build_experiment, read_raw, validate
    from smasim.simulation.montecarlo import run

    data, _ = read_raw(DEFAULT_CONFIG)
    bare = {**data, "parameters": {}}
    full_run = run(build_experiment(validate(data)), draws=600, seed=3)
    bare_run = run(build_experiment(validate(bare)), draws=600, seed=3)
    for name, column in full_run.columns.items():
        assert column.tobytes() == bare_run.columns[name].tobytes(), name
    # and a parameter set in the config overrides its default
    one = {**data, "parameters": {"krw_per_usd": 1000.0}}
    cols = run(build_experiment(validate(one)), draws=50, seed=3).columns
    assert (cols["param_krw_per_usd"] == 1000.0).all()
    assert all(isinstance(p.default, float | dict) for p in PARAMETERS.values())


def test_the_old_name_of_the_concept_is_refused_with_its_new_name(tmp_path):
    """Protects: configs written before the concept had one name say what to write now."""
    path = tmp_path / "old.toml"
    path.write_text('[experiment]\nextends = "sma12_may2024"\nname = "old"\nsolution = "nash"\n')
    with pytest.raises(ConfigError, match=r"^experiment\.solution: renamed: write concept = "):
        load_config(path)


def test_extends_names_a_bundled_config_never_a_local_file(tmp_path, monkeypatch):
    """A file called like a bundled config in the working directory used to replace it as the
    base of every config extending that name."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sma12_may2024").write_text('[experiment]\nname = "impostor"\n')
    child = tmp_path / "child.toml"
    child.write_text('[experiment]\nextends = "sma12_may2024"\nname = "child"\n')
    cfg = load_config(child)
    assert cfg.experiment.name == "child" and cfg.agreement.status_quo_bn_krw == 1402.8


def test_files_extending_each_other_are_one_line_not_a_recursion_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sma12_may2024").write_text('[experiment]\nextends = "sma12_high_pressure"\n')
    (tmp_path / "sma12_high_pressure").write_text('[experiment]\nextends = "sma12_may2024"\n')
    cfg = load_config(tmp_path / "sma12_may2024")  # the bundled bases, not the local files
    assert cfg.experiment.name == "sma12_high_pressure"


@pytest.mark.parametrize("nested", ["[" * 5000 + "]" * 5000, "{a = " * 3000 + "1" + "}" * 3000])
def test_deeply_nested_toml_is_one_line_not_a_recursion_error(tmp_path, nested):
    """Protects: Python's TOML parser recurses into nested arrays and inline tables; a file
    nesting thousands deep raised RecursionError with a traceback, not a config error."""
    path = tmp_path / "deep.toml"
    path.write_text(f"[parameters]\nus_pressure = {nested}\n", encoding="utf-8")
    # (a TOML parser with its own nesting limit says so in its own words)
    refused(path, "config: malformed TOML in .*deep.toml: ")


def test_dates_outside_the_talks_are_named_as_changing_nothing(tmp_path):
    """Protects: an event on or before the first round (23 Apr 2024) or after the hard stop
    (30 Jun 2027), and an election on or before the first round, are valid but do nothing:
    each is named in one warning line (`smasim run` / `validate` print them); an election
    after the hard stop is not, since it still sets Korea's look-ahead to the inauguration."""
    assert all(not load_config(n).calendar.idle_dates() for n in bundled_configs())
    events = (
        '\n[calendar]\nelection = 2024-04-01\n\n[[calendar.events]]\nkind = "troop_change"\n'
        'date = 2024-04-23\n\n[[calendar.events]]\nkind = "kr_election"\ndate = 2027-07-01'
    )
    warnings = load_config(write_child(tmp_path, events)).calendar.idle_dates()
    assert warnings == [
        "calendar.election: the election on 2024-04-01 is on or before the first round "
        "(2024-04-23) and changes nothing",
        "calendar.events.0.date: the troop_change event on 2024-04-23 is on or before the "
        "first round (2024-04-23) and changes nothing",
        "calendar.events.1.date: the kr_election event on 2027-07-01 is after hard_stop "
        "(2027-06-30) and changes nothing",
    ]
    late = load_config(write_child(tmp_path, "\n[calendar]\nelection = 2028-11-07", "late.toml"))
    assert late.calendar.idle_dates() == []
