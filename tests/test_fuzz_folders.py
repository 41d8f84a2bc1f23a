"""Result-folder fuzzing: a damaged, forged or foreign folder is refused in one line.

The config fuzzer (``test_fuzz_config.py``) checks what a user types; this one checks what a
command reads from disk. A few genuine folders are made once (256 draws in 4 parts of 64): a
finished run ``A``, the same run with another seed ``B`` (the source of foreign parts), a
``--no-draws`` run ``N`` and an interrupted run ``P`` (2 of 4 batches kept). Each example
copies one, applies one to three random mutations (seeded: the same examples every time) and
drives it through the command line in process:

* finished folders through ``compare A F``, ``plot F --out`` and ``trace F --draw``;
* interrupted runs through ``run CONFIG --out F --resume``.

Mutations: JSON fields of ``config.json``, ``metadata.json``, ``summary.json`` and the
partial's ``run.json`` retyped, removed, nested, set to huge numbers (``report_last_year =
10**12``, ``draws = 10**12``), paths in ``metadata.json`` pointed outside the folder, whole
files emptied, truncated, nested 100,000 deep, made links or folders; parts swapped, taken
from ``B``, truncated, flipped, retyped, given extra or fewer columns, extra or missing, made
links; the partial's checksum journal edited; stray files. A "forged" variant also rewrites
the checksums in ``metadata.json`` so that the deeper checks are reached.

Every command must end in one of

* **accepted**: exit 0; a command that read the per-draw table got the genuine rows, seed,
  draws and batch size bit for bit. ``compare`` and ``plot`` hand what they read to a stub of
  their analysis, which only touches the columns (the real one takes seconds). The real
  analysis runs instead on every 40th accepted example and, in the slow test, on the first
  example of each mutation kind (``compare`` then also writes its report, data and figures
  with ``--out``, and no control character from a file may reach them). A resumed run's finished
  folder holds exactly the rows of an uninterrupted run, and no partial folder is left.
  (A forged folder whose part came whole from ``B``, or had a bit flipped inside a value,
  with its checksum rewritten cannot be told from a genuine one: the one case allowed to be
  accepted with other rows. A swapped, truncated, retyped, extra or missing part is refused
  even when forged.)
* **refused**: exit 2 and exactly one line on stderr, no traceback.

Peak memory of the test process may grow by at most ``RSS_BOUND_MB`` over its start. The
first example of each mutation kind is also run as a real ``python -m smasim`` process, to
check the exit code and stderr of the real entry point.
"""

from __future__ import annotations

import collections
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import typer

from smasim import cli
from smasim.experiments.comparison import compare as compare_module
from smasim.experiments.comparison import plots as plots_module
from smasim.experiments.config.load import load_config
from smasim.experiments.config.specs import parameter_specs
from smasim.experiments.runs.runner import run_experiment
from smasim.experiments.runs.store import partial_folder, read_draws
from tests.test_fuzz_config import _resolved, toml_dumps

DRAWS, BATCH = 256, 64
EXAMPLES = int(os.environ.get("SMASIM_FUZZ_FOLDERS", "5000"))
FAST_EXAMPLES = int(os.environ.get("SMASIM_FUZZ_FAST", "30"))
RSS_BOUND_MB = 400
REAL_EVERY = 40  # every 40th accepted compare / plot runs the real analysis and figures
HUGE = [10**12, -(10**12), 10**400, 2**63, -1, 0, 1e308, -1e308, 1.5, True, None, "", "1"]


# --- the genuine folders, made once --------------------------------------------------------
class _Stop(KeyboardInterrupt):
    pass


