"""A scenario to compare: one Monte Carlo run, read from its result folder or held in memory.

A *scenario* is a result folder written by ``smasim run``, or a config run in memory by
:func:`smasim.experiments.comparison.compare.run_comparison`. It carries the per-draw
table and what the run was made with, which is all that is needed to decide whether two
runs can be compared draw by draw.

Pairing (common random numbers)
    The engine draws batch ``b`` of a run seeded ``s`` from ``SeedSequence(s, spawn_key=(b,))``
    and maps one design column per uncertain parameter through its inverse CDF. Two runs with
    the same seed, draw count, batch size, design, ratification attempts and the same set of
    uncertain parameters therefore share every uniform: draw ``i`` of one is draw ``i`` of
    the other wherever their parameters coincide. All of these are recorded in a run folder
    (``metadata.json``: seed, draws, batch size; ``config.json``: design, attempts,
    parameters), so :func:`pairing` decides from the folders alone. Paired runs are compared
    draw by draw: the bootstrap resamples draws jointly (``paired=True``) and ``P(B > A)`` is
    the share of draws where B exceeds A. Otherwise the runs are independent samples: the
    bootstrap resamples each run on its own and ``P(B > A)`` is over independent pairs, from
    the ranks (the Mann-Whitney ``U / (n_A n_B)`` without the half-weight for ties).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from smasim.experiments.comparison.options import HELD_BYTES, MAX_HELD_DRAWS
from smasim.experiments.config.load import resolved_dict
from smasim.experiments.config.schema import Config
from smasim.experiments.runs.folders import StoreError
from smasim.experiments.runs.reader import read_config_json, read_draws, read_json, read_metadata
from smasim.models.parameters import PARAMETERS
from smasim.simulation.memory import memory_budget
from smasim.simulation.records import RunResult


@dataclass(frozen=True)
class Scenario:
    """One run to compare: its per-draw table and what it was run with.

    Attributes
    ----------
    label : str
        Unique name within a comparison (the experiment name, suffixed ``-2``, ``-3`` for
        repeats).
    source : str
        The argument it came from (a result folder or a config).
    folder : Path or None
        Its result folder, if it has one.
    config : mapping
        The resolved config (``config.json`` of a result folder).
    seed, draws, batch_size : int
        Root seed, number of draws and draws per batch of the run.
    columns : mapping of str to ndarray, each shape (draws,)
        The per-draw table (:func:`smasim.experiments.runs.store.read_draws`).
    """

    label: str
    source: str
    folder: Path | None
    config: Mapping[str, Any]
    seed: int
    draws: int
    batch_size: int
    columns: Mapping[str, np.ndarray] = field(repr=False)

    @property
    def name(self) -> str:
        """The experiment name of the config."""
        return str(self.config["experiment"]["name"])

    @property
    def description(self) -> str:
        """The config's description."""
        return str(self.config["experiment"].get("description", ""))

    @property
    def report_years(self) -> tuple[int, ...]:
        """Calendar years of the run's contribution path."""
        a = self.config["agreement"]
        return tuple(range(int(a["report_first_year"]), int(a["report_last_year"]) + 1))

    @property
    def first_year(self) -> int:
        """First year the new SMA covers (or the first report year if not reported)."""
        start = int(self.config["agreement"]["start_year"])
        return start if start in self.report_years else self.report_years[0]

    @property
    def status_quo(self) -> float:
        """Amount paid when talks open, bn KRW per year."""
        return float(self.config["agreement"]["status_quo_bn_krw"])

    def calendar_date(self, key: str) -> np.datetime64 | None:
        """A date of the config's ``[calendar]`` (``expiry``, ``election``, ``hard_stop``)."""
        value = self.config["calendar"].get(key)
        return None if value is None else np.datetime64(str(value), "D")

    @property
    def crn_signature(self) -> tuple[Any, ...]:
        """What two runs must share for their draws to use the same random numbers.

        Seed, draws, batch size, design, ratification attempts (columns of noise) and the
        uncertain parameters in registry order (columns of the design).
        """
        ex = self.config["experiment"]
        params = self.config["parameters"]
        uncertain = tuple(p for p in PARAMETERS if isinstance(params.get(p), dict))
        return (
            self.seed,
            self.draws,
            self.batch_size,
            ex.get("design"),
            ex.get("ratification_attempts"),
            uncertain,
        )


