"""What is compared between scenarios: per-draw metrics and yes/no events.

Metrics (one value per draw, NaN where undefined)

* ``amount_YYYY``: the amount paid in each report year the scenarios share, bn KRW.
* ``pv``: the present value of the path over those years, bn KRW valued in the first shared
  year ``y0``: ``PV = sum_y amount_y * (1 + r) ** -(y - y0)`` with the stated discount rate
  ``r`` (default 3 %/yr, a nominal government-bond order of magnitude; ``r = 0`` gives the
  plain sum, the run's ``total_bn_krw`` when the report years coincide).
* ``agreement_date``: date of the working-level agreement (NaN for draws without one; in
  computations, days since 1970-01-01; differences in days).
* ``lapse_months``: months without an SMA in force after expiry (0 without a lapse).

Events (one yes/no per draw): an agreement in force before expiry, an agreement by the hard
stop, and a lapse after expiry.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from smasim.experiments.comparison.scenario import Scenario

MetricKind = Literal["amount", "pv", "date", "months"]


@dataclass(frozen=True)
class Metric:
    """One per-draw outcome compared between scenarios.

    Attributes
    ----------
    key : str
        ``amount_YYYY``, ``pv``, ``agreement_date`` or ``lapse_months``.
    label : str
        Human-readable name.
    unit : str
        Unit of its values (``date`` for dates).
    difference_unit : str
        Unit of differences and of the Wasserstein distance (``days`` for dates).
    kind : {"amount", "pv", "date", "months"}
    year : int or None
        Calendar year of an ``amount`` metric.
    """

    key: str
    label: str
    unit: str
    difference_unit: str
    kind: MetricKind
    year: int | None = None


def metrics_for(years: Sequence[int], *, discount_rate: float) -> tuple[Metric, ...]:
    """The compared metrics for the shared report ``years``."""
    y0, y1 = years[0], years[-1]
    pv_label = f"present value {y0}-{y1} at {100 * discount_rate:g} %/yr"
    out = [Metric(f"amount_{y}", f"{y} amount", "bn KRW", "bn KRW", "amount", y) for y in years]
    out += [
        Metric("pv", pv_label, "bn KRW", "bn KRW", "pv"),
        Metric("agreement_date", "agreement date", "date", "days", "date"),
        Metric("lapse_months", "lapse length", "months", "months", "months"),
    ]
    return tuple(out)


def present_value(scenario: Scenario, *, years: Sequence[int], discount_rate: float) -> np.ndarray:
    """Present value of each draw's path over ``years``, valued in ``years[0]``.

    Returns
    -------
    ndarray, shape (draws,), bn KRW
        ``sum_y amount_y * (1 + discount_rate) ** -(y - years[0])``.
    """
    pv = np.zeros(scenario.draws)
    for y in years:
        pv += scenario.columns[f"amount_{y}_bn_krw"] * (1.0 + discount_rate) ** -(y - years[0])
    return pv


def metric_values(
    scenario: Scenario, metric: Metric, *, years: Sequence[int], discount_rate: float
) -> np.ndarray:
    """Per-draw values of ``metric``.

    Returns
    -------
    ndarray, shape (draws,), float
        In ``metric.unit`` (dates as days since 1970-01-01); NaN where undefined.
    """
    c = scenario.columns
    if metric.kind == "amount":
        return np.asarray(c[f"amount_{metric.year}_bn_krw"], dtype=float)
    if metric.kind == "pv":
        return present_value(scenario, years=years, discount_rate=discount_rate)
    if metric.kind == "date":
        return dates_as_days(c["agreement_date"])
    return np.asarray(c["lapse_months"], dtype=float)


def dates_as_days(dates: np.ndarray) -> np.ndarray:
    """``datetime64`` values, shape (n,), as float days since 1970-01-01 (NaT -> NaN)."""
    d = np.asarray(dates).astype("datetime64[D]")
    days = d.astype(np.int64).astype(float)
    days[np.isnat(d)] = np.nan
    return days


def days_as_date(days: float) -> str | None:
    """Days since 1970-01-01 as an ISO date (rounded to the nearest day); None for NaN."""
    if not math.isfinite(days):
        return None
    return str(np.datetime64(math.floor(days + 0.5), "D"))


@dataclass(frozen=True)
class Event:
    """A yes/no outcome of a draw whose probability is compared."""

    key: str
    label: str


EVENTS: tuple[Event, ...] = (
    Event("agreement_before_expiry", "agreement in force before expiry"),
    Event("agreement_by_hard_stop", "agreement by the hard stop"),
    Event("lapse", "lapse after expiry"),
)


def event_indicator(scenario: Scenario, event: Event) -> np.ndarray:
    """Whether each draw has ``event``: bool ndarray, shape (draws,)."""
    c = scenario.columns
    if event.key == "agreement_before_expiry":
        return np.asarray(c["outcome"]) == 0
    if event.key == "agreement_by_hard_stop":
        return np.asarray(c["outcome"]) <= 1
    return np.asarray(c["lapse_months"]) > 0