@pytest.fixture(scope="module")
def genuine(tmp_path_factory):
    root = tmp_path_factory.mktemp("genuine")
    config = root / "c.toml"
    # the default config without its calibration, its parameters at their central values
    # but one: loading it and replaying a draw take 0.03 s, not 0.3 (scipy's distributions)
    data = _resolved("sma12_may2024")
    data.pop("calibration")
    data["experiment"]["batch_size"] = BATCH
    config.write_text(toml_dumps(data), encoding="utf-8")
    data["parameters"] = {s.name: float(s.central()) for s in parameter_specs(load_config(config))}
    data["parameters"]["us_pressure"] = {"choices": [0.3, 0.6, 0.9]}
    config.write_text(toml_dumps(data), encoding="utf-8")
    run_experiment(config, draws=DRAWS, seed=1, out=root / "A")
    run_experiment(config, draws=DRAWS, seed=2, out=root / "B")
    run_experiment(config, draws=DRAWS, seed=1, out=root / "N", keep_draws=False)
    seen = [0]

    def stop_after_two(_n):
        seen[0] += 1
        if seen[0] == 2:
            raise _Stop

    with pytest.raises(_Stop):
        run_experiment(config, draws=DRAWS, seed=1, out=root / "P", progress=stop_after_two)
    return {
        "root": root,
        "config": config,
        "A": read_draws(root / "A"),
        "N": read_draws(root / "N"),
    }


