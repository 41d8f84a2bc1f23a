"""Per-batch parts of the per-draw table, written atomically (by whichever process ran them).

A part is one Parquet file per batch, ``part-NNNNN.parquet``. It is written to a hidden
temporary file, flushed to disk and renamed into place, so a part that exists is complete;
an interrupted run leaves at worst a hidden temporary file, which nothing reads.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


def part_name(batch: int) -> str:
    """File name of batch ``batch``'s part."""
    return f"part-{batch:05d}.parquet"


def write_part(path: str | Path, columns: dict[str, np.ndarray]) -> None:
    """Write ``columns`` (each shape (n,)) to ``path`` atomically, zstd-compressed."""
    import pyarrow.parquet as pq

    from smasim.simulation.columns import arrow_table

    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(arrow_table(columns), tmp, compression="zstd")
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_part(path: str | Path, columns=None) -> dict[str, np.ndarray]:
    """The columns of one part (only ``columns``, when given)."""
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=None if columns is None else list(columns))
    return {name: table.column(name).to_numpy() for name in table.column_names}
