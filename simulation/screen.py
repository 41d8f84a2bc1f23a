"""Screening: each draw's first round with a zone of agreement, by vectorized bisection.

Between events each side's target utility only falls (:func:`models.agents.target_utility`),
so the zone of agreement only widens and whether it is non-empty is monotone in the round.
Each draw's first round with a zone is then found in ``log2`` of the segment's rounds.
"""

from __future__ import annotations

import numpy as np

from smasim.models.acceptance import package_open, zone_open
from smasim.models.agents import target_utility


def first_rounds(ng, draws: np.ndarray, r_from, r_to: int) -> None:
    """Set ``ng.next_round`` of ``draws`` to their first round with a zone before ``r_to``.

    ``ng`` is the :class:`~simulation.negotiation.BatchNegotiation`; ``r_from`` is the first
    round to consider: one for all draws, or one per draw; ``r_to`` (exclusive) ends the
    segment (the next event). Draws with no zone in the segment get ``ng.n_rounds``.

    Whether a draw has a zone is monotone in the round, and so is whether one given package
    has. The bisection follows each draw's package with the widest zone at the segment's
    last round, one bound per side and round instead of one per package; a single check of
    every package the round before confirms that no other package opened earlier (where
    one did, the draw is bisected again over all packages).
    """
    ng.next_round[draws] = ng.n_rounds
    r_from = np.broadcast_to(r_from, draws.shape)
    inside = r_from < r_to
    draws, r_from = draws[inside], r_from[inside]
    if draws.size == 0:
        return
    screen = Screen(ng, draws)
    reach, widest = screen.zone_open(np.full(draws.size, r_to - 1), widest=True)
    rows = np.flatnonzero(reach)
    screen, widest, r_from = screen.take(rows), widest[rows], r_from[rows]
    first = _bisect(
        lambda j, r: screen.take(j).package_open(widest[j], r),
        r_from,
        r_to - 1,
        screen.draws.size,
    )
    later = np.flatnonzero(first > r_from)
    earlier = screen.take(later).zone_open(first[later] - 1)
    again = later[earlier]
    if again.size:
        first[again] = _bisect(
            lambda j, r: screen.take(again[j]).zone_open(r),
            r_from[again],
            first[again] - 1,
            again.size,
        )
    ng.next_round[screen.draws] = first


class Screen:
    """The hard limits of some draws, taken once for a bisection over their rounds.

    ``zone_open(rounds)`` answers whether each draw has a zone at its round, with the same
    arithmetic as :meth:`simulation.negotiation.BatchNegotiation._zone`.
    """

    def __init__(self, negotiation, draws: np.ndarray) -> None:
        self.negotiation, self.draws = negotiation, draws
        floor, cap = negotiation.us_floor[draws], negotiation.kr_cap[draws]
        self.floor = floor if np.isfinite(floor).any() else None
        self.cap = cap if np.isfinite(cap).any() else None

    def take(self, rows: np.ndarray) -> Screen:
        """The screen of ``self.draws[rows]``."""
        if rows.size == self.draws.size:  # rows are sorted and unique: all of them
            return self
        return Screen(self.negotiation, self.draws[rows])

    def _targets(self, rounds: np.ndarray):
        ng = self.negotiation
        days = ng.calendar.round_days[rounds]
        exp = ng.calendar.expiry_day
        return (
            target_utility(ng.us, days, exp, self.draws),
            target_utility(ng.kr, days, exp, self.draws),
        )

    def zone_open(self, rounds: np.ndarray, *, widest: bool = False):
        """Whether draw ``draws[j]`` has a non-empty zone at round ``rounds[j]``.

        With ``widest``, also each draw's package with the widest zone.
        """
        ng = self.negotiation
        return zone_open(
            ng.us_table,
            ng.kr_table,
            self.draws,
            *self._targets(rounds),
            floor=self.floor,
            us_level_factor=ng.us.floor_factor,
            cap=self.cap,
            widest=widest,
        )

    def package_open(self, packages: np.ndarray, rounds: np.ndarray) -> np.ndarray:
        """Whether package ``packages[j]`` of draw ``draws[j]`` has a zone at ``rounds[j]``."""
        ng = self.negotiation
        return package_open(
            ng.us_table,
            ng.kr_table,
            self.draws,
            packages,
            *self._targets(rounds),
            floor=self.floor,
            us_level_factor=ng.us.floor_factor,
            cap=self.cap,
        )


def _bisect(has_zone, r_from, r_last, size: int) -> np.ndarray:
    """First round in ``[r_from, r_last]`` where ``has_zone`` holds, per draw, shape (size,).

    ``has_zone(j, rounds)`` answers for the draws ``j`` (indices into ``range(size)``); it is
    monotone in the round and holds at ``r_last``. Both ends are scalars or one round per draw.
    """
    lo = np.broadcast_to(r_from, (size,)).copy()
    hi = np.broadcast_to(r_last, (size,)).copy()
    while True:
        j = np.flatnonzero(lo < hi)
        if j.size == 0:
            return lo
        mid = (lo[j] + hi[j]) // 2
        has = has_zone(j, mid)
        hi[j] = np.where(has, mid, hi[j])
        lo[j] = np.where(has, lo[j], mid + 1)
