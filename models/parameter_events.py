"""The parameters of the scenario events and linkages, as named parameters.

Part of the registry of :mod:`models.parameters` (listed last: the sampling design's columns
keep their order). Every default switches its mechanism off, so a config that does not set
them runs exactly as before they existed, bit for bit.
"""

from __future__ import annotations

from smasim.models.parameter_info import ParameterInfo

EVENT_PARAMETERS: list[ParameterInfo] = [
    ParameterInfo(
        "coercion_cost_kr",
        "Korea's loss per month of talks at full U.S. pressure from costs the U.S. links to "
        "the SMA (tariffs, investment terms), from the talks' opening on, before expiry too",
        "utility per month",
        0,
        1,
        "political",
        0.0,
    ),
    ParameterInfo(
        "reopening_rate_per_year",
        "Rate of a U.S. reopening demand at full pressure, from the first possible round on "
        "(a hazard: times the pressure of the administration in office); 0: talks open at "
        "the first round",
        "per year",
        0,
        100,
        "political",
        0.0,
    ),
    ParameterInfo(
        "us_demand_usd_bn",
        "A U.S. demand stated in dollars, held by the administration in office when talks "
        "open: its ideal first year is at least the demand at the sampled exchange rate "
        "(0: no stated demand)",
        "USD bn per year",
        0,
        100,
        "political",
        0.0,
    ),
    ParameterInfo(
        "troop_change",
        "Change of USFK's troop level at a troop_change event (-0.1: a 10 % cut)",
        "fraction",
        -1,
        1,
        "political",
        0.0,
    ),
    ParameterInfo(
        "troop_cost_share",
        "Share of a troop change passed into both sides' first-year positions (the cost "
        "base moves with the force it pays for; 2005: -8.9 % with USFK cuts)",
        "dimensionless",
        0,
        2,
        "political",
        0.3,  # analyst judgment: the 2004-08 reduction plan removed about a third of USFK
    ),
    ParameterInfo(
        "p_kr_conservative",
        "Probability that a conservative wins Korea's presidential election (kr_election)",
        "probability",
        0,
        1,
        "political",
        0.5,
    ),
    ParameterInfo(
        "kr_shift_if_conservative",
        "Change of Korea's ideal and reservation first-year increases once a conservative "
        "president takes office (alliance-first: usually > 0)",
        "fraction of status quo",
        -1,
        1,
        "political",
        0.0,
    ),
    ParameterInfo(
        "kr_shift_if_progressive",
        "Change of Korea's ideal and reservation first-year increases once a progressive "
        "president takes office",
        "fraction of status quo",
        -1,
        1,
        "political",
        0.0,
    ),
    ParameterInfo(
        "in_kind_us_value",
        "Worth to the U.S. of a won of an in-kind package Korea provides with an agreement "
        "(arms purchases, comprehensive support) against a won of SMA payments",
        "KRW per KRW",
        0,
        5,
        "political",
        1.0,
    ),
]
