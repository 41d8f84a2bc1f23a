"""One-at-a-time sensitivity around the central values: the numbers of the tornado plot.

Each parameter moves to its 5% and 95% quantiles with every other parameter central, and the
metric is averaged over one fixed set of noise rows, the same at every point, so the
differences between points are the parameter's effect and not noise. It complements the
Sobol' indices (:mod:`experiments.sensitivity.sobol`): a direction and a size in the metric's
unit, at the cost of ignoring interactions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from smasim.experiments.sensitivity.metrics import Metric
from smasim.experiments.sensitivity.model import ModelMetric, common_numbers, evaluate_points
from smasim.experiments.sensitivity.sobol import CHUNK_ROWS, Progress
from smasim.simulation.executors import ExecutorKind
from smasim.simulation.records import Experiment


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

    @property
    def evaluations(self) -> int:
        """Model runs: ``draws`` at the central point and at both quantiles of every row."""
        return self.draws * (2 * len(self.rows) + 1)


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
    chunk_rows: int = CHUNK_ROWS,
    progress: Progress | None = None,
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
    chunk_rows : int
        As for :func:`experiments.sensitivity.model.evaluate_points`.

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
        chunk_rows=chunk_rows,
        progress=progress,
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
