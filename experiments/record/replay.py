"""Replay of the SMA escalation rules on the realised macro series.

Each SMA's amounts follow from a negotiated first-year amount and a rule: frozen, a fixed
rate, CPI inflation of two years earlier with a cap, or the previous year's ROK defense-budget
growth (:class:`models.packages.EscalationRule`, the objects the model's packages use). Given
the base-year amount, the rule and the macro series, the yearly amounts are

.. math::

    A_t = \\operatorname{round}\\big(A_{t-1} (1 + \\min(\\max(x_{t - \\ell}, 0), c)), 1\\big),

with ``x`` the rule's index (CPI or defense growth; a constant for ``fixed``), ``ell`` its lag
and ``c`` its cap. Amounts are rounded to 0.1 bn KRW (100 million won, the unit the amounts are
announced in) every year, as the agreements compute each year from the previous year's
amount. :func:`replay_record` chains the SMAs of the record: negotiated amounts are taken
from the record, every other year is grown from the replayed year before.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from smasim.experiments.record.data import Record, load_record
from smasim.models.packages import EscalationRule


@dataclass(frozen=True)
class ReplayYear:
    """One replayed year.

    Attributes
    ----------
    year, sma_round : int
    amount_bn_krw : float
        Replayed amount, bn KRW.
    how : {"negotiated", "rule"}
        ``negotiated``: taken from the record (a negotiated first-year amount); ``rule``: the
        year before grown by the rule.
    rate : float
        Increase applied, fraction (NaN for a negotiated amount).
    index_year : int or None
        Year of the index the increase used (None for negotiated, frozen and fixed years).
    rule : str
        Kind of the rule that set the year.
    recorded_bn_krw : float
        The record's amount, bn KRW (NaN where none).
    status : str
        The record's status of that amount (``sourced``, ``derived``, ``future``, ...).
    """

    year: int
    sma_round: int
    amount_bn_krw: float
    how: Literal["negotiated", "rule"]
    rate: float
    index_year: int | None
    rule: str
    recorded_bn_krw: float
    status: str

    @property
    def error_bn_krw(self) -> float:
        """Replayed minus recorded amount, bn KRW (NaN where nothing is recorded)."""
        return self.amount_bn_krw - self.recorded_bn_krw


@dataclass(frozen=True)
class ReplayResult:
    """The replayed series.

    Attributes
    ----------
    years : tuple of ReplayYear
        In calendar order.
    """

    years: tuple[ReplayYear, ...]

    def max_abs_error_bn_krw(self, *, status: str = "sourced", how: str = "rule") -> float:
        """Largest ``|replayed - recorded|`` over years of a status set in a way, bn KRW."""
        err = [abs(y.error_bn_krw) for y in self.years if y.status == status and y.how == how]
        return max(err) if err else math.nan

    def to_dict(self) -> list[dict[str, object]]:
        """JSON-ready rows."""
        return [
            {
                "year": y.year,
                "sma_round": y.sma_round,
                "amount_bn_krw": y.amount_bn_krw,
                "how": y.how,
                "rate_pct": None if math.isnan(y.rate) else 100.0 * y.rate,
                "index_year": y.index_year,
                "rule": y.rule,
                "recorded_bn_krw": None if math.isnan(y.recorded_bn_krw) else y.recorded_bn_krw,
                "status": y.status,
            }
            for y in self.years
        ]


def replay_rule(
    rule: EscalationRule,
    *,
    base_bn_krw: float,
    base_year: int,
    last_year: int,
    cpi: Mapping[int, float],
    defense_growth: Mapping[int, float],
    decimals: int | None = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grow a base-year amount by a rule, year by year, on realised macro series.

    Parameters
    ----------
    rule : EscalationRule
    base_bn_krw : float
        Amount of ``base_year``, bn KRW.
    base_year, last_year : int
        The years ``base_year + 1 .. last_year`` are replayed.
    cpi, defense_growth : mapping of int to float
        Realised index by year, fraction per year.
    decimals : int or None
        Round every year's amount to this many decimals of bn KRW (1: 100 million won);
        None keeps full precision.

    Returns
    -------
    years : ndarray of int, shape (n,)
        ``base_year + 1 .. last_year``, stopping before the first year whose index is not in
        the series (n may be 0).
    amount : ndarray, shape (n,)
        bn KRW.
    rate : ndarray, shape (n,)
        Increase applied each year, fraction.

    Examples
    --------
    The 9th SMA: 920.0 bn KRW in 2014, then CPI of two years earlier, capped at 4%.

    >>> rule = EscalationRule("cpi_cap4", "cpi", cap=0.04)
    >>> cpi = {2013: 0.013, 2014: 0.013, 2015: 0.007, 2016: 0.010}
    >>> years, amount, _ = replay_rule(rule, base_bn_krw=920.0, base_year=2014,
    ...     last_year=2018, cpi=cpi, defense_growth={})
    >>> [float(a) for a in amount]
    [932.0, 944.1, 950.7, 960.2]
    """
    years, amounts, rates = [], [], []
    amount = base_bn_krw
    for year in range(base_year + 1, last_year + 1):
        try:
            rate = rule.rate_in_year(year, cpi=cpi, defense_growth=defense_growth)
        except KeyError:
            break
        amount = amount * (1.0 + rate)
        if decimals is not None:
            amount = round(amount, decimals)
        years.append(year)
        amounts.append(amount)
        rates.append(rate)
    return np.array(years, dtype=np.int64), np.array(amounts), np.array(rates)


