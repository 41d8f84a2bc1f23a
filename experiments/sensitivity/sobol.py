"""Sobol' indices of any (possibly stochastic) function of named inputs, with groups.

The model-free machinery behind ``smasim sensitivity``: draw a Saltelli design
(:mod:`experiments.sensitivity.design`), map its unit-cube points through each input's
quantile function, evaluate the function on them in chunks on any executor, and estimate the
indices with their intervals (:mod:`experiments.sensitivity.estimators`, whose docstring
derives the estimators and what they mean for a stochastic model).
:mod:`experiments.sensitivity.analysis` applies it to the negotiation model; the tests check
it on the Ishigami function and on linear models against closed forms, and against
:func:`scipy.stats.sobol_indices` on ungrouped deterministic cases.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any, Protocol

import numpy as np

from smasim.experiments.sensitivity.design import Factor, SaltelliDesign, saltelli_design
from smasim.experiments.sensitivity.estimators import SobolResult, estimate_indices
from smasim.simulation.executors import ExecutorKind, map_batches

CHUNK_ROWS = 16384  # points per evaluation call: bounds memory; results do not depend on it

ModelFunction = Callable[[dict[str, np.ndarray], np.ndarray], np.ndarray]


class Progress(Protocol):
    """What long work tells a progress display (e.g. a progress bar)."""

    def start(self, total: int) -> None:
        """``total`` more model runs to come (a display adds them to its total)."""

    def advance(self, n: int) -> None:
        """``n`` model runs done."""


def sobol_analysis(
    func: ModelFunction,
    *,
    dists: Mapping[str, Any],
    n: int,
    factors: Sequence[Factor] | None = None,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    workers: int = 1,
    rng: np.random.Generator | int | None = None,
    executor: ExecutorKind = "local",
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> SobolResult:
    """Global Sobol' indices of any function of named inputs, with common random numbers.

    Parameters
    ----------
    func : callable
        ``func(values, rows) -> y``: ``values`` maps each input name to an ndarray of shape
        (m,), ``rows`` (int, shape (m,)) gives the base row j of each point, ``y`` has shape
        (m,). A stochastic function must use the same random numbers for the same ``rows``
        entry (common random numbers) and must not depend on how points are chunked. With
        ``workers > 1`` or on Dask it must be picklable.
    dists : mapping of str to distribution
        Each input's frozen :mod:`scipy.stats` distribution, or anything with ``ppf`` (e.g.
        :class:`experiments.sensitivity.inputs.ChoiceQuantile`).
    n : int
        Base rows N, a power of 2; the function is evaluated ``N (n_factors + 2)`` times.
    factors : sequence of Factor, optional
        Default: one factor per input.
    n_resamples : int
        Bootstrap resamples for the intervals.
    confidence : float
        Level of the intervals.
    workers : int
        Processes evaluating chunks of points; the result does not depend on it.
    rng : numpy.random.Generator or seed, optional
        Two children are spawned: the design's scrambling, then the bootstrap.
    executor : {"local", "dask"}
        Where chunks of points are evaluated (:func:`map_jobs`); the result does not depend on
        it. ``scheduler`` is the Dask scheduler's address.

    Returns
    -------
    SobolResult

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import stats
    >>> def linear(v, rows):
    ...     return v["x"] + 2 * v["y"]
    >>> dists = {"x": stats.uniform(), "y": stats.uniform()}
    >>> res = sobol_analysis(linear, dists=dists, n=1024, rng=1)
    >>> np.round(res.indices.first_order, 1)  # analytic: 1/5, 4/5
    array([0.2, 0.8])
    """
    names = tuple(dists)
    if factors is None:
        factors = [Factor(k, (k,)) for k in names]
    design_rng, boot_rng = np.random.default_rng(rng).spawn(2)
    design = saltelli_design(names, factors, n, rng=design_rng)
    y = evaluate_design(
        func,
        design,
        dists=dists,
        workers=workers,
        executor=executor,
        scheduler=scheduler,
        progress=progress,
    )
    blocks = y.reshape(len(factors) + 2, n)
    return estimate_indices(
        blocks[0],
        blocks[1],
        blocks[2:],
        factors=factors,
        n_resamples=n_resamples,
        confidence=confidence,
        rng=boot_rng,
    )


def evaluate_design(
    func: ModelFunction,
    design: SaltelliDesign,
    *,
    dists: Mapping[str, Any],
    workers: int = 1,
    chunk_rows: int = CHUNK_ROWS,
    executor: ExecutorKind = "local",
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> np.ndarray:
    """Evaluate ``func`` at every point of a design, in chunks (see :func:`map_jobs`).

    Returns
    -------
    ndarray, shape (design.rows,)
        Blocks [A, B, AB_1, ...] of N rows each.
    """

    def jobs():
        for start in range(0, design.rows, chunk_rows):
            u, rows = design.unit_rows(start, min(start + chunk_rows, design.rows))
            values = {
                k: np.asarray(dists[k].ppf(u[:, c]), dtype=float)
                for c, k in enumerate(design.names)
            }
            yield values, rows

    if progress is not None:
        progress.start(design.rows)
    done = map_jobs(
        func, jobs(), workers, executor=executor, scheduler=scheduler, progress=progress
    )
    return np.concatenate(done)


def _evaluate(func: ModelFunction, job: tuple[int, tuple[dict, np.ndarray]]) -> np.ndarray:
    return np.asarray(func(*job[1]), dtype=float)


def map_jobs(
    func: ModelFunction,
    jobs: Iterable[tuple[dict[str, np.ndarray], np.ndarray]],
    workers: int = 1,
    *,
    executor: ExecutorKind = "local",
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> list[np.ndarray]:
    """``func(*job)`` for every job, in order, on any executor.

    The jobs go through :func:`simulation.executors.map_batches`, which takes them lazily and
    keeps a window of them in flight, so memory stays bounded by a few chunks whatever the
    design size; ``func`` (a model with its rows of common random numbers) is sent once per
    worker, not with every chunk.

    Parameters
    ----------
    func : ModelFunction
        Picklable unless run serially.
    jobs : iterable of (values, rows)
    workers : int
        Processes of the local executor; the result is the same for any value.
    executor : {"local", "dask"}
    scheduler : str, optional
        Dask scheduler address, for ``executor="dask"``.
    progress : Progress, optional
        Told each finished job's model runs (``advance``); its caller starts it.

    Returns
    -------
    list of ndarray
        ``func``'s output for each job.
    """
    if workers < 1:
        raise ValueError(f"workers: must be a positive integer, got {workers}")
    done = map_batches(
        _evaluate,
        enumerate(jobs),  # the index names a failed chunk
        batch_of=itemgetter(0),
        executor=executor,
        workers=workers,
        scheduler=scheduler,
        shared=func,
    )
    out = []
    for _, y in done:
        out.append(y)
        if progress is not None:
            progress.advance(len(y))
    return out
