"""The empirical baseline and the backtest's statistics, against closed forms and the record."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from smasim.experiments.record.baselines import (
    SAMPLE_SIZE,
    empirical_forecast,
    fit_rounds,
    student_t_predictive,
)
from smasim.experiments.record.data import load_record
from smasim.experiments.record.forecast import actual_outcome, naive_forecast
from smasim.experiments.record.scores import (
    clopper_pearson,
    log_score,
    mean_pit_test,
    paired_difference,
)


@pytest.fixture(scope="module")
def record():
    return load_record()


def test_student_t_predictive_of_two_increases_is_a_cauchy():
    # x = (0, 0.1): n = 2, mean 0.05, s = 0.1 / sqrt(2); the predictive is a t with 1 degree of
    # freedom (a Cauchy) at 0.05 with scale s sqrt(1 + 1/2) = 0.1 sqrt(3) / 2, whose quartiles
    # are at location -/+ scale (CDF of a standard Cauchy at 1: 1/2 + atan(1)/pi = 3/4)
    t = student_t_predictive(np.array([0.0, 0.1]))
    scale = 0.1 * math.sqrt(3) / 2
    assert t.median() == pytest.approx(0.05)
    assert t.cdf(0.05 + scale) == pytest.approx(0.75)
    with pytest.raises(ValueError, match="increases"):
        student_t_predictive(np.array([0.1]))


def test_time_respecting_fit_uses_only_negotiations_concluded_before(record):
    # the 9th SMA's talks opened on 1 July 2013: the 6th (2005), 7th (2006) and 8th (2009)
    # SMAs had first-year increases in KRW by then; the 10th-12th had not happened
    forecast, fitted_on = empirical_forecast(record, 9, information_date=dt.date(2013, 7, 1))
    assert fitted_on == (6, 7, 8)
    increases = [actual_outcome(record, k).change_pct / 100 for k in (6, 7, 8)]
    status_quo = record.amount(2013)
    median = np.median(forecast.first_year_bn_krw)
    assert median == pytest.approx(status_quo * (1 + np.mean(increases)), rel=1e-3)
    assert forecast.first_year_bn_krw.size == SAMPLE_SIZE
    for k in fit_rounds(record, 9, information_date=dt.date(2013, 7, 1)):
        assert record.negotiation(k).concluded < dt.date(2013, 7, 1)


def test_too_short_a_record_falls_back_to_the_naive_forecast(record):
    # seen from May 2006 only the 6th SMA's increase (-8.9 %) is known: no variance estimate
    forecast, fitted_on = empirical_forecast(record, 7, information_date=dt.date(2006, 5, 1))
    assert fitted_on == ()
    np.testing.assert_array_equal(
        forecast.first_year_bn_krw, naive_forecast(record, 7).first_year_bn_krw
    )


def test_leave_one_out_leaves_out_only_the_scored_negotiation(record):
    _, fitted_on = empirical_forecast(record, 10, information_date=None)
    assert fitted_on == (6, 7, 8, 9, 11, 12)


def test_clopper_pearson_of_all_successes():
    # 5 of 5: the exact lower bound solves P(X = 5 | p) = p^5 = 0.025, p = 0.025^(1/5)
    low, high = clopper_pearson(5, 5)
    assert low == pytest.approx(0.025**0.2) and high == 1.0


def test_paired_difference_interval_is_the_t_interval():
    # d = (-1, -2, -3): mean -2, s = 1, 95 % half width t_{0.975, 2} / sqrt(3) = 4.3027 / 1.732
    d = paired_difference([1.0, 2.0, 3.0], [2.0, 4.0, 6.0])
    assert d["mean"] == pytest.approx(-2.0)
    assert d["high"] - d["mean"] == pytest.approx(4.302653 / math.sqrt(3), rel=1e-6)


def test_mean_pit_test_is_the_irwin_hall_tail():
    # n = 2: the sum of two uniforms is triangular, P(S <= 0.5) = 0.5^2 / 2 = 0.125, so a mean
    # PIT of 0.25 has two-sided p 0.25; n = 3, sum 1: P(S <= 1) = 1 / 3! = 1/6, p = 1/3
    assert mean_pit_test([0.25, 0.25]) == {"mean": 0.25, "p_value": pytest.approx(0.25), "n": 2}
    assert mean_pit_test([0.1, 0.3, 0.6])["p_value"] == pytest.approx(1 / 3)
    assert mean_pit_test([0.9, 0.7, 0.4])["p_value"] == pytest.approx(1 / 3)  # symmetric
    assert mean_pit_test([0.5, float("nan")]) == {"mean": 0.5, "p_value": 1.0, "n": 1}
    # against a simulation: 7 PITs all at or below 0.32 on average happen with p ~ 0.095
    rng = np.random.default_rng(0)
    sums = rng.uniform(size=(200_000, 7)).sum(axis=1)
    simulated = 2 * np.mean(sums <= 7 * 0.3174)
    assert mean_pit_test([0.3174] * 7)["p_value"] == pytest.approx(simulated, abs=0.005)


def test_log_score_is_floored():
    assert log_score(0.5) == pytest.approx(math.log(0.5))
    assert log_score(0.0) == pytest.approx(math.log(1e-3))
    assert math.isnan(log_score(float("nan")))
