"""The result store: one folder per run, written as batches finish, complete only at the end.

A finished run folder holds ``config.json`` (the resolved config, with the draws and seed
used), ``metadata.json`` (seed, draws, batch size, versions, the SHA-256 and row count of every
part), ``draws/part-NNNNN.parquet`` (the per-draw table, a Parquet file per batch; with
``--no-draws`` only the summary's columns) and ``summary.json``: see ``docs/output.md``.

While a run is going, everything lives in a hidden ``.NAME.partial`` folder beside the target,
each part written to a temporary file and renamed into place; at the end the folder is renamed
to its name. An interrupted run never leaves a folder that looks finished, and ``--resume``
continues from the parts written: batches are deterministic by seed and index, so the result
is the same bits as an uninterrupted run.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from smasim.experiments.runs.folders import (
    DISK_ERRORS,
    StoreError,
    dumps,
    require_empty,
    write_json,
)
from smasim.experiments.runs.reader import (  # noqa: F401 - read_* are the store's readers too
    DRAWS_DIR,
    FORMAT_VERSION,
    read_config_json,
    read_draws,
    read_json,
    read_table,
    sha256,
)
from smasim.simulation.montecarlo import batch_sizes
from smasim.simulation.parts import part_name, write_part
from smasim.simulation.records import RunResult

IDENTITY_FILE = "run.json"
LOCK_FILE = ".lock"
JOURNAL_FILE = "parts.sha256"  # one line per finished batch: part name and SHA-256
FINISH_FILES = ("config.json", "metadata.json", "summary.json")
_PART = re.compile(r"^part-(\d{5})\.parquet$")
_TEMP = re.compile(r"^\..*\.tmp$")  # a part or JSON file being written when a run stopped


def package_versions() -> dict[str, str]:
    """Versions of smasim and the libraries its numbers depend on."""
    out = {"python": platform.python_version()}
    for name in ("smasim", "numpy", "scipy", "simpy", "pydantic", "pyarrow"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def partial_folder(folder: str | Path) -> Path:
    """The hidden folder a run into ``folder`` writes while it is going."""
    folder = Path(folder)
    return folder.parent / f".{folder.name}.partial"


def finished_parts(folder: str | Path) -> int:
    """How many batches an interrupted run into ``folder`` finished and kept."""
    return len(list((partial_folder(folder) / DRAWS_DIR).glob("part-*.parquet")))


class RunWriter:
    """Writes one run folder batch by batch.

    Parameters
    ----------
    folder : path
        The finished folder's name; must not exist yet (or be an empty directory).
    config : dict
        The resolved config, JSON-ready (its ``experiment`` table carries draws and seed).
    batch_size : int
        Draws per batch.
    resume : bool
        Continue an interrupted run into ``folder``: its partial folder must exist and have
        been started with the same config; the batches it holds are reused.
    draws_columns : sequence of str, optional
        Columns to keep in the parts (all when omitted).
    """

    def __init__(
        self,
        folder: str | Path,
        *,
        config: dict[str, Any],
        batch_size: int,
        resume: bool = False,
        draws_columns: tuple[str, ...] | None = None,
    ) -> None:
        self.folder = Path(folder)
        # absolute: Dask workers write the parts from their own working directories
        self.partial = partial_folder(self.folder.absolute())
        self.columns = draws_columns
        identity = {
            "format_version": FORMAT_VERSION,
            "config": config,
            "batch_size": batch_size,
            "columns": list(draws_columns) if draws_columns else "all",
        }
        require_empty(self.folder)
        self._draws = int(config.get("experiment", {}).get("draws", 0))
        self._batch_size = batch_size
        self._lock = None
        self._resumed = resume
        try:
            if resume:
                self._lock = self._check_partial(resume=True)  # held from the check on
                if read_json(self.partial / IDENTITY_FILE) != json.loads(dumps(identity)):
                    raise StoreError(
                        f"resume: the interrupted run at {self.folder} was started with "
                        "another config, seed, draw count or batch size; start it afresh, "
                        "not resumed"
                    )
            else:
                self._start_afresh(identity)
        except BaseException:
            self.release()  # a writer that is not returned cannot be released by its caller
            raise

    def _start_afresh(self, identity: dict[str, Any]) -> None:
        old = None
        if self.partial.exists() or self.partial.is_symlink():
            old = self._check_partial(resume=False)
            # an interrupted run with no finished batch: nothing is lost by starting afresh
            shutil.rmtree(self.partial)
        made = False
        try:
            (self.partial / DRAWS_DIR).mkdir(parents=True)
            made = True
            self._lock = _lock(self.partial, self.folder)
            write_json(self.partial / IDENTITY_FILE, identity)
        except OSError as exc:
            if exc.errno not in DISK_ERRORS:
                raise StoreError(f"out: cannot create {self.folder}: {exc.strerror}") from None
            if made:  # this run's own, still without a batch: nothing to resume
                shutil.rmtree(self.partial, ignore_errors=True)
            raise
        finally:
            # the old lock goes once the new folder is locked and identified: no gap to resume
            if old is not None:
                old.close()
        try:
            # a run into the same folder may have finished since the first check: its
            # folder is in place now, and this run could not move its own there at the end
            require_empty(self.folder)
        except StoreError:
            shutil.rmtree(self.partial, ignore_errors=True)
            raise

    def _check_partial(self, *, resume: bool):
        """Refuse a partial folder that is not smasim's, is in use, or (fresh) holds batches.

        Returns the lock taken on it (the caller keeps or closes it).
        """
        p = self.partial
        if resume and not (p / IDENTITY_FILE).is_file():
            raise StoreError(f"resume: no interrupted run to resume at {self.folder}")
        if p.is_symlink() or not p.is_dir() or (p / DRAWS_DIR).is_symlink():
            raise StoreError(
                f"out: {p} is in the way and is not an interrupted smasim run; move it away"
            )
        # the lock first: a run starting into the folder has its lock before its identity
        ours = (p / LOCK_FILE).is_file() or (p / IDENTITY_FILE).is_file()
        held = _lock(p, self.folder) if ours else None
        try:
            if held is None or not (p / IDENTITY_FILE).is_file():
                raise StoreError(
                    f"out: {p} is in the way and is not an interrupted smasim run; move it away"
                )
            kept = finished_parts(self.folder)
            if not resume and kept:
                raise StoreError(
                    f"out: an interrupted run into {self.folder} kept {kept} finished batches; "
                    f"continue it with --resume, or delete {p} to start afresh"
                )
        except BaseException:
            if held is not None:
                held.close()
            raise
        return held

    def discard_if_empty(self) -> None:
        """Remove the partial folder of a run started afresh that finished no batch.

        For a run that failed before its first batch (e.g. an unreachable scheduler): there
        is nothing to resume, and the folder is this run's own.
        """
        if self._lock is not None and not self._resumed and not finished_parts(self.folder):
            shutil.rmtree(self.partial, ignore_errors=True)

    def release(self) -> None:
        """Let other runs use this folder (the lock goes with the writer)."""
        lock = getattr(self, "_lock", None)
        if lock is not None:
            lock.close()
            self._lock = None

    def finished_batches(self, columns=None) -> dict[int, dict[str, np.ndarray]]:
        """The batches already written (when resuming), by batch index, each checked.

        A part must be one this run wrote: its SHA-256 is the one the run recorded when the
        batch finished (a part copied over another, or from another run, is refused), and it
        holds the rows of its batch. A part the run did not get to record (stopped between
        the part's write and its record) is computed again. With ``columns``, only those are
        read (a streamed run keeps only the summary's columns in memory, resumed or not).
        """
        sizes = batch_sizes(self._draws, self._batch_size) if self._draws else []
        self._check_contents()
        journal = self._journal()
        out = {}
        for path in sorted(self.part_dir.glob("part-*.parquet")):
            match = _PART.match(path.name)
            b = int(match[1]) if match else len(sizes)
            if b >= len(sizes) or path.is_symlink() or not path.is_file():
                raise StoreError(
                    f"resume: {path.name} is not a part of this run; move it away and resume"
                )
            if path.name not in journal:
                continue
            if sha256(path) != journal[path.name]:
                raise StoreError(
                    f"resume: {path.name} changed since this run wrote it (another run's or "
                    "damaged); delete it and resume to recompute it"
                )
            where = f"resume: {path.name}"
            first = b * self._batch_size
            out[b] = read_table(path, rows=sizes[b], first_draw=first, where=where,
                                columns=columns)  # fmt: skip
        return out

    def _check_contents(self) -> None:
        """Refuse a partial folder holding files no run of smasim put there."""
        # config, metadata and summary: a finish that could not move the folder (rewritten)
        journal = self.partial / JOURNAL_FILE
        if journal.is_symlink() or (journal.exists() and not journal.is_file()):
            raise StoreError(f"resume: {journal} is not a checksum record of smasim; move it away")
        own = {IDENTITY_FILE, LOCK_FILE, JOURNAL_FILE, DRAWS_DIR, *FINISH_FILES}
        for path in [*self.partial.iterdir(), *self.part_dir.iterdir()]:
            name = path.name
            if name in own or _PART.match(name) or _TEMP.match(name):
                continue
            raise StoreError(
                f"resume: {path} is not part of an interrupted smasim run; move it away and resume"
            )

    def record(self, batch: int) -> None:
        """Record the SHA-256 of batch ``batch``'s part, once it is written."""
        path = self.part_dir / part_name(batch)
        with open(self.partial / JOURNAL_FILE, "a", encoding="ascii") as f:
            # after a line break: a record torn by a crash stays a line of its own
            f.write(f"\n{path.name} {sha256(path)}\n")
            f.flush()
            os.fsync(f.fileno())

    def _journal(self) -> dict[str, str]:
        """The recorded checksums by part name (a torn last line is left out)."""
        path = self.partial / JOURNAL_FILE
        if not path.is_file() or path.is_symlink():
            return {}
        out = {}
        with open(path, "rb") as f:
            for line in f.read(64 << 20).splitlines():
                words = line.decode("ascii", "replace").split()
                if len(words) == 2 and _PART.match(words[0]) and len(words[1]) == 64:
                    out[words[0]] = words[1]
        return out

    @property
    def part_dir(self) -> Path:
        """Where the run's parts go while it is going (pass to the engine as ``part_dir``)."""
        return self.partial / DRAWS_DIR

    def add(self, batch: int, columns: dict[str, np.ndarray]) -> None:
        """Write one batch's part atomically (for runs held in memory)."""
        keep = columns if self.columns is None else {k: columns[k] for k in self.columns}
        write_part(self.part_dir / part_name(batch), keep)
        self.record(batch)

    def finish(self, result: RunResult) -> Path:
        """Write metadata and summary and move the folder into place."""
        e = result.experiment
        n_parts = len(batch_sizes(result.draws, e.batch_size))
        parts = []
        journal = self._journal()
        for b in range(n_parts):
            path = self.part_dir / part_name(b)
            if not path.is_file():
                raise StoreError(f"{self.folder}: part {b} of the per-draw table is missing")
            sha = sha256(path)
            if journal.get(path.name) != sha:
                raise StoreError(
                    f"{self.folder}: {path.name} is not the part this run wrote (replaced "
                    f"while the run was going); delete it and continue with --resume"
                )
            parts.append({"file": f"{DRAWS_DIR}/{path.name}", "sha256": sha})
        meta = {
            "format_version": FORMAT_VERSION,
            "experiment": e.name,
            "seed": result.seed,
            "seed_sequence": {"entropy": result.seed, "spawn_key_per_batch": "(batch_index,)"},
            "draws": result.draws,
            "batch_size": e.batch_size,
            # the sampling design's columns, in order: what the seed's numbers were mapped to
            "sample_columns": [s.name for s in e.specs if s.uncertain],
            "design": e.design,
            "workers": result.workers,
            "elapsed_s": round(result.elapsed_s, 3),
            "draws_columns": list(self.columns) if self.columns else "all",
            "parts": parts,
            "packages": package_versions(),
            "package_labels": [e.setting.packages.label(k) for k in range(e.setting.packages.size)],
            "rules": [r.name for r in e.setting.packages.rules],
        }
        identity = read_json(self.partial / IDENTITY_FILE)
        write_json(self.partial / "config.json", identity["config"])
        write_json(self.partial / "metadata.json", meta)
        # summary last: its presence marks a complete folder
        write_json(self.partial / "summary.json", result.summary)
        (self.partial / IDENTITY_FILE).unlink()
        (self.partial / JOURNAL_FILE).unlink()
        (self.partial / LOCK_FILE).unlink(missing_ok=True)  # still held through its handle
        try:
            if self.folder.exists():
                self.folder.rmdir()
            os.replace(self.partial, self.folder)
        except OSError as exc:
            # e.g. a file dropped into --out while the run was going: the run stays resumable
            write_json(self.partial / IDENTITY_FILE, identity)
            raise StoreError(
                f"out: cannot move the finished run into {self.folder} ({exc.strerror}); "
                "empty or remove it and continue with --resume"
            ) from None
        self.release()
        return self.folder


def write_run(result: RunResult, folder: str | Path, *, config: dict[str, Any]) -> Path:
    """Write a run held in memory (``result.columns`` is the full table) to ``folder``."""
    e = result.experiment
    writer = RunWriter(folder, config=config, batch_size=e.batch_size)
    try:
        for b, size in enumerate(batch_sizes(result.draws, e.batch_size)):
            rows = slice(b * e.batch_size, b * e.batch_size + size)
            writer.add(b, {k: v[rows] for k, v in result.columns.items()})
        return writer.finish(result)
    except StoreError:
        raise  # finish could not move the folder into place: the partial stays, as it says
    except BaseException:
        shutil.rmtree(writer.partial, ignore_errors=True)
        raise
    finally:
        writer.release()


def _lock(partial: Path, folder: Path):
    """An exclusive lock on ``partial`` for as long as the returned file stays open.

    Two runs into one folder would delete or mix each other's batches; the second is refused
    while the first holds the lock (released when it ends, even killed).
    """
    try:
        handle = open(partial / LOCK_FILE, "a+")  # noqa: SIM115 - held for the run's lifetime
    except FileNotFoundError:
        # the run that had it has just finished and moved it into place
        raise StoreError(
            f"out: another smasim run has just written {folder}; choose another --out"
        ) from None
    except OSError as exc:  # e.g. a folder where the lock file belongs
        raise StoreError(
            f"out: cannot lock {partial} ({exc.strerror}): it is not an interrupted smasim "
            "run; move it away"
        ) from None
    try:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except ImportError:  # no flock (Windows): no protection, as before
        pass
    except OSError:
        handle.close()
        raise StoreError(
            f"out: another smasim run is writing into {folder}; wait for it to end or choose "
            "another --out"
        ) from None
    return handle
