"""A package's appeal beyond its money: the index norm and the random appeal.

Runs ``backtest_sma09`` (four rules, six terms, no agreement in force) and ``today_reopening``
(the 12th SMA's CPI formula in force) on their prior draws, on common random numbers; one
input changed at a time.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from smasim.experiments.config.load import build_experiment, load_config
from smasim.models.packages import EscalationRule, PackageSet
from smasim.models.setting import package_tables
from smasim.models.valuation import package_appeal
from smasim.simulation.montecarlo import negotiate, sample_batch
from smasim.simulation.outcomes import outcome_columns

DRAWS = 3000


@pytest.fixture(scope="module")
def sma09():
    experiment = replace(build_experiment(load_config("backtest_sma09")), posterior=None)
    values, noise = sample_batch(experiment, 11, 0, DRAWS)
    return experiment, values, noise


def table(experiment, values, noise):
    return outcome_columns(experiment, values, noise, negotiate(experiment, values, noise))


def without_appeal(values):
    return {**values, "package_appeal_sd": np.zeros(DRAWS), "index_formula_appeal": np.zeros(DRAWS)}


def test_one_year_terms_are_one_agreement_whatever_the_rule():
    """A one-year term has no escalation: under every rule it is the same agreement (one
    appeal), unless an in-kind part differs; longer terms are each their own."""
    rules = (
        EscalationRule("frozen", "frozen"),
        EscalationRule("cpi", "cpi", cap=0.04),
        EscalationRule("cpi_arms", "cpi", in_kind_bn_krw=100.0),
    )
    packages = PackageSet(rules, (1, 3))  # packages: (frozen,1) (frozen,3) (cpi,1) (cpi,3) ...
    np.testing.assert_array_equal(packages.distinct, [0, 1, 0, 3, 4, 5])
    np.testing.assert_array_equal(packages.indexed, [False, False, False, True, False, True])


def test_the_appeal_is_the_index_norm_plus_a_normal_per_agreement():
    """Known answer: ``index_formula_appeal S`` on every CPI package of 2+ years, plus
    ``package_appeal_sd S z`` with the normal of the package's first identical package."""
    packages = PackageSet(
        (EscalationRule("frozen", "frozen"), EscalationRule("cpi", "cpi")), (1, 2)
    )
    z = np.array([[0.5, -1.0, 2.0, 0.25]])
    v = {"index_formula_appeal": np.array([0.01]), "package_appeal_sd": np.array([0.02])}
    got = package_appeal(z, packages, v, 1000.0)
    # (frozen,1) (frozen,2) (cpi,1)=(frozen,1) (cpi,2)+norm
    np.testing.assert_allclose(got, [[10.0, -20.0, 10.0, 5.0 + 10.0]])
    assert package_appeal(None, replace(packages, rules=packages.rules[:1]), v, 1000.0) == 0.0


def test_no_appeal_changes_nothing_bit_for_bit(sma09):
    """Both terms at 0: the same bits as a batch drawn without the appeal's normals."""
    experiment, values, noise = sma09
    plain = without_appeal(values)
    with_normals = table(experiment, plain, noise)
    without_normals = table(experiment, plain, replace(noise, packages=None))
    for name in ("outcome", "base_bn_krw", "package", "agreement_round", "u_us", "u_kr"):
        np.testing.assert_array_equal(with_normals[name], without_normals[name], err_msg=name)


def test_the_index_norm_makes_the_cpi_formula_more_likely(sma09):
    """Property: valuing indexation as the fair default never makes a CPI escalator rarer,
    and at 2 % of the status quo a year it becomes the most common rule."""
    experiment, values, noise = sma09
    cpi = [i for i, r in enumerate(experiment.setting.packages.rules) if r.kind == "cpi"]

    def cpi_share(norm):
        cols = table(experiment, {**values, "index_formula_appeal": np.full(DRAWS, norm)}, noise)
        multi = (cols["package"] >= 0) & (cols["duration_years"] >= 2)
        return np.isin(cols["rule_index"][multi], cpi).mean(), cols

    none, _ = cpi_share(0.0)
    some, cols = cpi_share(0.02)
    assert some > none + 0.1
    multi = (cols["package"] >= 0) & (cols["duration_years"] >= 2)
    shares = np.bincount(
        cols["rule_index"][multi], minlength=len(experiment.setting.packages.rules)
    )
    assert shares.argmax() in cpi


def test_the_random_appeal_spreads_the_choice_away_from_the_corners(sma09):
    """Without it, nearly linear money values put most draws on the extreme packages; with a
    spread of 1 % of the status quo a year, no rule takes more than half the agreements and
    every term is chosen in at least 2 % of them."""
    experiment, values, noise = sma09
    corners = table(experiment, without_appeal(values), noise)
    spread_values = {**without_appeal(values), "package_appeal_sd": np.full(DRAWS, 0.01)}
    spread = table(experiment, spread_values, noise)

    def shares(cols, name, size):
        agreed = cols["package"] >= 0
        return np.bincount(cols[name][agreed], minlength=size) / agreed.sum()

    n_rules = len(experiment.setting.packages.rules)
    assert shares(corners, "rule_index", n_rules).max() > 0.5
    assert shares(spread, "rule_index", n_rules).max() < 0.5
    assert shares(spread, "duration_years", 7)[1:].min() > 0.02


def test_signing_the_formula_in_force_anew_carries_the_same_norm_as_keeping_it():
    """With the 12th SMA's CPI formula in force, the norm enters the disagreement value as it
    enters the same formula on the menu: the two stay worth the same to both sides."""
    experiment = replace(build_experiment(load_config("today_reopening")), posterior=None)
    values, _ = sample_batch(experiment, 3, 0, 50)
    values = {**values, "index_formula_appeal": np.full(50, 0.015)}
    tables = package_tables(experiment.setting, values)
    np.testing.assert_allclose(tables.in_force_appeal, 0.015 * experiment.setting.status_quo)
    formula = [
        k
        for k in range(experiment.setting.packages.size)
        if experiment.setting.packages.rules[experiment.setting.packages.rule_index[k]].name
        == "cpi_cap5"
        and experiment.setting.packages.duration[k] == experiment.setting.in_force_years
    ]
    np.testing.assert_allclose(tables.appeal[:, formula[0]], tables.in_force_appeal)
