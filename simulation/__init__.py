"""smasim simulation: SimPy negotiation rounds, political events and the Monte Carlo engine."""
