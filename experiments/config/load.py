"""Loading configs: bundled names or paths, ``extends`` merging, validation, the experiment.

:func:`load_config` reads and validates (:mod:`experiments.config.schema`,
:mod:`experiments.config.specs`); :func:`build_experiment` turns a validated config into the
engine's :class:`~simulation.records.Experiment`.
"""

from __future__ import annotations

import datetime as dt
import functools
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from smasim.experiments.config.schema import (
    BUNDLED,
    DEFAULT_CONFIG,
    Config,
    ConfigError,
    field_key,
)
from smasim.experiments.config.specs import check_reservations, parameter_specs
from smasim.models.packages import EscalationRule, PackageSet
from smasim.models.setting import Setting
from smasim.simulation.posterior import PosteriorDraws, posterior_draws, read_posterior
from smasim.simulation.records import Calendar, CalendarEvent, Experiment


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

    ``extends`` always names a bundled config: a file of that name in the working directory
    is not read in its place.

    Returns
    -------
    data : dict
    origin : str
        Path or ``bundled:NAME``.
    """
    name = DEFAULT_CONFIG if source is None else str(source)
    path = Path(name)
    if path.is_file():
        return _extended(_read_text(path), str(path), chain=()), str(path)
    if name in bundled_configs():
        return _extended(_bundled_text(name), f"bundled:{name}", chain=(name,)), f"bundled:{name}"
    hint = "; bundled configs: " + ", ".join(bundled_configs())
    raise ConfigError(f"config: no such file or bundled config {name!r}{hint}")


def _bundled_text(name: str) -> str:
    return resources.files(BUNDLED).joinpath("bundled", f"{name}.toml").read_text(encoding="utf-8")


def _extended(text: str, origin: str, *, chain: tuple[str, ...]) -> dict[str, Any]:
    """Parse ``text`` and merge it over the bundled config it extends, if any."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config: malformed TOML in {origin}: {exc}") from None
    except RecursionError:
        # tomllib parses nested arrays and inline tables recursively; no config nests deeply
        raise ConfigError(f"config: malformed TOML in {origin}: nested too deeply") from None
    parent = (
        data.get("experiment", {}).get("extends")
        if isinstance(data.get("experiment"), dict)
        else None
    )
    if parent is None:
        return data
    if not isinstance(parent, str) or parent not in bundled_configs():
        raise ConfigError(f"experiment.extends: {parent!r} is not a bundled config")
    if parent in chain:
        raise ConfigError(
            f"experiment.extends: {parent!r} extends itself in a circle "
            f"({' -> '.join((*chain, parent))})"
        )
    base = _extended(_bundled_text(parent), f"bundled:{parent}", chain=(*chain, parent))
    base.get("experiment", {}).pop("extends", None)
    return _merge(base, data)


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
    check_reservations(specs)
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
    path = ".".join(field_key(p) for p in err["loc"] if not str(p).startswith(forms))
    msg = err["msg"].removeprefix("Value error, ")
    if len(err["loc"]) == 1 and err["type"] == "extra_forbidden":
        msg = "unknown table; expected [experiment], [agreement], [calendar], [parameters]"
    if tuple(err["loc"]) == ("experiment", "solution") and err["type"] == "extra_forbidden":
        msg = "renamed: write concept = ... (the solution concept)"
    return f"{path or 'config'}: {msg}"


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
    dated = [(e.kind, e.date) for e in cal.events]
    inauguration = float("inf")
    if cal.election is not None and cal.election > t0:
        # the winner takes office on 20 January; both events go on the calendar
        taking_office = cal.inauguration or dt.date(cal.election.year + 1, 1, 20)
        dated = [("election", cal.election), ("inauguration", taking_office), *dated]
        inauguration = day(taking_office)
    # by date (stable: the election first on a shared day); those outside the talks do nothing
    events = [
        CalendarEvent(kind, day(d))
        for kind, d in sorted(dated, key=lambda kd: kd[1])
        if t0 < d <= cal.hard_stop
    ]
    sq_rule = next(
        (r for r in rules if r.name == a.status_quo_rule), EscalationRule("frozen", "frozen")
    )
    return Experiment(
        name=ex.name,
        setting=Setting(
            a.status_quo_bn_krw,
            packages,
            a.horizon_years,
            start_year=a.start_year,
            talks_year=t0.year,
            status_quo_rule=sq_rule,
            # years from start_year on that the agreement in force still covers
            in_force_years=max(0, cal.expiry.year - a.start_year + 1),
        ),
        calendar=Calendar(
            round_days=round_days,
            expiry_day=day(cal.expiry) + 1.0,  # in force through the end of the expiry date
            ratification_lag_days=float(cal.ratification_lag_days),
            round_interval_days=float(cal.round_interval_days),
            events=tuple(events),
            inauguration_day=inauguration,
        ),
        talks_open=np.datetime64(t0, "D"),
        specs=parameter_specs(cfg),
        design=ex.design,
        concept=ex.concept,
        ratification_attempts=ex.ratification_attempts,
        batch_size=ex.batch_size,
        report_years=tuple(range(a.report_first_year, a.report_last_year + 1)),
        known_amounts={int(y): v for y, v in a.known_amounts_bn_krw.items()},
        hard_stop_day=stop,
        posterior=_posterior(cfg) if calibrated(cfg) else None,
    )


def calibrated(cfg: Config) -> bool:
    """Whether the config draws its shared parameters from a bundled posterior."""
    return cfg.calibration is not None and cfg.calibration.posterior != "none"


def bundled_posterior_path(name: str):
    """The file of the bundled posterior ``name`` (it may not exist)."""
    return resources.files(BUNDLED).joinpath("posteriors", f"{name}.parquet")


def _posterior(cfg: Config) -> PosteriorDraws:
    """The config's calibrated draws, checked against its information date."""
    name = cfg.calibration.posterior
    path = bundled_posterior_path(name)
    if not path.is_file():
        raise ConfigError(f"calibration.posterior: no bundled posterior {name!r}")
    columns, provenance = _read_posterior(str(path), name)
    if dt.date.fromisoformat(provenance["information_date"]) > cfg.experiment.information_date:
        raise ConfigError(
            f"experiment.information_date: {cfg.experiment.information_date} is before the "
            f"information up to {provenance['information_date']} that calibration.posterior "
            f'{name!r} was fitted with; name an earlier posterior or "none"'
        )
    priors = {s.name: s.prior_key() for s in parameter_specs(cfg)}
    return posterior_draws(name, columns, provenance, priors)


@functools.lru_cache(maxsize=16)
def _read_posterior(path: str, name: str):
    return read_posterior(path, name)


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
