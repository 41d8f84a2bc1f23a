"""A plain, per-draw reference implementation of the batch negotiation (model v2).

:class:`simulation.negotiation.BatchNegotiation` negotiates a whole batch at once: a SimPy
environment, arrays over draws, bisection over rounds to find each draw's first round with a
zone of agreement, deals struck ahead of their rounds and the vectorized fast paths of
:mod:`models.bargaining`. This module does the same negotiation for ONE draw with none of that
machinery:

* a plain Python loop over every round of the calendar (no bisection, no screening, no deals
  struck ahead), with the calendar's events and the Assembly's votes applied in between;
* each round's utilities, disagreement values, target utilities, acceptance bounds, zone of
  agreement, veto review and ratification in scalar Python (:mod:`math`, Python floats),
  written from the formulas in the docstrings of :mod:`models.agents` and
  :mod:`models.pressure`, not by calling the vectorized functions;
* the bargaining solution from :func:`models.general.solve` (the SciPy reference solver, one
  problem at a time, numerical derivatives and ``brentq``), fed with scalar utility callables.

What is NOT re-implemented is the preference model: each side's primitives (reservation,
ideal, weights, the money value ``c_k`` of each package, the in-force floor factors, the
disagreement base, Korea's look-ahead shift) come from the engine's own builders
:func:`models.pressure.us_side`, :func:`models.pressure.kr_side` and
:func:`models.setting.package_tables`, called on 1-element arrays, and the president's veto
utility from :func:`models.pressure.veto_utility`. The reference checks the negotiation loop
(round stepping, events, veto, ratification, the solves), not the valuation of packages.

It exists to cross-check the vectorized engine (``tests/test_reference.py``) and as the speed
baseline of ``benchmarks/bench_engine.py``. It is slow on purpose: one draw at a time.

The model (v2)
--------------
A side values first-year amount ``b`` (bn KRW; the amount issue is the first year) with
package ``k`` at ``u(b, k) = w m((b - R) / (I - R)) + (1 - w) c_k``. Its disagreement value
at day ``t`` is ``d(t) = base - lambda max(0, t - t_exp) / month - c max(0, t - t_c) / month
(+ shift while t < t_wait)``, where ``c`` is Korea's linked cost (``coercion_cost_kr`` times
the pressure in office; 0 for the U.S.), and its target
``tau(t) = 1 - (1 - d(t)) min(max((t - t0) / T, 0), 1) ** (1 / e)``.

Semantics (those of ``BatchNegotiation``)
-----------------------------------------
Time is in days since the first round (round 0). A draw talks iff
``noise.talks < talks_probability``; with ``reopening_rate_per_year > 0`` its talks open only
when a U.S. reopening demand comes: at the day the cumulative hazard (the rate times the
pressure in office: ``us_pressure``, the election's winner's from the inauguration on, per
day) reaches ``-log(1 - noise.event("reopening"))``, at the first round on or after it
(none: no talks). Until then the draw has no talks. Both concession clocks start no earlier
than that round's day ``t_open`` (0 when talks open at round 0), and so do Korea's linked
costs. Before each round, in this order:

1. every calendar event on or before the round's day that has not happened yet, in calendar
   order:

   * ``election``: the winner is high-pressure iff ``noise.election < p_high_pressure``; its
     pressure becomes the outlook's ``successor_pressure`` and both sides are rebuilt from the
     new outlook (Korea's look-ahead now faces the known winner, packages are valued with it).
     The administration in office, and so the U.S. pressure, does not change; nor does the
     U.S. concession clock; the same president's veto keeps its hold on the negotiators
     (their disagreement base stays at least his floor);
   * ``inauguration``: if an election came before it, the winner takes office:
     ``Outlook(winner, next_inauguration_year(talks_year))`` (no look-ahead any more), a
     high-pressure winner restarts the U.S. concession clock on that day, both sides are
     rebuilt (any veto's hold lapses) and the hard floor is reset to the in-force floor.
     Without an election before it, it changes nothing;
   * ``troop_change``: both sides' ideal and reservation increase parameters move by
     ``troop_cost_share * troop_change``; both sides are rebuilt (as after an election:
     same outlook, same clocks, the veto's hold stays);
   * ``kr_election``: a conservative wins iff ``noise.event("kr_election") <
     p_kr_conservative``; Korea's ideal and reservation increase parameters move by the
     winner's ``kr_shift_if_*``, Korea's concession clock restarts that day (for good: later
     rebuilds keep it) and both sides are rebuilt as after a troop change;

   a rebuilt side's clock starts no earlier than ``t_open``. Korea's linked costs borne by an
   event's day stay borne (its disagreement base falls by them) and run from that day at the
   rebuilt side's rate. After any event the veto utility is recomputed from the rebuilt U.S.
   side;
2. if a working-level agreement awaits the National Assembly and its vote day is strictly
   before the round's day, the vote;
3. a draw whose talks open at this round becomes active.

Each round an active draw computes its zone per package ``k``::

    [max(U.S. least amount at tau_US, us_floor / floor_factor_k),
     min(Korea's largest amount at tau_KR, kr_cap)]

where ``us_floor`` is the first year of the formula in force (``-inf`` when none is), and if
any package has a non-empty zone, solves it by the experiment's concept with disagreement
points ``d_US(t), d_KR(t)``. The U.S. president vetoes the deal if its U.S. utility is below
``veto_level - lambda_US max(0, t - t_exp) / month`` (less a 1e-12 relative tolerance), where
``veto_level = base_US + veto_strength p`` above ``veto_pressure_threshold`` and ``-inf``
below; the U.S. negotiators' disagreement base becomes ``max(base_US, veto_level)`` and talks
go on at the next round. Otherwise the deal goes to the Assembly ``ratification_lag_days``
later; a rejection caps Korea's first year at ``status_quo * (1 + assembly_threshold)`` and
talks resume at the first round strictly after the vote, until ``n_attempts`` rejections end
the talks for good.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import numpy as np

from smasim.models.acceptance import has_zone
from smasim.models.agents import Side
from smasim.models.general import GeneralProblem, solve
from smasim.models.outlook import Outlook
from smasim.models.pressure import kr_side, us_side, veto_utility
from smasim.models.setting import package_tables
from smasim.models.valuation import next_inauguration_year
from smasim.simulation.records import ACTIVE, DONE, FAILED, NO_TALKS, PENDING
from smasim.simulation.sampling import Noise

DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = DAYS_PER_YEAR / 12.0
VETO_TOLERANCE = 1e-12  # relative (at least absolute); a deal on the floor is not vetoed
LINEAR_CURVATURE = 1e-9  # kappa at or below this: m(z) = z (models.agents)

# the sides' first-year position parameters a troop change moves (Korea's: the last two)
POSITIONS = (
    "us_ideal_increase",
    "us_reservation_increase",
    "kr_ideal_increase",
    "kr_reservation_increase",
)

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
    """One side's preferences for one draw, Python floats.

    ``c`` (the money value of each package, in utility) and ``floor_factor`` are per package.
    """

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
    floor_factor: tuple[float, ...]
    disagreement_base: float
    waiting_shift: float
    waiting_until_day: float
    coercion_cost: float = 0.0
    coercion_start_day: float = 0.0

    @classmethod
    def from_side(cls, side: Side, *, clock_start_day: float) -> ScalarSide:
        """Draw 0 of a 1-draw :class:`models.agents.Side`, with its concession clock's start."""
        return cls(
            reservation=float(side.reservation[0]),
            ideal=float(side.ideal[0]),
            weight=float(side.amount_weight[0]),
            curvature=float(side.curvature[0]),
            exponent=float(side.concession_exponent[0]),
            deadline_days=float(side.deadline_days[0]),
            lapse_cost=float(side.lapse_cost[0]),
            discount_rate=float(side.discount_rate[0]),
            clock_start_day=clock_start_day,
            c=tuple(float(x) for x in side.discrete_value[0]),
            floor_factor=tuple(float(x) for x in side.floor_factor[0]),
            disagreement_base=float(side.disagreement_base[0]),
            waiting_shift=float(side.waiting_shift[0]),
            waiting_until_day=float(side.waiting_until_day),
            coercion_cost=float(side.coercion_cost[0]),
            coercion_start_day=float(side.coercion_start_day[0]),
        )


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
    """``u(b, k) = w m((b - R) / (I - R)) + (1 - w) c_k``: ``b`` is the first-year amount."""
    z = (b - side.reservation) / (side.ideal - side.reservation)
    return side.weight * curve(z, side.curvature) + (1.0 - side.weight) * side.c[k]


