"""Names and limits of configs, and their error, importable without the model or SciPy.

The command line reads these when it starts (option defaults, ``--help``, error handling);
:mod:`experiments.config.schema` re-exports them.
"""

from __future__ import annotations

BUNDLED = "smasim.experiments.config"  # the TOML files are in its bundled/ folder
DEFAULT_CONFIG = "sma12_may2024"
MAX_DRAWS = 1_000_000_000  # a run keeps per-draw columns in memory: more cannot be allocated


class ConfigError(ValueError):
    """A config problem, as one line naming the field and the fix."""