def check_held_draws(held: int, field: str = "draws") -> None:
    """Refuse, before anything is read or run, a comparison that does not fit in memory.

    Its scenarios' columns, ``held`` draws in all: at most :data:`~.options.MAX_HELD_DRAWS`,
    and what half this machine's memory holds at :data:`~.options.HELD_BYTES` a draw. The
    error names ``field``: ``draws`` where configs are run, ``sources`` for folders only.
    """
    budget = memory_budget()
    fit = MAX_HELD_DRAWS if budget is None else min(MAX_HELD_DRAWS, budget // HELD_BYTES)
    if held > fit:
        raise ValueError(
            f"{field}: the scenarios hold {held:,} draws in all, at most {fit:,} fit in "
            f"memory (~{HELD_BYTES} bytes each); compare fewer draws or fewer scenarios"
        )


def folder_draws(folder: str | Path) -> int:
    """The draw count of a result folder, from its checked metadata (no draws are read)."""
    folder = Path(folder)
    if not (folder / "summary.json").is_file():
        raise StoreError(f"{folder}: not a complete result folder (no summary.json)")
    return int(read_metadata(folder, read_config_json(folder))["draws"])


def load_scenario(folder: str | Path, *, label: str | None = None) -> Scenario:
    """Read a result folder as a :class:`Scenario` (the draws checked against their checksum).

    Raises
    ------
    StoreError
        If the folder is not a complete result folder or its draws are damaged.
    """
    folder = Path(folder)
    if not (folder / "summary.json").is_file():
        raise StoreError(f"{folder}: not a complete result folder (no summary.json)")
    validated = read_config_json(folder)  # bounded years, printable text: before any use
    meta = read_metadata(folder, validated)  # seed, draws, batch size: the config's own
    config = read_json(folder / "config.json")
    columns = read_draws(folder, validated)
    a = config["agreement"]
    years = range(int(a["report_first_year"]), int(a["report_last_year"]) + 1)
    needed = {"outcome": "iu", "agreement_date": "M", "lapse_months": "f"}
    needed |= {f"amount_{y}_bn_krw": "f" for y in years}
    missing = [c for c in needed if c not in columns]
    if missing:
        raise StoreError(
            f"{folder}: the per-draw table has no column {missing[0]!r}; "
            "rerun the scenario with its full per-draw table"
        )
    wrong = [c for c, kinds in needed.items() if columns[c].dtype.kind not in kinds]
    if wrong:
        raise StoreError(f"{folder}: the per-draw column {wrong[0]!r} has the wrong type")
    return Scenario(
        label=label or validated.experiment.name,
        source=str(folder),
        folder=folder,
        config=config,
        seed=int(meta["seed"]),
        draws=int(meta["draws"]),
        batch_size=int(meta["batch_size"]),
        columns=columns,
    )


def pairing(reference: Scenario, scenario: Scenario) -> tuple[bool, str]:
    """Whether two runs share their draws (common random numbers), and why (one sentence)."""
    a, b = reference.crn_signature, scenario.crn_signature
    names = ("seeds", "draw counts", "batch sizes", "designs", "ratification attempts")
    for name, x, y in zip(names, a, b, strict=False):
        if x != y:
            return False, f"independent samples: {name} differ ({x} vs {y})"
    if a[5] != b[5]:
        diff = sorted(set(a[5]) ^ set(b[5]))
        return False, (
            "independent samples: the uncertain parameters differ "
            f"({', '.join(diff)} is a constant in one run)"
        )
    return True, (
        f"paired draw by draw: common random numbers (seed {a[0]}, {a[1]:,} draws in batches "
        f"of {a[2]:,}, {a[3]} design over the same {len(a[5])} uncertain parameters)"
    )


def scenario_from_result(
    result: RunResult,
    config: Config,
    *,
    source: str,
    label: str | None = None,
    folder: Path | None = None,
) -> Scenario:
    """A :class:`Scenario` from a run held in memory, without a result folder.

    ``result`` and ``config`` are what
    :func:`smasim.experiments.runs.runner.run_experiment` returns.

    Parameters
    ----------
    result : RunResult
    config : Config
        The config it was run from (its seed and draws are taken from ``result``).
    source : str
        Where it came from (for the report).
    label : str, optional
        Default: the experiment name.
    folder : Path, optional
        Its result folder, if one was written.
    """
    resolved = resolved_dict(config)
    resolved["experiment"]["draws"], resolved["experiment"]["seed"] = result.draws, result.seed
    return Scenario(
        label=label or result.experiment.name,
        source=source,
        folder=folder,
        config=resolved,
        seed=result.seed,
        draws=result.draws,
        batch_size=result.experiment.batch_size,
        columns=result.columns,
    )
