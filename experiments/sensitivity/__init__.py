"""Sensitivity analysis: Sobol indices, sweeps and their figures."""
