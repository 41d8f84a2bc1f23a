"""Joint posterior draws of calibrated parameters, taking the place of their priors in a run.

A calibrated config (``[calibration]``) names a bundled posterior: a Parquet table whose
rows are joint draws of the shared behavioural parameters from the calibration on the
record (:mod:`experiments.record.posteriors` writes them), with the calibration's provenance
(method, negotiations fitted on, date, scores, and the prior each parameter was fitted
under) in the file's metadata. In a run, each draw takes one whole row, so the posterior's
correlations survive; the row is picked by a uniform drawn from the batch's generator after
the design and the noise, so uncalibrated runs keep their bits and a calibrated run is as
reproducible as any other.

A parameter is taken from the posterior only where the config's prior for it is the one the
posterior was fitted under; where a config sets its own (e.g. Korea's positions in a
reopening), its prior stays and the run says so.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

PROVENANCE_KEY = b"smasim.calibration"


@dataclass(frozen=True)
class PosteriorDraws:
    """Joint draws of some parameters and where they come from.

    Attributes
    ----------
    name : str
        The bundled posterior's name (its file's stem).
    names : tuple of str
        Parameters taken from the posterior in this run.
    table : ndarray, shape (rows, len(names))
    provenance : dict
        The calibration's record (see :mod:`experiments.record.posteriors`).
    kept_prior : tuple of str
        Calibrated parameters whose prior this config sets differently: not substituted.
    """

    name: str
    names: tuple[str, ...]
    table: np.ndarray
    provenance: dict[str, Any]
    kept_prior: tuple[str, ...] = ()

    def substitute(self, values: dict[str, np.ndarray], u: np.ndarray) -> dict[str, np.ndarray]:
        """``values`` with the posterior's parameters taken from rows ``floor(u * rows)``.

        Parameters
        ----------
        values : dict of str to ndarray, shape (n,)
        u : ndarray, shape (n,)
            Uniforms in [0, 1).
        """
        rows = np.minimum((u * self.table.shape[0]).astype(np.int64), self.table.shape[0] - 1)
        out = dict(values)
        for j, name in enumerate(self.names):
            out[name] = self.table[rows, j]
        return out

    def describe(self) -> str:
        """One line for the run's output: what the draws were fitted on, and how."""
        p = self.provenance
        rounds = [_ordinal(k) for k in p["fitted_on"]]
        fitted_on = (
            "no negotiation"
            if not rounds
            else f"the {rounds[0]} SMA"
            if len(rounds) == 1
            else f"the {', '.join(rounds[:-1])} and {rounds[-1]} SMAs"
        )
        text = (
            f"calibrated: {len(self.names)} behavioural parameters drawn from posterior "
            f"{self.name!r}, fitted on {fitted_on} (concluded before {p['information_date']}; "
            f"kernel ABC, {p['ess']:,.0f} effective draws, {p['fitted']})"
        )
        if self.kept_prior:
            text += f"; this config's own priors kept for {', '.join(self.kept_prior)}"
        return text


def read_posterior(path: str | Path, name: str) -> tuple[dict[str, np.ndarray], dict]:
    """The columns and provenance of a posterior file."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    meta = table.schema.metadata or {}
    if PROVENANCE_KEY not in meta:
        raise ValueError(f"calibration.posterior: {name!r} has no calibration record")
    columns = {c: table.column(c).to_numpy() for c in table.column_names}
    return columns, json.loads(meta[PROVENANCE_KEY])


def write_posterior(
    path: str | Path, columns: Mapping[str, np.ndarray], provenance: Mapping[str, Any]
) -> Path:
    """Write joint draws and their provenance to ``path`` atomically (temp file, rename)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    table = pa.table({k: np.asarray(v, dtype=float) for k, v in columns.items()})
    table = table.replace_schema_metadata({PROVENANCE_KEY: json.dumps(dict(provenance))})
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        pq.write_table(table, tmp, compression="zstd")
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide a shipped file from other users
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def posterior_draws(
    name: str, columns: Mapping[str, np.ndarray], provenance: dict, prior_keys: Mapping
) -> PosteriorDraws:
    """The draws a config takes: the calibrated parameters whose prior it shares.

    ``prior_keys`` maps each of the config's parameters to a comparable description of its
    prior (the same form as ``provenance["priors"]``).
    """
    fitted = provenance["priors"]
    names = tuple(n for n in columns if _same(prior_keys.get(n), fitted.get(n)))
    kept = tuple(n for n in columns if n not in names)
    table = np.column_stack([columns[n] for n in names]) if names else np.empty((1, 0))
    return PosteriorDraws(name, names, table, provenance, kept)


def _same(a: Sequence | None, b: Sequence | None) -> bool:
    # JSON turns tuples into lists: compare through JSON
    return a is not None and json.dumps(a) == json.dumps(b)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
