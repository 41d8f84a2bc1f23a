"""A plain, per-draw reference implementation of the batch negotiation.

:class:`simulation.negotiation.BatchNegotiation` negotiates a whole batch at once: a SimPy
environment, arrays over draws, bisection over rounds to find each draw's first round with a
zone of agreement, and the vectorized fast paths of :mod:`models.bargaining`. This module does
the same negotiation for ONE draw with none of that machinery:

* a plain Python loop over every round of the calendar (no bisection, no screening);
* the sides' utilities, target utilities, acceptance bounds, zone of agreement, veto floor and
  ratification probability in scalar Python (:mod:`math`, Python floats), written from the
  formulas in the docstrings of :mod:`models.agents` and :mod:`models.pressure`, not by calling
  the vectorized functions;
* the bargaining solution from :func:`models.general.solve` (the SciPy reference solver, one
  problem at a time, numerical derivatives and ``brentq``), fed with scalar utility callables.

Only the per-package tables are built with library code, on 1-element arrays: the growth of
each package (:meth:`models.packages.PackageSet.growth`), the present-value level factors
``a_ik`` (:func:`models.packages.level_factor`) and the discrete-issue values from
:func:`models.pressure.term_preference` and :func:`models.pressure.ratchet`. Using the same level
factors keeps the veto test ``base * a_US,k < floor`` bit-comparable with the engine when an
agreement sits exactly on a floor.

It exists to cross-check the vectorized engine (``tests/test_reference.py``) and as the speed
baseline of ``benchmarks/bench_engine.py``. It is slow on purpose: one draw at a time.

Semantics (those of ``BatchNegotiation``)
-----------------------------------------
Time is in days since the talks open (round 0). Before each round, in this order: the U.S.
election if it falls on or before the round's day (a new administration: the U.S. pressure is
switched by the election noise, the U.S. concession clock restarts on election day for a
high-pressure winner, the veto floor is reset); then, if a working-level agreement awaits the
National Assembly and the vote day is strictly before the round's day, the vote. Each round an
active draw computes its zone per package ``k``::

    [max(US least amount, us_floor / a_US,k), min(Korea's largest amount, kr_cap)]

and if any package has a non-empty zone, solves it by the experiment's concept. The U.S.
president vetoes a deal whose level ``base * a_US,k`` is below the veto floor: the floor becomes
the negotiators' ``us_floor`` and talks go on at the next round. Otherwise the deal goes to the
Assembly ``ratification_lag_days`` later; a rejection caps Korea's level at
``status_quo * (1 + assembly_threshold)`` and talks resume at the first round strictly after
the vote, until ``n_attempts`` rejections end the talks for good.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from smasim.models.general import GeneralProblem, solve
from smasim.models.packages import level_factor
from smasim.models.pressure import ratchet, term_preference
from smasim.simulation.records import ACTIVE, DONE, FAILED, NO_TALKS, PENDING
from smasim.simulation.sampling import Noise

DAYS_PER_YEAR = 365.25
VETO_TOLERANCE = 1e-12  # relative; a deal on the floor is not vetoed for rounding
DAYS_PER_MONTH = DAYS_PER_YEAR / 12.0
MIN_GAP = 1e-6  # |I - R| >= MIN_GAP * status quo, as documented in models.pressure
LINEAR_CURVATURE = 1e-9  # kappa at or below this: m(z) = z (models.agents)

STATUS_NAMES = {
    ACTIVE: "active",
    PENDING: "pending",
    DONE: "done",
    FAILED: "failed",
    NO_TALKS: "no_talks",
}


# --- one side of one draw --------------------------------------------------------------------
@dataclass(frozen=True)
class ScalarSide:
    """One side's preferences for one draw, Python floats; ``c`` and ``a`` per package."""

    reservation: float
    ideal: float
    weight: float
    curvature: float
    exponent: float
    deadline_days: float
    lapse_cost: float
    discount_rate: float
    clock_start_day: float
    c: tuple[float, ...]
    a: tuple[float, ...]


def curve(z: float, kappa: float) -> float:
    """``m(z) = (1 - exp(-kappa z)) / (1 - exp(-kappa))``, ``z`` when linear."""
    if kappa <= LINEAR_CURVATURE:
        return z
    return math.expm1(-kappa * z) / math.expm1(-kappa)


