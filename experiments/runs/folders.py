"""The one atomic result-folder writer of smasim.

Every command that writes a result folder (run, compare, sensitivity, sweep, backtest,
calibrate, plot) goes through here: the folder is filled as a hidden temporary folder beside
the target and renamed into place at the end, so an interrupted command never leaves a folder
that looks finished. Errors name the field (``out``); the command line maps it to ``--out``.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any


class StoreError(OSError):
    """A result folder cannot be written or read (the message names the field)."""


# full disk, file too large, quota: not the input's fault (the command line exits 1, not 2),
# so passed on as the OSError they are, not as a StoreError naming --out
DISK_ERRORS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


def require_empty(folder: str | Path, field: str = "out") -> Path:
    """``folder`` as a Path, if it does not exist or is an empty folder.

    Raises
    ------
    StoreError
        If something other than an empty folder is there.
    """
    folder = Path(folder)
    if folder.is_symlink():
        # a link (dangling or to an empty folder) would be replaced by the result, or written
        # through, only after the whole run: refused before anything starts
        raise StoreError(f"{field}: {folder} is a symbolic link; name a real folder")
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise StoreError(f"{field}: {folder} already exists and is not empty; choose another")
    if folder.exists() and folder.resolve() == Path.cwd().resolve():
        raise StoreError(f"{field}: {folder} is the working directory; name a new folder")
    _check_creatable(folder, field)
    return folder


def _check_creatable(folder: Path, field: str) -> None:
    """Refuse a folder that could not be created, before the work whose results it would hold.

    Commands write their folder at the end, through a hidden partial folder beside it; an
    impossible path found only then would lose a whole computation. Nothing is created here:
    the first existing ancestor of the folder's parent must be a writable folder, and every
    missing name short enough for its file system.
    """
    missing = [folder.name]
    ancestor = folder.absolute().parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        missing.append(ancestor.name)
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise StoreError(f"{field}: cannot create {folder}: {ancestor} is not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise StoreError(f"{field}: cannot create {folder}: {ancestor} is not writable")
    try:
        limit = os.pathconf(ancestor, "PC_NAME_MAX")
    except (OSError, ValueError):
        return  # a file system that does not say: creating the folder will tell
    if limit <= 0:
        return  # no limit, or an indeterminate one
    # the folder's own name needs room for its partial's: "." + name + ".XXXXXXXX.partial"
    longest = [limit - len("..XXXXXXXX.partial")] + [limit] * (len(missing) - 1)
    for name, most in zip(missing, longest, strict=True):
        if len(os.fsencode(name)) > most:
            raise StoreError(f"{field}: cannot create {folder}: a name is longer than {most} bytes")


def atomic_folder(folder: str | Path, fill: Callable[[Path], None], field: str = "out") -> Path:
    """Fill a hidden temporary folder beside ``folder``, then rename it into place.

    Parameters
    ----------
    folder : path
        Must not exist, or be an empty folder.
    fill : callable
        Writes the folder's files into the temporary folder it is given.
    field : str
        The name errors give the folder.

    Returns
    -------
    Path
        ``folder``, now complete.
    """
    folder = require_empty(folder, field)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(
            tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".partial", dir=folder.parent)
        )
    except OSError as exc:
        if exc.errno in DISK_ERRORS:
            raise
        raise StoreError(f"{field}: cannot create {folder}: {exc.strerror}") from None
    try:
        fill(tmp)
        if folder.exists():
            folder.rmdir()
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def write_folder(
    folder: str | Path, files: Mapping[str, Callable[[Path], object]], field: str = "out"
) -> Path:
    """Write ``files`` (name -> function writing that file at its path) atomically."""

    def fill(tmp: Path) -> None:
        for name, write in files.items():
            write(tmp / name)

    return atomic_folder(folder, fill, field)


def dumps(data: Any) -> str:
    """``data`` as indented JSON (NumPy scalars and arrays as numbers and lists)."""
    return json.dumps(data, indent=2, default=_json_default)


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` to ``path`` as JSON, atomically (a hidden temporary file, renamed)."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(dumps(data) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _json_default(x: Any) -> Any:
    # NumPy scalars and arrays (not imported here: the command line starts without NumPy)
    return x.tolist() if hasattr(x, "tolist") else str(x)
