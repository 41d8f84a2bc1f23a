"""The Monte Carlo engine: reproducibility, designs, sampling, outcome table and summary."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy import stats

import smasim.simulation.montecarlo as mc
from smasim.experiments.config.load import build_experiment, load_config
from smasim.simulation.montecarlo import batch_groups, batch_sizes, run
from smasim.simulation.sampling import ParameterSpec, sample, unit_design


@pytest.fixture(scope="module")
def experiment():
    # small batches so that a short run spans several batches and processes
    return replace(build_experiment(load_config()), batch_size=700)


def assert_same_bits(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].dtype == b[k].dtype and a[k].tobytes() == b[k].tobytes(), k


def test_same_seed_gives_identical_per_draw_outcomes(experiment):
    a = run(experiment, draws=2500, seed=11)
    b = run(experiment, draws=2500, seed=11)
    assert_same_bits(a.columns, b.columns)
    assert a.summary == b.summary


def test_one_worker_equals_two(experiment):
    one = run(experiment, draws=2500, seed=5, workers=1)
    two = run(experiment, draws=2500, seed=5, workers=2)
    assert_same_bits(one.columns, two.columns)


def test_another_seed_differs(experiment):
    a = run(experiment, draws=1500, seed=1).columns
    b = run(experiment, draws=1500, seed=2).columns
    assert not np.array_equal(a["param_us_pressure"], b["param_us_pressure"])
    assert not np.array_equal(a["amount_2030_bn_krw"], b["amount_2030_bn_krw"])


def test_a_batch_does_not_depend_on_the_run_length(experiment):
    # the first batch of a long run is the whole of a run of one batch
    short = run(experiment, draws=700, seed=3).columns
    long = run(experiment, draws=2100, seed=3).columns
    assert_same_bits(short, {k: v[:700] for k, v in long.items()})


def test_negotiating_batches_together_does_not_change_a_bit(experiment, monkeypatch):
    # workers negotiate several batches in one environment for speed; each batch keeps its
    # own random stream and each draw's outcome must not depend on its company
    grouped = run(experiment, draws=4900, seed=8).columns
    monkeypatch.setattr(mc, "COMPUTE_DRAWS", 1)  # every batch alone
    alone = run(experiment, draws=4900, seed=8).columns
    assert_same_bits(grouped, alone)
    monkeypatch.setattr(mc, "COMPUTE_DRAWS", 10 * 700)  # all seven batches together
    assert_same_bits(run(experiment, draws=4900, seed=8).columns, alone)


def test_batch_groups_are_consecutive_and_keep_workers_busy():
    sizes = [100] * 10
    groups = batch_groups(sizes, list(range(10)), 100, workers=1)
    assert [b for g in groups for b, _ in g] == list(range(10))
    assert all(len(g) <= mc.COMPUTE_DRAWS // 100 for g in groups)
    assert len(groups) >= 2
    # a resumed run skips finished batches: a group never spans a gap
    groups = batch_groups(sizes, [0, 1, 4, 5, 6], 100, workers=1)
    assert all(g[-1][0] - g[0][0] == len(g) - 1 for g in groups)
    # with more workers, groups shrink so that each worker has at least two
    assert len(batch_groups(sizes, list(range(10)), 100, workers=4)) >= 8
    # and the last groups are single batches, so that workers finish together
    many = batch_groups([100] * 40, list(range(40)), 100, workers=2)
    assert [len(g) for g in many[-2:]] == [1, 1] and max(len(g) for g in many) > 1
    assert [b for g in many for b, _ in g] == list(range(40))
    assert batch_groups([100, 100, 30], [0, 1, 2], 100, workers=1)[-1][-1] == (2, 30)


def test_batch_sizes_cover_the_draws():
    assert batch_sizes(10, 4) == [4, 4, 2]
    assert batch_sizes(8, 4) == [4, 4]
    assert batch_sizes(3, 4) == [3]


@pytest.mark.parametrize("design", ["montecarlo", "lhs", "sobol"])
def test_designs_fill_the_unit_cube_uniformly(design):
    u = unit_design(4096, 3, design, rng=np.random.default_rng(0))
    assert u.shape == (4096, 3) and (u >= 0).all() and (u < 1).all()
    # each margin is uniform: KS test at a generous level (sampling tolerance)
    for j in range(3):
        assert stats.kstest(u[:, j], "uniform").pvalue > 1e-3
    if design == "lhs":
        # Latin hypercube: exactly one point per stratum of each margin
        strata = np.floor(u * 4096).astype(int)
        assert all(len(np.unique(strata[:, j])) == 4096 for j in range(3))


def test_sampling_maps_uniforms_through_the_inverse_cdf():
    specs = [
        ParameterSpec("a", distribution=stats.beta(2, 5)),
        ParameterSpec("b", value=0.3),
        ParameterSpec("c", choices=(0.2, 0.9), weights=(0.25, 0.75)),
    ]
    values, noise = sample(specs, 20000, design="lhs", n_attempts=2, rng=np.random.default_rng(1))
    assert (values["b"] == 0.3).all()
    assert values["a"].mean() == pytest.approx(2 / 7, abs=0.005)  # beta mean a / (a + b)
    assert np.mean(values["c"] == 0.9) == pytest.approx(0.75, abs=0.005)
    assert set(np.unique(values["c"])) == {0.2, 0.9}
    assert noise.ratification.shape == (20000, 2)


def test_outcome_table_is_consistent(experiment):
    cols = run(experiment, draws=3000, seed=9).columns
    agreed = cols["outcome"] <= 1
    assert np.isfinite(cols["base_bn_krw"][agreed]).all()
    assert np.isnan(cols["base_bn_krw"][~agreed]).all()
    # no agreement: the status quo (2025 level) is paid through the hard stop's year (2027);
    # then renewed talks settle above it
    none = cols["outcome"] == 2
    assert none.any()
    assert np.allclose(cols["amount_2027_bn_krw"][none], experiment.setting.status_quo)
    assert (cols["amount_2028_bn_krw"][none] > experiment.setting.status_quo).all()
    # lapse months are positive exactly for deals in force after expiry and for no deal
    assert ((cols["lapse_months"] > 0) == (cols["outcome"] >= 1) & (cols["outcome"] <= 2)).all()
    # the first agreed year is the base amount when the deal is struck before 2026
    early = agreed & (cols["agreement_date"] < np.datetime64("2026-01-01"))
    assert np.allclose(cols["amount_2026_bn_krw"][early], cols["base_bn_krw"][early])
    assert (cols["in_force_date"][agreed] >= cols["agreement_date"][agreed]).all()


def test_summary_probabilities_match_the_table(experiment):
    r = run(experiment, draws=3000, seed=9)
    s, cols = r.summary, r.columns
    assert s["p_agreement_before_expiry"]["p"] == pytest.approx(np.mean(cols["outcome"] == 0))
    assert s["p_lapse"]["p"] == pytest.approx(np.mean(cols["lapse_months"] > 0))
    q = s["years"]["2027"]["quantiles_bn_krw"]
    assert q["q50"] == pytest.approx(np.median(cols["amount_2027_bn_krw"]))
    assert q["q05"] <= q["q25"] <= q["q50"] <= q["q75"] <= q["q95"]


def test_run_rejects_non_positive_draws(experiment):
    with pytest.raises(ValueError, match="draws"):
        run(experiment, draws=0, seed=1)


def test_the_allocator_keeps_freed_memory_on_glibc():
    # smasim's processes ask glibc to keep freed memory (simulation.memory); the call must
    # take effect where glibc is, and be a harmless no-op elsewhere
    import platform
    import sys

    from smasim.simulation.memory import keep_freed_memory

    glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    assert keep_freed_memory() is glibc
