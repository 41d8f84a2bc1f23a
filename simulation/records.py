"""The records the simulation passes around: the calendar, the draws' noise, outcomes, runs.

Plain frozen data, no behaviour beyond small conveniences: :mod:`simulation.negotiation` and
:mod:`simulation.events` act on them, :mod:`simulation.montecarlo` runs them in batches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from smasim.models.packages import EscalationRule
from smasim.models.setting import Setting
from smasim.simulation.columns import OUTCOME_CODES, arrow_table
from smasim.simulation.posterior import PosteriorDraws
from smasim.simulation.sampling import Design, ParameterSpec

ACTIVE, PENDING, DONE, FAILED, NO_TALKS = 0, 1, 2, 3, 4


@dataclass(frozen=True)
class CalendarEvent:
    """A political event on the calendar.

    Attributes
    ----------
    kind : str
        A key of :data:`simulation.events.EVENTS` (its process and how a trace tells it).
    day : float
        Days since the talks open.
    """

    kind: str
    day: float


@dataclass(frozen=True)
class Calendar:
    """When things happen, in days since the talks open.

    Parameters
    ----------
    round_days : ndarray, shape (n_rounds,)
        Strictly increasing; the last is at or before the hard stop.
    expiry_day : float
        The old SMA expires (lapse costs accrue after).
    ratification_lag_days : float
        From a working-level agreement to the National Assembly's vote.
    round_interval_days : float
        Typical spacing of rounds (per-round discount factors).
    events : tuple of CalendarEvent
        Political events inside the talks, by day; each is a SimPy process of its own
        (:mod:`simulation.events`) and ends a screening segment of rounds.
    inauguration_day : float
        The next U.S. inauguration after an election still ahead when talks open (inside the
        talks or after them: Korea looks ahead to it either way); ``inf`` if none.
    """

    round_days: np.ndarray
    expiry_day: float
    ratification_lag_days: float
    round_interval_days: float
    events: tuple[CalendarEvent, ...] = ()
    inauguration_day: float = float("inf")

    @property
    def election_day(self) -> float | None:
        """Day of the first U.S. election inside the talks, or None."""
        return next((e.day for e in self.events if e.kind == "election"), None)


@dataclass
class TraceEvent:
    """One line of a draw's story."""

    day: float
    round: int
    kind: str
    detail: dict = field(default_factory=dict)


@dataclass
class BatchOutcome:
    """Raw outcome of a batch, one entry per draw (shape (n_draws,))."""

    status: np.ndarray
    agree_day: np.ndarray
    agree_round: np.ndarray
    in_force_day: np.ndarray
    base: np.ndarray
    package: np.ndarray
    u_us: np.ndarray
    u_kr: np.ndarray
    vetoes: np.ndarray
    rejections: np.ndarray
    converged: np.ndarray
    pressure_final: np.ndarray
    high_pressure: np.ndarray
    trace: list[TraceEvent]
    open_day: np.ndarray  # the talks opened (days since the first round); NaN: no talks


OUTCOMES = OUTCOME_CODES  # the per-draw ``outcome`` codes 0-3, by code


@dataclass(frozen=True)
class Experiment:
    """Everything needed to run draws of one negotiation (picklable, no I/O).

    Attributes
    ----------
    name : str
    setting : Setting
    calendar : Calendar
    talks_open : numpy.datetime64
        Date of day 0 (the first round).
    specs : tuple of ParameterSpec
        One per named parameter, in registry order.
    design : {"montecarlo", "lhs", "sobol"}
    concept : str
    ratification_attempts : int
    batch_size : int
    report_years : tuple of int
    known_amounts : dict of int to float
        Amounts already fixed for report years before ``start_year``, bn KRW.
    hard_stop_day : float
        Days after talks open when talks end without agreement.
    posterior : PosteriorDraws, optional
        Calibrated joint draws that replace some parameters' priors (None: the priors).
    """

    name: str
    setting: Setting
    calendar: Calendar
    talks_open: np.datetime64
    specs: tuple[ParameterSpec, ...]
    design: Design
    concept: str
    ratification_attempts: int
    batch_size: int
    report_years: tuple[int, ...]
    known_amounts: dict[int, float]
    hard_stop_day: float
    posterior: PosteriorDraws | None = None

    @property
    def start_year(self) -> int:
        """First calendar year the new agreement covers (the setting's)."""
        return self.setting.start_year

    @property
    def status_quo_rule(self) -> EscalationRule:
        """How the amount moves without a new agreement (the setting's)."""
        return self.setting.status_quo_rule

    def date(self, day: np.ndarray) -> np.ndarray:
        """Days since talks open -> ``datetime64[D]`` (NaT for NaN)."""
        day = np.asarray(day, dtype=float)
        whole = np.where(np.isnan(day), 0, np.floor(day)).astype("timedelta64[D]")
        return np.where(np.isnan(day), np.datetime64("NaT"), self.talks_open + whole)


@dataclass
class RunResult:
    """A finished run: per-draw table, summary and provenance.

    Attributes
    ----------
    experiment : Experiment
    seed : int
    draws : int
    columns : dict of str to ndarray, each shape (draws,)
        The per-draw table (see the output format, ``docs/output.md``).
    summary : dict
        JSON-ready summary (see :func:`summarize`).
    elapsed_s : float
        Wall time of the simulation, seconds.
    workers : int
    """

    experiment: Experiment
    seed: int
    draws: int
    columns: dict[str, np.ndarray]
    summary: dict[str, Any] = field(default_factory=dict)
    elapsed_s: float = 0.0
    workers: int = 1

    def to_arrow(self):
        """The per-draw table as a :class:`pyarrow.Table`.

        Each field's unit and meaning are in its metadata (:mod:`simulation.columns`).
        """
        return arrow_table(self.columns)

    def to_pandas(self):
        """The per-draw table as a :class:`pandas.DataFrame` (needs pandas).

        Dates are datetimes; ``outcome`` is a categorical labelled by :data:`OUTCOMES`.
        """
        import pandas as pd

        df = self.to_arrow().to_pandas()
        df["outcome"] = pd.Categorical.from_codes(df["outcome"], categories=list(OUTCOMES))
        for name in df.columns:
            if name.endswith("_date"):  # Arrow dates arrive as objects
                df[name] = pd.to_datetime(df[name])
        return df
