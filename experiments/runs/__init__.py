"""Run one config and keep it: the runner API and the result store."""
