"""Scenario discovery: which ranges of sampled parameters lead to an outcome (PRIM, CART)."""