def disagreement(side: ScalarSide, day: float, expiry_day: float) -> float:
    """``d(t) = base - lambda max(0, t - t_exp) / month - c max(0, t - t_c) / month``, plus the
    shift while ``t < t_wait``."""
    d = side.disagreement_base - side.lapse_cost * max(day - expiry_day, 0.0) / DAYS_PER_MONTH
    if side.coercion_cost:
        d -= coerced_since_start(side, day)
    if day < side.waiting_until_day:
        d += side.waiting_shift
    return d


def coerced_since_start(side: ScalarSide, day: float) -> float:
    """``c max(0, t - t_c) / month``: linked costs borne since they last started or changed."""
    return side.coercion_cost * max(day - side.coercion_start_day, 0.0) / DAYS_PER_MONTH


def opening_round(v: Mapping[str, float], u: float, election_u: float, cal) -> int:
    """The round a draw's talks open: the first on or after the reopening demand's day.

    The demand comes when the hazard ``rate p(t) / year``, ``p(t)`` the pressure in office
    (the election's winner's from the inauguration on, if an election is on the calendar),
    integrated from day 0 reaches ``-log(1 - u)``. Rate 0: round 0. ``len(round_days)``:
    never.
    """
    rate = v["reopening_rate_per_year"]
    if not rate > 0.0:
        return 0
    need = -math.log1p(-u)
    per_day = rate / DAYS_PER_YEAR
    before = after = per_day * v["us_pressure"]
    switch = cal.inauguration_day
    if cal.election_day is not None and math.isfinite(switch):
        high = election_u < v["p_high_pressure"]
        after = per_day * (v["us_pressure_if_high"] if high else v["us_pressure_if_low"])
    if before > 0.0 and need / before <= switch:
        day = need / before  # before the inauguration
    elif after > 0.0 and math.isfinite(switch):
        day = switch + (need - before * switch) / after
    else:
        return len(cal.round_days)  # the hazard never reaches it
    return bisect.bisect_left([float(d) for d in cal.round_days], day)


