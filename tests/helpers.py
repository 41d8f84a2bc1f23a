"""Small builders shared by the tests."""

from __future__ import annotations

import numpy as np

from models.agents import Side


def linear_side(
    reservation,
    ideal,
    *,
    n_packages: int = 1,
    weight=1.0,
    curvature=0.0,
    discrete=None,
    factor=None,
    exponent=1.0,
    deadline=100.0,
    lapse=0.0,
    discount=0.05,
) -> Side:
    """A side over arrays of draws; by default linear utility ``(b - R) / (I - R)`` in ``b``.

    Scalars broadcast to one draw; arrays give one draw per element.
    """
    r = np.atleast_1d(np.asarray(reservation, dtype=float))
    n = r.size

    def col(x):
        return np.broadcast_to(np.asarray(x, dtype=float), (n,)).copy()

    def table(x, default):
        x = default if x is None else x
        return np.broadcast_to(np.asarray(x, dtype=float), (n, n_packages)).copy()

    return Side(
        reservation=r,
        ideal=col(ideal),
        amount_weight=col(weight),
        curvature=col(curvature),
        concession_exponent=col(exponent),
        deadline_days=col(deadline),
        lapse_cost=col(lapse),
        discount_rate=col(discount),
        discrete_value=table(discrete, 0.0),
        level_factor=table(factor, 1.0),
        clock_start_day=np.zeros(n),
    )
