"""The outcome of interest, written as comparisons of per-draw columns, parsed without ``eval``.

``outcome == 2``, ``amount_2030_bn_krw > 1800``, ``lapse_months >= 6 and outcome <= 1``:
one or more comparisons ``COLUMN OP NUMBER`` joined by ``and`` (all hold) or ``or`` (any
holds; ``and`` binds tighter, as in Python). Nothing else is accepted, so an expression
cannot run code.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Mapping

import numpy as np

_OPS = {
    "==": operator.eq,
    "!=": operator.ne,
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}
_COMPARISON = re.compile(
    r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(==|!=|<=|>=|<|>)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$"
)


class OutcomeError(ValueError):
    """An outcome expression that cannot be evaluated (the message names ``outcome``)."""


def evaluate(expression: str, columns: Mapping[str, np.ndarray]) -> np.ndarray:
    """The draws where ``expression`` holds, shape (n,) bool.

    Raises
    ------
    OutcomeError
        If the expression is malformed or names a column the table does not have.
    """
    if not expression or not expression.strip():
        raise OutcomeError("outcome: an expression is needed, e.g. 'outcome == 2'")
    result = None
    for alternative in re.split(r"\s+or\s+", expression.strip()):
        held = None
        for part in re.split(r"\s+and\s+", alternative):
            m = _COMPARISON.match(part)
            if m is None:
                raise OutcomeError(
                    f"outcome: cannot read {part.strip()!r}; write COLUMN OP NUMBER "
                    "(OP one of == != < <= > >=), joined by 'and' or 'or'"
                )
            name, op, number = m.groups()
            if name not in columns:
                raise OutcomeError(f"outcome: the per-draw table has no column {name!r}")
            values = np.asarray(columns[name])
            if values.dtype.kind not in "biuf":
                raise OutcomeError(f"outcome: column {name!r} is not numeric")
            holds = _OPS[op](values, float(number))
            held = holds if held is None else held & holds
        result = held if result is None else result | held
    return np.asarray(result, dtype=bool)