# --- mutations -----------------------------------------------------------------------------
def _junk(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(8 if depth < 2 else 5)
    if kind == 0:
        return rng.choice(HUGE)
    if kind == 1:
        return rng.choice(["", "x" * 300, "\x1b]52;c;ZXZpbA==\x07", "..", "/etc/passwd", "é"])
    if kind == 2:
        return rng.uniform(-1e6, 1e6)
    if kind == 3:
        return rng.randrange(-(2**40), 2**40)
    if kind == 4:
        return rng.choice([True, False, None])
    if kind == 5:
        return [_junk(rng, depth + 1) for _ in range(rng.randrange(3))]
    if kind == 6:
        return {rng.choice(["a", "file", "sha256", ""]): _junk(rng, depth + 1)}
    return float("nan")


def _nodes(obj: Any, prefix: tuple = ()) -> list[tuple]:
    items = (
        obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    )
    out = []
    for k, v in items:
        out.append((*prefix, k))
        out += _nodes(v, (*prefix, k))
    return out


def _get(obj: Any, path: tuple) -> Any:
    for k in path:
        obj = obj[k]
    return obj


KEYS = {  # fields the readers use, hit more often than a random node
    "config.json": [("experiment", "seed"), ("experiment", "draws"), ("experiment", "batch_size"),
                    ("agreement", "report_last_year"), ("agreement", "report_first_year"),
                    ("experiment", "name"), ("parameters",), ("calendar", "expiry")],
    "metadata.json": [("seed",), ("draws",), ("batch_size",), ("parts",), ("parts", 0),
                      ("parts", 0, "file"), ("parts", 1, "sha256"), ("format_version",)],
    "summary.json": [("years",), ("draws",)],
    "run.json": [("config", "experiment", "seed"), ("config", "experiment", "draws"),
                 ("batch_size",), ("columns",), ("format_version",)],
}  # fmt: skip


TEXTS = {  # text fields that reach a terminal, a report or a figure title
    "config.json": [("experiment", "name"), ("experiment", "description")],
}


def m_json_field(rng: random.Random, folder: Path, name: str) -> str:
    path = folder / name
    try:
        # never through a link: an earlier mutation may have linked it to B's file
        data = None if path.is_symlink() else json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        return "json-unreadable"
    nodes = _nodes(data)
    target = rng.choice(KEYS[name]) if rng.random() < 0.6 else rng.choice(nodes)
    parent = _get(data, target[:-1]) if len(target) > 1 else data
    key = target[-1]
    if isinstance(parent, list) and not (isinstance(key, int) and key < len(parent)):
        return "json-missing-node"
    if isinstance(parent, dict) and key not in parent:
        return "json-missing-node"
    how = rng.choice(["retype", "remove", "huge", "nest", "outside", "escape"])
    if how == "escape":  # a terminal escape (OSC 52 writes the clipboard) in a text field
        target = rng.choice(TEXTS.get(name, [target]))
        parent = _get(data, target[:-1]) if len(target) > 1 else data
        key = target[-1]
        parent[key] = "\x1b]52;c;ZXZpbA==\x07" + str(
            parent.get(key, "") if isinstance(parent, dict) else ""
        )
    elif how == "remove":
        del parent[key]
    elif how == "huge":
        parent[key] = rng.choice(HUGE)
    elif how == "nest":
        parent[key] = rng.choice([[parent[key]], {"value": parent[key]}])
    elif how == "outside":
        parent[key] = rng.choice(
            ["/etc/passwd", "../B/draws/part-00000.parquet", "draws/../../B/metadata.json",
             "draws/part-00001.parquet", f"{'../' * 20}etc/shadow"]
        )  # fmt: skip
    else:
        parent[key] = _junk(rng)
    path.write_text(json.dumps(data), encoding="utf-8")
    return f"json-{how}"


def m_json_file(rng: random.Random, folder: Path, name: str, other: Path) -> str:
    path = folder / name
    how = rng.choice(["empty", "invalid", "bytes", "deep", "list", "dir", "delete", "link",
                      "link-out", "dangling", "truncate", "big-int"])  # fmt: skip
    try:
        text = "{}" if path.is_symlink() else path.read_text(encoding="utf-8")
    except (OSError, ValueError):
        text = "{}"
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    path.unlink(missing_ok=True)
    if how == "empty":
        path.write_text("")
    elif how == "invalid":
        path.write_text("{'not': json")
    elif how == "bytes":
        path.write_bytes(b"\xff\xfe\x00{" + os.urandom(64))
    elif how == "deep":
        path.write_text("[" * 100_000 + "]" * 100_000)
    elif how == "list":
        path.write_text(f"[{text}]")
    elif how == "dir":
        path.mkdir()
    elif how == "link":
        path.symlink_to(other / name)
    elif how == "link-out":
        path.symlink_to("/etc/passwd")
    elif how == "dangling":
        path.symlink_to(folder / "nowhere")
    elif how == "truncate":
        path.write_text(text[: rng.randrange(max(len(text), 1))])
    elif how == "big-int":
        path.write_text('{"seed": ' + "9" * 5000 + "}")
    return f"file-{how}"


def _rewrite_part(rng: random.Random, path: Path) -> str:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError, ValueError):
        return "part-unreadable"
    how = rng.choice(["retype", "drop", "extra", "rows", "nested"])
    names = table.column_names
    i = rng.randrange(len(names))
    if how == "retype":
        to = rng.choice([pa.string(), pa.float32(), pa.int8(), pa.bool_()])
        try:
            table = table.set_column(i, names[i], table.column(i).cast(to, safe=False))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            table = table.set_column(i, names[i], pa.array([str(x) for x in table.column(i)]))
    elif how == "drop":
        table = table.remove_column(i)
    elif how == "extra":
        table = table.append_column("param_extra", pa.array(np.zeros(table.num_rows)))
    elif how == "rows":
        table = table.slice(0, rng.randrange(max(table.num_rows, 1))) if rng.random() < 0.5 else (
            pa.concat_tables([table, table]))  # fmt: skip
    else:
        nested = pa.array([[1.0, 2.0]] * table.num_rows)
        table = table.set_column(i, names[i], nested)
    pq.write_table(table, path)
    return f"part-{how}"


