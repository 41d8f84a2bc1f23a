"""Config parameters as the sampler's :class:`~simulation.sampling.ParameterSpec` records.

Each named parameter (a constant, a distribution or a choice, or its registry default) is
checked against its admissible range, across the whole inverse CDF the design maps uniforms
through, and the central values are checked for room to concede.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.stats

from smasim.experiments.config.schema import (
    ChoiceSpec,
    Config,
    ConfigError,
    DistributionSpec,
    ParameterValue,
    field_key,
)
from smasim.models.outlook import increases
from smasim.models.parameters import PARAMETERS
from smasim.simulation.sampling import ParameterSpec


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
            raise ConfigError(f"{field}.{field_key(k)}: must be a finite number")
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


def check_reservations(specs: tuple[ParameterSpec, ...]) -> None:
    """Reject configs whose central values put a reservation beyond an ideal."""
    c = {s.name: np.array([s.central()]) for s in specs}
    for p in (0.0, 1.0):
        x = increases(c, np.array([p]))
        us_ideal, us_res = float(x["us_ideal"][0]), float(x["us_reservation"][0])
        if us_res >= us_ideal:
            raise ConfigError(
                f"parameters.us_reservation_increase: the U.S. reservation (+{us_res:.1%}) is "
                f"at or beyond its ideal (+{us_ideal:.1%}) at pressure {p:g}, leaving no room "
                "to concede; lower it or raise us_ideal_increase"
            )
    x = increases(c, np.array([0.0]))
    kr_res, kr_ideal = float(x["kr_reservation"][0]), float(x["kr_ideal"][0])
    if kr_res <= kr_ideal:
        raise ConfigError(
            f"parameters.kr_reservation_increase: Korea's reservation (+{kr_res:.1%}) is at or "
            f"beyond its ideal (+{kr_ideal:.1%}), leaving no room to concede; "
            "raise it or lower kr_ideal_increase"
        )


# The whole model takes ~40 us a draw on one core (27,705 draws/s measured); a distribution
# whose inverse CDF is solved numerically (levy_stable ~4 ms, genhyperbolic ~2 ms, vonmises
# ~1 ms a draw) multiplies that. The closed forms users need (uniform, beta, truncnorm, gamma,
# norm) take ~1 us: the threshold sits far from both.
SLOW_PPF_US = 50.0


def slow_distributions(specs, draws: int, *, sampled_elsewhere=()) -> list[str]:
    """A warning line per distribution whose inverse CDF would dominate a run's time.

    Parameters
    ----------
    specs : sequence of ParameterSpec
    draws : int
        The run's draws, for the time it would spend.
    sampled_elsewhere : collection of str
        Parameters drawn from a calibration's posterior, whose distribution is not sampled.

    Returns
    -------
    list of str
        ``parameters.NAME: ...`` lines, each with the measured cost per draw.
    """
    import gc
    import time

    u = np.linspace(0.01, 0.99, 16)
    out = []
    for s in specs:
        if s.distribution is None or s.name in sampled_elsewhere:
            continue
        per_draw_us = float("inf")
        collecting = gc.isenabled()
        gc.disable()  # a collection inside a timing would make a closed form look slow
        try:
            for _ in range(3):  # the fastest of three: a first call or a busy core runs slow
                with np.errstate(all="ignore"):
                    start = time.perf_counter()
                    s.distribution.ppf(u)
                    per_draw_us = min(per_draw_us, (time.perf_counter() - start) / u.size * 1e6)
                if per_draw_us <= SLOW_PPF_US:
                    break  # fast: one reading is enough
        finally:
            if collecting:
                gc.enable()
        if per_draw_us > SLOW_PPF_US:
            name = s.distribution.dist.name
            seconds = per_draw_us * draws / 1e6
            spent = f"{seconds:,.0f} s" if seconds < 120 else f"{seconds / 60:,.0f} min"
            out.append(
                f"parameters.{s.name}: {name}'s inverse CDF takes ~{per_draw_us:,.0f} us a draw "
                f"(the whole model ~40 us), ~{spent} over {draws:,} draws; a beta, truncnorm "
                "or gamma takes ~1 us"
            )
    return out
