"""Which parameters an analysis varies, checked against the config, and how they are drawn.

A Sobol' analysis varies factors: single parameters, or groups of parameters swapped
together (:func:`resolve_factors`, with groups read from ``"us=a+b,kr=c+d"`` by
:func:`parse_groups`); only parameters the config declares uncertain can be analysed, and
each is drawn through its distribution's quantile function (a categorical one through
:class:`ChoiceQuantile`). A sweep varies one or two parameters on a grid
(:func:`parse_axis`). Errors are one line naming the argument (``params``, ``groups``,
``axes``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from smasim.experiments.sensitivity.design import Factor
from smasim.models.parameters import PARAMETERS, political_parameters
from smasim.simulation.records import Experiment
from smasim.simulation.sampling import ParameterSpec


def parse_groups(text: str | None) -> dict[str, tuple[str, ...]] | None:
    """Parse ``"us=a+b,kr=c+d"`` into ``{"us": ("a", "b"), "kr": ("c", "d")}``."""
    if text is None or not text.strip():
        return None
    groups: dict[str, tuple[str, ...]] = {}
    for item in text.split(","):
        name, sep, members = item.partition("=")
        name = name.strip()
        names = tuple(m.strip() for m in members.split("+") if m.strip())
        if not sep or not name or not names:
            msg = (
                f"groups: {item.strip()!r} is not NAME=param+param "
                "(e.g. us=us_pressure+veto_strength)"
            )
            raise ValueError(msg)
        if name in groups:
            raise ValueError(f"groups: group {name!r} is given twice")
        groups[name] = names
    return groups


def resolve_factors(
    experiment: Experiment,
    *,
    params: Sequence[str] | None = None,
    groups: Mapping[str, Sequence[str]] | None = None,
) -> tuple[Factor, ...]:
    """The factors of an analysis, checked against the experiment.

    Parameters
    ----------
    experiment : Experiment
    params : sequence of str, optional
        Parameters analysed one by one. Default: none when ``groups`` is given, else every
        political-pressure parameter the config declares uncertain.
    groups : mapping of str to sequence of str, optional
        Groups analysed as one factor each; their members must not repeat or be in ``params``.

    Returns
    -------
    tuple of Factor
        Groups first (in the given order), then the single parameters in registry order.

    Raises
    ------
    ValueError
        One line naming the bad parameter (unknown, constant in the config, repeated).
    """
    specs = {s.name: s for s in experiment.specs}
    if params is None and not groups:
        params = [p for p in political_parameters() if specs[p].uncertain]
        if not params:
            msg = "params: the config declares no political parameter uncertain; name some"
            raise ValueError(msg)
    params = list(params or [])
    seen: set[str] = set()
    factors = []
    for gname, members in (groups or {}).items():
        if gname in specs:
            raise ValueError(f"groups: group name {gname!r} is a parameter name; rename it")
        for m in members:
            _check_param(specs, m, "groups", seen)
        factors.append(Factor(gname, tuple(members)))
    for p in params:
        _check_param(specs, p, "params", seen)
    order = list(PARAMETERS)
    factors += [Factor(p, (p,)) for p in sorted(params, key=order.index)]
    return tuple(factors)


def _check_param(specs: Mapping[str, ParameterSpec], name: str, field: str, seen: set[str]) -> None:
    if name not in specs:
        hint = ", ".join(political_parameters())
        raise ValueError(f"{field}: unknown parameter {name!r}; political parameters: {hint}")
    if not specs[name].uncertain:
        msg = (
            f"{field}: {name!r} is a constant ({specs[name].value:g}) in this config; give it a "
            "distribution to analyse it"
        )
        raise ValueError(msg)
    if name in seen:
        raise ValueError(f"{field}: parameter {name!r} is named twice")
    seen.add(name)


@dataclass(frozen=True)
class ChoiceQuantile:
    """The quantile function of a categorical parameter, usable as a ``dists`` entry.

    Parameters
    ----------
    spec : ParameterSpec
        With ``choices`` and ``weights``.
    """

    spec: ParameterSpec

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Uniforms ``u``, shape (n,), to choices, shape (n,) (the smallest with CDF > u)."""
        return self.spec.from_unit(np.asarray(u, dtype=float))


def spec_distribution(spec: ParameterSpec) -> Any:
    """A ``dists`` entry for an uncertain parameter: its frozen distribution or choice quantile."""
    if spec.distribution is not None:
        return spec.distribution
    if spec.choices is not None:
        return ChoiceQuantile(spec)
    raise ValueError(f"{spec.name}: a constant has no distribution")


@dataclass(frozen=True)
class SweepAxis:
    """One swept parameter.

    Attributes
    ----------
    name : str
    values : ndarray, shape (n_points,)
        In the parameter's unit.
    """

    name: str
    values: np.ndarray


def parse_axis(experiment: Experiment, text: str, *, field: str = "axes") -> SweepAxis:
    """Parse ``NAME`` or ``NAME=lo:hi:n`` into a grid.

    Without a range an uncertain parameter spans its 5%-95% quantiles in 11 points; a constant
    needs a range. Values must lie in the parameter's admissible range.

    Parameters
    ----------
    experiment : Experiment
    text : str
        ``"us_pressure"`` or ``"us_pressure=0:1:11"``.
    field : str
        The name errors give the axis (:func:`experiments.sensitivity.analysis.sweep` passes
        ``axes[0]`` or ``axes[1]``).

    Returns
    -------
    SweepAxis

    Raises
    ------
    ValueError
        One line naming ``field``.
    """
    name, sep, rng_text = text.partition("=")
    name = name.strip()
    if name not in PARAMETERS:
        raise ValueError(f"{field}: unknown parameter {name!r}")
    info = PARAMETERS[name]
    spec = next(s for s in experiment.specs if s.name == name)
    if not sep:
        if not spec.uncertain:
            msg = f"{field}: {name} is a constant in this config; give a range, {name}=lo:hi:n"
            raise ValueError(msg)
        lo, hi = (float(x) for x in spec.from_unit(np.array([0.05, 0.95])))
        return SweepAxis(name, np.linspace(lo, hi, 11))
    parts = rng_text.split(":")
    try:
        lo, hi, count = float(parts[0]), float(parts[1]), int(parts[2])
        if len(parts) != 3:
            raise IndexError
    except (ValueError, IndexError):
        raise ValueError(f"{field}: {text!r} is not NAME=lo:hi:n (e.g. {name}=0:1:11)") from None
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo >= hi or count < 2:
        raise ValueError(f"{field}: {text!r} needs lo < hi and n >= 2 points")
    if count > 201:
        raise ValueError(f"{field}: at most 201 points per axis, got {count}")
    if lo < info.low or hi > info.high:
        msg = (
            f"{field}: {name} range [{lo:g}, {hi:g}] leaves "
            f"[{info.low:g}, {info.high:g}] ({info.unit})"
        )
        raise ValueError(msg)
    return SweepAxis(name, np.linspace(lo, hi, count))
