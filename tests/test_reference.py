"""The vectorized batch negotiation against the plain per-draw reference.

``benchmarks/reference.py`` negotiates one draw at a time, looping over every round, with its
own scalar utilities and zone and :func:`models.general.solve` for the bargaining solution.
Here one seeded batch is negotiated by :class:`simulation.negotiation.BatchNegotiation` and
every draw is replayed by the reference. With Nash, whose SciPy reference solver differentiates
numerically (~0.4 s per draw), only the first ``SMASIM_REFERENCE_NASH_DRAWS`` draws (default 12;
set 64 for all) of the default batch and the first draw of each kind of story in the forced
batch are replayed; the whole file then runs in ~20 s on 2 cores.

Compared per draw: status, agreement round and day, package, vetoes, ratification rejections,
day in force (exactly) and the first-year amount (rtol 1e-7).
"""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the repo is not installed; benchmarks/ is not a package
    sys.path.insert(0, str(ROOT))

from benchmarks.reference import reference_negotiate  # noqa: E402
from smasim.experiments.config.load import build_experiment, load_config  # noqa: E402
from smasim.simulation.montecarlo import batch_rng, negotiate  # noqa: E402
from smasim.simulation.records import DONE, FAILED, NO_TALKS, CalendarEvent  # noqa: E402
from smasim.simulation.sampling import sample  # noqa: E402

N_DRAWS = 64
SEED = 20240521
NASH_DRAWS = int(os.environ.get("SMASIM_REFERENCE_NASH_DRAWS", "12"))
RTOL = 1e-7
EXACT = ("status", "agree_round", "package", "vetoes", "rejections")
CLOSE = ("base", "agree_day", "in_force_day")

# Pushes draws through every branch: a sure high-pressure winner whose veto floor Korea can
# still reach once lapse costs bite (vetoes, agreements after the election and after expiry),
# and an Assembly that rejects any increase (rejections, re-negotiation under its cap).
FORCED = {
    "p_high_pressure": 1.0,
    "pressure_reservation_gain": 0.0,
    "pressure_ideal_gain": 0.5,
    "lapse_cost_kr": 0.1,
    "assembly_threshold": 0.0,
    "assembly_rejection_scale": 0.02,
}


@pytest.fixture(scope="module")
def experiment():
    return build_experiment(load_config())


def draw_batch(experiment, seed=SEED, n=N_DRAWS, overrides=None):
    values, noise = sample(
        experiment.specs,
        n,
        design=experiment.design,
        n_attempts=experiment.ratification_attempts,
        rng=batch_rng(seed, 0),
    )
    values = dict(values)
    for name, x in (overrides or {}).items():
        values[name] = np.full(n, float(x))
    return values, noise


def compare(experiment, values, noise, indices, out=None):
    """Negotiate the batch both ways; return the engine's outcome, assert every draw agrees."""
    if out is None:
        out = negotiate(experiment, values, noise)
    problems = []
    for i in indices:
        ref = reference_negotiate(experiment, values, noise, int(i))
        bad = {f: (ref[f], getattr(out, f)[i]) for f in EXACT if ref[f] != getattr(out, f)[i]}
        for f in CLOSE:
            a, b = ref[f], float(getattr(out, f)[i])
            if not np.isclose(a, b, rtol=RTOL if f == "base" else 0.0, atol=0.0, equal_nan=True):
                bad[f] = (a, b)
        if bad:
            problems.append(f"draw {i} (reference, engine): {bad}")
    assert not problems, f"{experiment.concept}: " + "; ".join(problems)
    return out


def covering_draws(out, cal):
    """The first draw of each kind of story (the reference is too slow for all with Nash)."""
    kinds = [
        (out.status == DONE) & (out.agree_day < cal.election_day),
        (out.status == DONE) & (out.vetoes > 0),
        out.rejections > 0,
        (out.status == DONE) & (out.in_force_day > cal.expiry_day),
        (out.status == FAILED) & (out.rejections == 0),
    ]
    return sorted({int(np.flatnonzero(k)[0]) for k in kinds if k.any()})


@pytest.mark.parametrize(
    "concept", ["kalai_smorodinsky", "accepted_offer", "rubinstein", "rubinstein_finite"]
)
def test_default_config_every_draw(experiment, concept):
    e = dataclasses.replace(experiment, concept=concept)
    values, noise = draw_batch(e)
    out = compare(e, values, noise, range(N_DRAWS))
    # the batch is not degenerate: some draws agree, some are vetoed and fail
    assert (out.status == DONE).any() and (out.status == FAILED).any()
    assert (out.vetoes > 0).any()


def test_default_config_nash(experiment):
    e = dataclasses.replace(experiment, concept="nash")
    values, noise = draw_batch(e)
    n = min(NASH_DRAWS, N_DRAWS)
    out = compare(e, values, noise, range(n))
    assert (out.status[:n] == DONE).any() and (out.status[:n] == FAILED).any()


@pytest.mark.parametrize(
    ("concept", "attempts"),
    [
        ("kalai_smorodinsky", 3),  # a rejection, then talks resume under the Assembly's cap
        ("kalai_smorodinsky", 1),  # the first rejection ends the talks for good
        ("rubinstein_finite", 3),
    ],
)
def test_forced_vetoes_rejections_and_lapses(experiment, concept, attempts):
    e = dataclasses.replace(experiment, concept=concept, ratification_attempts=attempts)
    values, noise = draw_batch(e, overrides=FORCED)
    out = compare(e, values, noise, range(N_DRAWS))
    cal = e.calendar
    assert (out.vetoes > 0).any()
    assert (out.rejections > 0).any()
    assert (out.agree_day > cal.election_day).any()  # agreements under the new president
    assert ((out.status == DONE) & (out.in_force_day > cal.expiry_day)).any()  # lapse
    assert (out.status == FAILED).any()
    if attempts == 1:
        assert ((out.status == FAILED) & (out.rejections == 1)).any()


def test_forced_nash(experiment):
    e = dataclasses.replace(experiment, concept="nash")
    values, noise = draw_batch(e, overrides=FORCED)
    out = negotiate(e, values, noise)
    draws = covering_draws(out, e.calendar)
    assert len(draws) >= 4
    compare(e, values, noise, draws, out=out)
    # regression: a deal struck on the floor of a veto is not vetoed again for rounding
    # (one administration reviews deals here, so one veto at most)
    assert out.vetoes.max() == 1


def test_same_day_events_and_no_talks(experiment):
    """Election on a round's day (it comes first), votes on round days, talks that never open."""
    cal = dataclasses.replace(
        experiment.calendar,
        events=(CalendarEvent("election", 191.0),),
        ratification_lag_days=30.0,
    )
    e = dataclasses.replace(experiment, calendar=cal, concept="kalai_smorodinsky")
    assert 191.0 in cal.round_days
    values, noise = draw_batch(e, overrides={**FORCED, "talks_probability": 0.8})
    out = compare(e, values, noise, range(N_DRAWS))
    assert (out.status == NO_TALKS).any()
    assert (out.rejections > 0).any()


@pytest.mark.slow
def test_default_config_nash_every_draw(experiment):
    """All 64 draws with Nash (~30 s): the fast test above replays only the first few."""
    e = dataclasses.replace(experiment, concept="nash")
    values, noise = draw_batch(e)
    compare(e, values, noise, range(N_DRAWS))
