"""The result store: one folder per run, written as batches finish, complete only at the end.

A finished run folder holds

* ``config.json``: the resolved config (after ``extends`` and defaults, with the draws and seed
  used),
* ``metadata.json``: format version, seed, draws, batch size, workers, timing, package
  versions, package labels, and the SHA-256 and row count of every part of the per-draw table,
* ``draws/part-NNNNN.parquet``: the per-draw table, one Parquet file per batch, in batch order
  (one row per draw: outcomes, contribution path, sampled parameters and noise; columns in
  ``docs/output.md``). With ``--no-draws`` the parts hold only the columns the summary needs.
* ``summary.json``: the summary printed by ``smasim run``.

While a run is going, everything lives in a hidden ``.NAME.partial`` folder beside the target:
each batch's part is written to a temporary file and renamed into place, so every part present
is complete. At the end ``metadata.json`` and then ``summary.json`` are written and the folder
is renamed to its name. An interrupted run therefore never leaves a folder that looks finished,
and ``--resume`` continues from the parts already written: batches are deterministic by seed
and index, so the result is the same bits as an uninterrupted run.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from smasim.experiments.runs.folders import StoreError, require_empty
from smasim.simulation.montecarlo import batch_sizes
from smasim.simulation.parts import part_name, read_part, write_part
from smasim.simulation.records import RunResult

FORMAT_VERSION = 2
DRAWS_DIR = "draws"
IDENTITY_FILE = "run.json"
LOCK_FILE = ".lock"


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
        try:
            if resume:
                self._lock = self._check_partial(resume=True)  # held from the check on
                if read_json(self.partial / IDENTITY_FILE) != json.loads(_dumps(identity)):
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
        try:
            (self.partial / DRAWS_DIR).mkdir(parents=True)
            self._lock = _lock(self.partial, self.folder)
            _write_json(self.partial / IDENTITY_FILE, identity)
        except OSError as exc:
            raise StoreError(f"out: cannot create {self.folder}: {exc.strerror}") from None
        finally:
            # the old lock is let go only once the new folder is locked and identified: a
            # run resuming in between finds either no identity or a held lock
            if old is not None:
                old.close()

    def _check_partial(self, *, resume: bool):
        """Refuse a partial folder that is not smasim's, is in use, or (fresh) holds batches.

        Returns the lock taken on it (the caller keeps or closes it).
        """
        p = self.partial
        if resume and not (p / IDENTITY_FILE).is_file():
            raise StoreError(f"resume: no interrupted run to resume at {self.folder}")
        if p.is_symlink() or not p.is_dir() or not (p / IDENTITY_FILE).is_file():
            raise StoreError(
                f"out: {p} is in the way and is not an interrupted smasim run; move it away"
            )
        held = _lock(p, self.folder)  # raises if another run holds it
        kept = finished_parts(self.folder)
        if not resume and kept:
            held.close()
            raise StoreError(
                f"out: an interrupted run into {self.folder} kept {kept} finished batches; "
                f"continue it with --resume, or delete {p} to start afresh"
            )
        return held

    def release(self) -> None:
        """Let other runs use this folder (the lock goes with the writer)."""
        lock = getattr(self, "_lock", None)
        if lock is not None:
            lock.close()
            self._lock = None

    def finished_batches(self, columns=None) -> dict[int, dict[str, np.ndarray]]:
        """The batches already written (when resuming), by batch index, each checked.

        A part must hold its own batch: the rows of its draws, in order (a part copied over
        another, or from another run's batch, is refused). With ``columns``, only those are
        read (a streamed run keeps only the summary's columns in memory, resumed or not).
        """
        sizes = batch_sizes(self._draws, self._batch_size) if self._draws else []
        out = {}
        for path in sorted((self.partial / DRAWS_DIR).glob("part-*.parquet")):
            b = int(path.stem.split("-")[1])
            part = read_part(path, None if columns is None else {"draw", *columns})
            first = b * self._batch_size
            if b >= len(sizes) or not np.array_equal(
                part.get("draw"), np.arange(first, first + sizes[b])
            ):
                raise StoreError(
                    f"resume: {path.name} does not hold batch {b} of this run; delete it and "
                    "resume to recompute it"
                )
            out[b] = part
        return out

    @property
    def part_dir(self) -> Path:
        """Where the run's parts go while it is going (pass to the engine as ``part_dir``)."""
        return self.partial / DRAWS_DIR

    def add(self, batch: int, columns: dict[str, np.ndarray]) -> None:
        """Write one batch's part atomically (for runs held in memory)."""
        keep = columns if self.columns is None else {k: columns[k] for k in self.columns}
        write_part(self.part_dir / part_name(batch), keep)

    def finish(self, result: RunResult) -> Path:
        """Write metadata and summary and move the folder into place."""
        e = result.experiment
        n_parts = len(batch_sizes(result.draws, e.batch_size))
        parts = []
        for b in range(n_parts):
            path = self.part_dir / part_name(b)
            if not path.is_file():
                raise StoreError(f"{self.folder}: part {b} of the per-draw table is missing")
            parts.append({"file": f"{DRAWS_DIR}/{path.name}", "sha256": _sha256(path)})
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
        _write_json(self.partial / "config.json", identity["config"])
        _write_json(self.partial / "metadata.json", meta)
        # summary last: its presence marks a complete folder
        _write_json(self.partial / "summary.json", result.summary)
        (self.partial / IDENTITY_FILE).unlink()
        (self.partial / LOCK_FILE).unlink(missing_ok=True)  # still held through its handle
        try:
            if self.folder.exists():
                self.folder.rmdir()
            os.replace(self.partial, self.folder)
        except OSError as exc:
            # e.g. a file dropped into --out while the run was going: the run stays resumable
            _write_json(self.partial / IDENTITY_FILE, identity)
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
    handle = open(partial / LOCK_FILE, "a+")  # noqa: SIM115 - held for the run's lifetime
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


def read_draws(folder: str | Path) -> dict[str, np.ndarray]:
    """The per-draw table of a finished run folder, each part checked against its checksum.

    Raises
    ------
    StoreError
        If the folder is incomplete, of another format, or a part is missing or damaged.
    """
    folder = Path(folder)
    if not (folder / "summary.json").is_file():
        raise StoreError(f"{folder}: not a finished smasim run folder (no summary.json)")
    meta = read_json(folder / "metadata.json")
    if meta.get("format_version") != FORMAT_VERSION:
        raise StoreError(f"{folder}: unsupported result format {meta.get('format_version')!r}")
    tables = []
    for i, part in enumerate(meta.get("parts", [])):
        path = _part_path(folder, part, i)
        if not path.is_file() or _sha256(path) != part["sha256"]:
            raise StoreError(f"{folder}: {part['file']} is missing or damaged (checksum mismatch)")
        tables.append(read_part(path))
    if not tables:
        raise StoreError(f"{folder}: the per-draw table is empty")
    return {k: np.concatenate([t[k] for t in tables]) for k in tables[0]}


def _part_path(folder: Path, part: Any, index: int) -> Path:
    """Part ``index`` of a finished folder: its own ``draws/part-NNNNN.parquet``, nothing else.

    A hostile ``metadata.json`` could name ``/etc/passwd`` or another run's parts; only the
    file the format prescribes, inside the folder, is read.
    """
    expected = f"{DRAWS_DIR}/{part_name(index)}"
    if not isinstance(part, dict) or part.get("file") != expected:
        raise StoreError(f"{folder}: metadata.json lists {part!r} where {expected} belongs")
    path = folder / expected
    if path.is_symlink() or (folder / DRAWS_DIR).is_symlink():
        raise StoreError(f"{folder}: {expected} is a link; a result folder holds its own files")
    return path


def read_config_json(folder: str | Path):
    """The validated config of a finished run folder (bounded years, printable text).

    Raises
    ------
    StoreError
        If ``config.json`` is not a valid smasim config (the message names the field).
    """
    from pydantic import ValidationError

    from smasim.experiments.config.schema import Config

    data = read_json(Path(folder) / "config.json")
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise StoreError(
            f"{folder}: config.json is not a valid smasim config ({where}: {err['msg']})"
        ) from None


def read_json(path: Path) -> dict[str, Any]:
    """Read one JSON file of a run folder."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise StoreError(f"{path}: cannot read: {exc}") from None


def _dumps(data: Any) -> str:
    return json.dumps(data, indent=2, default=_json_default)


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(_dumps(data) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _json_default(x: Any) -> Any:
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    if isinstance(x, np.ndarray):
        return x.tolist()
    return str(x)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
