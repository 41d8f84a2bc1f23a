"""smasim models: the agreement package, the two sides, pressure and bargaining theory.

No SimPy and no I/O here: pure functions over arrays of draws.
"""