def replay_record(
    record: Record | None = None, *, last_year: int = 2030, decimals: int | None = 1
) -> ReplayResult:
    """Replay every SMA of the record that has a machine-readable rule (6th SMA on).

    Negotiated first-year amounts come from the record; every other year is the replayed
    year before grown by its SMA's rule on the record's macro series. The replay stops where
    the index a year needs is not yet recorded (e.g. 2028 needs the 2026 CPI).

    Parameters
    ----------
    record : Record, optional
        The bundled record when omitted.
    last_year : int
        Last year to replay.
    decimals : int or None
        Rounding of each year's amount, decimals of bn KRW.

    Returns
    -------
    ReplayResult
    """
    record = load_record() if record is None else record
    cpi, defense = record.cpi(), record.defense_growth()
    replayed: dict[int, float] = {}
    out: list[ReplayYear] = []

    def add(year, sma, amount, how, rate, index_year, kind):
        row = record.year(year)
        replayed[year] = amount
        out.append(
            ReplayYear(
                year=year,
                sma_round=sma,
                amount_bn_krw=float(amount),
                how=how,
                rate=rate,
                index_year=index_year,
                rule=kind,
                recorded_bn_krw=row.amount_bn_krw,
                status=row.status,
            )
        )

    for seg in sorted(record.rules, key=lambda s: s.first_year):
        if seg.first_year > last_year:
            break
        rule = seg.rule
        if seg.negotiated_first_year:
            add(seg.first_year, seg.sma_round, record.amount(seg.first_year), "negotiated",
                math.nan, None, rule.kind)  # fmt: skip
            base = replayed[seg.first_year]
        else:
            base = replayed.get(seg.base_year, record.amount(seg.base_year))
        years, amounts, rates = replay_rule(
            rule,
            base_bn_krw=base,
            base_year=seg.base_year if not seg.negotiated_first_year else seg.first_year,
            last_year=min(seg.last_year, last_year),
            cpi=cpi,
            defense_growth=defense,
            decimals=decimals,
        )
        linked = rule.kind in ("cpi", "defense")
        for y, a, g in zip(years, amounts, rates, strict=True):
            index_year = int(y) - rule.index_lag if linked else None
            add(int(y), seg.sma_round, float(a), "rule", float(g), index_year, rule.kind)
    return ReplayResult(tuple(sorted(out, key=lambda r: r.year)))
