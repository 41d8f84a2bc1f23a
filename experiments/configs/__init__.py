"""The bundled experiment configs (TOML files)."""
