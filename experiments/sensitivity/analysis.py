r"""Sensitivity analysis of the political-pressure parameters: Sobol' indices, OAT, sweeps.

The users' question is "which political parameter moves Korea's post-2026 contribution most,
and how?". Three tools answer it, each a documented function behind a CLI command:

* :func:`sensitivity` (``smasim sensitivity``): global first-order and total Sobol' indices of
  one outcome metric over chosen parameters or groups of parameters, with bootstrap confidence
  intervals and a convergence check, plus a one-at-a-time (OAT) analysis for a tornado plot;
* :func:`sweep` (``smasim sweep``): the metric on a grid over one or two parameters;
* :func:`experiments.sensitivity.sobol.sobol_analysis`: the model-free machinery (any
  function of named inputs), which the tests check on the Ishigami function and on linear
  models against closed forms; :mod:`experiments.sensitivity.estimators` derives the
  estimators.

The pieces: :mod:`~experiments.sensitivity.metrics` (what is measured),
:mod:`~experiments.sensitivity.inputs` (what is varied), :mod:`~experiments.sensitivity.model`
(the negotiation model on design rows), :mod:`~experiments.sensitivity.oat`,
:mod:`~experiments.sensitivity.results` and :mod:`~experiments.sensitivity.store` (the result
folders); this module checks the arguments, runs them and writes the folder.

The model's own randomness
--------------------------
A draw of the model is :math:`Y = f(X, \omega)`, with :math:`X` the analysed parameters and
:math:`\omega` the model's own randomness (:class:`simulation.sampling.Noise`: whether
talks open, the election outcome, the ratification votes) together with the uncertain
parameters that are not analysed. Every evaluation of design row :math:`j` (in :math:`A`,
:math:`B` and every :math:`AB^{(i)}`) uses the same :math:`\omega_j` (common random numbers),
and the indices are those of the deterministic model at fixed :math:`\omega`, with the partial
variances averaged over :math:`\omega` (:mod:`experiments.sensitivity.estimators`). So an
index measures the parameter, not the noise: a parameter without effect gets exactly 0, a
single analysed factor gets 1, and ``noise_share`` reports the share of the metric's variance
:math:`\omega` explains alone.

Parameters that are not analysed are either kept random with common random numbers
(``others="random"``, the default: sampled once per design row from the config's
distributions and design; the indices are then averaged over the config's uncertainty in the
behavioural and macro parameters) or held at their central values (``others="central"``,
:meth:`simulation.sampling.ParameterSpec.central`; the indices are then conditional on them).
Categorical parameters are mapped from the unit interval by their discrete quantile function
(:class:`experiments.sensitivity.inputs.ChoiceQuantile`), so they can be analysed like
continuous ones.

The one-at-a-time analysis moves each parameter to its 5% and 95% quantiles with all others
central, averaging the metric over one fixed set of noise rows (the same at every point);
a sweep does the same on a grid, with the others random or central.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from smasim.experiments.config.load import build_experiment, load_config, resolved_dict
from smasim.experiments.config.schema import Config
from smasim.experiments.sensitivity.design import MAX_BASE_ROWS, check_power_of_two
from smasim.experiments.sensitivity.inputs import (
    SweepAxis,
    parse_axis,
    parse_groups,
    resolve_factors,
    spec_distribution,
)
from smasim.experiments.sensitivity.metrics import resolve_metric
from smasim.experiments.sensitivity.model import (
    ModelMetric,
    Others,
    common_numbers,
    evaluate_points,
)
from smasim.experiments.sensitivity.oat import one_at_a_time
from smasim.experiments.sensitivity.results import SensitivityResult, SweepResult
from smasim.experiments.sensitivity.sobol import CHUNK_ROWS, Progress, sobol_analysis
from smasim.experiments.sensitivity.store import write_sensitivity, write_sweep
from smasim.models.parameters import PARAMETERS
from smasim.simulation.executors import ExecutorKind

# parse_groups is part of this module's face: the command line reads --groups with it.
# CHUNK_ROWS is passed on explicitly (read at each call, not bound as a default) so that one
# setting of this module's CHUNK_ROWS sizes every chunk of a command's grid of points.
__all__ = ["parse_groups", "sensitivity", "sweep"]


def sensitivity(
    source: str | Path | Config | None = None,
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
    progress: Progress | None = None,
) -> SensitivityResult:
    """Sobol' indices (with intervals and a convergence check) and a one-at-a-time analysis.

    Parameters
    ----------
    source : path, str or Config, optional
        Config file, bundled name or validated :class:`Config`; the default config when
        omitted.
    params, groups
        The factors (:func:`experiments.sensitivity.inputs.resolve_factors`); default every
        uncertain political parameter.
    metric : str
        See :func:`experiments.sensitivity.metrics.resolve_metric`.
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
        Result folder to write atomically
        (:func:`experiments.sensitivity.store.write_sensitivity`).
    executor : {"local", "dask"}
        Where model runs go; ``scheduler`` is the Dask scheduler's address. The result does
        not depend on them.
    progress : Progress, optional
        Told the model runs to come and those done (:class:`experiments.sensitivity.sobol.
        Progress`), e.g. a progress bar.

    Returns
    -------
    SensitivityResult
    """
    start = time.perf_counter()
    cfg = source if isinstance(source, Config) else load_config(source)
    experiment = build_experiment(cfg)
    m = resolve_metric(experiment, metric)
    factors = resolve_factors(experiment, params=params, groups=groups)
    check_power_of_two(n)
    if oat_draws < 0 or oat_draws == 1:
        raise ValueError(f"oat_draws: must be 0 or at least 2, got {oat_draws}")
    s = _root_seed(cfg.experiment.seed, seed)
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
        progress=progress,
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
            chunk_rows=CHUNK_ROWS,
            progress=progress,
        )
    resolved = resolved_dict(cfg)
    resolved["experiment"]["seed"] = s
    result = SensitivityResult(
        experiment, m, sobol, oat, s, others, time.perf_counter() - start, workers, resolved
    )
    if out is not None:
        write_sensitivity(result, out)
    return result


def sweep(
    source: str | Path | Config | None = None,
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
    progress: Progress | None = None,
) -> SweepResult:
    """The metric over a grid of one or two parameters.

    At every grid point the swept parameters take the grid values and the same
    ``draws_per_point`` rows of the other parameters (sampled from the config, or central) and
    of the model's noise are used (common random numbers), so the curve or surface is smooth
    and its differences are not noise.

    Parameters
    ----------
    source : path, str or Config, optional
    axes : sequence of str or SweepAxis
        One or two; strings as :func:`experiments.sensitivity.inputs.parse_axis` reads them
        (``"us_pressure=0:1:11"``); errors name them ``axes[0]`` and ``axes[1]``.
    metric : str
    draws_per_point : int
    seed : int, optional
    others : {"random", "central"}
    workers : int
    out : path, optional
        Result folder to write atomically (:func:`experiments.sensitivity.store.write_sweep`).
    executor : {"local", "dask"}
        Where model runs go; ``scheduler`` is the Dask scheduler's address. The result does
        not depend on them.
    progress : Progress, optional
        Told the model runs to come and those done (:class:`experiments.sensitivity.sobol.
        Progress`), e.g. a progress bar.

    Returns
    -------
    SweepResult
    """
    start = time.perf_counter()
    cfg = source if isinstance(source, Config) else load_config(source)
    experiment = build_experiment(cfg)
    m = resolve_metric(experiment, metric)
    if not 1 <= len(axes) <= 2:
        raise ValueError("axes: sweep one or two parameters")
    parsed = tuple(
        a if isinstance(a, SweepAxis) else parse_axis(experiment, a, field=f"axes[{i}]")
        for i, a in enumerate(axes)
    )
    if len(parsed) == 2 and parsed[0].name == parsed[1].name:
        raise ValueError("axes[1]: must differ from axes[0]")
    if not 2 <= draws_per_point <= MAX_BASE_ROWS:
        raise ValueError(
            f"draws_per_point: must be in [2, {MAX_BASE_ROWS:,}] (its common draws are held "
            f"in memory), got {draws_per_point:,}"
        )
    s = _root_seed(cfg.experiment.seed, seed)
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
        chunk_rows=CHUNK_ROWS,
        progress=progress,
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


def _root_seed(config_seed: int, seed: int | None) -> int:
    """``seed``, or the config's when None (seed 0 is a seed), checked non-negative."""
    s = config_seed if seed is None else seed
    if s < 0:
        raise ValueError(f"seed: must be a non-negative integer, got {s}")
    return s
