"""Experiment configs: the TOML schema, validation and loading.

A config is a TOML file with four tables (see the README's config reference):

* ``[experiment]``: name, information date, seed, draws, batch size, design, solution concept;
  ``extends = "NAME"`` starts from a bundled config and overrides only what is written.
* ``[agreement]``: the status quo, the packages on the table (escalation rules, durations),
  the years the new agreement covers and the years to report.
* ``[calendar]``: round dates, expiry of the old SMA, hard stop, U.S. election, ratification lag.
* ``[parameters]``: every named model parameter (:mod:`models.parameters`) as a constant, a
  :mod:`scipy.stats` distribution (``{dist = "uniform", loc = 0.1, scale = 0.2}``) or a
  categorical choice (``{choices = [0.2, 0.8], weights = [0.5, 0.5]}``).

Every problem is reported as a :class:`ConfigError` naming the field, in one line.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import scipy.stats
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from smasim.models.bargaining import CONCEPTS
from smasim.models.packages import EscalationRule, PackageSet
from smasim.models.parameters import PARAMETERS
from smasim.models.pressure import Setting
from smasim.simulation.records import Calendar, CalendarEvent, Experiment
from smasim.simulation.sampling import ParameterSpec

BUNDLED = "smasim.experiments.config"  # the TOML files are in its bundled/ folder
DEFAULT_CONFIG = "sma12_may2024"
MAX_DRAWS = 1_000_000_000  # a run keeps per-draw columns in memory: more cannot be allocated
MAX_ROUNDS = 1000  # rounds from the first to the hard stop (the engine steps every round)
AMOUNT_RANGE = (1e-3, 1e6)  # bn KRW per year: amounts the arithmetic keeps finite and exact
MAX_NAME_BYTES = 100  # experiment.name is part of the result folder's name


class ConfigError(ValueError):
    """A config problem, as one line naming the field and the fix."""


class _Strict(BaseModel):
    # nan and inf pass ``gt``/``le`` bounds half the time (inf > 0): refuse them outright
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class ExperimentSection(_Strict):
    """``[experiment]``: what is run and how."""

    name: str = Field(min_length=1, description="Short identifier, used in result folder names.")
    description: str = Field("", description="What the scenario represents.")
    information_date: dt.date = Field(description="Date of the information the config uses.")
    extends: str | None = Field(None, description="Bundled config this one overrides.")
    seed: int = Field(ge=0, description="Root seed of the run's SeedSequence.")
    draws: int = Field(gt=0, le=MAX_DRAWS, description="Default number of Monte Carlo draws.")
    batch_size: int = Field(16384, gt=0, le=1_000_000, description="Draws per batch.")
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

    name: str = Field(min_length=1)
    kind: Literal["frozen", "fixed", "cpi", "defense"]
    rate_per_year: float = Field(0.0, ge=-0.5, le=1.0, description="Fixed rate, fraction/yr.")
    cap_per_year: float | None = Field(None, ge=0.0, le=1.0, description="Cap, fraction/yr.")

    def rule(self) -> EscalationRule:
        """The :class:`EscalationRule` this table describes."""
        cap = math.inf if self.cap_per_year is None else self.cap_per_year
        return EscalationRule(self.name, self.kind, self.rate_per_year, cap)


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
    report_first_year: int = Field(ge=1991, le=2100)
    report_last_year: int = Field(ge=1991, le=2100)
    known_amounts_bn_krw: dict[
        str, Annotated[float, Field(ge=AMOUNT_RANGE[0], le=AMOUNT_RANGE[1])]
    ] = Field(
        default_factory=dict,
        description="Fixed amounts of the report years before start_year (each one required).",
    )
    durations_years: list[Annotated[int, Field(ge=1, le=6)]] = Field(min_length=1)
    rules: list[RuleSection] = Field(min_length=1)

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


class CalendarSection(_Strict):
    """``[calendar]``: dates of the talks."""

    round_dates: list[dt.date] = Field(min_length=1, description="Scheduled rounds.")
    round_interval_days: int = Field(30, ge=1, le=730, description="Spacing of further rounds.")
    expiry: dt.date = Field(description="The old SMA expires at the end of this day.")
    hard_stop: dt.date = Field(description="Talks end without agreement after this day.")
    election: dt.date | None = Field(
        None,
        description="U.S. presidential election; one on or before the first round, or after "
        "the hard stop, changes nothing (us_pressure is the pressure when talks open).",
    )
    ratification_lag_days: int = Field(56, ge=0, le=730)

    @model_validator(mode="after")
    def _check(self) -> CalendarSection:
        d = self.round_dates
        if any(b <= a for a, b in itertools.pairwise(d)):
            raise ValueError("round_dates must be strictly increasing")
        if self.hard_stop < d[0]:
            raise ValueError("hard_stop is before the first round")
        listed = [x for x in d if x <= self.hard_stop]
        n = len(listed) + (self.hard_stop - listed[-1]).days // self.round_interval_days
        if n > MAX_ROUNDS:
            raise ValueError(
                f"{n:,} rounds from the first round to hard_stop; at most {MAX_ROUNDS:,}: "
                "widen round_interval_days or bring hard_stop closer"
            )
        return self


class DistributionSpec(_Strict):
    """A scipy.stats continuous distribution by name, with its parameters."""

    model_config = ConfigDict(extra="allow", frozen=True)
    dist: str


class ChoiceSpec(_Strict):
    """A categorical choice among values."""

    choices: list[float] = Field(min_length=1)
    weights: list[Annotated[float, Field(ge=0)]] | None = None


ParameterValue = float | DistributionSpec | ChoiceSpec


class Config(_Strict):
    """A whole experiment config."""

    experiment: ExperimentSection
    agreement: AgreementSection
    calendar: CalendarSection
    parameters: dict[str, ParameterValue]

    @field_validator("parameters")
    @classmethod
    def _known(cls, v: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(v) - set(PARAMETERS))
        if unknown:
            raise ValueError(f"unknown parameter {unknown[0]!r}")
        return v


# --- loading -------------------------------------------------------------------------------
def bundled_configs() -> dict[str, str]:
    """Names and descriptions of the bundled configs."""
    out = {}
    for f in sorted(resources.files(BUNDLED).joinpath("bundled").iterdir(), key=lambda p: p.name):
        if f.name.endswith(".toml"):
            data = tomllib.loads(f.read_text(encoding="utf-8"))
            out[f.name[:-5]] = data.get("experiment", {}).get("description", "")
    return out


def read_raw(source: str | Path | None) -> tuple[dict[str, Any], str]:
    """The TOML of a config file path or bundled name, merged over what it extends.

    Returns
    -------
    data : dict
    origin : str
        Path or ``bundled:NAME``.
    """
    name = DEFAULT_CONFIG if source is None else str(source)
    path = Path(name)
    if path.is_file():
        text, origin = _read_text(path), str(path)
    elif name in bundled_configs():
        text = (
            resources.files(BUNDLED).joinpath("bundled", f"{name}.toml").read_text(encoding="utf-8")
        )
        origin = f"bundled:{name}"
    else:
        hint = "; bundled configs: " + ", ".join(bundled_configs())
        raise ConfigError(f"config: no such file or bundled config {name!r}{hint}")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config: malformed TOML in {origin}: {exc}") from None
    parent = (
        data.get("experiment", {}).get("extends")
        if isinstance(data.get("experiment"), dict)
        else None
    )
    if parent is not None:
        if not isinstance(parent, str) or parent not in bundled_configs():
            raise ConfigError(f"experiment.extends: {parent!r} is not a bundled config")
        if parent == name:
            raise ConfigError("experiment.extends: a config cannot extend itself")
        base, _ = read_raw(parent)
        base.get("experiment", {}).pop("extends", None)
        data = _merge(base, data)
    return data, origin


def load_config(source: str | Path | None = None) -> Config:
    """Read and validate a config (a path, a bundled name, or None for the default).

    Raises
    ------
    ConfigError
        With one line naming the field.
    """
    data, _ = read_raw(source)
    return validate(data)


def validate(data: dict[str, Any]) -> Config:
    """Validate parsed TOML into a :class:`Config`, checking distributions and ranges."""
    try:
        cfg = Config.model_validate(data, strict=True)  # TOML has types: no "2000" for 2000
    except ValidationError as exc:
        raise ConfigError(_one_line(exc, data)) from None
    specs = parameter_specs(cfg)
    _check_reservations(specs)
    return cfg


def _one_line(exc: ValidationError, data: dict[str, Any]) -> str:
    """The first validation error as ``field.path: message``.

    A parameter may be a number, a distribution table or a choice table; its error is taken
    from the form the user wrote (a table with ``dist`` or ``choices``), not from the first
    form pydantic tried.
    """
    errors = exc.errors()
    err = errors[0]
    loc = err["loc"]
    if len(loc) >= 2 and loc[0] == "parameters":
        given = data.get("parameters", {}).get(loc[1])
        form = None
        if isinstance(given, dict):
            form = (
                "DistributionSpec"
                if "dist" in given
                else "ChoiceSpec"
                if "choices" in given
                else None
            )
        for e in errors:
            if e["loc"][:2] == loc[:2] and (form is None or form in map(str, e["loc"])):
                err = e
                break
    forms = ("function-", "DistributionSpec", "ChoiceSpec", "float", "int")
    path = ".".join(_key(p) for p in err["loc"] if not str(p).startswith(forms))
    msg = err["msg"].removeprefix("Value error, ")
    if len(err["loc"]) == 1 and err["type"] == "extra_forbidden":
        msg = "unknown table; expected [experiment], [agreement], [calendar], [parameters]"
    return f"{path or 'config'}: {msg}"


def _key(part: Any) -> str:
    """A key of the user's TOML as it goes into a one-line message (quoted if unprintable)."""
    text = str(part)
    return text if text.isprintable() else repr(text)


