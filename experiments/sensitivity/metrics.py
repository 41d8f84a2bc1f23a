"""The outcome metrics a sensitivity analysis or a sweep can explain, by name.

A metric turns the per-draw table of a run (:func:`simulation.outcomes.outcome_columns`)
into one number per draw: an amount in a report year or summed over them, the indicator of a
lapse (whose mean is P(lapse)), the months of a lapse, or the days to agreement.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from smasim.simulation.records import Experiment


@dataclass(frozen=True)
class Metric:
    """An outcome of one draw that sensitivity analysis can explain.

    Attributes
    ----------
    name : str
        As given on the command line (``first_year``, ``amount_2028``, ...).
    column : str
        What it is computed from (a per-draw column or a rule).
    description : str
    unit : str
    """

    name: str
    column: str
    description: str
    unit: str

    def values(self, experiment: Experiment, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        """The metric of each draw from a per-draw table.

        Parameters
        ----------
        experiment : Experiment
        columns : mapping of str to ndarray, shape (n_draws,)
            As :func:`simulation.outcomes.outcome_columns` returns.

        Returns
        -------
        ndarray, shape (n_draws,), float, in ``unit``
        """
        if self.column == "lapse_indicator":
            return (columns["lapse_months"] > 0).astype(float)
        if self.column == "agreement_days":
            agreed = columns["outcome"] <= 1  # agreed before or after expiry
            delta = columns["agreement_date"] - experiment.talks_open
            days = delta.astype("timedelta64[D]").astype(np.int64)  # NaT rows replaced below
            return np.where(agreed, days.astype(float), experiment.hard_stop_day)
        return np.asarray(columns[self.column], dtype=float)

    @property
    def mean_label(self) -> str:
        """What the metric's mean over draws reads as (``P(lapse)`` for the lapse indicator)."""
        return "P(lapse)" if self.column == "lapse_indicator" else f"mean {self.description}"


def metric_names(experiment: Experiment) -> list[str]:
    """The metric names an experiment accepts."""
    years = [f"amount_{y}" for y in experiment.report_years]
    return ["first_year", *years, "total", "p_lapse", "lapse_months", "agreement_days"]


def resolve_metric(experiment: Experiment, name: str) -> Metric:
    """The :class:`Metric` called ``name`` for an experiment.

    Metrics: ``first_year`` (the amount in the config's first report year), ``amount_YYYY``
    (any report year), ``total`` (the path summed over the report years), ``p_lapse`` (the
    indicator of a lapse: its mean is P(lapse)), ``lapse_months`` and ``agreement_days`` (days
    from the first round to the working-level agreement; draws without an agreement, or
    without talks, count as agreeing at the hard stop).

    Raises
    ------
    ValueError
        One line naming the accepted metrics.
    """
    years = experiment.report_years
    if name == "first_year":
        y = years[0]
        return Metric(
            name, f"amount_{y}_bn_krw", f"contribution in {y} (first report year)", "bn KRW"
        )
    if name.startswith("amount_") and name[7:].isdigit() and int(name[7:]) in years:
        y = int(name[7:])
        return Metric(name, f"amount_{y}_bn_krw", f"contribution in {y}", "bn KRW")
    if name == "total":
        return Metric(
            name, "total_bn_krw", f"contribution summed over {years[0]}-{years[-1]}", "bn KRW"
        )
    if name == "p_lapse":
        return Metric(name, "lapse_indicator", "lapse indicator (1 = lapse)", "probability")
    if name == "lapse_months":
        return Metric(name, "lapse_months", "months without an SMA in force", "months")
    if name == "agreement_days":
        return Metric(
            name,
            "agreement_days",
            "days from the first round to agreement (no agreement: the hard stop)",
            "days",
        )
    msg = f"metric: unknown metric {name!r}; choose one of {', '.join(metric_names(experiment))}"
    raise ValueError(msg)
