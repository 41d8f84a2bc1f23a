"""Agreement packages: escalation rules, the discrete package set and contribution paths.

An SMA package has three issues: the first-year amount ``b`` (bn KRW, continuous), the
escalation rule ``r`` and the duration ``n`` (years). The discrete issues are enumerated as
packages ``k = (r, n)``, ``k = 0 .. K-1``, so that every per-draw quantity has shape
``(n_draws, K)``.

A rule turns into an annual growth rate given macro assumptions (CPI inflation, defense-budget
growth), each an array over draws. Within the term the amount grows at that rate; after the
term the last year is frozen (the stated continuation assumption, marked in the outputs).

A package's term and rule are valued in money by :mod:`models.valuation`; the first-year
amount is the amount issue itself (:mod:`models.agents`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

RuleKind = Literal["frozen", "fixed", "cpi", "defense"]


@dataclass(frozen=True)
class EscalationRule:
    """How a package's amount grows after its first year.

    Parameters
    ----------
    name : str
        Label used in outputs, e.g. ``"cpi_cap5"``.
    kind : {"frozen", "fixed", "cpi", "defense"}
        ``frozen``: no growth. ``fixed``: ``rate`` per year. ``cpi``: CPI inflation (of two
        years earlier in the SMA texts), at most ``cap``. ``defense``: growth of the ROK
        defense budget (of the previous year), at most ``cap``.
    rate : float
        Annual growth for ``kind="fixed"``, fraction per year (0.04 = 4 %).
    cap : float
        Upper bound on the annual increase, fraction per year; ``inf`` for none.
    lag : int, optional
        Years between a payment year and the year of the index that sets its increase, used
        when the rule is replayed year by year on a macro series (:meth:`rate_in_year`); the
        default is the SMA texts' (``cpi``: 2, CPI of two years earlier; ``defense``: 1, the
        previous year's budget growth). The model's packages assume a constant index over the
        agreement, where the lag does not matter.
    top_up : float
        Added to the rule's (floored, capped) rate every year, fraction per year: "the
        formula in force plus a top-up" (e.g. CPI capped at 5 % plus 1 %). 0 for none.
    in_kind_bn_krw : float
        A one-off package Korea provides with the agreement besides the SMA payments (arms
        purchases, in-kind support), bn KRW: it costs Korea its value and is worth
        ``in_kind_us_value`` per won to the U.S. (:func:`models.valuation.one_off_per_year`).
        0 for none.
    """

    name: str
    kind: RuleKind
    rate: float = 0.0
    cap: float = float("inf")
    lag: int | None = None
    top_up: float = 0.0
    in_kind_bn_krw: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in ("frozen", "fixed", "cpi", "defense"):
            msg = f"unknown escalation rule kind {self.kind!r}"
            raise ValueError(msg)
        if self.lag is not None and self.lag < 0:
            msg = f"escalation rule lag must be >= 0 years, got {self.lag}"
            raise ValueError(msg)

    @property
    def index_lag(self) -> int:
        """Years from a payment year back to its index year (0 for ``frozen`` and ``fixed``)."""
        if self.lag is not None:
            return self.lag
        return {"cpi": 2, "defense": 1}.get(self.kind, 0)

    def rate_in_year(
        self, year: int, *, cpi: Mapping[int, float], defense_growth: Mapping[int, float]
    ) -> float:
        """Increase from ``year - 1`` to ``year`` on realised macro series.

        The same arithmetic as :meth:`annual_rate` (floor at 0, cap), with the index of year
        ``year - index_lag``.

        Parameters
        ----------
        year : int
            Payment year.
        cpi, defense_growth : mapping of int to float
            Realised CPI inflation and ROK defense-budget growth by year, fraction per year;
            only the series the rule uses must hold the index year.

        Returns
        -------
        float
            Fraction per year.

        Raises
        ------
        KeyError
            If the index year is missing from the series the rule uses.
        """
        at = year - self.index_lag
        c = cpi[at] if self.kind == "cpi" else 0.0
        d = defense_growth[at] if self.kind == "defense" else 0.0
        return float(self.annual_rate(np.array([c]), np.array([d]))[0])

    def annual_rate(self, cpi: np.ndarray, defense_growth: np.ndarray) -> np.ndarray:
        """Annual growth implied by the rule.

        Parameters
        ----------
        cpi : ndarray, shape (n_draws,)
            CPI inflation, fraction per year.
        defense_growth : ndarray, shape (n_draws,)
            ROK defense-budget growth, fraction per year.

        Returns
        -------
        ndarray, shape (n_draws,)
            Growth rate of the amount, fraction per year.
        """
        if self.kind == "frozen":
            rate = np.zeros_like(cpi)
        elif self.kind == "fixed":
            rate = np.full_like(cpi, self.rate)
        elif self.kind == "cpi":
            rate = cpi
        else:
            rate = defense_growth
        # The SMA texts never let a linked index cut the amount.
        rate = np.minimum(np.maximum(rate, 0.0), self.cap)
        return rate + self.top_up if self.top_up else rate


@dataclass(frozen=True)
class PackageSet:
    """The discrete packages ``k = (rule, duration)``, rule-major.

    Parameters
    ----------
    rules : tuple of EscalationRule
        The escalation rules on the table.
    durations : tuple of int
        The terms on the table, years (1-6).
    """

    rules: tuple[EscalationRule, ...]
    durations: tuple[int, ...]

    def __post_init__(self) -> None:
        if not self.rules or not self.durations:
            msg = "a package set needs at least one rule and one duration"
            raise ValueError(msg)
        if any(not 1 <= d <= 6 for d in self.durations):
            msg = "durations must be between 1 and 6 years"
            raise ValueError(msg)

    @property
    def size(self) -> int:
        """Number of packages ``K``."""
        return len(self.rules) * len(self.durations)

    @property
    def rule_index(self) -> np.ndarray:
        """Rule index of each package, shape (K,)."""
        return np.repeat(np.arange(len(self.rules)), len(self.durations))

    @property
    def duration(self) -> np.ndarray:
        """Duration of each package, shape (K,), years."""
        return np.tile(np.asarray(self.durations, dtype=np.int64), len(self.rules))

    @property
    def in_kind(self) -> np.ndarray:
        """One-off in-kind package of each package, shape (K,), bn KRW (0 for none)."""
        return np.repeat([r.in_kind_bn_krw for r in self.rules], len(self.durations))

    @property
    def distinct(self) -> np.ndarray:
        """Index of the first package that is the same agreement as each, shape (K,).

        A one-year term has no escalation: its packages under different rules are one
        agreement unless their in-kind parts differ.
        """
        first: dict[tuple, int] = {}
        keys = [
            ("one year", float(kind)) if d == 1 else (int(r), int(d))
            for r, d, kind in zip(self.rule_index, self.duration, self.in_kind, strict=True)
        ]
        return np.array([first.setdefault(key, k) for k, key in enumerate(keys)])

    @property
    def indexed(self) -> np.ndarray:
        """Whether each package escalates with CPI (a ``cpi`` rule, 2 years or more), (K,)."""
        kinds = np.array([r.kind for r in self.rules])[self.rule_index]
        return (kinds == "cpi") & (self.duration >= 2)

    def label(self, k: int) -> str:
        """Human-readable name of package ``k``, e.g. ``"cpi_cap5, 5 yr"``."""
        rule = self.rules[int(self.rule_index[k])]
        return f"{rule.name}, {int(self.duration[k])} yr"

    def growth(self, cpi: np.ndarray, defense_growth: np.ndarray) -> np.ndarray:
        """Annual growth of each package for each draw.

        Returns
        -------
        ndarray, shape (n_draws, K)
            Fraction per year.
        """
        return np.repeat(self.rule_growth(cpi, defense_growth), len(self.durations), axis=1)

    def rule_growth(self, cpi: np.ndarray, defense_growth: np.ndarray) -> np.ndarray:
        """Annual growth of each rule for each draw, shape (n_draws, R), fraction per year."""
        return np.stack([r.annual_rate(cpi, defense_growth) for r in self.rules], axis=1)


def contribution_path(
    base: np.ndarray,
    growth: np.ndarray,
    duration: np.ndarray,
    *,
    start_year: int,
    first_year: np.ndarray,
    status_quo: float,
    years: np.ndarray,
    next_jump: np.ndarray | None = None,
    later_growth: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Amount paid in each calendar year under an agreement.

    Years from ``start_year`` up to ``first_year - 1`` passed in lapse and are paid at the
    status quo (frozen, as in 2020). From ``first_year`` the amount is ``base`` growing at
    ``growth``. After the term (``start_year + duration - 1``) the agreement is renegotiated:
    by the stated continuation assumption the amount rises by ``next_jump`` in the first year
    after the term and by ``later_growth`` a year after that (frozen when both are omitted).

    Parameters
    ----------
    base : ndarray, shape (n_draws,)
        First-year amount, bn KRW.
    growth : ndarray, shape (n_draws,)
        Annual growth, fraction per year.
    duration : ndarray, shape (n_draws,)
        Term, years, counted from ``start_year``.
    start_year : int
        First calendar year the agreement covers.
    first_year : ndarray, shape (n_draws,)
        First year paid at the agreed amount (``>= start_year``).
    status_quo : float
        Amount paid during a lapse, bn KRW per year.
    years : ndarray, shape (n_years,)
        Calendar years to report.
    next_jump, later_growth : ndarray, shape (n_draws,), optional
        Fractions; see above.

    Returns
    -------
    amount : ndarray, shape (n_draws, n_years)
        bn KRW per year.
    beyond_term : ndarray of bool, shape (n_draws, n_years)
        True where the year lies after the agreement's term (continuation assumption).
    """
    last_year = start_year + duration - 1  # (n,)
    y = years[None, :]
    steps = np.clip(np.minimum(y, last_year[:, None]) - first_year[:, None], 0, None)
    amount = base[:, None] * (1.0 + growth[:, None]) ** steps
    beyond = y > last_year[:, None]
    if next_jump is not None:
        after = np.clip(y - last_year[:, None] - 1, 0, None)
        renewed = (1.0 + next_jump[:, None]) * (1.0 + later_growth[:, None]) ** after
        amount = np.where(beyond, amount * renewed, amount)
    lapsed = y < first_year[:, None]
    amount = np.where(lapsed, status_quo, amount)
    return amount, beyond