def parameter_specs(cfg: Config) -> tuple[ParameterSpec, ...]:
    """One :class:`ParameterSpec` per named parameter, in registry order, range-checked.

    A parameter the config does not set takes its registry default.

    The order is the order of the sampling design's columns, so it is part of what a seed
    means: new parameters go at the end of the registry, with constant defaults where runs
    of older configs must keep their bits.
    """
    return tuple(
        _spec(name, cfg.parameters[name] if name in cfg.parameters else _default(name))
        for name in PARAMETERS
    )


def _default(name: str) -> ParameterValue:
    default = PARAMETERS[name].default
    if isinstance(default, dict):
        return DistributionSpec.model_validate(default)
    return float(default)


def _spec(name: str, value: ParameterValue) -> ParameterSpec:
    info = PARAMETERS[name]
    field = f"parameters.{name}"
    rng = f"[{info.low:g}, {info.high:g}] ({info.unit})"
    if isinstance(value, float | int):
        if not _finite(value) or not info.low <= value <= info.high:
            raise ConfigError(f"{field}: {value!r} is outside {rng}")
        return ParameterSpec(name, value=float(value))
    if isinstance(value, ChoiceSpec):
        w = value.weights or [1.0] * len(value.choices)
        if len(w) != len(value.choices):
            raise ConfigError(f"{field}: weights and choices differ in length")
        if max(w) <= 0:
            raise ConfigError(f"{field}: weights must sum to a positive number")
        w = [x / max(w) for x in w]  # 1e308 + 1e308 would overflow the sum
        bad = [c for c in value.choices if not (math.isfinite(c) and info.low <= c <= info.high)]
        if bad:
            raise ConfigError(f"{field}: choice {bad[0]!r} is outside {rng}")
        total = float(sum(w))
        return ParameterSpec(
            name, choices=tuple(value.choices), weights=tuple(x / total for x in w)
        )
    dist_name = value.dist
    family = getattr(scipy.stats, dist_name, None)
    if not isinstance(family, scipy.stats.rv_continuous):
        raise ConfigError(f"{field}: {dist_name!r} is not a scipy.stats continuous distribution")
    kwargs = dict(value.model_extra or {})
    for k, x in kwargs.items():
        if not isinstance(x, int | float) or isinstance(x, bool) or not _finite(x):
            raise ConfigError(f"{field}.{_key(k)}: must be a finite number")
    kwargs = {k: float(x) for k, x in kwargs.items()}  # scipy's ufuncs refuse an int of 10**30
    if kwargs.get("scale", 1.0) == 0.0:
        raise ConfigError(
            f"{field}: {dist_name} with scale 0 has no spread; for a fixed value write a number, "
            "or { choices = [x] } to keep the parameter's column of the sampling design"
        )
    impossible = (
        f"{field}: impossible parameters for {dist_name} {kwargs} (scale must be > 0 and "
        "shape parameters inside the family's domain)"
    )
    try:
        # boost raises OverflowError for some shapes (beta with a = 1e6, b = 5e-324)
        with np.errstate(all="ignore"):
            frozen = family(**kwargs)
            lo, hi = (float(b) for b in frozen.support())
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise ConfigError(f"{field}: invalid parameters for {dist_name}: {exc}") from None
    if np.isnan(lo) or np.isnan(hi):
        raise ConfigError(impossible)
    if lo < info.low or hi > info.high:
        raise ConfigError(
            f"{field}: {dist_name} support [{lo:g}, {hi:g}] leaves {rng}; "
            "use a bounded or truncated distribution"
        )
    # the design's uniforms go through the inverse CDF: it must give numbers in the range
    # across (0, 1), not only at the median
    try:
        with np.errstate(all="ignore"):
            probe = frozen.ppf(_PPF_PROBE)
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise ConfigError(f"{field}: invalid parameters for {dist_name}: {exc}") from None
    if not (np.isfinite(probe).all() and (probe >= info.low).all() and (probe <= info.high).all()):
        raise ConfigError(impossible)
    return ParameterSpec(name, distribution=frozen)


