"""The sourced SMA record: yearly amounts, negotiations, escalation rules and macro series.

The one place that reads the record. ``data/`` holds the sourced tables (each value with its
source and a status: ``sourced``, ``derived`` = arithmetic on sourced inputs, ``unverified``,
``missing``, ``future``); they ship with the package as byte-identical copies in
``experiments/data/``, which is what this module reads, so it works after ``pip install .``.

=========================  ============================================================
file                       one row per
=========================  ============================================================
``sma_history.csv``        year 1991-2030: SMA round, amount (bn KRW), change (%), rule
``sma_negotiations.csv``   SMA (1st-12th): years, dates, rounds, duration, rule, demands
``sma_rules.csv``          stretch of years with one escalation rule (6th-12th SMA)
``macro_context.csv``      year: ROK CPI, defense budget and its growth, KRW/USD
=========================  ============================================================

Dates in the negotiation table are free text ("2006-05 (month only)", "2019-09-24 (Seoul)");
:func:`parse_date` reads the earliest date they allow and how precise it is.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from smasim.models.packages import EscalationRule

PACKAGE_DATA = "smasim"  # data/*.csv ships once, as package data of smasim
FILES = ("sma_history.csv", "sma_negotiations.csv", "sma_rules.csv", "macro_context.csv")
Status = Literal["sourced", "derived", "unverified", "missing", "future"]
Precision = Literal["day", "month", "year"]
_MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip


@dataclass(frozen=True)
class YearAmount:
    """One year of Korea's SMA contribution.

    Attributes
    ----------
    year : int
    sma_round : int
        The SMA that set the year's amount.
    amount_bn_krw : float
        bn KRW; NaN where no KRW figure exists.
    change_pct : float
        Change over the previous year as recorded, %; NaN where not recorded.
    rule : str
        How the amount was set (the record's text).
    status : {"sourced", "derived", "missing", "future"}
    source : str
    """

    year: int
    sma_round: int
    amount_bn_krw: float
    change_pct: float
    rule: str
    status: Status
    source: str

    def to_dict(self) -> dict[str, object]:
        """JSON-ready fields (NaN as None)."""
        return {
            "year": self.year,
            "sma_round": self.sma_round,
            "amount_bn_krw": _none(self.amount_bn_krw),
            "change_pct": _none(self.change_pct),
            "rule": self.rule,
            "status": self.status,
            "source": self.source,
        }


@dataclass(frozen=True)
class Negotiation:
    """One SMA's negotiation as recorded.

    Attributes
    ----------
    sma_round : int
    first_year, last_year : int
        Years the SMA covers.
    opening : datetime.date or None
        First round, the earliest date the record allows (the 1st of the month for
        "2006-05"); None where not recorded.
    opening_precision : {"day", "month", "year"} or None
    opening_verified : bool
        False where the record marks the date as from memory or not confirmed.
    concluded : datetime.date or None
        Working-level agreement (text agreed, initialed or announced).
    n_rounds : int or None
    duration_years : int
    rule : str
    us_opening_demand : str
    notes, source : str
    """

    sma_round: int
    first_year: int
    last_year: int
    opening: dt.date | None
    opening_precision: Precision | None
    opening_verified: bool
    concluded: dt.date | None
    n_rounds: int | None
    duration_years: int
    rule: str
    us_opening_demand: str
    notes: str
    source: str


@dataclass(frozen=True)
class RuleSegment:
    """A stretch of years of one SMA grown by one escalation rule.

    The amount of ``first_year`` is the negotiated amount when ``base_year == first_year``;
    otherwise every year from ``first_year`` is the year before grown by the rule.

    Attributes
    ----------
    sma_round, first_year, last_year, base_year : int
    rule : EscalationRule
        The rule as the model's packages use it (``lag`` set from the record).
    status : str
    basis, source : str
    """

    sma_round: int
    first_year: int
    last_year: int
    base_year: int
    rule: EscalationRule
    status: str
    basis: str
    source: str

    @property
    def negotiated_first_year(self) -> bool:
        """Whether the first year's amount was negotiated rather than grown by the rule."""
        return self.base_year == self.first_year


@dataclass(frozen=True)
class MacroYear:
    """Macro series of one year (NaN where not recorded).

    Attributes
    ----------
    year : int
    defense_budget_trn_krw : float
        ROK defense budget, tn KRW.
    defense_growth : float
        Its growth over the previous year, fraction.
    cpi : float
        ROK CPI inflation, fraction.
    krw_per_usd : float
        Annual average, KRW per USD.
    status, source : str
        The record's text.
    """

    year: int
    defense_budget_trn_krw: float
    defense_growth: float
    cpi: float
    krw_per_usd: float
    status: str
    source: str


@dataclass(frozen=True)
class Record:
    """The whole record (see the module notes)."""

    history: tuple[YearAmount, ...]
    negotiations: tuple[Negotiation, ...]
    rules: tuple[RuleSegment, ...]
    macro: tuple[MacroYear, ...]

    def year(self, year: int) -> YearAmount:
        """The row of ``year``; ``KeyError`` if the record has none."""
        for row in self.history:
            if row.year == year:
                return row
        raise KeyError(f"no SMA record for year {year}")

    def amount(self, year: int) -> float:
        """Amount of ``year``, bn KRW (NaN where no KRW figure exists)."""
        return self.year(year).amount_bn_krw

    def negotiation(self, sma_round: int) -> Negotiation:
        """The row of the ``sma_round``-th SMA."""
        for row in self.negotiations:
            if row.sma_round == sma_round:
                return row
        raise KeyError(f"no negotiation record for SMA {sma_round}")

    def segments(self, sma_round: int) -> tuple[RuleSegment, ...]:
        """The rule segments of one SMA, by first year."""
        return tuple(s for s in self.rules if s.sma_round == sma_round)

    def cpi(self) -> dict[int, float]:
        """ROK CPI inflation by year, fraction (recorded years only)."""
        return {m.year: m.cpi for m in self.macro if not math.isnan(m.cpi)}

    def defense_growth(self) -> dict[int, float]:
        """ROK defense-budget growth by year, fraction (recorded years only)."""
        return {m.year: m.defense_growth for m in self.macro if not math.isnan(m.defense_growth)}


def load_record(directory: str | Path | None = None) -> Record:
    """Read the record.

    Parameters
    ----------
    directory : path, optional
        Folder holding the four CSV files; the copies shipped in the package when omitted.

    Returns
    -------
    Record
    """
    read = _reader(directory)
    history = tuple(
        YearAmount(
            year=int(r["year"]),
            sma_round=int(r["sma_round"]),
            amount_bn_krw=_float(r["amount_krw_billion"]),
            change_pct=_float(r["yoy_change_pct"]),
            rule=r["escalation_rule"],
            status=r["status"],
            source=r["source"],
        )
        for r in read("sma_history.csv")
    )
    negotiations = []
    for r in read("sma_negotiations.csv"):
        years = [int(y) for y in r["years_covered"].split("-")]
        opening, precision = parse_date(r["first_round_date"])
        text = r["first_round_date"].lower()
        negotiations.append(
            Negotiation(
                sma_round=int(r["sma_round"]),
                first_year=years[0],
                last_year=years[-1],
                opening=opening,
                opening_precision=precision,
                opening_verified=not any(
                    w in text for w in ("memory", "unverified", "not confirmed")
                ),
                concluded=parse_date(r["concluded_date"])[0],
                n_rounds=int(r["n_rounds"]) if r["n_rounds"].strip() else None,
                duration_years=int(r["duration_years"]),
                rule=r["escalation_rule"],
                us_opening_demand=r["us_opening_demand"],
                notes=r["notes"],
                source=r["source"],
            )
        )
    rules = tuple(
        RuleSegment(
            sma_round=int(r["sma_round"]),
            first_year=int(r["first_year"]),
            last_year=int(r["last_year"]),
            base_year=int(r["base_year"]),
            rule=EscalationRule(
                name=f"sma{r['sma_round']}_{r['kind']}",
                kind=r["kind"],
                rate=_pct(r["rate_pct"], 0.0),
                cap=_pct(r["cap_pct"], math.inf),
                lag=int(r["index_lag_years"]) if r["index_lag_years"].strip() else None,
            ),
            status=r["status"],
            basis=r["basis"],
            source=r["source"],
        )
        for r in read("sma_rules.csv")
    )
    macro = tuple(
        MacroYear(
            year=int(r["year"]),
            defense_budget_trn_krw=_float(r["defense_budget_trn_krw"]),
            defense_growth=_float(r["defense_budget_growth_pct"]) / 100.0,
            cpi=_float(r["cpi_pct"]) / 100.0,
            krw_per_usd=_float(r["krw_per_usd"]),
            status=r["status"],
            source=r["source"],
        )
        for r in read("macro_context.csv")
    )
    return Record(history, tuple(negotiations), rules, macro)


def parse_date(text: str) -> tuple[dt.date | None, Precision | None]:
    """The earliest date a free-text record date allows, and its precision.

    ``"2019-09-24 (Seoul)"`` is that day; ``"2006-05 (month only)"`` and ``"... July 2013"``
    give the 1st of the month; a bare year gives 1 January. The first form found wins, in
    that order (day, ISO month, named month, year).

    Examples
    --------
    >>> parse_date("2006-05 (month only)")
    (datetime.date(2006, 5, 1), 'month')
    >>> parse_date("")
    (None, None)
    """
    if m := re.search(r"\b(\d{4})-(\d{2})-(\d{2})\b", text):
        return dt.date(int(m[1]), int(m[2]), int(m[3])), "day"
    if m := re.search(r"\b(\d{4})-(\d{2})\b", text):
        return dt.date(int(m[1]), int(m[2]), 1), "month"
    if m := re.search(r"\b(" + "|".join(_MONTHS) + r")\s+(\d{4})\b", text, re.IGNORECASE):
        return dt.date(int(m[2]), _MONTHS.index(m[1].lower()) + 1, 1), "month"
    if m := re.search(r"\b(\d{4})\b", text):
        return dt.date(int(m[1]), 1, 1), "year"
    return None, None


def data_files(directory: str | Path | None = None) -> dict[str, bytes]:
    """The raw bytes of the record's CSV files (package copies when ``directory`` is None)."""
    if directory is None:
        base = resources.files(PACKAGE_DATA).joinpath("data")
        return {f: base.joinpath(f).read_bytes() for f in FILES}
    return {f: (Path(directory) / f).read_bytes() for f in FILES}


def _reader(directory: str | Path | None):
    files = data_files(directory)

    def read(name: str) -> list[dict[str, str]]:
        return list(csv.DictReader(files[name].decode("utf-8").splitlines()))

    return read


def _float(text: str) -> float:
    return float(text) if text.strip() else math.nan


def _pct(text: str, default: float) -> float:
    return float(text) / 100.0 if text.strip() else default


def _none(x: float) -> float | None:
    return None if math.isnan(x) else x