def m_part(rng: random.Random, folder: Path, other: Path) -> str:
    draws = folder / "draws"
    if draws.is_symlink() or not draws.is_dir():
        return "part-none"  # never write through a link into B
    parts = [p for p in sorted(draws.glob("part-*.parquet")) if p.is_file() and not p.is_symlink()]
    if not parts:
        return "part-none"
    path = rng.choice(parts)
    how = rng.choice(["swap", "foreign", "truncate", "flip", "rewrite", "extra", "missing",
                      "dir", "link", "dir-link", "empty", "stray"])  # fmt: skip
    if how == "swap" and len(parts) > 1:
        a, b = rng.sample(parts, 2)
        ba, bb = a.read_bytes(), b.read_bytes()
        a.write_bytes(bb)
        b.write_bytes(ba)
    elif how == "foreign":
        path.write_bytes((other / "draws" / path.name).read_bytes())
    elif how == "truncate":
        data = path.read_bytes()
        path.write_bytes(data[: rng.randrange(max(len(data), 1))])
    elif how == "flip":
        data = bytearray(path.read_bytes())
        if data:
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        path.write_bytes(bytes(data))
    elif how == "rewrite":
        return _rewrite_part(rng, path)
    elif how == "extra":
        name = rng.choice(["part-00004.parquet", "part-00099.parquet", "part-1.parquet",
                           "part-00003.parquet"])  # fmt: skip
        (draws / name).unlink(missing_ok=True)  # never write through a link into B
        (draws / name).write_bytes(path.read_bytes())
    elif how == "missing":
        path.unlink()
    elif how == "dir":
        path.unlink()
        path.mkdir()
    elif how == "link":
        path.unlink()
        path.symlink_to(other / "draws" / path.name)
    elif how == "dir-link":
        shutil.rmtree(draws)
        draws.symlink_to(other / "draws")
    elif how == "empty":
        path.write_bytes(b"")
    else:
        (
            rng.choice([folder, draws]) / rng.choice(["notes.txt", "x.parquet", ".hidden"])
        ).write_text("someone else's")
    return f"part-{how}"


def m_journal(rng: random.Random, folder: Path, other: Path) -> str:
    path = folder / "parts.sha256"
    try:
        lines = [line for line in path.read_text(encoding="ascii").splitlines() if line.strip()]
    except (OSError, ValueError):
        return "journal-unreadable"
    how = rng.choice(["drop", "swap", "garbage", "delete", "dir", "foreign-sha", "duplicate"])
    if how == "drop" and lines:
        lines.pop(rng.randrange(len(lines)))
    elif how == "swap" and len(lines) > 1:
        a, b = (line.split() for line in lines[:2])
        lines[:2] = [f"{a[0]} {b[1]}", f"{b[0]} {a[1]}"]
    elif how == "garbage":
        path.write_bytes(os.urandom(rng.randrange(1, 300)))
        return "journal-garbage"
    elif how == "delete":
        path.unlink()
        return "journal-delete"
    elif how == "dir":
        path.unlink()
        path.mkdir()
        return "journal-dir"
    elif how == "foreign-sha" and lines:
        from smasim.experiments.runs.reader import sha256

        name = lines[0].split()[0]
        lines[0] = f"{name} {sha256(other / 'draws' / name)}"
        (folder / "draws" / name).unlink(missing_ok=True)
        (folder / "draws" / name).write_bytes((other / "draws" / name).read_bytes())
    elif lines:
        lines.append(lines[0].split()[0] + " " + "0" * 64)
    path.write_text("".join(f"{line}\n" for line in lines))
    return f"journal-{how}"


def _apply(mutation, *args) -> str:
    """Apply one mutation; one that cannot apply to what earlier ones left is skipped."""
    try:
        return mutation(*args)
    except (OSError, ValueError, IndexError, KeyError, TypeError, RecursionError):
        return f"{mutation.__name__}-skipped"


def forge_checksums(folder: Path) -> None:
    """Rewrite ``metadata.json``'s checksums to match the parts as they now are."""
    from smasim.experiments.runs.reader import sha256

    if (folder / "metadata.json").is_symlink():
        return
    try:
        meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
        for part in meta["parts"]:
            path = folder / part["file"]
            part["sha256"] = sha256(path) if path.is_file() else part["sha256"]
        (folder / "metadata.json").write_text(json.dumps(meta), encoding="utf-8")
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        pass  # metadata.json itself was mutated beyond repair


