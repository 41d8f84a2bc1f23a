r"""Sensitivity analysis of the political-pressure parameters: Sobol' indices, OAT, sweeps.

The users' question is "which political parameter moves Korea's post-2026 contribution most,
and how?". Three tools answer it, each a documented function behind a CLI command:

* :func:`sensitivity` (``smasim sensitivity``): global first-order and total Sobol' indices of
  one outcome metric over chosen parameters or groups of parameters, with bootstrap confidence
  intervals and a convergence check, plus a one-at-a-time (OAT) analysis for a tornado plot;
* :func:`sweep` (``smasim sweep``): the metric on a grid over one or two parameters;
* :func:`experiments.sobol.sobol_analysis`: the model-free machinery (any function of named
  inputs), which the tests check on the Ishigami function and on linear models against
  closed forms; its module docstring derives the estimators.

The model's own randomness
--------------------------
A draw of the model is :math:`Y = f(X, \omega)`, with :math:`X` the analysed parameters and
:math:`\omega` the model's own randomness (:class:`simulation.negotiation.Noise`: whether
talks open, the election outcome, the ratification votes) together with the uncertain
parameters that are not analysed. Every evaluation of design row :math:`j` (in :math:`A`,
:math:`B` and every :math:`AB^{(i)}`) uses the same :math:`\omega_j` (common random numbers),
and the indices are those of the deterministic model at fixed :math:`\omega`, with the partial
variances averaged over :math:`\omega` (:mod:`experiments.sobol`). So an index measures the
parameter, not the noise: a parameter without effect gets exactly 0, a single analysed factor
gets 1, and ``noise_share`` reports the share of the metric's variance :math:`\omega` explains
alone.

Parameters that are not analysed are either kept random with common random numbers
(``others="random"``, the default: sampled once per design row from the config's
distributions and design; the indices are then averaged over the config's uncertainty in the
behavioural and macro parameters) or held at their central values (``others="central"``,
:meth:`simulation.sampling.ParameterSpec.central`; the indices are then conditional on them).
Categorical parameters are mapped from the unit interval by their discrete quantile function
(:class:`ChoiceQuantile`), so they can be analysed like continuous ones.

The one-at-a-time analysis moves each parameter to its 5% and 95% quantiles with all others
central, averaging the metric over one fixed set of noise rows (the same at every point);
a sweep does the same on a grid, with the others random or central.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from smasim.experiments.config.load import build_experiment, load_config, resolved_dict
from smasim.experiments.runs.store import StoreError, package_versions
from smasim.experiments.sensitivity.sobol import (
    CHUNK_ROWS,
    Factor,
    SobolResult,
    check_power_of_two,
    map_jobs,
    sobol_analysis,
)
from smasim.models.parameters import PARAMETERS, political_parameters
from smasim.simulation.executors import ExecutorKind
from smasim.simulation.montecarlo import Experiment, negotiate, outcome_columns
from smasim.simulation.negotiation import Noise
from smasim.simulation.sampling import ParameterSpec, sample

Others = Literal["random", "central"]
FORMAT_VERSION = 1


# --- metrics -------------------------------------------------------------------------------
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
            As :func:`simulation.montecarlo.outcome_columns` returns.

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
    msg = f"--metric: unknown metric {name!r}; choose one of {', '.join(metric_names(experiment))}"
    raise ValueError(msg)


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
                f"--groups: {item.strip()!r} is not NAME=param+param "
                "(e.g. us=us_pressure+veto_strength)"
            )
            raise ValueError(msg)
        if name in groups:
            raise ValueError(f"--groups: group {name!r} is given twice")
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
            msg = "--params: the config declares no political parameter uncertain; name some"
            raise ValueError(msg)
    params = list(params or [])
    seen: set[str] = set()
    factors = []
    for gname, members in (groups or {}).items():
        if gname in specs:
            raise ValueError(f"--groups: group name {gname!r} is a parameter name; rename it")
        for m in members:
            _check_param(specs, m, "--groups", seen)
        factors.append(Factor(gname, tuple(members)))
    for p in params:
        _check_param(specs, p, "--params", seen)
    order = list(PARAMETERS)
    factors += [Factor(p, (p,)) for p in sorted(params, key=order.index)]
    return tuple(factors)


def _check_param(specs: Mapping[str, ParameterSpec], name: str, opt: str, seen: set[str]) -> None:
    if name not in specs:
        hint = ", ".join(political_parameters())
        raise ValueError(f"{opt}: unknown parameter {name!r}; political parameters: {hint}")
    if not specs[name].uncertain:
        msg = (
            f"{opt}: {name!r} is a constant ({specs[name].value:g}) in this config; give it a "
            "distribution to analyse it"
        )
        raise ValueError(msg)
    if name in seen:
        raise ValueError(f"{opt}: parameter {name!r} is named twice")
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


# --- the model as a function of named parameters -------------------------------------------
@dataclass(frozen=True)
class ModelMetric:
    """The negotiation model as ``func(values, rows) -> metric``, with common random numbers.

    Parameters named in ``values`` take those values; every other parameter takes row
    ``rows[k]`` of ``fixed``; the model's noise is row ``rows[k]`` of ``noise``.

    Attributes
    ----------
    experiment : Experiment
    metric : Metric
    fixed : dict of str to ndarray, shape (n_rows,)
        Values of every parameter (sampled or central), indexed by row.
    noise : Noise
        Shape (n_rows,) per field.
    """

    experiment: Experiment
    metric: Metric
    fixed: dict[str, np.ndarray]
    noise: Noise

    def __call__(self, values: Mapping[str, np.ndarray], rows: np.ndarray) -> np.ndarray:
        """Metric of each point, shape (m,), for ``values`` of shape (m,) and ``rows`` (m,)."""
        full = {
            s.name: values[s.name] if s.name in values else self.fixed[s.name][rows]
            for s in self.experiment.specs
        }
        noise = self.noise.take(rows)
        out = negotiate(self.experiment, full, noise)
        return self.metric.values(
            self.experiment, outcome_columns(self.experiment, full, noise, out)
        )


def common_numbers(
    experiment: Experiment, n: int, *, others: Others, rng: np.random.Generator
) -> tuple[dict[str, np.ndarray], Noise]:
    """Rows of common random numbers: parameter values for the unanalysed inputs and noise.

    Parameters
    ----------
    experiment : Experiment
    n : int
        Rows.
    others : {"random", "central"}
        Sample every parameter by the config's design and distributions, or hold each at its
        central value.
    rng : numpy.random.Generator

    Returns
    -------
    fixed : dict of str to ndarray, shape (n,)
    noise : Noise
    """
    values, noise = sample(
        experiment.specs,
        n,
        design=experiment.design,
        n_attempts=experiment.ratification_attempts,
        rng=rng,
    )
    if others == "central":
        values = {s.name: np.full(n, s.central()) for s in experiment.specs}
    elif others != "random":
        raise ValueError(f"--others: must be 'random' or 'central', got {others!r}")
    return values, noise


# --- one-at-a-time ---------------------------------------------------------------------------
@dataclass(frozen=True)
class PointEstimate:
    """The metric averaged over common rows at a set of parameter points.

    Attributes
    ----------
    mean, se : ndarray, shape (n_points,)
        Mean over the rows and its Monte Carlo standard error, metric unit.
    """

    mean: np.ndarray
    se: np.ndarray


def evaluate_points(
    model: ModelMetric,
    points: Mapping[str, np.ndarray],
    *,
    draws: int,
    workers: int = 1,
    executor: ExecutorKind = "local",
    scheduler: str | None = None,
) -> PointEstimate:
    """The metric at each point, averaged over the same ``draws`` rows of ``model.fixed``.

    Parameters
    ----------
    model : ModelMetric
        With at least ``draws`` rows.
    points : mapping of str to ndarray, shape (n_points,)
        Values of the varied parameters at each point.
    draws : int
    workers : int
    executor : {"local", "dask"}
    scheduler : str, optional
        Where chunks of points run (:func:`experiments.sobol.map_jobs`); the result does not
        depend on them or on ``workers``.

    Returns
    -------
    PointEstimate
    """
    n_points = len(next(iter(points.values())))
    total = n_points * draws

    def jobs():
        for start in range(0, total, CHUNK_ROWS):
            idx = np.arange(start, min(start + CHUNK_ROWS, total))
            p, rows = np.divmod(idx, draws)
            yield {k: np.asarray(v, dtype=float)[p] for k, v in points.items()}, rows

    chunks = map_jobs(model, jobs(), workers, executor=executor, scheduler=scheduler)
    y = np.concatenate(chunks).reshape(n_points, draws)
    return PointEstimate(y.mean(axis=1), y.std(axis=1, ddof=1) / math.sqrt(draws))


@dataclass(frozen=True)
class OATRow:
    """One parameter of a one-at-a-time analysis.

    Attributes
    ----------
    name : str
    low_value, high_value : float
        The parameter's 5% and 95% quantiles, in its unit.
    low, high : float
        Metric with the parameter at ``low_value`` / ``high_value``, the others central.
    low_se, high_se : float
        Monte Carlo standard errors of ``low`` and ``high``.
    """

    name: str
    low_value: float
    high_value: float
    low: float
    high: float
    low_se: float
    high_se: float

    @property
    def swing(self) -> float:
        """``|high - low|``, metric unit."""
        return abs(self.high - self.low)


@dataclass(frozen=True)
class OATResult:
    """One-at-a-time sensitivity around the central values.

    Attributes
    ----------
    base : float
        Metric with every parameter central, averaged over ``draws`` noise rows.
    base_se : float
    rows : tuple of OATRow
        Sorted by swing, largest first.
    draws : int
        Noise rows per point (the same rows at every point).
    quantiles : tuple of float
    """

    base: float
    base_se: float
    rows: tuple[OATRow, ...]
    draws: int
    quantiles: tuple[float, float] = (0.05, 0.95)


def one_at_a_time(
    experiment: Experiment,
    metric: Metric,
    params: Sequence[str],
    *,
    draws: int = 4096,
    quantiles: tuple[float, float] = (0.05, 0.95),
    workers: int = 1,
    rng: np.random.Generator | int | None = None,
    executor: ExecutorKind = "local",
    scheduler: str | None = None,
) -> OATResult:
    """Each parameter at its low and high quantile, the others at their central values.

    The metric is averaged over the model's own noise with one fixed set of ``draws`` noise
    rows, the same at every point, so differences between points are not noise.

    Parameters
    ----------
    experiment : Experiment
    metric : Metric
    params : sequence of str
        Uncertain parameters.
    draws : int
        Noise rows per point.
    quantiles : (float, float)
    workers : int
    rng : numpy.random.Generator or seed, optional
        Draws the noise rows.
    executor : {"local", "dask"}
    scheduler : str, optional
        As for :func:`evaluate_points`.

    Returns
    -------
    OATResult
    """
    rng = np.random.default_rng(rng)
    specs = {s.name: s for s in experiment.specs}
    fixed, noise = common_numbers(experiment, draws, others="central", rng=rng)
    model = ModelMetric(experiment, metric, fixed, noise)
    central = {p: specs[p].central() for p in params}
    lo_hi = {p: specs[p].from_unit(np.asarray(quantiles, dtype=float)) for p in params}
    points = {p: [central[p]] for p in params}
    for q in range(2):
        for p in params:
            for other in params:
                points[other].append(lo_hi[p][q] if other == p else central[other])
    est = evaluate_points(
        model,
        {k: np.asarray(v) for k, v in points.items()},
        draws=draws,
        workers=workers,
        executor=executor,
        scheduler=scheduler,
    )
    m = len(params)
    rows = [
        OATRow(
            p,
            float(lo_hi[p][0]),
            float(lo_hi[p][1]),
            float(est.mean[1 + i]),
            float(est.mean[1 + m + i]),
            float(est.se[1 + i]),
            float(est.se[1 + m + i]),
        )
        for i, p in enumerate(params)
    ]
    rows.sort(key=lambda r: -r.swing)
    return OATResult(float(est.mean[0]), float(est.se[0]), tuple(rows), draws, quantiles)


# --- the commands ----------------------------------------------------------------------------
@dataclass
class SensitivityResult:
    """A finished sensitivity analysis of one metric.

    Attributes
    ----------
    experiment : Experiment
    metric : Metric
    sobol : SobolResult
    oat : OATResult or None
        One-at-a-time analysis of the single parameters (None when skipped).
    seed : int
    others : {"random", "central"}
    elapsed_s : float
        Wall time, seconds.
    workers : int
    config : dict
        The resolved config.
    """

    experiment: Experiment
    metric: Metric
    sobol: SobolResult
    oat: OATResult | None
    seed: int
    others: Others
    elapsed_s: float
    workers: int
    config: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def evaluations(self) -> int:
        """Model evaluations of the Sobol' design (``N (n_factors + 2)``)."""
        return self.sobol.indices.n * (len(self.sobol.factors) + 2)

    def indices_table(self) -> list[dict[str, Any]]:
        """One JSON-ready row per factor: indices, intervals and the N/2 values."""
        ix, half = self.sobol.indices, self.sobol.half
        out = []
        for i, f in enumerate(self.sobol.factors):
            out.append(
                {
                    "factor": f.name,
                    "members": "+".join(f.members),
                    "S1": float(ix.first_order[i]),
                    "S1_low": float(ix.first_order_ci[i, 0]),
                    "S1_high": float(ix.first_order_ci[i, 1]),
                    "ST": float(ix.total_order[i]),
                    "ST_low": float(ix.total_order_ci[i, 0]),
                    "ST_high": float(ix.total_order_ci[i, 1]),
                    "S1_half": float(half.first_order[i]),
                    "ST_half": float(half.total_order[i]),
                }
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        """Everything as JSON-ready data (what ``sensitivity.json`` holds)."""
        s = self.sobol
        oat = None
        if self.oat is not None:
            oat = {
                "base": self.oat.base,
                "base_se": self.oat.base_se,
                "draws": self.oat.draws,
                "quantiles": list(self.oat.quantiles),
                "rows": [
                    {**r.__dict__, "swing": r.swing, "unit": PARAMETERS[r.name].unit}
                    for r in self.oat.rows
                ],
            }
        return {
            "format_version": FORMAT_VERSION,
            "experiment": self.experiment.name,
            "metric": {**self.metric.__dict__},
            "seed": self.seed,
            "n": s.indices.n,
            "n_half": s.half.n,
            "evaluations": self.evaluations,
            "others": self.others,
            "noise": "common random numbers: one noise row per base row, shared by A, B and AB",
            "confidence": s.confidence,
            "bootstrap": {"method": "percentile over base rows", "resamples": s.n_resamples},
            "indices": self.indices_table(),
            "converged": s.converged,
            "warnings": list(s.warnings),
            "mean": s.mean,
            "sd_total": math.sqrt(s.variance),
            "sd_given_noise": math.sqrt(s.conditional_variance),
            "noise_share": s.noise_share,
            "oat": oat,
            "elapsed_s": round(self.elapsed_s, 3),
            "workers": self.workers,
            "packages": package_versions(),
        }


def sensitivity(
    source: str | Path | None = None,
    *,
    params: Sequence[str] | None = None,
    groups: Mapping[str, Sequence[str]] | None = None,
    metric: str = "first_year",
    n: int = 8192,
    seed: int | None = None,
    others: Others = "random",
    workers: int = 1,
    oat_draws: int = 4096,
    out: str | Path | None = None,
    executor: ExecutorKind = "local",
    scheduler: str | None = None,
) -> SensitivityResult:
    """Sobol' indices (with intervals and a convergence check) and a one-at-a-time analysis.

    Parameters
    ----------
    source : path or str, optional
        Config file or bundled name; the default config when omitted.
    params, groups
        The factors (:func:`resolve_factors`); default every uncertain political parameter.
    metric : str
        See :func:`resolve_metric`.
    n : int
        Base rows N of the Saltelli design, a power of 2; ``N (n_factors + 2)`` model runs.
    seed : int, optional
        Root seed (default: the config's). The same seed gives the same bits for any
        ``workers``.
    others : {"random", "central"}
        Unanalysed uncertain parameters: random with common random numbers, or central.
    workers : int
        Processes.
    oat_draws : int
        Noise rows per point of the one-at-a-time analysis (0 skips it).
    out : path, optional
        Result folder to write atomically (:func:`write_sensitivity`).
    executor : {"local", "dask"}
        Where model runs go; ``scheduler`` is the Dask scheduler's address. The result does
        not depend on them.

    Returns
    -------
    SensitivityResult
    """
    start = time.perf_counter()
    cfg = load_config(source)
    experiment = build_experiment(cfg)
    m = resolve_metric(experiment, metric)
    factors = resolve_factors(experiment, params=params, groups=groups)
    check_power_of_two(n)
    if oat_draws < 0 or oat_draws == 1:
        raise ValueError(f"oat_draws: must be 0 or at least 2, got {oat_draws}")
    s = cfg.experiment.seed if seed is None else seed
    if s < 0:
        raise ValueError(f"--seed: must be a non-negative integer, got {s}")
    crn_ss, sobol_ss, oat_ss = np.random.SeedSequence(s).spawn(3)
    fixed, noise = common_numbers(experiment, n, others=others, rng=np.random.default_rng(crn_ss))
    specs = {sp.name: sp for sp in experiment.specs}
    names = [p for f in factors for p in f.members]
    sobol = sobol_analysis(
        ModelMetric(experiment, m, fixed, noise),
        dists={p: spec_distribution(specs[p]) for p in names},
        n=n,
        factors=factors,
        workers=workers,
        rng=np.random.default_rng(sobol_ss),
        executor=executor,
        scheduler=scheduler,
    )
    singles = [p for p in PARAMETERS if p in names]  # the tornado's bars, registry order
    oat = None
    if oat_draws:
        oat = one_at_a_time(
            experiment,
            m,
            singles,
            draws=oat_draws,
            workers=workers,
            rng=np.random.default_rng(oat_ss),
            executor=executor,
            scheduler=scheduler,
        )
    resolved = resolved_dict(cfg)
    resolved["experiment"]["seed"] = s
    result = SensitivityResult(
        experiment, m, sobol, oat, s, others, time.perf_counter() - start, workers, resolved
    )
    if out is not None:
        write_sensitivity(result, out)
    return result


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


def parse_axis(experiment: Experiment, text: str, *, option: str = "--param") -> SweepAxis:
    """Parse ``NAME`` or ``NAME=lo:hi:n`` into a grid.

    Without a range an uncertain parameter spans its 5%-95% quantiles in 11 points; a constant
    needs a range. Values must lie in the parameter's admissible range.
    """
    name, sep, rng_text = text.partition("=")
    name = name.strip()
    if name not in PARAMETERS:
        raise ValueError(f"{option}: unknown parameter {name!r}")
    info = PARAMETERS[name]
    spec = next(s for s in experiment.specs if s.name == name)
    if not sep:
        if not spec.uncertain:
            msg = f"{option}: {name} is a constant in this config; give a range, {name}=lo:hi:n"
            raise ValueError(msg)
        lo, hi = (float(x) for x in spec.from_unit(np.array([0.05, 0.95])))
        return SweepAxis(name, np.linspace(lo, hi, 11))
    parts = rng_text.split(":")
    try:
        lo, hi, count = float(parts[0]), float(parts[1]), int(parts[2])
        if len(parts) != 3:
            raise IndexError
    except (ValueError, IndexError):
        raise ValueError(f"{option}: {text!r} is not NAME=lo:hi:n (e.g. {name}=0:1:11)") from None
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo >= hi or count < 2:
        raise ValueError(f"{option}: {text!r} needs lo < hi and n >= 2 points")
    if count > 201:
        raise ValueError(f"{option}: at most 201 points per axis, got {count}")
    if lo < info.low or hi > info.high:
        msg = (
            f"{option}: {name} range [{lo:g}, {hi:g}] leaves "
            f"[{info.low:g}, {info.high:g}] ({info.unit})"
        )
        raise ValueError(msg)
    return SweepAxis(name, np.linspace(lo, hi, count))


@dataclass
class SweepResult:
    """The metric on a grid of one or two parameters.

    Attributes
    ----------
    experiment : Experiment
    metric : Metric
    axes : tuple of SweepAxis
        One or two.
    mean, se : ndarray, shape (n1,) or (n1, n2)
        Metric averaged over ``draws_per_point`` common rows, and its standard error.
    draws_per_point : int
    seed : int
    others : {"random", "central"}
    elapsed_s : float
    workers : int
    config : dict
    """

    experiment: Experiment
    metric: Metric
    axes: tuple[SweepAxis, ...]
    mean: np.ndarray
    se: np.ndarray
    draws_per_point: int
    seed: int
    others: Others
    elapsed_s: float
    workers: int
    config: dict[str, Any] = field(repr=False, default_factory=dict)

    def table(self) -> list[dict[str, float]]:
        """One row per grid point: the parameter values, the mean and its standard error."""
        grids = np.meshgrid(*(a.values for a in self.axes), indexing="ij")
        return [
            {
                **{a.name: float(g.flat[i]) for a, g in zip(self.axes, grids, strict=True)},
                "mean": float(self.mean.flat[i]),
                "se": float(self.se.flat[i]),
            }
            for i in range(self.mean.size)
        ]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (what ``sweep.json`` holds)."""
        return {
            "format_version": FORMAT_VERSION,
            "experiment": self.experiment.name,
            "metric": {**self.metric.__dict__},
            "axes": [
                {"name": a.name, "unit": PARAMETERS[a.name].unit, "values": a.values.tolist()}
                for a in self.axes
            ],
            "mean": self.mean.tolist(),
            "se": self.se.tolist(),
            "draws_per_point": self.draws_per_point,
            "seed": self.seed,
            "others": self.others,
            "noise": "common random numbers: the same rows at every grid point",
            "elapsed_s": round(self.elapsed_s, 3),
            "workers": self.workers,
            "packages": package_versions(),
        }


def sweep(
    source: str | Path | None = None,
    *,
    axes: Sequence[str | SweepAxis],
    metric: str = "p_lapse",
    draws_per_point: int = 2048,
    seed: int | None = None,
    others: Others = "random",
    workers: int = 1,
    out: str | Path | None = None,
    executor: ExecutorKind = "local",
    scheduler: str | None = None,
) -> SweepResult:
    """The metric over a grid of one or two parameters.

    At every grid point the swept parameters take the grid values and the same
    ``draws_per_point`` rows of the other parameters (sampled from the config, or central) and
    of the model's noise are used (common random numbers), so the curve or surface is smooth
    and its differences are not noise.

    Parameters
    ----------
    source : path or str, optional
    axes : sequence of str or SweepAxis
        One or two; strings as :func:`parse_axis` reads them (``"us_pressure=0:1:11"``).
    metric : str
    draws_per_point : int
    seed : int, optional
    others : {"random", "central"}
    workers : int
    out : path, optional
        Result folder to write atomically (:func:`write_sweep`).
    executor : {"local", "dask"}
        Where model runs go; ``scheduler`` is the Dask scheduler's address. The result does
        not depend on them.

    Returns
    -------
    SweepResult
    """
    start = time.perf_counter()
    cfg = load_config(source)
    experiment = build_experiment(cfg)
    m = resolve_metric(experiment, metric)
    if not 1 <= len(axes) <= 2:
        raise ValueError("--param: sweep one or two parameters")
    parsed = tuple(
        a if isinstance(a, SweepAxis) else parse_axis(experiment, a, option=opt)
        for a, opt in zip(axes, ("--param", "--param2"), strict=False)
    )
    if len(parsed) == 2 and parsed[0].name == parsed[1].name:
        raise ValueError("--param2: must differ from --param")
    if draws_per_point < 2:
        raise ValueError(f"--draws-per-point: must be at least 2, got {draws_per_point}")
    s = cfg.experiment.seed if seed is None else seed
    if s < 0:
        raise ValueError(f"--seed: must be a non-negative integer, got {s}")
    fixed, noise = common_numbers(
        experiment, draws_per_point, others=others, rng=np.random.default_rng(s)
    )
    model = ModelMetric(experiment, m, fixed, noise)
    grids = np.meshgrid(*(a.values for a in parsed), indexing="ij")
    points = {a.name: g.ravel() for a, g in zip(parsed, grids, strict=True)}
    est = evaluate_points(
        model,
        points,
        draws=draws_per_point,
        workers=workers,
        executor=executor,
        scheduler=scheduler,
    )
    shape = grids[0].shape
    resolved = resolved_dict(cfg)
    resolved["experiment"]["seed"] = s
    result = SweepResult(
        experiment,
        m,
        parsed,
        est.mean.reshape(shape),
        est.se.reshape(shape),
        draws_per_point,
        s,
        others,
        time.perf_counter() - start,
        workers,
        resolved,
    )
    if out is not None:
        write_sweep(result, out)
    return result


# --- result folders ------------------------------------------------------------------------
def write_sensitivity(result: SensitivityResult, folder: str | Path) -> Path:
    """Write a sensitivity result folder atomically.

    Files: ``config.json`` (resolved config), ``indices.csv`` (one row per factor),
    ``oat.csv`` (the tornado's numbers), ``sobol.png`` and ``tornado.png`` (when matplotlib is
    installed), and ``sensitivity.json`` last (everything, with seed and package versions).
    """
    from smasim.experiments.sensitivity import plots

    def fill(tmp: Path) -> None:
        _write_json(tmp / "config.json", result.config)
        _write_csv(tmp / "indices.csv", result.indices_table())
        if result.oat is not None:
            rows = [{**r.__dict__, "swing": r.swing} for r in result.oat.rows]
            _write_csv(tmp / "oat.csv", rows)
        if plots.available():
            plots.plot_indices(result, tmp / "sobol.png")
            if result.oat is not None:
                plots.plot_tornado(result, tmp / "tornado.png")
        _write_json(tmp / "sensitivity.json", result.to_dict())

    return _atomic_folder(folder, fill)


def write_sweep(result: SweepResult, folder: str | Path) -> Path:
    """Write a sweep result folder atomically: config.json, sweep.csv, sweep.png, sweep.json."""
    from smasim.experiments.sensitivity import plots

    def fill(tmp: Path) -> None:
        _write_json(tmp / "config.json", result.config)
        _write_csv(tmp / "sweep.csv", result.table())
        if plots.available():
            plots.plot_sweep(result, tmp / "sweep.png")
        _write_json(tmp / "sweep.json", result.to_dict())

    return _atomic_folder(folder, fill)


def _atomic_folder(folder: str | Path, fill: Callable[[Path], None]) -> Path:
    """Fill a hidden temporary folder beside ``folder``, then rename it into place."""
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise StoreError(f"out: {folder} already exists and is not empty; choose another --out")
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(
            tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".partial", dir=folder.parent)
        )
    except OSError as exc:
        raise StoreError(f"out: cannot create {folder}: {exc.strerror}") from None
    try:
        fill(tmp)
        if folder.exists():
            folder.rmdir()
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def _write_json(path: Path, data: Any) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, default=str)
        f.write("\n")


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    buf = io.StringIO()
    if rows:
        w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    path.write_text(buf.getvalue(), encoding="utf-8")


def default_folder(experiment_name: str, kind: str) -> Path:
    """``runs/NAME-KIND-TIME``, the default result folder."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{experiment_name}-{kind}-{stamp}"
