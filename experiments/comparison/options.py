"""The settings of a comparison, validated once."""

from __future__ import annotations

import math
from dataclasses import dataclass

# A comparison holds every scenario's per-draw columns in memory, ~620 bytes a draw (measured:
# 618 MB peak at 2 x 100,000 draws, 867 MB at 2 x 300,000): 20 million draws in all is ~12 GB.
HELD_BYTES = 620
MAX_HELD_DRAWS = 20_000_000
# Beyond a dozen the fan chart's colours, the ECDFs and the report's tables stop being legible.
MAX_SCENARIOS = 12


@dataclass(frozen=True)
class CompareOptions:
    """Settings of a comparison.

    Attributes
    ----------
    thresholds_bn_krw : tuple of float
        Amounts (bn KRW per year) whose crossing probability is reported for each year.
    discount_rate : float
        Of the present value, fraction per year (> -1).
    confidence_level : float
        Of every interval (0-1).
    n_resamples : int
        Bootstrap resamples.
    max_bootstrap_draws : int
        Most draws of one run entering the bootstrap (see
        :mod:`smasim.experiments.comparison.stats`).
    bootstrap_seed : int
        Root of the bootstrap's :class:`numpy.random.SeedSequence` (>= 0).
    """

    thresholds_bn_krw: tuple[float, ...] = ()
    discount_rate: float = 0.03
    confidence_level: float = 0.95
    n_resamples: int = 999
    max_bootstrap_draws: int = 10_000
    bootstrap_seed: int = 0

    def __post_init__(self) -> None:
        if any(not math.isfinite(t) for t in self.thresholds_bn_krw):
            raise ValueError("thresholds_bn_krw: must be finite amounts in bn KRW")
        if not (math.isfinite(self.discount_rate) and self.discount_rate > -1.0):
            raise ValueError(f"discount_rate: must be > -1, got {self.discount_rate}")
        if not 0.0 < self.confidence_level < 1.0:
            raise ValueError(f"confidence_level: must be in (0, 1), got {self.confidence_level}")
        if self.n_resamples < 99:
            raise ValueError(f"n_resamples: must be at least 99, got {self.n_resamples}")
        if self.max_bootstrap_draws < 100:
            raise ValueError(
                f"max_bootstrap_draws: must be at least 100, got {self.max_bootstrap_draws}"
            )
        if self.bootstrap_seed < 0:
            raise ValueError(f"bootstrap_seed: must be >= 0, got {self.bootstrap_seed}")
