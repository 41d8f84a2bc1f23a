"""Where batches run: this process, a local process pool, or a Dask cluster.

Every executor maps a batch function over jobs and yields ``(job, result)`` in job order, so
whatever runs the batches, the run is assembled the same way and the bits do not change. A
worker that dies surfaces as :class:`BatchFailed` naming the batch; an interrupt (Ctrl-C,
SIGTERM) stops the pool's processes at once instead of waiting for running batches.
"""

from __future__ import annotations

import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sized
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from itertools import islice
from typing import Any, Literal

from smasim.simulation.memory import keep_freed_memory

ExecutorKind = Literal["local", "dask"]
EXECUTORS: tuple[str, ...] = ("local", "dask")


class BatchFailed(RuntimeError):
    """A batch could not be computed (its worker died or raised)."""

    def __init__(self, batch: int, reason: str) -> None:
        super().__init__(f"batch {batch} failed: {reason}")
        self.batch = batch


def map_batches(
    fn: Callable[[Any], Any],
    jobs: Iterable[Any],
    *,
    batch_of: Callable[[Any], int],
    executor: ExecutorKind = "local",
    workers: int = 1,
    scheduler: str | None = None,
    shared: Any = None,
) -> Iterator[tuple[Any, Any]]:
    """Yield ``(job, fn(job))`` for every job, in job order; ``fn(shared, job)`` given ``shared``.

    Parameters
    ----------
    fn : callable
        Picklable batch function.
    jobs : iterable
        Its arguments, one per batch. They are taken as batches are submitted, so a generator
        keeps only the window of batches in flight in memory.
    batch_of : callable
        Batch index of a job (for error messages).
    executor : {"local", "dask"}
        ``local``: this process (``workers == 1``) or a process pool; ``dask``: a Dask
        distributed cluster at ``scheduler``.
    workers : int
        Processes of the local pool.
    scheduler : str, optional
        Address of the Dask scheduler (``tcp://host:port``); required for ``dask``.
    shared : object, optional
        A large argument common to every job (e.g. a model with its arrays), passed first to
        ``fn``. It is sent once per worker process, or scattered once to the Dask workers,
        instead of with every job: a sensitivity model of 2^16 rows is ~20 MB, and a window of
        jobs each carrying it would crowd the pipes, or the scheduler's memory.
    """
    if executor == "local":
        if isinstance(jobs, Sized):
            workers = min(workers, len(jobs))  # no pool for one batch, no idle processes
        if workers <= 1:
            call = fn if shared is None else partial(fn, shared)
            yield from _serial(call, jobs, batch_of)
        else:
            yield from _process_pool(fn, jobs, batch_of, workers, shared)
    elif executor == "dask":
        if not scheduler:
            msg = "scheduler: the Dask executor needs a scheduler address (tcp://host:port)"
            raise ValueError(msg)
        yield from _dask(fn, jobs, batch_of, scheduler, shared)
    else:
        msg = f"executor: unknown executor {executor!r}; choose one of {', '.join(EXECUTORS)}"
        raise ValueError(msg)


def _serial(fn, jobs, batch_of):
    for job in jobs:
        yield job, fn(job)


_SHARED: Any = None  # per pool process: map_batches' ``shared``, installed once at its start


def _start_worker(shared: Any) -> None:
    global _SHARED
    _SHARED = shared
    keep_freed_memory()  # see simulation.memory: fewer page faults, same results
    # the parent handles Ctrl-C and stops the workers; a worker must not die half-way first,
    # and when the parent terminates it, it dies quietly (not through a handler inherited
    # from the parent that turns SIGTERM into KeyboardInterrupt)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent()


def _die_with_parent() -> None:
    """Ask Linux to end this worker when its parent dies, even by SIGKILL.

    A killed parent cannot stop its pool; without this the workers (~145 MB each) would live
    on. Elsewhere (no ``prctl``) nothing changes.
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent died before the request took effect
        os._exit(1)


def _with_shared(fn, job):
    return fn(_SHARED, job)


def _windowed(submit, jobs, window):
    """Submit at most ``window`` jobs ahead of the one being collected, in job order.

    Results are handed on and dropped as they are collected, so memory holds a few batches,
    not the whole run.
    """
    queue = iter(jobs)
    pending = deque((job, submit(job)) for job in islice(queue, window))
    while pending:
        job, future = pending.popleft()
        following = next(queue, None)
        if following is not None:
            pending.append((following, submit(following)))
        yield job, future


def _process_pool(fn, jobs, batch_of, workers, shared):
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_start_worker, initargs=(shared,))
    if shared is None:
        submit = partial(pool.submit, fn)
    else:
        submit = partial(pool.submit, _with_shared, fn)
    try:
        for job, future in _windowed(submit, jobs, 2 * workers):
            try:
                result = future.result()
            except BrokenProcessPool:
                raise BatchFailed(batch_of(job), "a worker process died") from None
            del future
            yield job, result
    except BaseException:
        # interrupted or failed: stop at once rather than finish the queued batches
        # (the pool keeps its processes in a private attribute; there is no public kill)
        processes = list((getattr(pool, "_processes", None) or {}).values())
        for process in processes:
            process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


CONNECT_TIMEOUT_S = 10  # an unreachable scheduler is an input error, reported in seconds


def _dask(fn, jobs, batch_of, scheduler, shared):
    try:
        from distributed import Client
    except ImportError:
        msg = "executor: dask needs the dask extra: pip install 'smasim[dask]'"
        raise ValueError(msg) from None
    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError) as exc:
        # distributed raises OSError ("Timed out trying to connect") or TimeoutError
        msg = (
            f"scheduler: cannot reach the Dask scheduler at {scheduler} within "
            f"{CONNECT_TIMEOUT_S} s ({type(exc).__name__}); is it running?"
        )
        raise ValueError(msg) from None
    with client:
        window = 2 * max(sum(client.nthreads().values()), 1)
        if shared is None:
            submit = partial(client.submit, fn, pure=False)
        else:
            # every worker receives it once; the tasks carry only its key
            remote = client.scatter(shared, broadcast=True, hash=False)
            submit = partial(client.submit, fn, remote, pure=False)
        submitted = []
        try:
            for job, future in _windowed(submit, jobs, window):
                submitted.append(future)
                try:
                    result = future.result()
                except Exception as exc:
                    raise BatchFailed(batch_of(job), f"{type(exc).__name__}: {exc}") from exc
                future.release()
                yield job, result
        finally:
            client.cancel([f for f in submitted if not f.done()])
