"""Scenario discovery: which ranges of a run's sampled parameters lead to an outcome (PRIM)."""
