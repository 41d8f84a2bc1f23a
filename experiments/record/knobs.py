"""The calibrated numbers and how they move the model's parameters.

The backtest configs (:mod:`experiments.record.forecast`) share one set of behavioural
priors. Three adjustments of those priors, the same in every negotiation, are what the
calibration (:mod:`experiments.record.calibrate`) fits:

``kr_position_shift`` (fraction of the status quo)
    Added to Korea's ideal and reservation increases (``kr_ideal_increase``,
    ``kr_reservation_increase``): where Korea's acceptable amounts sit. The record's first
    regularity is that the amount lands near Korea's last offer, so Korea's position is the
    first thing the first-year amount must get right.
``pressure_gain_log_scale`` (log factor)
    Multiplies ``pressure_ideal_gain`` and ``pressure_reservation_gain`` by its exponential:
    how U.S. presidential pressure maps onto the U.S. ideal and reservation points. It is
    what separates the high-pressure talks (10th, 11th SMA) from the others.
``concession_log_scale`` (log factor)
    Multiplies both sides' concession exponents (``us_concession_exponent``,
    ``kr_concession_exponent``) by its exponential, i.e. shifts the log-exponent
    distributions: Boulware (tough, late) against Conceder (early) tactics, which set when
    the zone of agreement opens and so where in it, and whether before expiry, a deal falls.

Three, because five negotiations cannot identify more: a fourth (e.g. a U.S. position shift)
would trade off against the first two. Scales enter in logs so that the search is unbounded
in sign and a step means the same relative change anywhere.

A knob applies in two places, which must agree: to a batch's sampled parameter arrays
(:func:`adjust_values`, what the fit evaluates) and to a config's parameter specs
(:func:`calibrated_config_text`, what ``smasim calibrate --write`` leaves behind).
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from smasim.experiments.config.load import read_raw, validate
from smasim.experiments.config.schema import DEFAULT_CONFIG
from smasim.experiments.record.forecast import Adjust


@dataclass(frozen=True)
class Knob:
    """One calibrated number and the parameters it moves.

    Attributes
    ----------
    name : str
    description : str
    targets : tuple of str
        Model parameters (:mod:`models.parameters`) it adjusts.
    kind : {"shift", "log_scale"}
        ``shift``: ``x + theta``; ``log_scale``: ``x * exp(theta)``.
    bounds : tuple of float
        Search range of ``theta``.
    step : float
        Initial simplex step.
    unit : str
    """

    name: str
    description: str
    targets: tuple[str, ...]
    kind: Literal["shift", "log_scale"]
    bounds: tuple[float, float]
    step: float
    unit: str

    def apply(self, x: np.ndarray, theta: float) -> np.ndarray:
        """Adjusted parameter values, same shape as ``x``."""
        return x + theta if self.kind == "shift" else x * math.exp(theta)


KNOBS: tuple[Knob, ...] = (
    Knob(
        "kr_position_shift",
        "added to Korea's ideal and reservation increases",
        ("kr_ideal_increase", "kr_reservation_increase"),
        "shift",
        (-0.2, 0.5),
        0.08,
        "fraction of the status quo",
    ),
    Knob(
        "pressure_gain_log_scale",
        "log factor on how U.S. pressure raises its ideal and reservation",
        ("pressure_ideal_gain", "pressure_reservation_gain"),
        "log_scale",
        (-5.0, 1.0),
        1.0,
        "log units",
    ),
    Knob(
        "concession_log_scale",
        "log factor on both sides' concession exponents",
        ("us_concession_exponent", "kr_concession_exponent"),
        "log_scale",
        (-2.0, 2.0),
        0.7,
        "log units",
    ),
)


def adjust_values(
    values: Mapping[str, np.ndarray], theta: Mapping[str, float]
) -> dict[str, np.ndarray]:
    """Apply calibrated numbers to a batch's sampled parameters.

    Parameters
    ----------
    values : mapping of str to ndarray, shape (n_draws,)
        Sampled parameters by name.
    theta : mapping of str to float
        Knob name -> value; knobs not given are left at 0 (no change).

    Returns
    -------
    dict of str to ndarray, shape (n_draws,)
        A new dict; ``values`` is not modified.
    """
    out = dict(values)
    for knob in KNOBS:
        t = float(theta.get(knob.name, 0.0))
        if t != 0.0:
            for name in knob.targets:
                out[name] = knob.apply(out[name], t)
    return out


def adjuster(theta: Mapping[str, float]) -> Adjust:
    """The :data:`experiments.record.forecast.Adjust` function of calibrated numbers ``theta``."""
    frozen = dict(theta)

    def adjust(values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return adjust_values(values, frozen)

    return adjust


def calibrated_config_text(
    parameters: Mapping[str, float], *, base: str = DEFAULT_CONFIG, name: str | None = None
) -> str:
    """A config extending the bundled config ``base`` with the calibrated numbers applied.

    Each adjusted parameter is rewritten from ``base``'s value: a constant or each choice
    moved directly, a distribution through its ``loc`` (shift) or ``loc`` and ``scale``
    (scale), which is exact for the location-scale families of :mod:`scipy.stats`.

    Parameters
    ----------
    parameters : mapping of str to float
        Knob name -> value (e.g. :attr:`experiments.record.results.Fit.parameters`).
    base : str
        Bundled config to extend.
    name : str, optional
        Experiment name of the new config (default: ``BASE_calibrated``).

    Returns
    -------
    str
        TOML text.
    """
    raw, _ = read_raw(base)
    params = raw["parameters"]
    lines = [
        f"# {base} with the behavioural parameters calibrated on the SMA backtest",
        "# (smasim calibrate; see the README's section on the record and the backtest):",
    ]
    lines += [f"#   {k.name} = {parameters.get(k.name, 0.0):+.6f} ({k.unit}): {k.description}"
              for k in KNOBS]  # fmt: skip
    lines += [
        "",
        "[experiment]",
        f'extends = "{base}"',
        f'name = "{name or base + "_calibrated"}"',
        f'description = "{base}, behavioural parameters calibrated on the 7th-12th SMA backtest"',
        "",
        "[parameters]",
    ]
    for knob in KNOBS:
        t = float(parameters.get(knob.name, 0.0))
        for target in knob.targets:
            lines.append(f"{target} = {_toml(_adjust_spec(params[target], knob, t))}")
    return "\n".join(lines) + "\n"


def write_calibrated_config(
    parameters: Mapping[str, float], path: str | Path, *, base: str = DEFAULT_CONFIG
) -> Path:
    """Write :func:`calibrated_config_text` to ``path`` after checking it loads.

    The file is written beside ``path`` under a hidden name, validated, then renamed into
    place, so a config that would not load never appears at ``path``.
    """
    path = Path(path)
    text = calibrated_config_text(parameters, base=base, name=path.stem)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        validate(read_raw(tmp)[0])
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _adjust_spec(value: Any, knob: Knob, t: float) -> Any:
    if isinstance(value, int | float):
        return float(knob.apply(np.float64(value), t))
    if "choices" in value:
        return {**value, "choices": [float(knob.apply(np.float64(c), t)) for c in value["choices"]]}
    out = dict(value)
    loc, scale = float(value.get("loc", 0.0)), float(value.get("scale", 1.0))
    if knob.kind == "shift":
        out["loc"] = loc + t
    else:
        out["loc"], out["scale"] = loc * math.exp(t), scale * math.exp(t)
    return out


def _toml(value: Any) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(round(float(value), 8))
