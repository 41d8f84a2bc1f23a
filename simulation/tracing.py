"""A traced negotiation's story: each round's offers and answers, and the deals struck.

Only :meth:`simulation.negotiation.BatchNegotiation` with ``trace=True`` calls these (to replay
a few draws, e.g. ``smasim trace``); ``ng`` is that negotiation. How each line reads is in
:data:`simulation.events.TRACE_LINES`.
"""

from __future__ import annotations

import numpy as np

from smasim.models.agents import amount_at_utility, target_utility, utility
from smasim.models.bargaining import Agreement
from smasim.simulation.records import ACTIVE


def trace_offers(ng, r: int, day: float) -> None:
    """Each active draw's offers this round and the other side's answers."""
    draws = np.flatnonzero(ng.status == ACTIVE)
    if draws.size == 0:
        return
    us, kr = ng.us.take(draws), ng.kr.take(draws)
    days = np.full(draws.size, day)
    exp = ng.calendar.expiry_day
    t_us, t_kr = target_utility(us, days, exp), target_utility(kr, days, exp)
    k_us = np.argmax(us.discrete_value, axis=1)
    k_kr = np.argmax(kr.discrete_value, axis=1)
    b_us = amount_at_utility(us, t_us, k_us)
    b_kr = amount_at_utility(kr, t_kr, k_kr)
    with np.errstate(over="ignore", divide="ignore"):  # an unreachable offer is +-inf
        kr_accepts = utility(kr, b_us, k_us) >= t_kr
        us_accepts = utility(us, b_kr, k_kr) >= t_us
    for j, i in enumerate(draws):
        ng.log(
            r,
            "round",
            draw=int(i),
            us_offer=float(b_us[j]),
            us_package=int(k_us[j]),
            kr_offer=float(b_kr[j]),
            kr_package=int(k_kr[j]),
            kr_accepts=bool(kr_accepts[j]),
            us_accepts=bool(us_accepts[j]),
            us_target=float(t_us[j]),
            kr_target=float(t_kr[j]),
        )


def log_deals(ng, r: int, draws: np.ndarray, deal: Agreement, vetoed: np.ndarray) -> None:
    """Each deal struck in round ``r``, and the president's veto where there is one."""
    for j, i in enumerate(draws):
        ng.log(
            r,
            "agreement",
            draw=int(i),
            base=float(deal.base[j]),
            package=int(deal.package[j]),
            u_us=float(deal.u_us[j]),
            u_kr=float(deal.u_kr[j]),
        )
        if vetoed[j]:
            ng.log(r, "veto", draw=int(i), floor_utility=float(ng.veto_level[i]))
