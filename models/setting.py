"""The fixed frame of one negotiation and the package tables computed once per batch.

:class:`Setting` holds what a config fixes for a negotiation (status quo, package menu,
calendar years, the agreement in force); :func:`package_tables` turns it and a batch of
parameter draws into the per-draw quantities that pressure does not move (rule growth, the
in-force floor, each side's package values but for the expected jump), so that each event of
the talks only recombines them (:mod:`models.pressure`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from smasim.models.packages import EscalationRule, PackageSet
from smasim.models.valuation import ValueTerms, common_horizon, package_appeal, value_terms


@dataclass(frozen=True)
class Setting:
    """The fixed frame of one negotiation.

    Parameters
    ----------
    status_quo : float
        Amount paid in the year before ``start_year``, bn KRW per year (also paid during a
        lapse when no agreement is in force).
    packages : PackageSet
    horizon_years : int
        Years of payments each side values (at least the longest term plus one is used:
        :func:`models.valuation.common_horizon`).
    start_year : int
        First year the new agreement covers.
    talks_year : int
        Year the talks open (the administration in office serves to the next inauguration).
    status_quo_rule : EscalationRule
        How the amount moves without a new deal.
    in_force_years : int
        Years from ``start_year`` on that the agreement in force still covers (0 after an
        expiry): while it runs, its path is each side's disagreement point.
    """

    status_quo: float
    packages: PackageSet
    horizon_years: int
    start_year: int = 2026
    talks_year: int = 2024
    status_quo_rule: EscalationRule = field(
        default_factory=lambda: EscalationRule("frozen", "frozen")
    )
    in_force_years: int = 0


@dataclass(frozen=True)
class PackageTables:
    """Per-draw package quantities that pressure does not move, computed once per batch.

    Attributes
    ----------
    growth : ndarray, shape (n_draws, K)
        Annual growth of each package's rule, fraction per year.
    floor_factor : ndarray, shape (n_draws, K)
        ``1 / r_k`` of :func:`in_force_floor` (1 when no agreement is in force).
    floor : ndarray, shape (n_draws,)
        The in-force formula's first-year amount, bn KRW; ``-inf`` when none is in force.
    in_force_growth : ndarray, shape (n_draws,)
        Growth of the agreement in force, fraction per year.
    us_values, kr_values : ValueTerms
        Each side's package values but for the expected jump (:mod:`models.valuation`).
    us_in_force, kr_in_force : ValueTerms
        The same for the agreement in force (one column).
    appeal : ndarray, shape (n_draws, K), or float
        Each package's appeal that the model does not value, bn KRW per year (0.0 for none;
        :func:`models.valuation.package_appeal`).
    in_force_appeal : ndarray, shape (n_draws,), or float
        The index norm of the agreement in force, bn KRW per year: a CPI formula still
        running is as indexed as the same formula signed anew (0.0 for none).
    """

    growth: np.ndarray
    floor_factor: np.ndarray
    floor: np.ndarray
    in_force_growth: np.ndarray
    us_values: ValueTerms
    kr_values: ValueTerms
    us_in_force: ValueTerms
    kr_in_force: ValueTerms
    appeal: np.ndarray | float = 0.0
    in_force_appeal: np.ndarray | float = 0.0


def package_tables(
    setting: Setting, v: Mapping[str, np.ndarray], appeal_normals: np.ndarray | None = None
) -> PackageTables:
    """The :class:`PackageTables` of a batch of draws with parameters ``v``.

    ``appeal_normals`` (shape (n_draws, K), :attr:`simulation.sampling.Noise.packages`) draw
    each package's appeal; None for none.
    """
    pk = setting.packages
    by_rule = pk.rule_growth(v["cpi_rate"], v["defense_growth_rate"])
    growth = np.repeat(by_rule, len(pk.durations), axis=1)
    g_sq = setting.status_quo_rule.annual_rate(v["cpi_rate"], v["defense_growth_rate"])
    if setting.in_force_years > 0:
        r = in_force_floor(growth, pk.duration, g_sq, setting.in_force_years)
        floor = setting.status_quo * (1.0 + g_sq)
    else:
        r, floor = np.ones_like(growth), np.full(g_sq.shape, -np.inf)
    horizon = common_horizon(setting.horizon_years, pk.duration)
    in_force_term = np.array([max(setting.in_force_years, 1)])

    def terms(rate):
        menu = value_terms(by_rule, np.asarray(pk.durations), v["cpi_rate"], rate, horizon)
        held = value_terms(g_sq[:, None], in_force_term, v["cpi_rate"], rate, horizon)
        return menu, held

    (us_values, us_in_force), (kr_values, kr_in_force) = (
        terms(v["us_discount_rate"]),
        terms(v["kr_discount_rate"]),
    )
    return PackageTables(
        growth=growth,
        floor_factor=1.0 / r,
        floor=floor,
        in_force_growth=g_sq,
        us_values=us_values,
        kr_values=kr_values,
        us_in_force=us_in_force,
        kr_in_force=kr_in_force,
        appeal=package_appeal(appeal_normals, pk, v, setting.status_quo),
        in_force_appeal=(
            v["index_formula_appeal"] * setting.status_quo
            if setting.status_quo_rule.kind == "cpi" and setting.in_force_years >= 2
            else 0.0
        ),
    )


def in_force_floor(
    growth: np.ndarray, duration: np.ndarray, in_force_growth: np.ndarray, years: int
) -> np.ndarray:
    """``r_k``: the least first year of package ``k`` per unit of the formula's first year.

    The first year of package ``k`` must be at least ``r_k`` times the formula's for the package
    to pay at least the agreement in force in each of its remaining ``years``:
    ``r_k = max_j (1 + g_sq)^j / (1 + g_k)^min(j, n_k - 1)`` over ``j < years`` (after its
    term a package's last year continues). Shape (n_draws, K); at least 1.
    """
    r = np.ones_like(growth)
    formula, package = np.ones_like(in_force_growth), np.ones_like(growth)
    for j in range(1, years):
        formula = formula * (1.0 + in_force_growth)
        package = np.where(j <= duration[None, :] - 1, package * (1.0 + growth), package)
        r = np.maximum(r, formula[:, None] / package)
    return r