class _Stubbed:
    """What the stubbed analysis returns: enough for the commands to print."""

    def to_dict(self) -> dict:
        return {}

    def paths(self) -> tuple[Path, ...]:
        return (Path("fan_chart.png"), Path("first_year_ecdf.png"), Path("agreement_dates.png"))


# --- the driver ------------------------------------------------------------------------------
class FolderFuzz:
    def __init__(self, genuine: dict, work: Path, capsys, monkeypatch) -> None:
        self.g, self.work, self.capsys = genuine, work, capsys
        self.root = genuine["root"]
        self.outcomes: collections.Counter[str] = collections.Counter()
        self.failures: list[str] = []
        self.loaded: list = []
        self.accepted = 0
        self.real_kinds: set[str] | None = None  # kinds already run through the real analysis
        self.real_now = False  # this example's compare / plot run the real analysis
        self.subprocess_kinds: set[str] = set()
        self.examples = 0
        real_compare = compare_module.compare_scenarios

        def stub(real):
            def call(scenarios, *args, **kwargs):
                self.loaded.extend(scenarios)
                if self.real_now:
                    return real(scenarios, *args, **kwargs)
                for s in scenarios:  # touch the data the analysis reads
                    [np.nanpercentile(s.columns[f"amount_{y}_bn_krw"], 50) for y in s.report_years]
                return _Stubbed()

            return call

        monkeypatch.setattr(compare_module, "compare_scenarios", stub(real_compare))
        monkeypatch.setattr(plots_module, "plot_scenarios", stub(plots_module.plot_scenarios))

    def cli(self, argv: list[str]) -> tuple[int, str, str]:
        self.capsys.readouterr()
        try:
            code = cli.main(argv)
        except BaseException as exc:  # an exception escaping cli.main is a traceback
            code = f"traceback {type(exc).__name__}: {exc}"
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err

    def example(self, i: int) -> None:
        rng = random.Random(f"folder-fuzz-{i}")
        self.examples += 1
        folder = self.work / f"e{i}"
        if rng.random() < 0.25:
            self._partial(rng, folder)
        else:
            self._finished(rng, folder)
        shutil.rmtree(self.work, ignore_errors=True)
        self.work.mkdir()

    def _finished(self, rng: random.Random, folder: Path) -> None:
        source = "N" if rng.random() < 0.15 else "A"
        shutil.copytree(self.root / source, folder)
        kinds = []
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            what = rng.random()
            name = rng.choice(["config.json", "metadata.json", "metadata.json", "summary.json"])
            if what < 0.45:
                kinds.append(f"{name[:-5]}-{_apply(m_json_field, rng, folder, name)}")
            elif what < 0.6:
                other = self.root / "B"
                kinds.append(f"{name[:-5]}-{_apply(m_json_file, rng, folder, name, other)}")
            else:
                kinds.append(_apply(m_part, rng, folder, self.root / "B"))
        forged = rng.random() < 0.4
        if forged:
            forge_checksums(folder)
        kind = "+".join(sorted(set(kinds))) + (" (forged)" if forged else "")
        # a forged folder whose part came whole from B, or had a bit flipped inside a value,
        # is self-consistent: nothing short of a signature tells it from a genuine one
        foreign_ok = forged and any(k in ("part-foreign", "part-flip") for k in kinds)
        draw = rng.choice([0, 63, 64, 255])
        new_kinds = self.real_kinds is not None and not set(kinds) <= self.real_kinds
        self.real_now = new_kinds or self.accepted % REAL_EVERY == 0
        report = self.work / "report"
        compare = ["compare", str(self.root / "A"), str(folder), "--json"]
        commands = [
            compare + (["--out", str(report)] if self.real_now else []),
            ["plot", str(folder), "--out", str(self.work / "plots"), "--json"],
            ["trace", str(folder), "--draw", str(draw), "--json"],
        ]
        for argv in commands:
            self.loaded.clear()
            code, _, err = self.cli(argv)
            what = f"{argv[0]} on {source} after {kind}"
            self._check(code, err, what)
            if code == 0 and argv[0] in ("compare", "plot"):
                self.accepted += 1
                mine = [s for s in self.loaded if s.folder == folder]
                for s in mine if not foreign_ok else []:
                    self._same(s.columns, self.g[source], what)
                    if (s.seed, s.draws, s.batch_size) != (1, DRAWS, BATCH):
                        self.failures.append(f"{what}: accepted seed/draws/batch {s.seed}")
                if self.real_now and self.real_kinds is not None:
                    self.real_kinds.update(kinds)
                self._no_control_characters(report if argv[0] == "compare" else None, what)
            self._count(argv[0], code)
            self._maybe_subprocess(kinds[0], argv, code)

    def _partial(self, rng: random.Random, folder: Path) -> None:
        partial = partial_folder(folder)
        shutil.copytree(partial_folder(self.root / "P"), partial, symlinks=True)
        kinds = []
        for _ in range(rng.choice([1, 1, 2])):
            what = rng.random()
            if what < 0.2:
                kinds.append(_apply(m_json_field, rng, partial, "run.json"))
            elif what < 0.3:
                kinds.append(_apply(m_json_file, rng, partial, "run.json", self.root / "B"))
            elif what < 0.5:
                kinds.append(_apply(m_journal, rng, partial, self.root / "B"))
            elif what < 0.55:
                lock = partial / ".lock"
                if lock.is_dir():
                    lock.rmdir()
                lock.unlink(missing_ok=True)
                if rng.random() < 0.5:
                    lock.mkdir()
                kinds.append("lock")
            else:
                kinds.append(_apply(m_part, rng, partial, self.root / "B"))
        kind = "+".join(sorted(set(kinds)))
        argv = ["run", str(self.g["config"]), "--draws", str(DRAWS), "--seed", "1",
                "--out", str(folder), "--resume", "--json"]  # fmt: skip
        code, _, err = self.cli(argv)
        what = f"resume after {kind}"
        self._check(code, err, what)
        if code == 0:
            # certified: exactly the rows of the uninterrupted run (unless another run's part
            # came with its checksum forged into the record), and nothing left behind
            if "journal-foreign-sha" not in kinds:
                self._same(read_draws(folder), self.g["A"], what)
            if partial.exists() or partial.is_symlink():
                self.failures.append(f"{what}: the partial folder was left behind")
            extra = {p.name for p in folder.iterdir()} - {"config.json", "metadata.json",
                                                          "summary.json", "draws"}  # fmt: skip
            if extra:
                self.failures.append(f"{what}: the finished folder holds {sorted(extra)}")
        elif folder.exists():
            self.failures.append(f"{what}: a refused resume left {folder}")
        self._count("resume", code)
        if os.environ.get("SMASIM_FUZZ_VERBOSE"):
            os.write(2, f"{what} {code} {err.strip()[:300]}\n".encode())
        self._maybe_subprocess(kinds[0], argv, code)

    def _check(self, code, err: str, what: str) -> None:
        if code == 0:
            return
        lines = err.splitlines()
        if code != 2 or len(lines) != 1 or not lines[0].startswith("error: ") or "Traceback" in err:
            self.failures.append(f"{what}: exit {code}, stderr {err[-300:]!r}")

    def _no_control_characters(self, folder: Path | None, what: str) -> None:
        """The report and data ``compare --out`` wrote carry no terminal control sequence."""
        if folder is None or not folder.is_dir():
            return
        for path in [*folder.glob("*.md"), *folder.glob("*.json")]:
            text = path.read_text(encoding="utf-8")
            if any(c in text for c in ("\x1b", "\x07", "\x9b", "\x9d")):
                self.failures.append(f"{what}: {path.name} carries a control character")
        shutil.rmtree(folder)

    def _same(self, columns: dict, genuine: dict, what: str) -> None:
        if columns.keys() != genuine.keys() or any(
            columns[k].dtype != genuine[k].dtype or columns[k].tobytes() != genuine[k].tobytes()
            for k in genuine
        ):
            self.failures.append(f"{what}: accepted rows that are not the run's own")

    def _count(self, command: str, code) -> None:
        self.outcomes[f"{command}: {'accepted' if code == 0 else 'refused'}"] += 1

    def _maybe_subprocess(self, kind: str, argv: list[str], code) -> None:
        """The first example of each mutation kind, again as a real process."""
        if self.subprocess_budget <= 0 or kind in self.subprocess_kinds or code not in (0, 2):
            return
        if argv[0] in ("compare", "plot") and code == 0:
            return  # the real analysis takes seconds; the exit code is what is checked here
        self.subprocess_kinds.add(kind)
        self.subprocess_budget -= 1
        if argv[0] == "run" and code == 0:
            return  # the partial was used up by the in-process resume
        env = {**os.environ, "COLUMNS": "120"}
        p = subprocess.run([sys.executable, "-m", "smasim", *argv], capture_output=True,
                           text=True, env=env, timeout=120)  # fmt: skip
        if p.returncode != code:
            self.failures.append(f"{kind} as a process: exit {p.returncode}, in process {code}")
        self._check(p.returncode, p.stderr, f"{kind} as a process ({argv[0]})")

    subprocess_budget = 0

    def report(self, seconds: float) -> str:
        lines = [f"folder fuzzing: {self.examples} mutated folders in {seconds:.0f} s"]
        lines += [f"  {k:<22} {v:>6}" for k, v in sorted(self.outcomes.items())]
        lines.append(f"  mutation kinds also run as processes: {len(self.subprocess_kinds)}")
        if self.real_kinds is not None:
            lines.append(f"  mutation kinds through the real analysis: {len(self.real_kinds)}")
        return "\n".join(lines)


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def fuzz_folders(
    genuine, tmp_path, capsys, monkeypatch, *, examples: int, processes: int, real_kinds: bool
):
    monkeypatch.setattr(cli, "app", typer.main.get_command(cli.app))
    monkeypatch.setenv("COLUMNS", "120")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(tmp_path)
    f = FolderFuzz(genuine, work, capsys, monkeypatch)
    f.subprocess_budget = processes
    f.real_kinds = set() if real_kinds else None
    start_rss, start = _rss_mb(), time.perf_counter()
    for i in range(examples):
        f.example(i)
        assert len(f.failures) < 20, "\n".join(f.failures)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with capsys.disabled():
        print(f"\n{f.report(time.perf_counter() - start)}\n  RSS {start_rss:.0f} MiB at the "
              f"start, peak {peak_mb:.0f} MiB")  # fmt: skip
    assert not f.failures, "\n".join(f.failures)
    assert peak_mb - start_rss < RSS_BOUND_MB, (start_rss, peak_mb)
    assert not list(tmp_path.glob(".*.partial")) and not (tmp_path / "runs").exists()
    for name in ("A", "B", "N"):  # the genuine folders were only read
        read_draws(genuine["root"] / name)
    return f


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs Linux /proc")
def test_mutated_folders_are_refused_in_one_line(genuine, tmp_path, capsys, monkeypatch):
    """30 fixed examples (~4 s), every command in process."""
    f = fuzz_folders(
        genuine,
        tmp_path,
        capsys,
        monkeypatch,
        examples=FAST_EXAMPLES,
        processes=0,
        real_kinds=False,
    )
    assert f.outcomes["resume: refused"] and f.outcomes["compare: refused"], f.outcomes


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs Linux /proc")
def test_5000_mutated_folders_are_refused_in_one_line(genuine, tmp_path, capsys, monkeypatch):
    """5,000 seeded examples; the first of each mutation kind also as a real process."""
    f = fuzz_folders(
        genuine, tmp_path, capsys, monkeypatch, examples=EXAMPLES, processes=30, real_kinds=True
    )
    assert f.examples >= 5000
    for command in ("compare", "plot", "trace", "resume"):
        assert f.outcomes[f"{command}: accepted"] and f.outcomes[f"{command}: refused"], command
