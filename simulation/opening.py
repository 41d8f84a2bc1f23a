"""When each draw's talks open: at the first round, or when a reopening demand comes.

A reopening demand (``reopening_rate_per_year`` > 0) comes after a waiting time whose hazard
is that rate times the U.S. pressure in office (a harder-pressing administration reopens
sooner), drawn per draw from its own uniform; the talks open at the first round on or after
it, and both sides' concession clocks (and the costs the U.S. links
to the talks) start then. A demand after the last round means no talks.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from smasim.models.agents import Side
from smasim.simulation.events import election_winner

DAYS_PER_YEAR = 365.25


def opening_rounds(values: dict, noise: Any, calendar: Any) -> np.ndarray:
    """The round at which each draw's talks open, shape (n_draws,); ``n_rounds``: never.

    The demand's hazard is ``reopening_rate_per_year`` times the pressure of the U.S.
    administration in office: ``us_pressure`` until the inauguration of a winner elected
    inside the talks, the winner's after (the election's noise is drawn up front, so the
    winner is known here as the election event will reveal it). A draw's demand comes when
    the cumulative hazard reaches its standard exponential variate ``-log(1 - u)``.

    Parameters
    ----------
    values : dict of str to ndarray, shape (n_draws,)
        Sampled parameters.
    noise : Noise
        Reads its ``reopening`` and ``election`` uniforms.
    calendar : Calendar
        Round days (days since the first round), election and inauguration days.

    Returns
    -------
    ndarray of int, shape (n_draws,)
        0 for every draw when the rate is 0 everywhere (talks open at the first round).
    """
    rate = values["reopening_rate_per_year"]
    if not rate.any():
        return np.zeros(rate.shape, dtype=np.int64)
    per_day = rate / DAYS_PER_YEAR
    before, after = per_day * values["us_pressure"], per_day * values["us_pressure"]
    switch = calendar.inauguration_day
    if calendar.election_day is not None and np.isfinite(switch):
        after = per_day * election_winner(values, noise)[1]
    else:
        switch = np.inf
    need = -np.log1p(-noise.event("reopening"))  # cumulative hazard at the demand
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        early = need / before
        late = switch + (need - before * switch) / after
        day = np.where(early <= switch, early, late)
    # no hazard at all (rate 0 in this draw): talks at the first round; no hazard left: never
    day = np.where(rate > 0, np.nan_to_num(day, nan=np.inf), 0.0)
    return np.searchsorted(calendar.round_days, day, side="left")


def opened_sides(ng: Any, us: Side, kr: Side) -> tuple[Side, Side]:
    """Both sides with their clocks starting no earlier than the draw's talks open.

    Korea's clock also starts no earlier than its current negotiators took over
    (``ng.kr_clock_start``, after a Korean presidential election), and the costs the U.S.
    links to the talks run from the opening on.

    Parameters
    ----------
    ng : BatchNegotiation
        Supplies ``open_day`` and ``kr_clock_start``, each shape (n_draws,), days since the
        first round.
    us, kr : Side
        The sides as built from the parameters (clocks from day 0).

    Returns
    -------
    (Side, Side)
        The same objects when no draw opens late and Korea's negotiators never changed.
    """
    if not ng.open_day.any() and not ng.kr_clock_start.any():
        return us, kr
    kr_start = np.maximum(ng.kr_clock_start, ng.open_day)
    return (
        replace(us, clock_start_day=np.maximum(us.clock_start_day, ng.open_day)),
        replace(
            kr,
            clock_start_day=np.maximum(kr.clock_start_day, kr_start),
            coercion_start_day=np.maximum(kr.coercion_start_day, ng.open_day),
        ),
    )
