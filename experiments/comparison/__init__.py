"""Compare scenarios: paired statistics, reports and figures."""
