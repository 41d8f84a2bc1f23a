"""Calibrated by default: the bundled posteriors' provenance against the record, and their use."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from smasim.experiments.config.load import build_experiment, bundled_configs, load_config
from smasim.experiments.config.schema import ConfigError
from smasim.experiments.record.data import load_record
from smasim.experiments.record.forecast import CASES, actual_outcome
from smasim.experiments.record.posteriors import CALIBRATED, fitted_on
from smasim.experiments.record.prior_runs import shared_parameters
from smasim.simulation.montecarlo import run, sample_batch


def calibrated_configs():
    return [n for n in bundled_configs() if load_config(n).calibration is not None]


def test_every_forecasting_config_is_calibrated_and_every_backtest_config_is_not():
    names = calibrated_configs()
    assert set(CALIBRATED) <= set(names)
    assert not any(n.startswith("backtest_") for n in names)


@pytest.mark.parametrize("name", calibrated_configs())
def test_posterior_was_fitted_only_on_negotiations_concluded_before_the_information_date(name):
    """Rebuilt from the record: the negotiations a forecast made on the config's information
    date may learn from are the backtested ones concluded before it; the posterior must have
    been fitted on exactly those, and under the priors the backtest configs share."""
    cfg = load_config(name)
    info = cfg.experiment.information_date
    record = load_record()
    concluded = {c.sma_round: actual_outcome(record, c.sma_round).concluded for c in CASES}
    provenance = build_experiment(cfg).posterior.provenance
    assert tuple(provenance["fitted_on"]) == fitted_on(info, concluded)
    assert all(concluded[k] < info for k in provenance["fitted_on"])
    assert provenance["information_date"] <= info.isoformat()
    shared = shared_parameters([build_experiment(load_config(c.config)) for c in CASES])
    assert provenance["priors"] == {s.name: s.prior_key() for s in shared}
    assert provenance["ess"] == pytest.approx(provenance["target_ess"], rel=1e-3)


def test_a_calibrated_batch_takes_whole_posterior_rows_and_keeps_everything_else():
    calibrated = build_experiment(load_config("sma12_may2024"))
    prior = replace(calibrated, posterior=None)
    got, noise = sample_batch(calibrated, 7, 0, 500)
    base, base_noise = sample_batch(prior, 7, 0, 500)
    posterior = calibrated.posterior
    np.testing.assert_array_equal(noise.talks, base_noise.talks)
    for name in got:
        if name not in posterior.names:
            np.testing.assert_array_equal(got[name], base[name])
    # each draw's calibrated parameters are one row of the posterior table (joint draws)
    drawn = np.column_stack([got[n] for n in posterior.names])
    rows = {tuple(r) for r in posterior.table}
    assert all(tuple(r) in rows for r in drawn)
    again, _ = sample_batch(calibrated, 7, 0, 500)
    assert all(np.array_equal(again[n], got[n]) for n in got)


def test_a_config_keeps_its_own_prior_where_it_sets_one():
    reopening = build_experiment(load_config("today_reopening")).posterior
    assert "kr_ideal_increase" in reopening.kept_prior
    assert "kr_ideal_increase" not in reopening.names and len(reopening.names) >= 20


def test_calibrated_and_prior_runs_differ_and_say_which_they_are():
    calibrated = build_experiment(load_config("sma12_may2024"))
    a = run(calibrated, draws=3_000, seed=1).summary
    b = run(replace(calibrated, posterior=None), draws=3_000, seed=1).summary
    assert a["calibration"]["fitted_on"] == [6, 7, 8, 9, 10, 11] and b["calibration"] is None
    assert a["years"]["2026"] != b["years"]["2026"]


def test_unknown_or_too_late_posteriors_are_refused(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[experiment]\nextends = "sma12_may2024"\n[calibration]\nposterior = "nope"\n')
    with pytest.raises(ConfigError, match=r"^calibration\.posterior: no bundled posterior"):
        build_experiment(load_config(path))
    # a forecast as of 2020 cannot use a posterior fitted with what was known in 2026
    path.write_text(
        '[experiment]\nextends = "sma12_may2024"\ninformation_date = 2024-01-01\n'
        '[calibration]\nposterior = "today_reopening"\n'
    )
    late = r"^experiment\.information_date: .* calibration\.posterior"
    with pytest.raises(ConfigError, match=late):
        build_experiment(load_config(path))
