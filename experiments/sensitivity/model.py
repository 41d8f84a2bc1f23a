"""The negotiation model as a function of named parameters, with common random numbers.

:class:`ModelMetric` evaluates one metric of the model at any set of points, each point
using the parameter values and the model noise of its row (common random numbers), so two
points that share a row differ only by the parameters varied between them. Its rows come from
:func:`common_numbers`; :func:`evaluate_points` averages the metric over the same rows at
every point of a grid, in chunks on any executor.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from smasim.experiments.sensitivity.metrics import Metric
from smasim.experiments.sensitivity.sobol import CHUNK_ROWS, Progress, map_jobs
from smasim.simulation.executors import ExecutorKind
from smasim.simulation.montecarlo import negotiate
from smasim.simulation.outcomes import outcome_columns
from smasim.simulation.records import Experiment
from smasim.simulation.sampling import Noise, sample

Others = Literal["random", "central"]


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
        n_packages=experiment.setting.packages.size,
        rng=rng,
    )
    if others == "central":
        values = {s.name: np.full(n, s.central()) for s in experiment.specs}
    elif others != "random":
        raise ValueError(f"others: must be 'random' or 'central', got {others!r}")
    return values, noise


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
    chunk_rows: int = CHUNK_ROWS,
    progress: Progress | None = None,
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
        Where chunks of points run (:func:`experiments.sensitivity.sobol.map_jobs`); the
        result does not depend on them or on ``workers``.
    chunk_rows : int
        Model runs (points times rows) per chunk; the result does not depend on it.

    Returns
    -------
    PointEstimate
    """
    n_points = len(next(iter(points.values())))
    total = n_points * draws

    def jobs():
        for start in range(0, total, chunk_rows):
            idx = np.arange(start, min(start + chunk_rows, total))
            p, rows = np.divmod(idx, draws)
            yield {k: np.asarray(v, dtype=float)[p] for k, v in points.items()}, rows

    if progress is not None:
        progress.start(total)
    chunks = map_jobs(
        model, jobs(), workers, executor=executor, scheduler=scheduler, progress=progress
    )
    y = np.concatenate(chunks).reshape(n_points, draws)
    return PointEstimate(y.mean(axis=1), y.std(axis=1, ddof=1) / math.sqrt(draws))
