"""What a named model parameter is: its meaning, unit, admissible range, group and default."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Group = Literal["political", "behavioural", "macro"]


@dataclass(frozen=True)
class ParameterInfo:
    """What a named parameter means.

    Attributes
    ----------
    name : str
    description : str
        One sentence, with the unit.
    unit : str
    low, high : float
        Admissible range (inclusive); a distribution must stay inside it.
    group : {"political", "behavioural", "macro"}
    default : float or dict
        What a config that does not set the parameter gets: a constant, or a distribution
        table as a config writes it (``{"dist": "uniform", "loc": ..., "scale": ...}``). The
        defaults are the default config's (``sma12_may2024``) values.
    """

    name: str
    description: str
    unit: str
    low: float
    high: float
    group: Group
    default: float | dict[str, Any]
