"""Experiment configs: the schema, loading and the bundled TOML files."""
