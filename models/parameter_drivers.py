"""The macro assumptions and the observable drivers of Korea's position, as named parameters.

Part of the registry of :mod:`models.parameters` (which lists them after the political and
behavioural parameters, in this order: the order of the sampling design's columns).
"""

from __future__ import annotations

from smasim.models.parameter_info import ParameterInfo

DRIVER_PARAMETERS: list[ParameterInfo] = [
    # --- macro assumptions -------------------------------------------------------------
    ParameterInfo(
        "cpi_rate",
        "ROK CPI inflation over the agreement",
        "fraction per year",
        -0.1,
        0.5,
        "macro",
        {"dist": "uniform", "loc": 0.015, "scale": 0.015},
    ),
    ParameterInfo(
        "defense_growth_rate",
        "ROK defense-budget growth over the agreement",
        "fraction per year",
        -0.5,
        1,
        "macro",
        {"dist": "uniform", "loc": 0.03, "scale": 0.03},
    ),
    ParameterInfo(
        "krw_per_usd",
        "Exchange rate for USD figures",
        "KRW per USD",
        100,
        10000,
        "macro",
        {"dist": "uniform", "loc": 1300.0, "scale": 100.0},
    ),
    # --- Model v2 (appended: the sampling design's columns keep their order) -------------
    ParameterInfo(
        "worker_wage_growth",
        "Wage growth of USFK's Korean workers around the talks (the SMA's largest cost item)",
        "fraction per year",
        -0.2,
        0.5,
        "macro",
        # analyst judgment: 2021's +6.5 % was a catch-up after the 2020 furloughs
        {"dist": "uniform", "loc": 0.02, "scale": 0.03},
    ),
    ParameterInfo(
        "previous_increase",
        "First-year increase of the previous SMA (a precedent both sides cite)",
        "fraction",
        -0.5,
        1,
        "macro",
        0.139,  # the 11th SMA's 2021 increase (sma_history.csv), the default config's
    ),
    ParameterInfo(
        "kr_defense_pass_through",
        "How far Korea's acceptable first-year increase moves with defense-budget growth",
        "dimensionless",
        0,
        2,
        "behavioural",
        # 2019: +8.2 % = that year's defense growth; 2021: 7.4 % of +13.9 % (sma_negotiations)
        {"dist": "uniform", "loc": 0.5, "scale": 0.5},
    ),
    ParameterInfo(
        "kr_wage_pass_through",
        "How far Korea's acceptable first-year increase moves with worker wage growth",
        "dimensionless",
        0,
        2,
        "behavioural",
        # 2021: 6.5 % of +13.9 % was the workers' wage growth (sma_negotiations.csv)
        {"dist": "uniform", "loc": 0.25, "scale": 0.75},
    ),
    ParameterInfo(
        "kr_precedent_weight",
        "How far Korea's acceptable first-year increase moves with the previous SMA's",
        "dimensionless",
        0,
        1,
        "behavioural",
        {"dist": "uniform", "loc": 0.0, "scale": 0.3},  # analyst judgment
    ),
    ParameterInfo(
        "kr_escalation_aversion",
        "Convexity of Korea's cost of escalation (0: one for one in money; 10: a payment "
        "beyond the first year of 10 % of the status quo costs 20 %)",
        "dimensionless",
        0,
        100,
        "behavioural",
        {"dist": "uniform", "loc": 0.0, "scale": 2.0},  # analyst judgment
    ),
    ParameterInfo(
        "index_formula_appeal",
        "What a CPI-indexed escalator is worth to both sides beyond its money: indexation "
        "to inflation as the escalator both treat as fair by default",
        "fraction of status quo per year",
        0,
        0.2,
        "behavioural",
        # analyst judgment: up to 2 % of the status quo a year, about one year of CPI growth
        {"dist": "uniform", "loc": 0.0, "scale": 0.02},
    ),
    ParameterInfo(
        "package_appeal_sd",
        "Spread of each package's appeal that the model does not value (ratifiability, "
        "precedent, convenience), shared by both sides: a random utility per package",
        "fraction of status quo per year",
        0,
        0.2,
        "behavioural",
        # analyst judgment: up to 2 % of the status quo a year, about one year of CPI growth
        {"dist": "uniform", "loc": 0.0, "scale": 0.02},
    ),
    ParameterInfo(
        "kr_anticipation",
        "Weight of Korea's look-ahead to the next U.S. administration before it takes office "
        "(1: Korea concedes now what it expects to concede to the successor)",
        "dimensionless",
        0,
        1,
        "behavioural",
        # 2024: talks opened 20 months early to finish before the U.S. election
        {"dist": "uniform", "loc": 0.5, "scale": 0.5},
    ),
]
