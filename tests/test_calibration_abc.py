"""The Bayesian calibration: the ABC machinery against a closed form, and the study's honesty."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from smasim.experiments.record.abc import (
    bandwidth_for_ess,
    effective_sample_size,
    log_weights,
    normalized,
    systematic_resample,
    weighted_quantiles,
)
from smasim.experiments.record.study import run_study


def test_kernel_abc_posterior_of_a_normal_mean_matches_the_closed_form():
    """theta ~ N(0, 1), y | theta ~ N(theta, 1), observed y0 = 1.5, Gaussian kernel of width h.

    Kernel ABC with the prior as proposal is the exact posterior of y | theta ~ N(theta,
    1 + h^2) (the kernel adds its own noise; Wilkinson 2013): mean y0 / (2 + h^2), variance
    (1 + h^2) / (2 + h^2). With h = 0.5: mean 1.5 / 2.25 = 0.6667, variance 1.25 / 2.25 =
    0.5556. The weighted estimates must agree within 4 Monte Carlo standard errors (from the
    effective sample size).
    """
    rng = np.random.default_rng(11)
    theta = rng.standard_normal(400_000)
    y = theta + rng.standard_normal(theta.size)
    h, y0 = 0.5, 1.5
    w = normalized(log_weights((y - y0) ** 2, h))
    ess = effective_sample_size(w)
    mean, var = 1.5 / 2.25, 1.25 / 2.25
    post_mean = float(np.dot(w, theta))
    post_var = float(np.dot(w, (theta - post_mean) ** 2))
    assert abs(post_mean - mean) < 4 * math.sqrt(var / ess)
    # the variance of a sample variance of a normal is 2 var^2 / n
    assert abs(post_var - var) < 4 * math.sqrt(2 * var**2 / ess)
    # the weighted median of a normal posterior is its mean
    assert weighted_quantiles(theta, w, [0.5])[0] == pytest.approx(mean, abs=0.02)


def test_bandwidth_keeps_the_target_effective_sample_size():
    rng = np.random.default_rng(2)
    d2 = rng.chisquare(3, 50_000)
    h = bandwidth_for_ess(d2, 2_000)
    assert effective_sample_size(normalized(log_weights(d2, h))) == pytest.approx(2_000, rel=1e-4)
    assert bandwidth_for_ess(d2, 50_000) == math.inf  # every draw kept: no kernel


def test_systematic_resampling_takes_each_draw_floor_or_ceil_of_its_share():
    w = np.array([0.5, 0.25, 0.125, 0.125])
    picked = systematic_resample(w, 8, np.random.default_rng(0))
    np.testing.assert_array_equal(np.bincount(picked, minlength=4), [4, 2, 1, 1])


@pytest.fixture(scope="module")
def small_study():
    return run_study(draws=3_000, target_ess=300, seed=5)


def test_time_respecting_fits_use_only_negotiations_concluded_before(small_study):
    results, fits = small_study.results["time"], small_study.fits["time"]
    for row, posterior in zip(results.rows, fits, strict=True):
        for k in posterior.fitted_on:
            concluded = next(r.actual.concluded for r in results.rows if r.case.sma_round == k)
            assert concluded < row.information_date, (row.case.label, k)
    # the 6th SMA's talks opened in Nov 2004, before any other backtested SMA concluded; the
    # 7th's (May 2006) after the 6th concluded (Apr 2005)
    assert fits[0].fitted_on == () and fits[1].fitted_on == (6,)
    assert fits[-1].fitted_on == (6, 7, 8, 9, 10, 11)
    assert all(isinstance(row.information_date, dt.date) for row in results.rows)


def test_leave_one_out_fits_leave_out_exactly_the_scored_negotiation(small_study):
    for row, posterior in zip(
        small_study.results["loo"].rows, small_study.fits["loo"], strict=True
    ):
        assert row.case.sma_round not in posterior.fitted_on and len(posterior.fitted_on) == 6
        assert posterior.ess == pytest.approx(300, rel=1e-3)


def test_the_study_writes_its_folder(tmp_path):
    study = run_study(draws=1_000, target_ess=100, out=tmp_path / "cal")
    assert {p.name for p in (tmp_path / "cal").iterdir()} >= {"calibration.json", "calibration.md"}
    assert study.results["prior"].rows[0].model.n == 20_000


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"draws": 1}, "draws"),
        ({"target_ess": 0}, "target_ess"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_settings_name_their_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        run_study(**kwargs)