def target(side: ScalarSide, day: float, expiry_day: float) -> float:
    """``tau(t) = max(1 - (1 - d(t)) min(max((t - t0) / T, 0), 1) ** (1 / e), d(t))``."""
    progress = min(max((day - side.clock_start_day) / side.deadline_days, 0.0), 1.0)
    d = disagreement(side, day, expiry_day)
    return max(1.0 - (1.0 - d) * progress ** (1.0 / side.exponent), d)  # never below no deal


def amount_at(side: ScalarSide, tau: float, k: int) -> float:
    """First-year amount where ``u(., k) = tau``: the U.S. least amount, Korea's largest.

    An unreachable target gives ``+inf`` for the U.S. (``I > R``) and ``-inf`` for Korea.
    """
    z = curve_inverse((tau - (1.0 - side.weight) * side.c[k]) / side.weight, side.curvature)
    if math.isinf(z):
        return math.copysign(math.inf, side.ideal - side.reservation)
    return side.reservation + z * (side.ideal - side.reservation)


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
    experiment : simulation.records.Experiment
        Setting, calendar and solution concept.
    values : mapping of str to ndarray, shape (n_draws,)
        Sampled parameters (:func:`simulation.sampling.sample`).
    noise : simulation.sampling.Noise
    index : int
        The draw.

    Returns
    -------
    dict
        ``status`` (the codes of :mod:`simulation.records`), ``agree_round`` (-1 if none),
        ``agree_day``, ``in_force_day`` (days since talks open, NaN if none), ``base`` (bn KRW,
        NaN if none), ``package`` (-1 if none), ``vetoes``, ``rejections``, and for
        information ``u_us``, ``u_kr``, ``high_pressure``, ``pressure_final``, ``solves``
        (bargaining problems solved), ``rounds_evaluated``, ``events`` (the calendar
        events that changed the sides, by kind), ``veto_days`` and ``open_round`` (the round
        the talks open at, ``len(round_days)`` if never).
    """
    v1 = {name: np.asarray(arr[index : index + 1]) for name, arr in values.items()}
    v = {name: float(arr[0]) for name, arr in v1.items()}
    setting, cal = experiment.setting, experiment.calendar
    s = setting.status_quo
    days = [float(d) for d in cal.round_days]
    n_rounds = len(days)
    n_pkg = setting.packages.size
    n_attempts = int(noise.ratification.shape[1])
    exp_day = float(cal.expiry_day)
    # by day; events on the same day in calendar order, as SimPy runs them
    events = sorted(cal.events, key=lambda e: e.day)

    # the engine's preference model on this one draw
    appeal = None if noise.packages is None else noise.packages[index : index + 1]
    tables = package_tables(setting, v1, appeal)
    hard_floor = float(tables.floor[0])  # the in-force formula's first year, -inf if none

    # when the talks open (a reopening demand): no clock starts, no linked cost runs before
    open_round = opening_round(
        v, float(noise.event("reopening")[index]), float(noise.election[index]), cal
    )
    open_day = days[open_round] if 0 < open_round < n_rounds else 0.0
    kr_clock = 0.0  # Korea's concession clock restarts with its president (kr_election)
    coerced = 0.0  # Korea's linked costs borne before the last event that rebuilt the sides

    def build_sides(
        outlook: Outlook, us_clock: float, day: float | None = None
    ) -> tuple[ScalarSide, ScalarSide, float]:
        """Both sides under ``outlook`` and the president's veto utility (before lapse costs).

        With ``day`` (an event rebuilding the sides), Korea's linked costs borne so far stay
        borne and run on from ``day`` at the new side's rate.
        """
        nonlocal coerced
        us_arr = us_side(setting, v1, outlook, tables)
        veto = veto_utility(
            us_arr,
            np.asarray(outlook.pressure, dtype=float),
            strength=v1["veto_strength"],
            threshold=v1["veto_pressure_threshold"],
        )
        new_kr = ScalarSide.from_side(
            kr_side(setting, v1, outlook, tables), clock_start_day=max(kr_clock, open_day)
        )
        if day is not None:
            coerced += coerced_since_start(kr, day)
            new_kr = replace(
                new_kr,
                disagreement_base=new_kr.disagreement_base - coerced,
                coercion_start_day=day,
            )
        return (
            ScalarSide.from_side(us_arr, clock_start_day=max(us_clock, open_day)),
            replace(new_kr, coercion_start_day=max(new_kr.coercion_start_day, open_day)),
            float(veto[0]),
        )

    pressure = v["us_pressure"]
    outlook = Outlook(
        np.array([pressure]), setting.talks_year, inauguration_day=cal.inauguration_day
    )
    us, kr, veto_level = build_sides(outlook, 0.0)
    president_floor = -math.inf  # the utility floor of a veto by the president in office
    high_pressure = False
    winner: float | None = None  # the election's winner's pressure, once elected
    # hard limits on the first-year amount (bn KRW): the U.S. floor of the agreement in force
    # (vetoes no longer move it: they act on the disagreement base) and Korea's cap after a
    # failed ratification
    us_floor, kr_cap = hard_floor, math.inf
    talks = float(noise.talks[index]) < v["talks_probability"]
    status = ACTIVE if talks and open_round == 0 else NO_TALKS
    awaiting = talks and 0 < open_round < n_rounds  # no talks until the demand's round
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
        "events": [],
        "veto_days": [],
        "open_round": open_round,
    }
    next_event = 0  # index into events of the first one that has not happened
    vote_day = math.nan

    def shift(names: tuple[str, ...], by: float) -> None:
        # an event moves sampled parameters for the side builders (v1) from then on
        for name in names:
            v1[name] = v1[name] + by

    def happen(kind: str, day: float) -> None:
        # runs for every draw whatever its status, as the engine's event processes do
        nonlocal outlook, us, kr, veto_level, pressure, high_pressure, winner, us_floor
        nonlocal president_floor, kr_clock
        if kind == "inauguration":
            if winner is None:
                return  # no election before it: nothing changes
            pressure = winner
            outlook = Outlook(np.array([winner]), next_inauguration_year(setting.talks_year))
            us_clock = day if high_pressure else us.clock_start_day
            us, kr, veto_level = build_sides(outlook, us_clock, day)
            us_floor = hard_floor  # the agreement in force still binds the new administration
            president_floor = -math.inf  # the old president's veto lapses
            out["events"].append(kind)
            return
        if kind == "election":
            high_pressure = float(noise.election[index]) < v["p_high_pressure"]
            winner = v["us_pressure_if_high"] if high_pressure else v["us_pressure_if_low"]
            # The winner is known, not yet in office: same pressure, same U.S. clock, and the
            # same president, whose veto still holds the negotiators.
            outlook = Outlook(
                outlook.pressure,
                outlook.now_year,
                successor_pressure=np.array([winner]),
                inauguration_day=outlook.inauguration_day,
            )
        elif kind == "troop_change":  # both sides' first-year positions move with the force
            shift(POSITIONS, v["troop_cost_share"] * v["troop_change"])
        elif kind == "kr_election":  # Korea's new president and negotiators, at once
            conservative = float(noise.event("kr_election")[index]) < v["p_kr_conservative"]
            winner_kr = "conservative" if conservative else "progressive"
            shift(POSITIONS[2:], v[f"kr_shift_if_{winner_kr}"])
            kr_clock = day
        else:
            raise ValueError(f"reference: unknown calendar event {kind!r}")
        # the same outlook's administration: same U.S. clock, its president's veto still holds
        us, kr, veto_level = build_sides(outlook, us.clock_start_day, day)
        us = replace(us, disagreement_base=max(us.disagreement_base, president_floor))
        out["events"].append(kind)

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
        # The cap is on the first-year amount the Assembly votes on: any later deal has an
        # increase <= the threshold and passes for sure.
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
    # * an event counts for a round on its own day (engine: SimPy runs the event's timeout
    #   first and re-screens from the first round with day >= the event's day);
    # * after a rejection talks resume at the first round with day > vote day, even when a
    #   round falls on the vote day (engine: searchsorted(..., side="right"));
    # * a vote and an event between two rounds commute (the vote reads neither side, the
    #   events touch neither Korea's cap nor the agreement on the table);
    # * a deal struck at one of the last rounds is still voted on after the last round (and
    #   after the hard stop): SimPy runs every pending process to the end.
    for r, day in enumerate(days):
        # order on one day: the events, then (a vote,) then the round
        while next_event < len(events) and events[next_event].day <= day:
            happen(events[next_event].kind, float(events[next_event].day))
            next_event += 1
        if status == PENDING and vote_day < day:
            vote()
        if awaiting and r == open_round:
            awaiting, status = False, ACTIVE  # the demand has come: talks open
        if status != ACTIVE:
            continue
        out["rounds_evaluated"] += 1

        tau_us, tau_kr = target(us, day, exp_day), target(kr, day, exp_day)
        lo = [max(amount_at(us, tau_us, k), us_floor / us.floor_factor[k]) for k in range(n_pkg)]
        hi = [min(amount_at(kr, tau_kr, k), kr_cap) for k in range(n_pkg)]
        if not any(has_zone(lo[k], hi[k]) for k in range(n_pkg)):
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
        u_us = utility(us, base, k)

        # The U.S. president reviews the working-level deal: its utility floor falls with the
        # U.S. lapse cost, as the negotiators' own does. After a veto the negotiators' target
        # never falls below that floor, and a deal struck on it (at the zone's edge) can round
        # a hair below: the comparison allows for rounding, as the engine's does.
        floor = veto_level - us.lapse_cost * max(day - exp_day, 0.0) / DAYS_PER_MONTH
        if u_us < floor - VETO_TOLERANCE * max(abs(floor), 1.0):
            out["vetoes"] += 1
            out["veto_days"].append(day)
            president_floor = max(president_floor, veto_level)
            us = replace(us, disagreement_base=max(us.disagreement_base, president_floor))
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

    # events after the last round, then a pending vote
    for event in events[next_event:]:
        happen(event.kind, float(event.day))
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
