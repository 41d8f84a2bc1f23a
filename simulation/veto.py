"""The U.S. president's review of a working-level deal (2020: a deal vetoed), for a batch.

Functions of the negotiation ``ng`` (:class:`simulation.negotiation.BatchNegotiation`), used
through ``calendar``, ``veto_level``, ``us``, ``president_floor``, ``out`` and
``clear_agreement``; this module does not import it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from smasim.models.agents import DAYS_PER_MONTH
from smasim.models.bargaining import Agreement

VETO_TOLERANCE = 1e-12  # relative


def review(ng: Any, draws: np.ndarray, deal: Agreement, days: np.ndarray) -> np.ndarray:
    """Whether the U.S. president vetoes each working-level deal, struck on ``days``.

    Parameters
    ----------
    draws : ndarray of int, shape (n,)
    deal : Agreement
        The deals of ``draws``.
    days : ndarray, shape (n,)
        Days since talks opened.

    Returns
    -------
    ndarray of bool, shape (n,)
    """
    lapse = np.maximum(days - ng.calendar.expiry_day, 0.0) / DAYS_PER_MONTH
    floor = ng.veto_level[draws] - ng.us.lapse_cost[draws] * lapse
    # a deal struck on the floor of an earlier veto must pass despite rounding
    return deal.u_us < floor - VETO_TOLERANCE * np.maximum(np.abs(floor), 1.0)


def veto(ng: Any, draws: np.ndarray) -> None:
    """Vetoed draws: counted, and their negotiators held to the president's floor.

    The floor is a utility that falls with lapse costs, as the negotiators' own does.
    """
    ng.out.vetoes[draws] += 1
    ng.president_floor[draws] = np.maximum(ng.president_floor[draws], ng.veto_level[draws])
    base = ng.us.disagreement_base.copy()
    base[draws] = np.maximum(base[draws], ng.president_floor[draws])
    ng.us = replace(ng.us, disagreement_base=base)
    ng.clear_agreement(draws)
