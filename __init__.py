"""smasim: simulate the South Korea-U.S. Special Measures Agreement (SMA) negotiations.

Layers, every import pointing down: :mod:`smasim.cli` -> :mod:`smasim.commands` ->
:mod:`smasim.experiments` -> :mod:`smasim.simulation` -> :mod:`smasim.models`.
"""

__version__ = "0.2.0"
