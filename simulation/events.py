"""Political events: each kind is one SimPy process acting on a whole batch of draws.

A :class:`~simulation.records.CalendarEvent` names its kind and day. :data:`EVENTS` maps each
kind to its process (a generator that sleeps until the event's day, then changes what the
sides want through the negotiation's small interface) and to the line a trace tells of it.
Every event ends the rounds' screening segment: after it, each active draw's next round with a
zone is found again (:meth:`simulation.negotiation.BatchNegotiation.reschedule`).

The reopening demand is not on the calendar: it comes at a sampled time per draw
(:mod:`simulation.opening`), and the talks process opens each draw's talks at its round.

Adding an event kind means one generator and one trace line here, plus the parameters it
reads in :mod:`models.parameters` (with defaults, so no config has to change); a config puts
it on the calendar with ``[[calendar.events]]``.

The negotiation is passed in as ``ng`` and used through ``env``, ``v`` (sampled parameters by
name, each shape (n_draws,); an event may replace it with changed values), ``noise``,
``setting``, ``outlook``, ``high_pressure``, ``us``, ``kr_clock_start``, ``n``,
``new_outlook``, ``log``, ``traced_draws`` and ``reschedule``; this module does not import
it, so the two never form an import circle.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from smasim.models.outlook import Outlook
from smasim.models.valuation import next_inauguration_year
from smasim.simulation.records import CalendarEvent

Labeller = Callable[[int], str]


def election_winner(values: dict, noise: Any) -> tuple[np.ndarray, np.ndarray]:
    """Who wins the U.S. election in each draw (its noise is drawn up front).

    Returns
    -------
    high : ndarray of bool, shape (n_draws,)
        A high-pressure administration wins (noise below ``p_high_pressure``).
    pressure : ndarray, shape (n_draws,)
        The winner's pressure index.
    """
    high = noise.election < values["p_high_pressure"]
    return high, np.where(high, values["us_pressure_if_high"], values["us_pressure_if_low"])


def election(ng: Any, event: CalendarEvent) -> Generator:
    """The U.S. presidential election: a high-pressure winner with ``p_high_pressure``.

    The winner is known from election day, and both sides now expect it (Korea's look-ahead,
    the term a renegotiation would meet); it takes office at the inauguration.
    """
    yield ng.env.timeout(event.day - ng.env.now)
    high, winner = election_winner(ng.v, ng.noise)
    ng.high_pressure[:] = high
    ng.new_outlook(replace(ng.outlook, successor_pressure=winner))
    for i in ng.traced_draws():
        ng.log(-1, "election", draw=i, high_pressure=bool(high[i]), pressure=float(winner[i]))
    ng.reschedule()


def inauguration(ng: Any, event: CalendarEvent) -> Generator:
    """The election's winner takes office (20 January): its pressure, its own clock.

    A new high-pressure administration restarts the U.S. concession clock; the old
    president's veto floor lapses. An inauguration with no election before it in the talks
    changes nothing.
    """
    yield ng.env.timeout(event.day - ng.env.now)
    winner = ng.outlook.successor_pressure
    if winner is not None:
        clock_start = np.where(ng.high_pressure, ng.env.now, ng.us.clock_start_day)
        took_office = next_inauguration_year(ng.setting.talks_year)
        ng.new_outlook(Outlook(winner, took_office), clock_start_day=clock_start)
        for i in ng.traced_draws():
            ng.log(-1, "inauguration", draw=i, pressure=float(winner[i]))
    ng.reschedule()


def troop_change(ng: Any, event: CalendarEvent) -> Generator:
    """USFK's troop level changes by ``troop_change`` (a fraction; -0.1 is a 10 % cut).

    The cost the SMA pays toward moves with the force: both sides' ideal and reservation
    first-year increases move by ``troop_cost_share`` times the change (2005: -8.9 % with
    USFK cuts). A change of 0 changes nothing.
    """
    yield ng.env.timeout(event.day - ng.env.now)
    shift = ng.v["troop_cost_share"] * ng.v["troop_change"]
    ng.v = _shifted(ng.v, shift, POSITIONS)
    ng.new_outlook(ng.outlook)
    for i in ng.traced_draws():
        ng.log(-1, "troop_change", draw=i, change=float(ng.v["troop_change"][i]),
               shift=float(shift[i]))  # fmt: skip
    ng.reschedule()


def kr_election(ng: Any, event: CalendarEvent) -> Generator:
    """Korea's presidential election: a conservative wins with ``p_kr_conservative``.

    The new president takes office at once (as in 2025) with new negotiators: Korea's ideal
    and reservation increases move by ``kr_shift_if_conservative`` or
    ``kr_shift_if_progressive``, and Korea's concession clock restarts.
    """
    yield ng.env.timeout(event.day - ng.env.now)
    conservative = ng.noise.event("kr_election") < ng.v["p_kr_conservative"]
    shift = np.where(
        conservative, ng.v["kr_shift_if_conservative"], ng.v["kr_shift_if_progressive"]
    )
    ng.v = _shifted(ng.v, shift, POSITIONS[2:])
    ng.kr_clock_start = np.full(ng.n, float(ng.env.now))
    ng.new_outlook(ng.outlook)
    for i in ng.traced_draws():
        ng.log(-1, "kr_election", draw=i, conservative=bool(conservative[i]),
               shift=float(shift[i]))  # fmt: skip
    ng.reschedule()


# the sides' first-year positions over the status quo: U.S. then Korea
POSITIONS = (
    "us_ideal_increase",
    "us_reservation_increase",
    "kr_ideal_increase",
    "kr_reservation_increase",
)


def _shifted(values: dict, shift: np.ndarray, names: tuple[str, ...]) -> dict:
    """``values`` with ``shift`` (shape (n_draws,)) added to the parameters ``names``."""
    return {**values, **{name: values[name] + shift for name in names}}


@dataclass(frozen=True)
class EventKind:
    """One kind of political event.

    Attributes
    ----------
    process : callable
        ``process(ng, event)``, a SimPy generator.
    """

    process: Callable[[Any, CalendarEvent], Generator]


EVENTS: dict[str, EventKind] = {
    "election": EventKind(election),
    "inauguration": EventKind(inauguration),
    "troop_change": EventKind(troop_change),
    "kr_election": EventKind(kr_election),
}


def _offer(x: float) -> str:
    # a target no finite amount reaches (early rounds, curved utility) asks without limit
    return f"{x:,.1f}" if x == x and abs(x) != float("inf") else "without limit"


def _round(d: dict, label: Labeller) -> str:
    return (
        f"U.S. asks {_offer(d['us_offer'])} ({label(d['us_package'])}), Korea offers "
        f"{_offer(d['kr_offer'])} ({label(d['kr_package'])}) bn KRW; targets U.S. "
        f"{d['us_target']:.2f} / KR {d['kr_target']:.2f}; "
        f"{'Korea accepts' if d['kr_accepts'] else 'rejected'}"
        f"{', U.S. accepts' if d['us_accepts'] else ''}"
    )


def _agreement(d: dict, label: Labeller) -> str:
    return (
        f"WORKING-LEVEL AGREEMENT: {d['base']:,.1f} bn KRW, "
        f"{label(d['package'])} (u U.S. {d['u_us']:.3f}, u KR {d['u_kr']:.3f})"
    )


def _veto(d: dict, label: Labeller) -> str:
    return (
        f"U.S. PRESIDENT VETOES (U.S. utility floor {d['floor_utility']:.3f}, "
        "falling with lapse costs); talks go on"
    )


def _ratification(d: dict, label: Labeller) -> str:
    verdict = "ratifies" if d["approved"] else "REFUSES"
    return (
        f"National Assembly {verdict} ({d['increase_pct']:+.1f}% first year, "
        f"P(refusal) {d['p_reject']:.0%})"
    )


def _election(d: dict, label: Labeller) -> str:
    kind = "high-pressure" if d["high_pressure"] else "low-pressure"
    return f"U.S. election: a {kind} administration wins (pressure {d['pressure']:.2f})"


# How a trace tells each kind of line (rich markup): ``text(detail, package_label)``.
# Lines of a round carry the round's number in front.
TRACE_LINES: dict[str, Callable[[dict, Labeller], str]] = {
    "round": _round,
    "agreement": _agreement,
    "veto": _veto,
    "ratification": _ratification,
    "expiry": lambda d, label: "the old SMA expires",
    "election": _election,
    "inauguration": lambda d, label: f"U.S. inauguration (pressure {d['pressure']:.2f})",
    "reopening": lambda d, label: "the U.S. demands a reopening: talks open",
    "troop_change": lambda d, label: (
        f"USFK troop level changes by {d['change']:+.0%}: both sides' positions move "
        f"{d['shift']:+.1%} of the status quo"
    ),
    "kr_election": lambda d, label: (
        f"Korean presidential election: a {'conservative' if d['conservative'] else 'progressive'}"
        f" takes office; Korea's positions move {d['shift']:+.1%} of the status quo"
    ),
}
