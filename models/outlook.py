"""Who holds the U.S. presidency, and what both sides expect of talks under it.

Both sides' positions are first-year increases over the status quo (:func:`increases`);
the increase both expect from talks under an administration is where the zone sits, the
midpoint of the two reservations (:func:`expected_jump`). What an administration yet to come
will bring is an expectation over the next election until it has been held
(:func:`successor_jump`). The package values of :mod:`models.valuation` and the continuation
of a path after its term (:func:`renegotiated_increase`) both use these expectations.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from smasim.models.valuation import next_inauguration_year


@dataclass(frozen=True)
class Outlook:
    """Who holds the U.S. presidency, and what both sides expect of the next one, per draw.

    Attributes
    ----------
    pressure : ndarray, shape (n_draws,)
        Pressure index of the administration in office.
    now_year : int
        Year from which the administration in office serves to the next inauguration.
    successor_pressure : ndarray, shape (n_draws,), optional
        The election winner's pressure once the election has been held; before it, the
        successor is an expectation over ``p_high_pressure``.
    inauguration_day : float
        Day (since talks opened) the next administration takes office, ``inf`` if none falls
        in view; until then Korea weighs what waiting for it would bring.
    """

    pressure: np.ndarray
    now_year: int
    successor_pressure: np.ndarray | None = None
    inauguration_day: float = np.inf


def increases(v: Mapping[str, np.ndarray], pressure: np.ndarray) -> dict[str, np.ndarray]:
    """Both sides' ideal and reservation first-year increases at ``pressure``, fractions.

    U.S.: ``us_*_increase + pressure_*_gain p^2``. Korea: ``kr_*_increase`` moved by the
    observable drivers (defense-budget growth, worker wages, the previous SMA's jump; half as
    far for the ideal), the North Korean threat and a credible withdrawal threat, less the
    audience cost. Each shape (n_draws,).
    """
    p2 = pressure**2
    drivers = (
        v["kr_defense_pass_through"] * v["defense_growth_rate"]
        + v["kr_wage_pass_through"] * v["worker_wage_growth"]
        + v["kr_precedent_weight"] * v["previous_increase"]
    )
    return {
        "us_ideal": v["us_ideal_increase"] + v["pressure_ideal_gain"] * p2,
        "us_reservation": v["us_reservation_increase"] + v["pressure_reservation_gain"] * p2,
        "kr_ideal": v["kr_ideal_increase"] + 0.5 * drivers,
        "kr_reservation": v["kr_reservation_increase"]
        + drivers
        + v["nk_threat_gain"] * v["nk_threat"]
        + v["withdrawal_gain"] * v["withdrawal_credibility"] * pressure
        - v["audience_cost"],
    }


def expected_jump(v: Mapping[str, np.ndarray], pressure: np.ndarray) -> np.ndarray:
    """First-year increase both sides expect from talks under pressure ``pressure``.

    The midpoint of the two reservation increases: where the zone of agreement sits.
    """
    x = increases(v, pressure)
    return 0.5 * (x["us_reservation"] + x["kr_reservation"])


def successor_jump(v: Mapping[str, np.ndarray], outlook: Outlook) -> np.ndarray:
    """:func:`expected_jump` under the next administration (known winner, or expected)."""
    if outlook.successor_pressure is not None:
        return expected_jump(v, outlook.successor_pressure)
    high = v["p_high_pressure"]
    return high * expected_jump(v, v["us_pressure_if_high"]) + (1.0 - high) * expected_jump(
        v, v["us_pressure_if_low"]
    )


def renegotiated_increase(
    v: Mapping[str, np.ndarray],
    pressure: np.ndarray,
    renegotiation_year: np.ndarray,
    now_year: np.ndarray,
) -> np.ndarray:
    """The first-year increase expected of talks in ``renegotiation_year``, shape (n_draws,).

    Under the administration of ``pressure`` (in office in ``now_year``) if the talks come
    before the next inauguration, else the expectation over the next election's winner.
    """
    inauguration = next_inauguration_year(np.asarray(now_year))
    later = np.asarray(renegotiation_year) >= inauguration
    outlook = Outlook(pressure, 0)
    return np.where(later, successor_jump(v, outlook), expected_jump(v, pressure))
