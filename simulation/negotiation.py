"""One SimPy environment negotiating a whole batch of draws.

The talks are a SimPy process stepping through the round calendar; political events (the U.S.
election, the inauguration: :mod:`simulation.events`), the old SMA's expiry and each cohort's
ratification vote are processes of their own. Every process acts on arrays of draws: Python
loops run over rounds and events, never over draws.

Finding the round an agreement is reached
-----------------------------------------
Between events each side's target utility only falls (:func:`models.agents.target_utility`),
so the zone of agreement only widens: whether it is non-empty is monotone in the round. When a
segment of rounds opens (talks start, an event, a veto, a failed ratification), each
draw's first round with a zone is found by vectorized bisection over the segment's rounds
(``log2`` of the rounds, not one evaluation per round), and the round process then acts only
on the draws whose round it is. Draws with no zone before the next event sleep until it.

Time is in days since the talks open (the first round). Event order on one day: the events,
then the round.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np
import simpy

from smasim.models.acceptance import AcceptanceTable
from smasim.models.agents import (
    Side,
    coercion_accrued,
    disagreement_value,
    target_utility,
)
from smasim.models.bargaining import CONCEPTS, Agreement, solve_zone
from smasim.models.outlook import Outlook
from smasim.models.pressure import (
    kr_side,
    nash_weight,
    round_discount,
    us_side,
    veto_utility,
)
from smasim.models.setting import Setting, package_tables
from smasim.simulation.events import EVENTS
from smasim.simulation.opening import opened_sides, opening_rounds
from smasim.simulation.ratification import plan_retries, queue_retries, ratification
from smasim.simulation.records import (
    ACTIVE,
    FAILED,
    NO_TALKS,
    PENDING,
    BatchOutcome,
    Calendar,
    TraceEvent,
)
from smasim.simulation.sampling import Noise
from smasim.simulation.screen import first_rounds
from smasim.simulation.tracing import log_deals, trace_offers
from smasim.simulation.veto import review, veto


class BatchNegotiation:
    """The negotiation of ``n_draws`` independent draws in one SimPy environment.

    Parameters
    ----------
    setting : Setting
    calendar : Calendar
    values : mapping of str to ndarray, shape (n_draws,)
        Sampled parameters by name (see :mod:`models.parameters`).
    noise : Noise
    concept : str
        Bargaining solution (:data:`models.bargaining.CONCEPTS`).
    trace : bool
        Record each round's offers and responses (for replaying a few draws).
    """

    def __init__(
        self,
        setting: Setting,
        calendar: Calendar,
        values: Mapping[str, np.ndarray],
        noise: Noise,
        *,
        concept: str,
        trace: bool = False,
    ) -> None:
        self.setting, self.calendar, self.v, self.noise = setting, calendar, values, noise
        self.concept, self.tracing = concept, trace
        n = noise.talks.shape[0]
        self.n = n
        self.n_rounds = calendar.round_days.size
        self.pressure = values["us_pressure"].astype(float).copy()
        self.high_pressure = np.zeros(n, dtype=bool)
        self.tables = package_tables(setting, values, noise.packages)
        self.outlook = Outlook(
            self.pressure, setting.talks_year, inauguration_day=calendar.inauguration_day
        )
        # a reopening demand comes at a random time: each draw's talks open at its first
        # round on or after it (never: no talks); both sides' clocks start then
        self.open_round = opening_rounds(values, noise, calendar)
        self.open_day = calendar.round_days[np.minimum(self.open_round, self.n_rounds - 1)]
        self.open_day = np.where(self.open_round > 0, self.open_day, 0.0)
        self.kr_clock_start = np.zeros(n)  # Korea's negotiators change with its president
        self.coerced = np.zeros(n)  # Korea's linked costs accrued before the last rate change
        self._set_sides(
            *opened_sides(
                self,
                us_side(setting, values, self.outlook, self.tables),
                kr_side(setting, values, self.outlook, self.tables),
            )
        )
        # hard limits on what each side's negotiators may accept: the U.S. floor (first year
        # times floor_factor) of an agreement in force, raised by a presidential veto
        self.us_floor = self.tables.floor.copy()
        self.president_floor = np.full(n, -np.inf)  # utility, set by a veto
        self.kr_cap = np.full(n, np.inf)  # first-year amount, set by a failed ratification
        # re-negotiations after a rejection foreseen when the deal was struck, released at the
        # vote (simulation.ratification)
        self.retry_queued = np.zeros(n, dtype=bool)
        self.queued_round = np.full(n, self.n_rounds)
        talks = noise.talks < values["talks_probability"]
        # a draw whose demand is still to come waits (as no talks) until its round
        self.awaiting = talks & (self.open_round > 0) & (self.open_round < self.n_rounds)
        self.status = np.where(talks & (self.open_round == 0), ACTIVE, NO_TALKS)
        self.next_round = np.full(n, self.n_rounds)
        self.out = BatchOutcome(
            status=self.status,
            agree_day=np.full(n, np.nan),
            agree_round=np.full(n, -1),
            in_force_day=np.full(n, np.nan),
            base=np.full(n, np.nan),
            package=np.full(n, -1),
            u_us=np.full(n, np.nan),
            u_kr=np.full(n, np.nan),
            vetoes=np.zeros(n, dtype=np.int64),
            rejections=np.zeros(n, dtype=np.int64),
            converged=np.ones(n, dtype=bool),
            pressure_final=self.pressure,
            high_pressure=self.high_pressure,
            trace=[],
            open_day=np.where(self.awaiting | (self.status == ACTIVE), self.open_day, np.nan),
        )
        self.pending = Agreement.empty(n)  # deals struck ahead of their rounds
        self.queued = Agreement.empty(n)  # re-negotiations struck ahead of their votes
        self.env = simpy.Environment()
        self.events_done = 0  # events that have happened, in calendar order

    # --- processes -------------------------------------------------------------------------
    def run(self) -> BatchOutcome:
        """Run every process to the end and return the outcome."""
        env = self.env
        # events first: on a round's day, the event happens before the round
        for event in self.calendar.events:
            env.process(EVENTS[event.kind].process(self, event))
        env.process(self._expiry())
        env.process(self._talks())
        env.run()
        self.status[self.status == ACTIVE] = FAILED
        self.out.pressure_final = self.pressure
        self.out.high_pressure = self.high_pressure
        return self.out

    def _talks(self):
        days = self.calendar.round_days
        self.schedule(np.flatnonzero(self.status == ACTIVE), 0)
        for r, day in enumerate(days):
            if day > self.env.now:
                yield self.env.timeout(day - self.env.now)
            if self.awaiting.any():
                self._open(r)
            self._round(r)

    def _open(self, r: int) -> None:
        """The draws whose reopening demand has come open their talks at round ``r``."""
        draws = np.flatnonzero(self.awaiting & (self.open_round == r))
        if draws.size == 0:
            return
        self.awaiting[draws] = False
        self.status[draws] = ACTIVE
        for i in draws if self.tracing else ():
            self._log(r, "reopening", draw=int(i))
        self.schedule(draws, r)

    # --- what events act through (simulation.events) ---------------------------------------
    def new_outlook(self, outlook: Outlook, clock_start_day: np.ndarray | None = None) -> None:
        """What both sides know and expect of U.S. administrations changed (an event).

        Both sides' preferences follow; with ``clock_start_day`` (shape (n_draws,)) a new
        administration has taken office: its concession clock, and the old president's veto
        floor lapses (the agreement in force still binds).
        """
        self.outlook = outlook
        self.pressure = outlook.pressure
        us = us_side(self.setting, self.v, outlook, self.tables)
        if clock_start_day is not None:
            us = replace(us, clock_start_day=clock_start_day)
            self.us_floor[:] = self.tables.floor
            self.president_floor[:] = -np.inf
        else:
            us = replace(us, clock_start_day=self.us.clock_start_day)
        kr = kr_side(self.setting, self.v, outlook, self.tables)
        if self.kr.coercion_cost.any() or kr.coercion_cost.any():
            # linked costs borne so far stay borne; from today they run at the new rate
            now = self.env.now
            self.coerced += coercion_accrued(self.kr, now)
            kr = replace(
                kr,
                disagreement_base=kr.disagreement_base - self.coerced,
                coercion_start_day=np.full(self.n, float(now)),
            )
        self._set_sides(*opened_sides(self, us, kr))
        # the same president's veto still holds the negotiators (his floor, not a new one)
        base = np.maximum(self.us.disagreement_base, self.president_floor)
        self.us = replace(self.us, disagreement_base=base)

    def reschedule(self) -> None:
        """After an event: every active draw's next round with a zone, from today's round on."""
        self.events_done += 1
        active = np.flatnonzero(self.status == ACTIVE)
        self.schedule(active, self.first_round_after(self.env.now, inclusive=True))

    def traced_draws(self) -> range:
        """The draws whose story is being recorded (none outside tracing)."""
        return range(self.n) if self.tracing else range(0)

    def log(self, r: int, kind: str, **detail) -> None:
        """Add a line to the trace (outside tracing, nothing)."""
        self._log(r, kind, **detail)

    def _expiry(self):
        if self.calendar.expiry_day > 0:
            yield self.env.timeout(self.calendar.expiry_day)
        self._log(-1, "expiry")

    # --- one round -------------------------------------------------------------------------
    def _round(self, r: int) -> None:
        day = float(self.calendar.round_days[r])
        if self.tracing:
            trace_offers(self, r, day)
        draws = np.flatnonzero((self.status == ACTIVE) & (self.next_round == r))
        self.next_round[draws] = self.n_rounds
        if draws.size == 0:
            return
        if self.tracing:
            deal = self._deals(draws, np.full(draws.size, r))
            vetoed = review(self, draws, deal, np.full(draws.size, day))
            log_deals(self, r, draws, deal, vetoed)
            bad = draws[vetoed]
            if bad.size:
                veto(self, bad)
                self.schedule(bad, r + 1)
            draws, deal = draws[~vetoed], deal.take(~vetoed)
        else:
            deal = self.pending.take(draws)  # struck when the round was set
        o = self.out
        o.agree_day[draws], o.agree_round[draws] = day, r
        o.base[draws], o.package[draws] = deal.base, deal.package
        o.u_us[draws], o.u_kr[draws], o.converged[draws] = deal.u_us, deal.u_kr, deal.converged
        self.status[draws] = PENDING
        self.env.process(ratification(self, draws))

    def _deals(self, draws: np.ndarray, rounds: np.ndarray) -> Agreement:
        """The working-level deal of each draw at its round ``rounds[j]`` (where it has a zone)."""
        if CONCEPTS[self.concept].round_dependent and np.unique(rounds).size > 1:
            # e.g. a deadline's backward induction depends on the round: one solve per round
            deal = Agreement.empty(draws.size)
            for r in np.unique(rounds):
                j = np.flatnonzero(rounds == r)
                deal.put(j, self._deals(draws[j], rounds[j]))
            return deal
        days = self.calendar.round_days[rounds]
        exp = self.calendar.expiry_day
        lo, hi = self._zone(draws, days)
        return solve_zone(
            self.us,
            self.kr,
            lo,
            hi,
            disagreement_value(self.us, days, exp, draws),
            disagreement_value(self.kr, days, exp, draws),
            concept=self.concept,
            alpha=self.alpha[draws],
            delta_us=self.delta_us[draws],
            delta_kr=self.delta_kr[draws],
            us_first=rounds % 2 == 0,
            rounds_left=int(self.n_rounds - rounds[0]) if rounds.size else 1,
            rows=draws,
        )

    def schedule(self, draws: np.ndarray, r_from, *, plan: bool = True) -> None:
        """Find each draw's next round with a zone and, outside tracing, strike its deal now.

        Until the next event (the election) a draw's deal depends only on the draw itself: its
        sides, its limits and its round's date. So the deals of all draws screened together
        are solved in one call rather than round by round, which spares each round's fixed
        cost; a vetoed deal is reviewed, and the draw screened again from the next round, at
        once as well, and so is a deal the Assembly will reject before the next event
        (:func:`simulation.ratification.plan_retries`; ``plan=False`` for the re-negotiation
        itself). The round process then only releases
        the deals at their rounds, in the same order of events and with the same bits as
        solving them there. With tracing, deals are struck in their rounds so that the story
        is told in order.
        """
        self._screen(draws, r_from)
        if self.tracing:
            return
        todo = draws[self.next_round[draws] < self.n_rounds]
        retries = []
        while todo.size:
            rounds = self.next_round[todo]
            deal = self._deals(todo, rounds)
            self.pending.put(todo, deal)
            vetoed = review(self, todo, deal, self.calendar.round_days[rounds])
            bad = todo[vetoed]
            if bad.size:
                veto(self, bad)
                self._screen(bad, rounds[vetoed] + 1)
            if plan:
                passed = ~vetoed
                retries.append(plan_retries(self, todo[passed], deal.base[passed], rounds[passed]))
            todo = bad[self.next_round[bad] < self.n_rounds]
        for retry, first in retries:
            if retry.size:
                queue_retries(self, retry, first)

    # --- helpers ---------------------------------------------------------------------------
    def _set_sides(self, us: Side, kr: Side) -> None:
        """Install new preferences and their acceptance tables (at the start and on events)."""
        self.us, self.kr = us, kr
        self.us_table = AcceptanceTable.from_side(us)
        self.kr_table = AcceptanceTable.from_side(kr)
        # per-draw constants of the rounds until the next event
        self.alpha = nash_weight(us, kr)
        self.delta_us = round_discount(us, self.calendar.round_interval_days)
        self.delta_kr = round_discount(kr, self.calendar.round_interval_days)
        self.veto_level = veto_utility(
            us,
            self.pressure,
            strength=self.v["veto_strength"],
            threshold=self.v["veto_pressure_threshold"],
        )

    def next_event_day(self) -> float:
        """Day of the next global event (``inf`` after the last)."""
        events = self.calendar.events
        return events[self.events_done].day if self.events_done < len(events) else np.inf

    def _segment_end(self) -> int:
        """Exclusive round index where the current segment ends (the next global event)."""
        events = self.calendar.events
        if self.events_done >= len(events):
            return self.n_rounds
        return self.first_round_after(events[self.events_done].day, inclusive=True)

    def first_round_after(self, day: float, *, inclusive: bool) -> int:
        """Index of the first round on (``inclusive``) or after ``day``."""
        side = "left" if inclusive else "right"
        return int(np.searchsorted(self.calendar.round_days, day, side=side))

    def _zone(self, draws: np.ndarray, days: np.ndarray):
        """Zone of agreement per package, bn KRW, each shape (len(draws), K).

        Each side accepts what meets its target utility, within the hard limits a veto or a
        failed ratification put on its negotiators.
        """
        exp = self.calendar.expiry_day
        lo = self.us_table.bounds(target_utility(self.us, days, exp, draws), draws)
        hi = self.kr_table.bounds(target_utility(self.kr, days, exp, draws), draws)
        floor, cap = self.us_floor[draws], self.kr_cap[draws]
        limited = np.isfinite(floor)
        if limited.any():
            limit = floor[limited, None] / self.us.floor_factor[draws[limited]]
            lo[limited] = np.maximum(lo[limited], limit)
        # the Assembly votes on the first-year increase, so its cap is on the first-year amount
        return lo, np.minimum(hi, cap[:, None])

    def _screen(self, draws: np.ndarray, r_from) -> None:
        """Set ``next_round`` of ``draws`` to their first round with a zone in the segment.

        ``r_from`` is the first round to consider: one for all draws, or one per draw
        (see :func:`simulation.screen.first_rounds`); never before a draw's talks open.
        """
        if self.open_round.any():
            r_from = np.maximum(r_from, self.open_round[draws])
        first_rounds(self, draws, r_from, self._segment_end())

    def clear_agreement(self, draws: np.ndarray) -> None:
        """Forget the agreement of ``draws`` (vetoed, or rejected by the Assembly)."""
        o = self.out
        o.agree_day[draws], o.agree_round[draws] = np.nan, -1
        o.base[draws], o.package[draws] = np.nan, -1
        o.u_us[draws], o.u_kr[draws] = np.nan, np.nan

    def _log(self, r: int, kind: str, **detail) -> None:
        if self.tracing:
            self.out.trace.append(TraceEvent(float(self.env.now), r, kind, detail))
