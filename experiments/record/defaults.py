"""Defaults of the calibration study, importable without running anything (CLI ``--help``)."""

from __future__ import annotations

STUDY_DRAWS = 200_000
"""Common prior draws per negotiation (:func:`experiments.record.study.run_study`)."""

STUDY_SEED = 20_261_130
"""Seed of the shared parameters' draws."""

TARGET_ESS = 2_000
"""Effective draws a fit keeps (the bandwidth is the smallest that does)."""
