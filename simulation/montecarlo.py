"""The Monte Carlo engine: batches of draws, seeded, serial or on a process pool.

One :class:`numpy.random.SeedSequence` per run; batch ``b`` draws from the child with spawn key
``(b,)``. Batch sizes are fixed by the experiment, not by the worker count, so the per-draw
outcomes are the same bits whether the batches run on 1 process or many, in any order.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import fields
from pathlib import Path

import numpy as np

from smasim.simulation.executors import ExecutorKind, map_batches
from smasim.simulation.negotiation import BatchNegotiation
from smasim.simulation.outcomes import outcome_columns, summarize, summary_columns
from smasim.simulation.parts import part_name, read_part, write_part
from smasim.simulation.records import BatchOutcome, Experiment, RunResult
from smasim.simulation.sampling import Noise, draw_event_noise, draw_package_noise, sample
from smasim.simulation.streamed import summarize_batches


def batch_sizes(draws: int, batch_size: int) -> list[int]:
    """Sizes of the batches a run of ``draws`` is split into."""
    full, rest = divmod(draws, batch_size)
    return [batch_size] * full + ([rest] if rest else [])


def batch_rng(seed: int, batch: int) -> np.random.Generator:
    """Generator of batch ``batch`` of a run seeded ``seed`` (child ``batch`` of the run's seed)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(batch,)))


def simulate_batch(
    experiment: Experiment, seed: int, batch: int, size: int, *, trace: bool = False
) -> tuple[dict[str, np.ndarray], BatchOutcome]:
    """Sample and negotiate one batch.

    Returns
    -------
    columns : dict of str to ndarray, shape (size,)
    outcome : BatchOutcome
    """
    values, noise = sample_batch(experiment, seed, batch, size)
    outcome = negotiate(experiment, values, noise, trace=trace)
    return outcome_columns(experiment, values, noise, outcome), outcome


def sample_batch(
    experiment: Experiment, seed: int, batch: int, size: int
) -> tuple[dict[str, np.ndarray], Noise]:
    """Parameters and noise of batch ``batch`` (of ``size`` draws) of a run seeded ``seed``.

    A calibrated experiment's posterior rows are picked by uniforms drawn after the design
    and the noise (:mod:`simulation.posterior`), so the rest of the batch is unchanged; the
    scenario events' uniforms come next (:func:`simulation.sampling.draw_event_noise`) and the
    packages' appeal last of all (:func:`simulation.sampling.draw_package_noise`).
    """
    rng = batch_rng(seed, batch)
    values, noise = sample(
        experiment.specs,
        size,
        design=experiment.design,
        n_attempts=experiment.ratification_attempts,
        rng=rng,
        events=False,
    )
    if experiment.posterior is not None:
        values = experiment.posterior.substitute(values, rng.random(size))
    noise = draw_event_noise(noise, rng)
    return values, draw_package_noise(noise, rng, experiment.setting.packages.size)


def negotiate(
    experiment: Experiment, values: dict[str, np.ndarray], noise: Noise, *, trace: bool = False
) -> BatchOutcome:
    """Run the SimPy negotiation for given parameter arrays and noise."""
    return BatchNegotiation(
        experiment.setting,
        experiment.calendar,
        values,
        noise,
        concept=experiment.concept,
        trace=trace,
    ).run()


def simulate_batches(
    experiment: Experiment, seed: int, batches: Sequence[tuple[int, int]]
) -> list[dict[str, np.ndarray]]:
    """Sample batches with their own random streams and negotiate them together.

    Each batch is sampled exactly as :func:`simulate_batch` samples it, and a draw's outcome
    does not depend on the other draws it is negotiated with, so the per-batch tables are
    those of :func:`simulate_batch`, bit for bit. Negotiating several batches at once spreads
    each round's fixed cost (hundreds of numpy calls) over more draws.

    Parameters
    ----------
    batches : sequence of (batch index, size)

    Returns
    -------
    list of dict of str to ndarray
        Each batch's per-draw table, with its ``draw`` numbers, in the order of ``batches``.
    """
    samples = [sample_batch(experiment, seed, b, size) for b, size in batches]
    if len(samples) == 1:
        values, noise = samples[0]
    else:
        values = {k: np.concatenate([v[k] for v, _ in samples]) for k in samples[0][0]}
        noise = Noise(*(np.concatenate([getattr(n, f) for _, n in samples]) for f in _NOISE_FIELDS))
    cols = outcome_columns(experiment, values, noise, negotiate(experiment, values, noise))
    tables, start = [], 0
    for b, size in batches:
        rows = slice(start, start + size)
        table = {k: v[rows] for k, v in cols.items()}
        first = b * experiment.batch_size
        table["draw"] = np.arange(first, first + size, dtype=np.int64)
        tables.append(table)
        start += size
    return tables


_NOISE_FIELDS = tuple(f.name for f in fields(Noise))
COMPUTE_DRAWS = 32768  # draws negotiated together: enough to spread per-round costs, small
# enough that the (draws, packages) tables stay modest in memory


def batch_groups(
    sizes: Sequence[int], todo: Sequence[int], batch_size: int, workers: int
) -> list[tuple[tuple[int, int], ...]]:
    """Consecutive batches to negotiate together, ``(batch, size)`` pairs per group.

    Groups hold up to :data:`COMPUTE_DRAWS` draws but are made smaller when that would leave
    workers idle (fewer than two groups per worker), and the last ``workers`` groups are split
    into single batches so that workers finish close together. The result does not depend on
    it.
    """
    per_group = max(1, min(COMPUTE_DRAWS // batch_size, len(todo) // (2 * workers)))
    groups: list[tuple[tuple[int, int], ...]] = []
    current: list[tuple[int, int]] = []
    for b in todo:
        if current and (len(current) == per_group or b != current[-1][0] + 1):
            groups.append(tuple(current))
            current = []
        current.append((b, sizes[b]))
    if current:
        groups.append(tuple(current))
    if workers > 1 and len(groups) > workers:
        tail = [(pair,) for group in groups[-workers:] for pair in group]
        groups = groups[:-workers] + tail
    return groups


def _batch_worker(job: tuple) -> list[tuple[int, dict[str, np.ndarray]]]:
    """Simulate a group of batches; write their parts if asked; return the columns kept.

    Writing the parts here, in the worker, keeps compression off the collecting process.
    """
    experiment, seed, batches, part_dir, part_columns, keep = job
    out = []
    for (b, _), cols in zip(batches, simulate_batches(experiment, seed, batches), strict=True):
        if part_dir is not None:
            write_part(Path(part_dir) / part_name(b), _select_columns(cols, part_columns))
        out.append((b, _select_columns(cols, keep)))
    return out


def run(
    experiment: Experiment,
    *,
    draws: int,
    seed: int,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
    executor: ExecutorKind = "local",
    scheduler: str | None = None,
    part_dir: str | Path | None = None,
    part_columns: tuple[str, ...] | None = None,
    done: dict[int, dict[str, np.ndarray]] | None = None,
    retain: str = "all",
    on_batch: Callable[[int], None] | None = None,
) -> RunResult:
    """Run ``draws`` draws of an experiment.

    Parameters
    ----------
    experiment : Experiment
    draws : int
        Number of draws, > 0.
    seed : int
        Root of the run's :class:`numpy.random.SeedSequence`.
    workers : int
        Processes of the local pool; 1 runs in this process. The result does not depend on it.
    progress : callable, optional
        Called with the number of draws finished after each batch.
    executor : {"local", "dask"}
        Where batches run (:mod:`simulation.executors`); the result does not depend on it.
    scheduler : str, optional
        Dask scheduler address, for ``executor="dask"``.
    part_dir : path, optional
        Folder to write each batch's per-draw table into as it finishes (one Parquet part per
        batch, written atomically by the process that ran the batch; see
        :mod:`simulation.parts`). With the Dask executor it must be on a file system the
        workers share.
    part_columns : tuple of str, optional
        Columns written to the parts (all when omitted).
    done : dict of int to dict, optional
        Batches already finished (by batch index: their per-draw tables, or at least the
        summary's columns), as when resuming an interrupted run; they are not computed again.
    retain : {"all", "summary", "none"}
        Which columns the result keeps in memory: the whole per-draw table, only those the
        summary needs (:func:`summary_columns`), or none (needs ``part_dir``): the summary is
        then computed from the parts, one batch at a time (:mod:`simulation.streamed`), the
        same bits as from the table in memory, so memory stays bounded for any number of
        draws.
    on_batch : callable, optional
        Called with each computed batch's index once its part is written (the result store
        records the part's checksum).

    Returns
    -------
    RunResult
    """
    if draws < 1:
        msg = "draws must be a positive integer"
        raise ValueError(msg)
    if workers < 1:
        msg = "workers must be a positive integer"
        raise ValueError(msg)
    sizes = batch_sizes(draws, experiment.batch_size)
    done = dict(done or {})
    if retain not in ("all", "summary", "none"):
        msg = f"retain must be 'all', 'summary' or 'none', not {retain!r}"
        raise ValueError(msg)
    if retain == "none" and part_dir is None:
        raise ValueError("retain='none' needs part_dir: the summary is read from the parts")
    keep = None if retain == "all" else summary_columns(experiment)
    if retain == "none":
        keep = ("draw",)  # the workers send back nothing worth holding
    where = None if part_dir is None else str(part_dir)
    todo = [b for b in range(len(sizes)) if b not in done]
    jobs = [
        (experiment, seed, group, where, part_columns, keep)
        for group in batch_groups(sizes, todo, experiment.batch_size, workers)
    ]
    start = time.perf_counter()
    # the result's columns are filled in place, batch by batch: no concatenation copy
    columns: dict[str, np.ndarray] = {}

    def store(b: int, cols: dict[str, np.ndarray]) -> None:
        if retain == "none":
            return
        rows = slice(b * experiment.batch_size, b * experiment.batch_size + sizes[b])
        for name, values in _select_columns(cols, keep).items():
            if name not in columns:
                columns[name] = np.empty(draws, dtype=values.dtype)
            columns[name][rows] = values

    for b, cols in done.items():
        store(b, cols)
    if progress and done:
        progress(sum(sizes[b] for b in done))
    batches = map_batches(
        _batch_worker,
        jobs,
        batch_of=lambda job: job[2][0][0],
        executor=executor,
        workers=workers,
        scheduler=scheduler,
    )
    for _, parts in batches:
        for b, part in parts:
            store(b, part)
            if on_batch:
                on_batch(b)
            if progress:
                progress(sizes[b])
        del parts
    elapsed = time.perf_counter() - start
    result = RunResult(experiment, seed, draws, columns, elapsed_s=elapsed, workers=workers)
    if retain == "none":
        result.summary = summarize_batches(
            experiment, lambda names: _read_parts(Path(part_dir), len(sizes), names), draws
        )
    else:
        result.summary = summarize(experiment, columns)
    return result


def _read_parts(part_dir: Path, n_parts: int, names) -> Iterator[dict[str, np.ndarray]]:
    """The run's parts (columns ``names``), one at a time in batch order."""
    for b in range(n_parts):
        yield read_part(part_dir / part_name(b), names)


def _select_columns(cols: dict[str, np.ndarray], keep) -> dict[str, np.ndarray]:
    return cols if keep is None else {k: cols[k] for k in keep}