_PPF_PROBE = np.array([0.0, 1e-12, 1e-6, 1e-3, 0.01, *np.linspace(0.05, 0.95, 19), 0.99, 0.999])
_PPF_PROBE = np.concatenate([_PPF_PROBE, [1 - 1e-6, 1 - 1e-12, 1.0]])


def _finite(x: float) -> bool:
    """``math.isfinite`` for TOML numbers, including ints too large for a float."""
    try:
        return math.isfinite(x)
    except OverflowError:
        return False


def _check_reservations(specs: tuple[ParameterSpec, ...]) -> None:
    """Reject configs whose central values put a reservation beyond an ideal."""
    c = {s.name: s.central() for s in specs}
    for p in (0.0, 1.0):
        us_ideal = c["us_ideal_increase"] + c["pressure_ideal_gain"] * p
        us_res = c["us_reservation_increase"] + c["pressure_reservation_gain"] * p
        if us_res >= us_ideal:
            raise ConfigError(
                f"parameters.us_reservation_increase: the U.S. reservation (+{us_res:.1%}) is "
                f"at or beyond its ideal (+{us_ideal:.1%}) at pressure {p:g}, leaving no room "
                "to concede; lower it or raise us_ideal_increase"
            )
    kr_res = (
        c["kr_reservation_increase"] + c["nk_threat_gain"] * c["nk_threat"] - c["audience_cost"]
    )
    if kr_res <= c["kr_ideal_increase"]:
        raise ConfigError(
            f"parameters.kr_reservation_increase: Korea's reservation (+{kr_res:.1%}) is at or "
            f"beyond its ideal (+{c['kr_ideal_increase']:.1%}), leaving no room to concede; "
            "raise it or lower kr_ideal_increase"
        )


