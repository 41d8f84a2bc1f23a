"""The discrete issues priced in money: what a package's term and escalation rule are worth.

Theory
------
The first-year amount and the escalator are separate principles in every SMA since 2005:
Korea's Assembly and public judge the first-year increase, and the escalator is agreed apart.
So the first-year amount ``b`` is one issue (:mod:`models.agents`), and the package
``k = (rule, term)`` is valued by both sides *in money*, at the reference first year ``S``
(the amount paid now) rather than at ``b``: a faster escalator is worth the same KRW whatever
first year is struck, and cannot buy a lower first year one for one.

Payments of package ``k`` per unit of first year, in year ``j = 0 .. H-1`` of a common
horizon ``H`` at least one year longer than the longest term on the table, are

.. math::

    F_{jk} = (1 + g_k)^{j}, \\quad j < n_k; \\qquad
    F_{jk} = (1 + g_k)^{n_k - 1} (1 + J_k) (1 + c)^{j - n_k}, \\quad j \\ge n_k,

where ``g_k`` is the rule's growth, ``n_k`` the term, ``J_k`` the first-year increase both
sides expect when the term ends and the agreement is renegotiated, and ``c`` the growth
assumed after that (CPI). Side ``i`` values the package at the level (the constant annual
amount with the same present value at its discount rate ``rho_i``)

.. math::

    V_{ik} = S \\, \\frac{\\sum_j (1 + \\rho_i)^{-j} (F_{jk} - 1)}{\\sum_j (1 + \\rho_i)^{-j}}
    \\quad \\text{bn KRW per year},

what Korea pays beyond a frozen first year: the U.S. gains it, Korea loses it.

Term preference follows expected bargaining power through ``J_k``. A renegotiation that falls
before the next U.S. inauguration meets the administration in office; a later one meets the
election's winner, high-pressure with probability ``p_high_pressure``. A side that expects
the next round to go its way wants it soon (a short term): the U.S. under a pressing
administration, or before an expected high-pressure successor (2018: one year); Korea when it
expects a softer successor. A side expecting the opposite wants a long term (Seoul in 2024:
five years before a possible Trump return).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smasim.models.agents import curvature_slope


@dataclass(frozen=True)
class ValueTerms:
    """A side's package values as ``V / S = fixed + per_jump (1 + J)``, each (n_draws, K).

    Everything but the expected jump ``J`` is fixed for a batch (growth, terms, discounting),
    so the tables are computed once and each event only recombines them.
    """

    fixed: np.ndarray
    per_jump: np.ndarray

    def value(self, next_jump: np.ndarray) -> np.ndarray:
        """``V / S`` for expected jumps ``next_jump``, shape (n_draws, K)."""
        return self.fixed + self.per_jump * (1.0 + next_jump)


def value_terms(
    growth: np.ndarray,
    durations: np.ndarray,
    later_growth: np.ndarray,
    discount_rate: np.ndarray,
    horizon: int,
) -> ValueTerms:
    """The :class:`ValueTerms` of each package, rule-major (package ``r * D + d``).

    Parameters
    ----------
    growth : ndarray, shape (n_draws, R)
        Annual growth of each rule, fraction per year.
    durations : ndarray of int, shape (D,)
        The terms on the table, years.
    later_growth : ndarray, shape (n_draws,)
        ``c``: growth after the renegotiation, fraction per year.
    discount_rate : ndarray, shape (n_draws,)
        The side's ``rho_i``, fraction per year.
    horizon : int
        ``H``, years valued (at least the longest term plus one).

    Notes
    -----
    With ``delta = 1 / (1 + rho)``, a term of ``n`` years is worth
    ``(T_n + (1 + g)^(n-1) (1 + J) Q_n - sum_{j>=1} delta^j) / sum_{j>=0} delta^j`` where
    ``T_n = sum_{j=1}^{min(n,H)-1} (delta (1+g))^j`` (the term) and
    ``Q_n = sum_{j=n}^{H-1} delta^j (1+c)^(j-n)`` (after it, by ``Q_n = delta^n + (1+c)
    Q_{n+1}``): a few passes over the draws per rule and per year, not per package.
    """
    durations = np.asarray(durations)
    n = growth.shape[0]
    delta = 1.0 / (1.0 + discount_rate)
    # delta^j and the sums; by repeated products (no transcendental per element)
    powers = [np.ones(n)]
    for _ in range(1, horizon):
        powers.append(powers[-1] * delta)
    total = np.sum(powers, axis=0)
    after = [np.zeros(n)] * (horizon + 1)  # Q_m for m = 0 .. H
    for j in range(horizon - 1, -1, -1):
        after[j] = powers[j] + (1.0 + later_growth) * after[j + 1]
    # term[m] = sum_{j=1}^{m-1} (delta (1+g))^j and grown[m] = (1+g)^(m-1), m = 1 .. H,
    # each (n, R)
    term, grown = [np.zeros_like(growth)] * 2, [np.ones_like(growth)] * 2
    ratio, step = np.ones_like(growth), delta[:, None] * (1.0 + growth)
    for _ in range(2, horizon + 1):
        ratio = ratio * step
        term.append(term[-1] + ratio)
        grown.append(grown[-1] * (1.0 + growth))
    within = np.minimum(durations, horizon)  # years of each term inside the horizon
    scale = (1.0 / total)[:, None, None]
    fixed = (np.stack([term[m] for m in within], axis=2) - (total - 1.0)[:, None, None]) * scale
    # 0 for a term as long as the horizon (no renegotiation in view)
    per_jump = np.stack([grown[m] * after[m][:, None] for m in within], axis=2) * scale
    return ValueTerms(fixed.reshape(n, -1), per_jump.reshape(n, -1))


def package_money_value(
    growth: np.ndarray,
    durations: np.ndarray,
    next_jump: np.ndarray,
    later_growth: np.ndarray,
    discount_rate: np.ndarray,
    horizon: int,
) -> np.ndarray:
    """``V_ik / S``: each package's value beyond a frozen first year, per unit of first year.

    Parameters are those of :func:`value_terms`, and ``next_jump`` (n_draws, R * D), the
    first-year increase ``J_k`` expected when package ``k``'s term ends (fraction).

    Returns
    -------
    ndarray, shape (n_draws, R * D)
        Dimensionless (multiply by the status quo for bn KRW per year); 0 for a frozen
        package whose renegotiation is expected to change nothing.
    """
    terms = value_terms(growth, durations, later_growth, discount_rate, horizon)
    return terms.value(next_jump)


def common_horizon(horizon_years: int, durations: np.ndarray) -> int:
    """The years both sides value: the config's horizon, and at least the longest term + 1.

    With a horizon no longer than a term, that term and a longer one would be worth the same;
    one year past the longest term lets every term's renegotiation count.
    """
    return max(int(horizon_years), int(np.max(durations)) + 1)


def one_off_per_year(amount: np.ndarray, discount_rate: np.ndarray, horizon: int) -> np.ndarray:
    """A one-off payment in the agreement's first year as money per year over the horizon.

    The package values of :func:`value_terms` are per-year equivalents (a present value over
    ``H`` years divided by the annuity ``sum_{j<H} (1 + rho)^-j``); a one-off ``V`` paid in
    the first year is worth ``V`` in present value, so ``V / annuity`` per year.

    Parameters
    ----------
    amount : ndarray, shape (K,)
        One-off payment of each package, bn KRW.
    discount_rate : ndarray, shape (n_draws,)
        The side's ``rho``, fraction per year.
    horizon : int
        ``H``, years valued.

    Returns
    -------
    ndarray, shape (n_draws, K)
        bn KRW per year.
    """
    delta = 1.0 / (1.0 + discount_rate)
    annuity = sum(delta**j for j in range(horizon))
    return np.asarray(amount)[None, :] / annuity[:, None]


def with_in_kind(
    menu: np.ndarray, packages, horizon_years: int, rate: np.ndarray, worth
) -> np.ndarray:
    """A side's package values plus each package's in-kind package, as money per year.

    Parameters
    ----------
    menu : ndarray, shape (n_draws, K)
        The side's money value of each package, bn KRW per year.
    packages : PackageSet
    horizon_years : int
        The config's horizon (:func:`common_horizon` applies).
    rate : ndarray, shape (n_draws,)
        The side's discount rate, fraction per year.
    worth : float or ndarray, shape (n_draws,)
        What a won of the in-kind package is worth to the side.

    Returns
    -------
    ndarray, shape (n_draws, K)
        ``menu`` itself when no package carries an in-kind part.
    """
    in_kind = packages.in_kind
    if not in_kind.any():
        return menu
    horizon = common_horizon(horizon_years, packages.duration)
    return menu + np.asarray(worth).reshape(-1, 1) * one_off_per_year(in_kind, rate, horizon)


def next_inauguration_year(year: int) -> int:
    """First U.S. inauguration (20 January, every four years since 1789) after ``year``."""
    return year + 1 + (1 - (year + 1)) % 4


def expected_next_jump(
    duration: np.ndarray,
    *,
    start_year: int,
    now_year: int,
    jump_now: np.ndarray,
    jump_next_administration: np.ndarray,
) -> np.ndarray:
    """``J_k``: the increase expected when each package's term ends.

    Parameters
    ----------
    duration : ndarray of int, shape (K,)
        Terms, years.
    start_year : int
        First year the new agreement covers; the renegotiation of a term of ``n`` years takes
        place in year ``start_year + n - 1``.
    now_year : int
        The current year (the administration in office serves until the next inauguration).
    jump_now, jump_next_administration : ndarray, shape (n_draws,)
        The increase expected under the administration in office, and its expectation over
        the next election's outcomes.

    Returns
    -------
    ndarray, shape (n_draws, K)
    """
    renegotiation_year = start_year + np.asarray(duration) - 1
    successor = renegotiation_year >= next_inauguration_year(now_year)
    return np.where(successor[None, :], jump_next_administration[:, None], jump_now[:, None])


def utility_per_money(ideal: np.ndarray, reservation: np.ndarray, kappa: np.ndarray) -> np.ndarray:
    """What a bn KRW a year beyond the first year is worth in units of ``c``.

    The package's money enters the utility at the rate a won of the first year has at the
    reservation, ``m'(0) / |I - R|``; with ``u = w m(z) + (1 - w) c`` (:mod:`models.agents`) a
    won beyond the first year then weighs ``(1 - w) / w`` of a won of first year, whatever
    the side's span. In years of the status quo instead, a side with a narrow span (Korea:
    ``|I - R|`` a few % of the status quo) weighed it some fifty times less again.

    Parameters
    ----------
    ideal, reservation : ndarray, shape (n_draws,)
        The side's first-year levels, bn KRW per year.
    kappa : ndarray, shape (n_draws,)
        The side's curvature.

    Returns
    -------
    ndarray, shape (n_draws,)
        Utility units of ``c`` per bn KRW a year. Unbounded as ``|I - R|`` shrinks (the
        reservation is held at least ``MIN_GAP`` of the status quo inside the ideal).
    """
    return curvature_slope(np.zeros_like(kappa), kappa) / np.abs(ideal - reservation)


def escalation_cost(value: np.ndarray, status_quo: float, aversion: np.ndarray) -> np.ndarray:
    """Korea's cost of paying ``value`` (bn KRW per year) beyond a frozen first year.

    ``V + eta V_+^2 / S``: convex, so a middle escalator (CPI-linked) can beat both a frozen
    path and a steep one, as the record's most common rule did.

    Parameters
    ----------
    value : ndarray, shape (n_draws,) or (n_draws, K)
        Money beyond a frozen first year, bn KRW per year.
    status_quo : float
        ``S``, bn KRW per year.
    aversion : ndarray, shape (n_draws,)
        ``eta`` (``kr_escalation_aversion``), dimensionless.

    Returns
    -------
    ndarray, shape of ``value``
        bn KRW per year.
    """
    eta = aversion if value.ndim == 1 else aversion[:, None]
    return value + eta * np.maximum(value, 0.0) ** 2 / status_quo


def package_appeal(
    normals: np.ndarray | None,
    packages,
    v,
    status_quo: float,
) -> np.ndarray | float:
    """What a package is worth to both delegations beyond its money: norm and chance.

    The sides' money values of a package's term and rule are nearly linear, so on money
    alone the package with the most or the least escalation wins almost every draw (in the
    9th SMA's prior draws, a frozen amount 56 %, the CPI formula 11 %), while the record has
    the CPI formula in four of six multi-year SMAs. Two terms, both in money per year and
    added to both sides' value of a package:

    * the **index norm** ``index_formula_appeal S``: indexation to inflation is the escalator
      both sides treat as fair by default (Seoul's aim of "inflation-only increases" since
      the 1990s; the 7th-9th and 12th SMAs), a focal point (Schelling 1960) that a package
      escalating with CPI carries;
    * a **random appeal** ``package_appeal_sd S z_k``, ``z_k`` standard normal per package
      and draw: what tips a real choice among close packages (ratifiability, precedent, a
      bureaucracy's convenience) and is outside the model, as a random utility (McFadden
      1974). One agreement has one appeal (:attr:`models.packages.PackageSet.distinct`).

    Parameters
    ----------
    normals : ndarray, shape (n_draws, K), or None
        Standard normals (:attr:`simulation.sampling.Noise.packages`); None for no random
        appeal.
    packages : PackageSet
    v : mapping of str to ndarray, shape (n_draws,)
        ``index_formula_appeal`` and ``package_appeal_sd``, fractions of the status quo per
        year.
    status_quo : float
        ``S``, bn KRW per year.

    Returns
    -------
    ndarray, shape (n_draws, K), or 0.0
        bn KRW per year; 0.0 with neither term.

    References
    ----------
    McFadden, D. (1974). Conditional logit analysis of qualitative choice behavior. In
    P. Zarembka (ed.), Frontiers in Econometrics, 105-142. Academic Press.
    Schelling, T. C. (1960). The Strategy of Conflict. Harvard University Press.
    """
    appeal = 0.0
    if packages.indexed.any():
        appeal = (v["index_formula_appeal"] * status_quo)[:, None] * packages.indexed
    if normals is not None:
        sd = v["package_appeal_sd"] * status_quo
        appeal = appeal + sd[:, None] * normals[:, packages.distinct]
    return appeal
