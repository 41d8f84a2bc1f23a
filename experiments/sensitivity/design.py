"""The Saltelli design of a Sobol' analysis: factors, and the unit-cube points to evaluate.

The design is drawn as :func:`scipy.stats.sobol_indices` draws it: one scrambled Sobol'
sequence of N points in 2d dimensions, whose first d columns are the matrix A and the others
B; the block AB for factor i is A with the columns of factor i (all its members at once, for
a group) taken from B (Saltelli et al. 2010, sec. 5). The estimators that turn the outputs
at these points into indices are in :mod:`experiments.sensitivity.estimators`.

References
----------
Saltelli, A., Annoni, P., Azzini, I., Campolongo, F., Ratto, M., Tarantola, S. (2010). Variance
based sensitivity analysis of model output. Computer Physics Communications 181(2), 259-270.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import qmc


@dataclass(frozen=True)
class Factor:
    """One factor of a Sobol' analysis: a parameter, or a group swapped together.

    Attributes
    ----------
    name : str
    members : tuple of str
        Parameter names (one for a plain parameter).
    """

    name: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class SaltelliDesign:
    """The unit-cube points of a Saltelli design.

    Attributes
    ----------
    names : tuple of str
        Input names, one per column.
    a, b : ndarray, shape (n, d)
        The two independent matrices, in [0, 1).
    swap : ndarray of bool, shape (n_factors + 2, d)
        Which columns of each block come from ``b``: block 0 is A (none), block 1 is B (all),
        block ``2 + i`` is AB for factor ``i`` (its members).
    """

    names: tuple[str, ...]
    a: np.ndarray
    b: np.ndarray
    swap: np.ndarray

    @property
    def n(self) -> int:
        """Base rows N."""
        return self.a.shape[0]

    @property
    def rows(self) -> int:
        """Model evaluations, ``N * (n_factors + 2)``."""
        return self.n * self.swap.shape[0]

    def unit_rows(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Points ``start:stop`` of the stacked blocks [A, B, AB_1, ...].

        Returns
        -------
        u : ndarray, shape (stop - start, d)
        base_row : ndarray of int, shape (stop - start,)
            The base row j of each point (for common random numbers).
        """
        idx = np.arange(start, stop)
        block, row = np.divmod(idx, self.n)
        u = np.where(self.swap[block], self.b[row], self.a[row])
        return u, row


def saltelli_design(
    names: Sequence[str],
    factors: Sequence[Factor],
    n: int,
    *,
    rng: np.random.Generator | int | None = None,
) -> SaltelliDesign:
    """Draw a Saltelli design in the unit cube, as :func:`scipy.stats.sobol_indices` does.

    One scrambled Sobol' sequence of ``n`` points in ``2 d`` dimensions; its first ``d``
    columns are A, the others B (Saltelli et al. 2010, sec. 5).

    Parameters
    ----------
    names : sequence of str
        Input names, ``d`` of them.
    factors : sequence of Factor
        Every name belongs to exactly one factor.
    n : int
        Base rows, a power of 2.
    rng : numpy.random.Generator or seed, optional
        Scrambles the sequence.

    Returns
    -------
    SaltelliDesign
    """
    check_power_of_two(n)
    rng = np.random.default_rng(rng)
    names = tuple(names)
    d = len(names)
    members = [m for f in factors for m in f.members]
    if sorted(members) != sorted(names):
        raise ValueError("factors: every input must belong to exactly one factor")
    ab = qmc.Sobol(d=2 * d, scramble=True, rng=rng, bits=64).random(n)
    swap = np.zeros((len(factors) + 2, d), dtype=bool)
    swap[1] = True
    for i, f in enumerate(factors):
        swap[2 + i, [names.index(m) for m in f.members]] = True
    return SaltelliDesign(names, ab[:, :d], ab[:, d:], swap)


# The design and the common numbers of its rows are held in memory, ~1.7 kB a base row
# (measured: 412 MB peak at N = 2^14, 497 MB at 2^16): 2^20 takes ~2 GB and ~5 min on two
# cores, and gives Sobol' intervals far narrower than any reading of them needs.
MAX_BASE_ROWS = 2**20


def check_power_of_two(n: int) -> None:
    """Raise a one-line ValueError unless ``n`` is a power of 2 in [16, 2^20]."""
    if n < 16 or n & (n - 1):
        msg = f"n: must be a power of 2 of at least 16 (Sobol' balance), got {n}; e.g. 4096"
        raise ValueError(msg)
    if n > MAX_BASE_ROWS:
        msg = f"n: at most {MAX_BASE_ROWS:,} (2^20; the design is held in memory), got {n:,}"
        raise ValueError(msg)