def curve_inverse(y: float, kappa: float) -> float:
    """``m^-1(y)``; ``+inf`` when ``y`` is at or above ``sup m = 1 / (1 - exp(-kappa))``."""
    if kappa <= LINEAR_CURVATURE:
        return y
    arg = y * math.expm1(-kappa)  # m(z) = y  <=>  exp(-kappa z) = 1 + arg
    if arg <= -1.0:
        return math.inf
    return -math.log1p(arg) / kappa


def utility(side: ScalarSide, b: float, k: int) -> float:
    """``u(b, k) = w m((b a_k - R) / (I - R)) + (1 - w) c_k``."""
    z = (b * side.a[k] - side.reservation) / (side.ideal - side.reservation)
    return side.weight * curve(z, side.curvature) + (1.0 - side.weight) * side.c[k]


def disagreement(side: ScalarSide, day: float, expiry_day: float) -> float:
    """``d(t) = -lambda max(0, t - t_exp) / month``."""
    return -side.lapse_cost * max(day - expiry_day, 0.0) / DAYS_PER_MONTH


def target(side: ScalarSide, day: float, expiry_day: float) -> float:
    """``tau(t) = 1 - (1 - d(t)) min(max((t - t0) / T, 0), 1) ** (1 / e)``."""
    progress = min(max((day - side.clock_start_day) / side.deadline_days, 0.0), 1.0)
    return 1.0 - (1.0 - disagreement(side, day, expiry_day)) * progress ** (1.0 / side.exponent)


def amount_at(side: ScalarSide, tau: float, k: int) -> float:
    """First-year amount where ``u(., k) = tau``: the U.S. least amount, Korea's largest.

    An unreachable target gives ``+inf`` for the U.S. (``I > R``) and ``-inf`` for Korea.
    """
    z = curve_inverse((tau - (1.0 - side.weight) * side.c[k]) / side.weight, side.curvature)
    if math.isinf(z):
        return math.copysign(math.inf, side.ideal - side.reservation)
    return (side.reservation + z * (side.ideal - side.reservation)) / side.a[k]


def _tables(experiment, v: Mapping[str, float], rate: float) -> tuple[np.ndarray, tuple]:
    """Growth ratchet (1, K) and level factors ``a_k`` for discount rate ``rate``."""
    pk = experiment.setting.packages
    growth = pk.growth(np.array([v["cpi_rate"]]), np.array([v["defense_growth_rate"]]))
    a = level_factor(growth, pk.duration, np.array([rate]), experiment.setting.horizon_years)
    return ratchet(growth, pk.duration), tuple(float(x) for x in a[0])


def us_side(experiment, v: Mapping[str, float], pressure: float, clock_start: float) -> ScalarSide:
    """The U.S. under pressure ``p`` (models.pressure notes)."""
    s = experiment.setting.status_quo
    p2 = pressure * pressure
    ideal = s * (1.0 + v["us_ideal_increase"] + v["pressure_ideal_gain"] * p2)
    reservation = s * (1.0 + v["us_reservation_increase"] + v["pressure_reservation_gain"] * p2)
    reservation = min(reservation, ideal - MIN_GAP * s)
    ratch, a = _tables(experiment, v, v["us_discount_rate"])
    term = term_preference(experiment.setting.packages.duration, np.array([pressure]))
    c = 0.5 * term[0] + 0.5 * ratch[0]
    return ScalarSide(
        reservation=reservation,
        ideal=ideal,
        weight=v["us_amount_weight"],
        curvature=v["us_curvature"],
        exponent=v["us_concession_exponent"] * math.exp(-v["pressure_toughness"] * pressure),
        deadline_days=v["us_deadline_months"] * DAYS_PER_MONTH,
        lapse_cost=v["lapse_cost_us"],
        discount_rate=v["us_discount_rate"],
        clock_start_day=clock_start,
        c=tuple(float(x) for x in c),
        a=a,
    )


def kr_side(experiment, v: Mapping[str, float], pressure: float) -> ScalarSide:
    """Korea facing U.S. pressure ``p``: always prefers long terms and little ratchet."""
    s = experiment.setting.status_quo
    ideal = s * (1.0 + v["kr_ideal_increase"])
    reservation = s * (
        1.0
        + v["kr_reservation_increase"]
        + v["nk_threat_gain"] * v["nk_threat"]
        + v["withdrawal_gain"] * v["withdrawal_credibility"] * pressure
        - v["audience_cost"]
    )
    reservation = max(reservation, ideal + MIN_GAP * s)
    ratch, a = _tables(experiment, v, v["kr_discount_rate"])
    term = term_preference(experiment.setting.packages.duration, np.zeros(1))
    c = 0.5 * term[0] + 0.5 * (1.0 - ratch[0])
    return ScalarSide(
        reservation=reservation,
        ideal=ideal,
        weight=v["kr_amount_weight"],
        curvature=v["kr_curvature"],
        exponent=v["kr_concession_exponent"],
        deadline_days=v["kr_deadline_months"] * DAYS_PER_MONTH,
        lapse_cost=v["lapse_cost_kr"],
        discount_rate=v["kr_discount_rate"],
        clock_start_day=0.0,
        c=tuple(float(x) for x in c),
        a=a,
    )


