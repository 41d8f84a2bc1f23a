"""The results of a sensitivity analysis and of a sweep, and their JSON form.

:class:`SensitivityResult` holds the Sobol' indices and the one-at-a-time analysis of one
metric, :class:`SweepResult` the metric on a grid; ``to_dict`` gives what the result folder's
``sensitivity.json`` or ``sweep.json`` holds (format version :data:`FORMAT_VERSION`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from smasim.experiments.runs.store import package_versions
from smasim.experiments.sensitivity.estimators import SobolResult
from smasim.experiments.sensitivity.inputs import SweepAxis
from smasim.experiments.sensitivity.metrics import Metric
from smasim.experiments.sensitivity.model import Others
from smasim.experiments.sensitivity.oat import OATResult
from smasim.models.parameters import PARAMETERS
from smasim.simulation.records import Experiment

FORMAT_VERSION = 1


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
