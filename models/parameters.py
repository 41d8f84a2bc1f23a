"""The named model parameters: meaning, unit, admissible range and group.

Every uncertain input of smasim is one of these names. A config gives each a distribution (or a
constant); sampling produces one array per name, shape (n_draws,), which is all the model sees.
The ``political`` group is the object of sensitivity analysis.
"""

from __future__ import annotations

from smasim.models.parameter_drivers import DRIVER_PARAMETERS
from smasim.models.parameter_events import EVENT_PARAMETERS
from smasim.models.parameter_info import Group, ParameterInfo

__all__ = ["PARAMETERS", "Group", "ParameterInfo", "political_parameters"]

_INF = float("inf")

PARAMETERS: dict[str, ParameterInfo] = {
    p.name: p
    for p in [
        # --- political pressure ------------------------------------------------------------
        ParameterInfo(
            "us_pressure",
            "U.S. presidential pressure index when talks open "
            "(0 = alliance-first, 1 = maximal demands)",
            "index 0-1",
            0,
            1,
            "political",
            {"dist": "uniform", "loc": 0.1, "scale": 0.3},
        ),
        ParameterInfo(
            "p_high_pressure",
            "Probability that the U.S. election brings a high-pressure administration",
            "probability",
            0,
            1,
            "political",
            {"dist": "uniform", "loc": 0.4, "scale": 0.25},
        ),
        ParameterInfo(
            "us_pressure_if_high",
            "Pressure index after the election if a high-pressure administration wins",
            "index 0-1",
            0,
            1,
            "political",
            {"dist": "uniform", "loc": 0.75, "scale": 0.25},
        ),
        ParameterInfo(
            "us_pressure_if_low",
            "Pressure index after the election otherwise",
            "index 0-1",
            0,
            1,
            "political",
            {"dist": "uniform", "loc": 0.1, "scale": 0.25},
        ),
        ParameterInfo(
            "talks_probability",
            "Probability that talks open at all (1 for a "
            "scheduled renewal; below 1 for a reopening demand)",
            "probability",
            0,
            1,
            "political",
            1.0,
        ),
        ParameterInfo(
            "assembly_threshold",
            "First-year increase over the status quo above "
            "which the National Assembly may refuse ratification",
            "fraction",
            0,
            5,
            "political",
            {"dist": "uniform", "loc": 0.1, "scale": 0.15},
        ),
        ParameterInfo(
            "assembly_rejection_scale",
            "Excess increase over the threshold at which P(rejection) reaches 1 - 1/e (63%)",
            "fraction",
            1e-6,
            5,
            "political",
            0.1,
        ),
        ParameterInfo(
            "audience_cost",
            "Korean domestic audience cost: lowers Korea's reservation level",
            "fraction of status quo",
            0,
            1,
            "political",
            {"dist": "uniform", "loc": 0.0, "scale": 0.04},
        ),
        ParameterInfo(
            "nk_threat",
            "North Korean threat level: raises Korea's value of the alliance",
            "index 0-1",
            0,
            1,
            "political",
            {"dist": "uniform", "loc": 0.4, "scale": 0.4},
        ),
        ParameterInfo(
            "withdrawal_credibility",
            "Credibility of a U.S. troop-withdrawal threat (bounded by Congress's troop floor)",
            "index 0-1",
            0,
            1,
            "political",
            {"dist": "uniform", "loc": 0.1, "scale": 0.3},
        ),
        ParameterInfo(
            "lapse_cost_kr",
            "Korea's loss per month without an SMA after expiry "
            "(furloughed workers, alliance strain)",
            "utility per month",
            0,
            1,
            "political",
            {"dist": "uniform", "loc": 0.01, "scale": 0.03},
        ),
        ParameterInfo(
            "lapse_cost_us",
            "U.S. loss per month without an SMA after expiry",
            "utility per month",
            0,
            1,
            "political",
            {"dist": "uniform", "loc": 0.005, "scale": 0.015},
        ),
        ParameterInfo(
            "veto_pressure_threshold",
            "Pressure index above which the U.S. president "
            "reviews (and may veto) a working-level deal",
            "index 0-1",
            0,
            1,
            "political",
            0.7,
        ),
        ParameterInfo(
            "veto_strength",
            "Position of the president's floor between the U.S. "
            "reservation and ideal, per unit of pressure",
            "fraction",
            0,
            1,
            "political",
            {"dist": "uniform", "loc": 0.02, "scale": 0.06},
        ),
        # --- behaviour of the sides --------------------------------------------------------
        ParameterInfo(
            "us_ideal_increase",
            "U.S. ideal level over the status quo at zero pressure",
            "fraction",
            -0.5,
            20,
            "behavioural",
            {"dist": "uniform", "loc": 0.1, "scale": 0.2},
        ),
        ParameterInfo(
            "us_reservation_increase",
            "U.S. reservation level over the status quo at zero pressure",
            "fraction",
            -0.5,
            20,
            "behavioural",
            {"dist": "uniform", "loc": 0.02, "scale": 0.04},
        ),
        ParameterInfo(
            "pressure_ideal_gain",
            "Rise of the U.S. ideal per unit of pressure",
            "fraction of status quo",
            0,
            20,
            "behavioural",
            {"dist": "uniform", "loc": 2.0, "scale": 4.0},
        ),
        ParameterInfo(
            "pressure_reservation_gain",
            "Rise of the U.S. reservation per unit of pressure",
            "fraction of status quo",
            0,
            20,
            "behavioural",
            {"dist": "uniform", "loc": 0.2, "scale": 0.4},
        ),
        ParameterInfo(
            "pressure_toughness",
            "Fall of the log U.S. concession exponent per unit of pressure (more Boulware)",
            "log units",
            0,
            10,
            "behavioural",
            1.0,
        ),
        ParameterInfo(
            "kr_ideal_increase",
            "Korea's ideal level over the status quo",
            "fraction",
            -0.5,
            20,
            "behavioural",
            {"dist": "uniform", "loc": -0.04, "scale": 0.04},
        ),
        ParameterInfo(
            "kr_reservation_increase",
            "Korea's reservation level over the status "
            "quo before threat, withdrawal and audience effects",
            "fraction",
            -0.5,
            20,
            "behavioural",
            {"dist": "uniform", "loc": -0.02, "scale": 0.06},
        ),
        ParameterInfo(
            "nk_threat_gain",
            "Rise of Korea's reservation at threat level 1",
            "fraction of status quo",
            0,
            5,
            "behavioural",
            0.04,
        ),
        ParameterInfo(
            "withdrawal_gain",
            "Rise of Korea's reservation at full withdrawal credibility and pressure",
            "fraction of status quo",
            0,
            5,
            "behavioural",
            0.1,
        ),
        ParameterInfo(
            "us_amount_weight",
            "U.S. weight on the amount against term and rule",
            "weight",
            1e-3,
            1,
            "behavioural",
            {"dist": "uniform", "loc": 0.7, "scale": 0.2},
        ),
        ParameterInfo(
            "kr_amount_weight",
            "Korea's weight on the amount against term and rule",
            "weight",
            1e-3,
            1,
            "behavioural",
            {"dist": "uniform", "loc": 0.7, "scale": 0.2},
        ),
        ParameterInfo(
            "us_curvature",
            "U.S. utility curvature kappa (0 = linear)",
            "dimensionless",
            0,
            50,
            "behavioural",
            {"dist": "uniform", "loc": 0.0, "scale": 2.0},
        ),
        ParameterInfo(
            "kr_curvature",
            "Korea's utility curvature kappa (0 = linear)",
            "dimensionless",
            0,
            50,
            "behavioural",
            {"dist": "uniform", "loc": 0.0, "scale": 2.0},
        ),
        ParameterInfo(
            "us_concession_exponent",
            "U.S. concession exponent e at zero pressure (<1 Boulware, >1 Conceder)",
            "dimensionless",
            1e-3,
            100,
            "behavioural",
            {"dist": "uniform", "loc": 0.5, "scale": 1.0},
        ),
        ParameterInfo(
            "kr_concession_exponent",
            "Korea's concession exponent e",
            "dimensionless",
            1e-3,
            100,
            "behavioural",
            {"dist": "uniform", "loc": 0.5, "scale": 1.0},
        ),
        ParameterInfo(
            "us_deadline_months",
            "Months after talks open by which the U.S. side has conceded to its disagreement value",
            "months",
            0.1,
            240,
            "behavioural",
            {"dist": "uniform", "loc": 8.0, "scale": 12.0},
        ),
        ParameterInfo(
            "kr_deadline_months",
            "Months after talks open by which Korea has conceded to its disagreement value",
            "months",
            0.1,
            240,
            "behavioural",
            {"dist": "uniform", "loc": 4.0, "scale": 4.0},
        ),
        ParameterInfo(
            "us_discount_rate",
            "U.S. discount rate (patience)",
            "fraction per year",
            1e-4,
            2,
            "behavioural",
            {"dist": "uniform", "loc": 0.03, "scale": 0.07},
        ),
        ParameterInfo(
            "kr_discount_rate",
            "Korea's discount rate (patience)",
            "fraction per year",
            1e-4,
            2,
            "behavioural",
            {"dist": "uniform", "loc": 0.03, "scale": 0.07},
        ),
        *DRIVER_PARAMETERS,
        *EVENT_PARAMETERS,
    ]
}


def political_parameters() -> list[str]:
    """Names of the political-pressure parameters, in registry order."""
    return [n for n, p in PARAMETERS.items() if p.group == "political"]
