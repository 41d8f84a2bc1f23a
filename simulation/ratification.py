"""The National Assembly's vote on a deal, and the talks that follow a rejection.

A deal goes to the Assembly ``ratification_lag_days`` after its round. The vote is decided by
the deal's first-year increase and the draw's pre-drawn uniform for that attempt
(:class:`simulation.records.Noise`), so it is known as soon as the deal is struck. A rejection
caps Korea's negotiators at what the Assembly would pass and reopens the talks at the first
round after the vote.

Between events every draw's talks depend only on the draw itself, so a rejection whose vote
falls before the next event is found when its deal is struck (:func:`plan_retries`), and the
re-negotiation is solved then, with the other deals of that moment, and queued
(:func:`queue_retries`), rather than in a call of its own at the vote: most votes reject a
handful of draws, whose solve would cost mostly its fixed overhead. The vote's process
(:func:`ratification`) keeps the books on its day and releases the queued re-negotiation,
with the same bits; a rejection with nothing queued (after an event, a second rejection, or
any while tracing) reopens the talks at the vote, as before.
"""

from __future__ import annotations

import numpy as np

from smasim.models.acceptance import rejection_probability
from smasim.simulation.records import ACTIVE, DONE, FAILED


def assembly_rejects(ng, draws: np.ndarray, base: np.ndarray, attempt: np.ndarray):
    """Whether the Assembly rejects each deal, from its first-year amount and attempt.

    Parameters
    ----------
    ng : BatchNegotiation
    draws : ndarray of int, shape (m,)
    base : ndarray, shape (m,)
        The deals' first-year amounts, bn KRW.
    attempt : ndarray of int, shape (m,)
        Earlier rejections of each draw (which of its pre-drawn uniforms decides).

    Returns
    -------
    rejected : ndarray of bool, shape (m,)
    increase, p_reject : ndarray, shape (m,)
        First-year increase over the status quo (fraction) and the rejection probability.
    """
    v = ng.v
    n_attempts = ng.noise.ratification.shape[1]
    u = ng.noise.ratification[draws, np.minimum(attempt, n_attempts - 1)]
    increase = base / ng.setting.status_quo - 1.0
    p_reject = rejection_probability(
        increase, v["assembly_threshold"][draws], v["assembly_rejection_scale"][draws]
    )
    return u < p_reject, increase, p_reject


def cap_korea(ng, draws: np.ndarray) -> None:
    """After a rejection, Korea's negotiators may not exceed what the Assembly would pass."""
    cap = ng.setting.status_quo * (1.0 + ng.v["assembly_threshold"][draws])
    ng.kr_cap[draws] = np.minimum(ng.kr_cap[draws], cap)


def plan_retries(ng, draws: np.ndarray, base: np.ndarray, rounds: np.ndarray):
    """Rejections of deals struck at ``rounds`` whose vote precedes the next event.

    Draws that already have a re-negotiation queued are left to their vote.

    Returns
    -------
    retry : ndarray of int
        Draws whose deal will be rejected, to be re-negotiated now (:func:`queue_retries`).
    r_from : ndarray of int
        The first round after each vote.
    """
    vote_day = ng.calendar.round_days[rounds] + ng.calendar.ratification_lag_days
    attempt = ng.out.rejections[draws]
    rejected, _, _ = assembly_rejects(ng, draws, base, attempt)
    n_attempts = ng.noise.ratification.shape[1]
    plan = rejected & (vote_day < ng.next_event_day()) & (attempt + 1 < n_attempts)
    plan &= ~ng.retry_queued[draws]
    r_from = np.searchsorted(ng.calendar.round_days, vote_day[plan], side="right")
    return draws[plan], r_from


def queue_retries(ng, retry: np.ndarray, r_from: np.ndarray) -> None:
    """Re-negotiate ``retry`` now, capped as after their vote, and queue the result.

    The draws' first deals stay where the round process releases them; the re-negotiation's
    round and deal wait in ``ng.queued_round`` and ``ng.queued`` until the vote.
    """
    first_round, first_deal = ng.next_round[retry].copy(), ng.pending.take(retry)
    cap_korea(ng, retry)
    ng.schedule(retry, r_from, plan=False)
    ng.queued_round[retry] = ng.next_round[retry]
    ng.queued.put(retry, ng.pending.take(retry))
    ng.retry_queued[retry] = True
    ng.next_round[retry] = first_round
    ng.pending.put(retry, first_deal)


def ratification(ng, draws: np.ndarray):
    """The vote on the deals of ``draws`` (a SimPy process): in force, or talks reopen."""
    yield ng.env.timeout(ng.calendar.ratification_lag_days)
    out = ng.out
    rejected, increase, p_reject = assembly_rejects(
        ng, draws, out.base[draws], out.rejections[draws]
    )
    ok = draws[~rejected]
    ng.status[ok] = DONE
    out.in_force_day[ok] = ng.env.now
    bad = draws[rejected]
    out.rejections[bad] += 1
    n_attempts = ng.noise.ratification.shape[1]
    ng.status[bad[out.rejections[bad] >= n_attempts]] = FAILED
    again = bad[out.rejections[bad] < n_attempts]
    for j, i in enumerate(draws if ng.tracing else ()):
        ng.log(-1, "ratification", draw=int(i), approved=not bool(rejected[j]),
               increase_pct=100 * float(increase[j]), p_reject=float(p_reject[j]))  # fmt: skip
    if again.size:
        cap_korea(ng, again)
        ng.clear_agreement(again)
        ng.status[again] = ACTIVE
        queued = ng.retry_queued[again]
        planned, unplanned = again[queued], again[~queued]
        ng.retry_queued[planned] = False
        ng.next_round[planned] = ng.queued_round[planned]
        ng.pending.put(planned, ng.queued.take(planned))
        if unplanned.size:
            ng.schedule(unplanned, ng.first_round_after(ng.env.now, inclusive=False))