def build_experiment(cfg: Config) -> Experiment:
    """Turn a validated config into the engine's :class:`Experiment`."""
    a, cal, ex = cfg.agreement, cfg.calendar, cfg.experiment
    rules = tuple(r.rule() for r in a.rules)
    packages = PackageSet(rules, tuple(a.durations_years))
    t0 = cal.round_dates[0]

    def day(d: dt.date) -> float:
        return float((d - t0).days)

    listed = [day(d) for d in cal.round_dates if d <= cal.hard_stop]
    stop = day(cal.hard_stop)
    extra = np.arange(listed[-1] + cal.round_interval_days, stop + 1e-9, cal.round_interval_days)
    round_days = np.concatenate([np.asarray(listed), extra])
    events = []
    if cal.election is not None and t0 < cal.election <= cal.hard_stop:
        events.append(CalendarEvent("election", day(cal.election)))
    sq_rule = next(
        (r for r in rules if r.name == a.status_quo_rule), EscalationRule("frozen", "frozen")
    )
    return Experiment(
        name=ex.name,
        setting=Setting(a.status_quo_bn_krw, packages, a.horizon_years),
        calendar=Calendar(
            round_days=round_days,
            expiry_day=day(cal.expiry) + 1.0,  # in force through the end of the expiry date
            ratification_lag_days=float(cal.ratification_lag_days),
            round_interval_days=float(cal.round_interval_days),
            events=tuple(events),
        ),
        talks_open=np.datetime64(t0, "D"),
        specs=parameter_specs(cfg),
        design=ex.design,
        concept=ex.concept,
        ratification_attempts=ex.ratification_attempts,
        batch_size=ex.batch_size,
        start_year=a.start_year,
        report_years=tuple(range(a.report_first_year, a.report_last_year + 1)),
        known_amounts={int(y): v for y, v in a.known_amounts_bn_krw.items()},
        status_quo_rule=sq_rule,
        hard_stop_day=stop,
    )


def resolved_dict(cfg: Config) -> dict[str, Any]:
    """The validated config as JSON-ready data (dates as ISO strings)."""
    return cfg.model_dump(mode="json")


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config: cannot read {path}: {exc}") from None


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Deep merge of TOML tables: ``over`` wins; arrays and values are replaced whole."""
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict) and k != "parameters":
            out[k] = _merge(out[k], v)
        elif k == "parameters" and isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = {**out[k], **v}
        else:
            out[k] = v
    return out
