"""The config schema: the four TOML tables as validated pydantic models.

A config is a TOML file with four tables (see the config reference, ``docs/config.md``):

* ``[experiment]``: name, information date, seed, draws, batch size, design, solution concept;
  ``extends = "NAME"`` starts from a bundled config and overrides only what is written.
* ``[agreement]``: the status quo, the packages on the table (escalation rules, durations),
  the years the new agreement covers and the years to report.
* ``[calendar]``: round dates, expiry of the old SMA, hard stop, U.S. election, ratification lag.
* ``[parameters]``: the named model parameters (:mod:`models.parameters`) the config sets, as
  a constant, a :mod:`scipy.stats` distribution (``{dist = "uniform", loc = 0.1, scale = 0.2}``)
  or a categorical choice (``{choices = [0.2, 0.8], weights = [0.5, 0.5]}``); the others take
  their registry defaults.

Every problem is reported as a :class:`ConfigError` naming the field, in one line.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from smasim.experiments.config.constants import (  # noqa: F401 - re-exported
    BUNDLED,
    DEFAULT_CONFIG,
    MAX_DRAWS,
    ConfigError,
)
from smasim.models.bargaining import CONCEPTS
from smasim.models.packages import EscalationRule
from smasim.models.parameters import PARAMETERS
from smasim.simulation.events import EVENTS

MAX_ROUNDS = 1000  # rounds from the first to the hard stop (the engine steps every round)
AMOUNT_RANGE = (1e-3, 1e6)  # bn KRW per year: amounts the arithmetic keeps finite and exact
MAX_NAME_BYTES = 100  # experiment.name is part of the result folder's name


class _Strict(BaseModel):
    # nan and inf pass ``gt``/``le`` bounds half the time (inf > 0): refuse them outright
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*")
    @classmethod
    def _printable(cls, v: Any) -> Any:
        # every text of a config reaches a terminal (tables, reports, traces): an escape
        # sequence in a description or a rule name could rewrite the screen or the clipboard
        if isinstance(v, str) and not v.isprintable():
            raise ValueError("must be printable text: no control characters or escapes")
        return v


class ExperimentSection(_Strict):
    """``[experiment]``: what is run and how."""

    name: str = Field(min_length=1, description="Short identifier, used in result folder names.")
    description: str = Field("", description="What the scenario represents.")
    information_date: dt.date = Field(description="Date of the information the config uses.")
    extends: str | None = Field(None, description="Bundled config this one overrides.")
    seed: int = Field(ge=0, description="Root seed of the run's SeedSequence.")
    draws: int = Field(gt=0, le=MAX_DRAWS, description="Default number of Monte Carlo draws.")
    batch_size: int = Field(
        16384,
        gt=0,
        le=1_000_000,
        description="Draws per batch, a part file each; batches under 1,024 draws run far slower.",
    )
    design: Literal["montecarlo", "lhs", "sobol"] = Field("lhs", description="Sampling design.")
    concept: Literal[tuple(CONCEPTS)] = Field("nash", description="Bargaining solution concept.")
    ratification_attempts: int = Field(3, ge=1, le=10, description="Assembly votes allowed.")

    @field_validator("name")
    @classmethod
    def _folder_name(cls, v: str) -> str:
        # runs/NAME-TIME is the default result folder: NAME must be one file name
        if not v.isprintable() or "/" in v or "\\" in v or v.startswith("."):
            raise ValueError(
                "must be usable as a folder name: no '/', '\\', control characters or leading '.'"
            )
        if len(v.encode("utf-8")) > MAX_NAME_BYTES:
            raise ValueError(f"is longer than {MAX_NAME_BYTES} bytes in UTF-8")
        return v


class RuleSection(_Strict):
    """One escalation rule on the table."""

    name: str = Field(min_length=1, description="The rule's name in tables and reports.")
    kind: Literal["frozen", "fixed", "cpi", "defense"] = Field(
        description="Frozen, a fixed rate, CPI-linked or defense-budget-linked."
    )
    rate_per_year: float = Field(0.0, ge=-0.5, le=1.0, description="Fixed rate, fraction/yr.")
    cap_per_year: float | None = Field(None, ge=0.0, le=1.0, description="Cap, fraction/yr.")
    top_up_per_year: float = Field(
        0.0,
        ge=-0.5,
        le=1.0,
        description="Added to the rule's rate every year (the formula plus a top-up), "
        "fraction/yr; a negative top-up (a discount) can make the amount fall.",
    )

    in_kind_bn_krw: float = Field(
        0.0,
        ge=0.0,
        le=AMOUNT_RANGE[1],
        description="One-off in-kind package Korea provides with this rule's agreements "
        "(arms purchases, support), bn KRW.",
    )

    def rule(self) -> EscalationRule:
        """The :class:`EscalationRule` this table describes."""
        cap = math.inf if self.cap_per_year is None else self.cap_per_year
        return EscalationRule(
            self.name,
            self.kind,
            self.rate_per_year,
            cap,
            top_up=self.top_up_per_year,
            in_kind_bn_krw=self.in_kind_bn_krw,
        )


class AgreementSection(_Strict):
    """``[agreement]``: the status quo and the packages on the table."""

    status_quo_bn_krw: float = Field(
        ge=AMOUNT_RANGE[0], le=AMOUNT_RANGE[1], description="Amount paid now, bn KRW per year."
    )
    status_quo_rule: str = Field(
        "frozen",
        description="Rule name the status quo follows "
        "without a new deal ('frozen' for an expired SMA).",
    )
    start_year: int = Field(ge=1991, le=2100, description="First year the new SMA covers.")
    horizon_years: int = Field(5, ge=1, le=10, description="Years of payments each side values.")
    report_first_year: int = Field(ge=1991, le=2100, description="First year reported.")
    report_last_year: int = Field(ge=1991, le=2100, description="Last year reported.")
    known_amounts_bn_krw: dict[
        str, Annotated[float, Field(ge=AMOUNT_RANGE[0], le=AMOUNT_RANGE[1])]
    ] = Field(
        default_factory=dict,
        description="Fixed amounts of the report years before start_year (each one required).",
    )
    durations_years: list[Annotated[int, Field(ge=1, le=6)]] = Field(
        min_length=1, description="Terms on the table, years."
    )
    rules: list[RuleSection] = Field(min_length=1, description="Escalation rules on the table.")

    @model_validator(mode="after")
    def _check(self) -> AgreementSection:
        if self.report_last_year < self.report_first_year:
            raise ValueError("report_last_year is before report_first_year")
        if len(set(self.durations_years)) != len(self.durations_years):
            raise ValueError("durations_years has duplicates")
        names = [r.name for r in self.rules]
        if len(set(names)) != len(names):
            raise ValueError("rules have duplicate names")
        if self.status_quo_rule != "frozen" and self.status_quo_rule not in names:
            raise ValueError(f"status_quo_rule {self.status_quo_rule!r} is not a rule name")
        for y in self.known_amounts_bn_krw:
            if not (y.isascii() and y.isdigit()):  # "²".isdigit() is True, int("²") fails
                raise ValueError(f"known_amounts_bn_krw key {y!r} is not a year")
        known = {int(y) for y in self.known_amounts_bn_krw}
        for y in range(self.report_first_year, min(self.start_year, self.report_last_year + 1)):
            if y not in known:
                raise ValueError(
                    f"report year {y} is before start_year {self.start_year}: give its amount "
                    f'in known_amounts_bn_krw (e.g. {{ "{y}" = 1402.8 }}) or start the report '
                    "at start_year"
                )
        return self


class EventEntry(_Strict):
    """One ``[[calendar.events]]`` entry: a political event of a kind of :data:`EVENTS`."""

    kind: str = Field(description="Event kind (a key of smasim.simulation.events.EVENTS).")
    date: dt.date = Field(description="The day the event happens.")

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, v: str) -> str:
        if v not in EVENTS:
            raise ValueError(f"unknown event kind {v!r}; choose one of {', '.join(EVENTS)}")
        return v


class CalendarSection(_Strict):
    """``[calendar]``: dates of the talks."""

    round_dates: list[dt.date] = Field(min_length=1, description="Scheduled rounds.")
    round_interval_days: int = Field(30, ge=1, le=730, description="Spacing of further rounds.")
    expiry: dt.date = Field(description="The old SMA expires at the end of this day.")
    hard_stop: dt.date = Field(description="Talks end without agreement after this day.")
    election: dt.date | None = Field(
        None,
        description="U.S. presidential election; one on or before the first round changes "
        "nothing (us_pressure is the pressure when talks open); after the hard stop, only "
        "Korea's look-ahead to the inauguration.",
    )
    inauguration: dt.date | None = Field(
        None,
        description="When the election's winner takes office (default: 20 January after it).",
    )
    ratification_lag_days: int = Field(
        56, ge=0, le=730, description="Days from a working-level agreement to the Assembly vote."
    )
    events: list[EventEntry] = Field(
        default_factory=list,
        description="Further political events; like the election, one outside the talks "
        "(on or before the first round, or after the hard stop) changes nothing, and "
        "`smasim run` and `validate` warn of it.",
    )

    @model_validator(mode="after")
    def _check(self) -> CalendarSection:
        d = self.round_dates
        if any(b <= a for a, b in itertools.pairwise(d)):
            raise ValueError("round_dates must be strictly increasing")
        if self.hard_stop < d[0]:
            raise ValueError("hard_stop is before the first round")
        if self.inauguration is not None and (
            self.election is None or self.inauguration <= self.election
        ):
            raise ValueError("inauguration must come after an election")
        for kind in ("troop_change", "kr_election"):
            # each kind draws one uniform per draw: a second one would repeat the first
            if sum(e.kind == kind for e in self.events) > 1:
                raise ValueError(f"events: at most one {kind!r} event")
        listed = [x for x in d if x <= self.hard_stop]
        n = len(listed) + (self.hard_stop - listed[-1]).days // self.round_interval_days
        if n > MAX_ROUNDS:
            raise ValueError(
                f"{n:,} rounds from the first round to hard_stop; at most {MAX_ROUNDS:,}: "
                "widen round_interval_days or bring hard_stop closer"
            )
        return self

    def idle_dates(self) -> list[str]:
        """Why each dated event that falls outside the talks changes nothing (one line each).

        Valid, and documented, but in a user's config more often a mistyped date than an
        intent: ``smasim run`` and ``validate`` print these as warnings.
        """
        first, stop = self.round_dates[0], self.hard_stop
        dated = [("calendar.election", "the election", self.election)]
        dated += [(f"calendar.events.{i}.date", f"the {e.kind} event", e.date)
                  for i, e in enumerate(self.events)]  # fmt: skip
        out = []
        for field, what, date in dated:
            if date is not None and date <= first:
                out.append(f"{field}: {what} on {date} is on or before the first round "
                           f"({first}) and changes nothing")  # fmt: skip
            elif date is not None and date > stop and field != "calendar.election":
                # an election after the hard stop still sets Korea's look-ahead
                out.append(f"{field}: {what} on {date} is after hard_stop ({stop}) and "
                           "changes nothing")  # fmt: skip
        return out


class DistributionSpec(_Strict):
    """A scipy.stats continuous distribution by name, with its parameters."""

    model_config = ConfigDict(extra="allow", frozen=True)
    dist: str


class ChoiceSpec(_Strict):
    """A categorical choice among values."""

    choices: list[float] = Field(min_length=1)
    weights: list[Annotated[float, Field(ge=0)]] | None = None


ParameterValue = float | DistributionSpec | ChoiceSpec


class CalibrationSection(_Strict):
    """Where a calibrated config's behavioural parameters come from.

    ``posterior`` names a bundled posterior (``experiments/config/posteriors/NAME.parquet``):
    joint draws of the shared parameters fitted on the negotiations concluded before the
    config's information date. ``"none"`` (e.g. in a config that extends a calibrated one),
    no section, or ``smasim run --prior``: every parameter from the config's priors.
    """

    posterior: Annotated[str, Field(pattern=r"^[a-z0-9_]+$", max_length=80)] = Field(
        description="A bundled posterior's name, or 'none'."
    )


class Config(_Strict):
    """A whole experiment config."""

    experiment: ExperimentSection
    agreement: AgreementSection
    calendar: CalendarSection
    parameters: dict[str, ParameterValue]
    calibration: CalibrationSection | None = None

    @field_validator("parameters")
    @classmethod
    def _known(cls, v: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(v) - set(PARAMETERS))
        if unknown:
            raise ValueError(f"unknown parameter {unknown[0]!r}")
        return v


def field_key(part: Any) -> str:
    """A key of the user's TOML as it goes into a one-line message (quoted if unprintable)."""
    text = str(part)
    return text if text.isprintable() else repr(text)
