"""smasim experiments: config schema and loading, bundled configs, the result store."""