def _elementwise(side: ScalarSide) -> Callable[[np.ndarray, int], np.ndarray | float]:
    """``u(b, k)`` for :class:`models.general.GeneralProblem`: scalar math, element by element.

    :func:`models.general.solve` passes 0-d arrays, and arrays of stencil points when it
    differentiates numerically; each element goes through :func:`utility` as a Python float.
    """

    def u(b, k):
        arr = np.asarray(b, dtype=float)
        if arr.ndim == 0:
            return utility(side, float(arr), k)
        flat = [utility(side, x, k) for x in arr.ravel().tolist()]
        return np.asarray(flat, dtype=float).reshape(arr.shape)

    return u


# --- the negotiation of one draw ---------------------------------------------------------------
def reference_negotiate(
    experiment, values: Mapping[str, np.ndarray], noise: Noise, index: int
) -> dict:
    """Negotiate draw ``index`` of a batch, round by round, in plain Python.

    Parameters
    ----------
    experiment : simulation.montecarlo.Experiment
        Setting, calendar and solution concept.
    values : mapping of str to ndarray, shape (n_draws,)
        Sampled parameters (:func:`simulation.sampling.sample`).
    noise : simulation.negotiation.Noise
    index : int
        The draw.

    Returns
    -------
    dict
        ``status`` (the codes of :mod:`simulation.negotiation`), ``agree_round`` (-1 if none),
        ``agree_day``, ``in_force_day`` (days since talks open, NaN if none), ``base`` (bn KRW,
        NaN if none), ``package`` (-1 if none), ``vetoes``, ``rejections``, and for
        information ``u_us``, ``u_kr``, ``high_pressure``, ``pressure_final``, ``solves``
        (bargaining problems solved) and ``rounds_evaluated``.
    """
    v = {name: float(arr[index]) for name, arr in values.items()}
    setting, cal = experiment.setting, experiment.calendar
    s = setting.status_quo
    days = [float(d) for d in cal.round_days]
    n_rounds = len(days)
    n_pkg = setting.packages.size
    n_attempts = int(noise.ratification.shape[1])
    exp_day = float(cal.expiry_day)

    pressure = v["us_pressure"]
    high_pressure = False
    us = us_side(experiment, v, pressure, 0.0)
    kr = kr_side(experiment, v, pressure)
    us_floor, kr_cap = -math.inf, math.inf  # hard limits on the level (bn KRW per year)
    status = ACTIVE if float(noise.talks[index]) < v["talks_probability"] else NO_TALKS
    out = {
        "status": status,
        "agree_round": -1,
        "agree_day": math.nan,
        "in_force_day": math.nan,
        "base": math.nan,
        "package": -1,
        "u_us": math.nan,
        "u_kr": math.nan,
        "vetoes": 0,
        "rejections": 0,
        "high_pressure": False,
        "pressure_final": pressure,
        "solves": 0,
        "rounds_evaluated": 0,
    }
    election_pending = cal.election_day is not None
    vote_day = math.nan

    def election() -> None:
        # runs for every draw whatever its status, as the engine's election process does
        nonlocal pressure, high_pressure, us, kr, us_floor, election_pending
        high_pressure = float(noise.election[index]) < v["p_high_pressure"]
        pressure = v["us_pressure_if_high"] if high_pressure else v["us_pressure_if_low"]
        start = float(cal.election_day) if high_pressure else us.clock_start_day
        us = us_side(experiment, v, pressure, start)
        kr = kr_side(experiment, v, pressure)
        us_floor = -math.inf  # a new administration sets its own floor
        election_pending = False

    def vote() -> None:
        nonlocal status, kr_cap
        attempt = min(out["rejections"], n_attempts - 1)
        u = float(noise.ratification[index, attempt])
        increase = out["base"] / s - 1.0
        excess = max(increase - v["assembly_threshold"], 0.0)
        p_reject = -math.expm1(-excess / v["assembly_rejection_scale"])
        if not u < p_reject:
            status = DONE
            out["in_force_day"] = vote_day
            return
        out["rejections"] += 1
        if out["rejections"] >= n_attempts:
            # As the engine does: a draw that runs out of votes keeps the last rejected
            # agreement's round, day, base and package (only the resumed ones are cleared).
            status = FAILED
            return
        # The cap is on Korea's present-value level; as a_KR,k >= 1 (growth is never
        # negative), any later deal has a first-year increase <= the threshold and passes.
        kr_cap = min(kr_cap, s * (1.0 + v["assembly_threshold"]))
        out.update(
            agree_round=-1,
            agree_day=math.nan,
            base=math.nan,
            package=-1,
            u_us=math.nan,
            u_kr=math.nan,
        )
        status = ACTIVE  # resumes at the first round strictly after the vote day

    # Where the engine's semantics are implicit, its code is followed:
    # * the election counts for a round on its own day (engine: SimPy runs the election's
    #   timeout first and re-screens from the first round with day >= election day);
    # * after a rejection talks resume at the first round with day > vote day, even when a
    #   round falls on the vote day (engine: searchsorted(..., side="right"));
    # * a vote and the election between two rounds commute (the vote reads neither U.S. side
    #   nor the veto floor, the election touches neither Korea's cap nor the agreement);
    # * a deal struck at one of the last rounds is still voted on after the last round (and
    #   after the hard stop): SimPy runs every pending process to the end.
    for r, day in enumerate(days):
        # event order on one day: the election, then (a vote,) then the round
        if election_pending and cal.election_day <= day:
            election()
        if status == PENDING and vote_day < day:
            vote()
        if status != ACTIVE:
            continue
        out["rounds_evaluated"] += 1

        tau_us, tau_kr = target(us, day, exp_day), target(kr, day, exp_day)
        lo = [max(amount_at(us, tau_us, k), us_floor / us.a[k]) for k in range(n_pkg)]
        hi = [min(amount_at(kr, tau_kr, k), kr_cap) for k in range(n_pkg)]
        if not any(lo[k] <= hi[k] for k in range(n_pkg)):
            continue

        rho_us, rho_kr = us.discount_rate, kr.discount_rate
        dt_years = cal.round_interval_days / DAYS_PER_YEAR
        problem = GeneralProblem(
            u_us=_elementwise(us),
            u_kr=_elementwise(kr),
            lo=lo,
            hi=hi,
            d_us=disagreement(us, day, exp_day),
            d_kr=disagreement(kr, day, exp_day),
        )
        sol = solve(
            problem,
            concept=experiment.concept,
            alpha=rho_kr / (rho_us + rho_kr),  # patience is power
            delta_us=(1.0 + rho_us) ** -dt_years,
            delta_kr=(1.0 + rho_kr) ** -dt_years,
            us_first=r % 2 == 0,
            rounds_left=n_rounds - r,
        )
        out["solves"] += 1
        base, k = float(sol.base), int(sol.package)

        # the U.S. president reviews the working-level deal
        if pressure > v["veto_pressure_threshold"]:
            floor = us.reservation + v["veto_strength"] * pressure * (us.ideal - us.reservation)
        else:
            floor = -math.inf
        # After a veto the zone's lower end is us_floor / a_k, and a deal sitting on it
        # (Nash often does) has a level (floor / a_k) * a_k that can round one ulp below the
        # floor: the comparison allows for rounding, as the engine's does.
        if base * us.a[k] < floor - VETO_TOLERANCE * abs(floor):
            out["vetoes"] += 1
            us_floor = max(us_floor, floor)
            continue  # talks go on at the next round

        status = PENDING
        out.update(
            agree_round=r,
            agree_day=day,
            base=base,
            package=k,
            u_us=float(sol.u_us),
            u_kr=float(sol.u_kr),
        )
        vote_day = day + cal.ratification_lag_days

    # events after the last round: the election (if it falls after it) and a pending vote
    if election_pending:
        election()
    if status == PENDING:
        vote()
    if status == ACTIVE:
        status = FAILED  # no agreement by the last round (or a rejection after it)
    out.update(status=status, high_pressure=high_pressure, pressure_final=pressure)
    return out


def reference_batch(experiment, values, noise, indices=None) -> list[dict]:
    """:func:`reference_negotiate` for each draw of ``indices`` (all draws by default)."""
    if indices is None:
        indices = range(noise.talks.shape[0])
    return [reference_negotiate(experiment, values, noise, int(i)) for i in indices]
