"""Political events: each kind is one SimPy process acting on a whole batch of draws.

A :class:`~simulation.records.CalendarEvent` names its kind and day. :data:`EVENTS` maps each
kind to its process (a generator that sleeps until the event's day, then changes what the
sides want through the negotiation's small interface) and to the line a trace tells of it.
Every event ends the rounds' screening segment: after it, each active draw's next round with a
zone is found again (:meth:`simulation.negotiation.BatchNegotiation.reschedule`).

Adding an event kind means one generator and one trace line here, plus the parameters it
reads in :mod:`models.parameters` (with defaults, so no config has to change); a config puts
it on the calendar with ``[[calendar.events]]``.

The negotiation is passed in as ``ng`` and used through ``env``, ``v`` (sampled parameters by
name, each shape (n_draws,)), ``noise``, ``setting``, ``outlook``, ``high_pressure``, ``us``,
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


def election(ng: Any, event: CalendarEvent) -> Generator:
    """The U.S. presidential election: a high-pressure winner with ``p_high_pressure``.

    The winner is known from election day, and both sides now expect it (Korea's look-ahead,
    the term a renegotiation would meet); it takes office at the inauguration.
    """
    yield ng.env.timeout(event.day - ng.env.now)
    high = ng.noise.election < ng.v["p_high_pressure"]
    ng.high_pressure[:] = high
    winner = np.where(high, ng.v["us_pressure_if_high"], ng.v["us_pressure_if_low"])
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
}
