"""Draws per second of two source trees of smasim, measured in one invocation.

On a shared machine absolute times drift by tens of percent over minutes, so a speed-up is
only meaningful as a ratio of runs interleaved in time. Each run is a fresh process that
imports smasim from its tree, warms up on one batch and times ``simulation.montecarlo.run``
on the default config; the order of the trees alternates between repeats.

Either layout of a tree is accepted. A tree with a root ``__init__.py`` is the package
itself (``smasim.simulation.montecarlo``): it is imported as ``smasim`` through a temporary
directory holding a symlink ``smasim -> TREE``, put first on ``sys.path`` so that neither an
installed smasim (e.g. the editable install of another checkout) nor the current directory
is imported instead. A tree without one has the old top-level packages (``simulation``,
``experiments``) and is itself put first on ``sys.path``. Each run checks that its engine
module, in the process and in every pool worker, was loaded from the tree under test.

Usage::

    git worktree add /tmp/before <commit>
    python benchmarks/ab_trees.py /tmp/before . --draws 1000000 --workers 2 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

# import names of the config loader, the engine, the executors and the allocator setting
NEW_LAYOUT = (
    "smasim.experiments.config.load",
    "smasim.simulation.montecarlo",
    "smasim.simulation.executors",
    "smasim.simulation.memory",
)
OLD_LAYOUT = (
    "experiments.config",
    "simulation.montecarlo",
    "simulation.executors",
    "simulation.memory",
)

RUN = """
import os, sys, time
sys.path.insert(0, {path!r})
from {config_module} import build_experiment, load_config
from {engine} import run
from {executors} import map_batches
try:  # as `smasim run` does in its own process, where the tree has it
    from {memory} import keep_freed_memory
    keep_freed_memory()
except ImportError:
    pass

def engine_file(_=None):
    return os.path.realpath(sys.modules[{engine!r}].__file__)

experiment = build_experiment(load_config({config!r}))
run(experiment, draws=min(experiment.batch_size, {draws}), seed=3, workers=1)
start = time.perf_counter()
run(experiment, draws={draws}, seed=1, workers={workers})
print({draws} / (time.perf_counter() - start))
# where the engine came from, here and in the workers of a pool started as `run` starts it
files = {{engine_file()}}
if {workers} > 1:
    pool = map_batches(engine_file, range({workers}), batch_of=int, workers={workers})
    files |= {{f for _, f in pool}}
print(*sorted(files), sep="\\n")
"""


def is_package_tree(tree: Path) -> bool:
    """Whether ``tree`` has the new layout: the tree itself is the package ``smasim``."""
    return (tree / "__init__.py").is_file()


def import_path(tree: Path, links: Path) -> str:
    """The ``sys.path`` entry that makes ``tree`` importable under its layout's names."""
    tree = tree.resolve()
    if not is_package_tree(tree):
        return str(tree)
    # one directory per tree: two new-layout trees both need the name `smasim`
    holder = Path(tempfile.mkdtemp(dir=links))
    (holder / "smasim").symlink_to(tree, target_is_directory=True)
    return str(holder)


def draws_per_second(tree: Path, path: str, config: str, draws: int, workers: int) -> float:
    names = NEW_LAYOUT if is_package_tree(tree) else OLD_LAYOUT
    code = RUN.format(
        path=path,
        config_module=names[0],
        engine=names[1],
        executors=names[2],
        memory=names[3],
        config=config,
        draws=draws,
        workers=workers,
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd="/"
    )
    if done.returncode:
        sys.exit(f"run in {tree} failed:\n{done.stderr}")
    rate, *files = done.stdout.split()
    root = tree.resolve()
    if not files or any(not Path(f).is_relative_to(root) for f in files):
        sys.exit(f"run in {tree} imported its engine from elsewhere: {', '.join(files)}")
    return float(rate)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path, help="source tree A (e.g. a git worktree)")
    parser.add_argument("after", type=Path, help="source tree B")
    parser.add_argument("--config", default="sma12_may2024")
    parser.add_argument("--draws", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rates: dict[Path, list[float]] = {args.before: [], args.after: []}
    with tempfile.TemporaryDirectory(prefix="ab_trees_") as links:
        paths = {tree: import_path(tree, Path(links)) for tree in rates}
        for repeat in range(args.repeats):
            order = (args.before, args.after) if repeat % 2 == 0 else (args.after, args.before)
            for tree in order:
                rate = draws_per_second(tree, paths[tree], args.config, args.draws, args.workers)
                rates[tree].append(rate)
    before, after = (statistics.median(rates[t]) for t in (args.before, args.after))
    for tree, label in ((args.before, "A"), (args.after, "B")):
        runs = " / ".join(f"{r:,.0f}" for r in rates[tree])
        print(f"{label} {tree}: median {statistics.median(rates[tree]):,.0f} draws/s ({runs})")
    print(
        f"B / A = {after / before:.2f} ({args.draws:,} draws, {args.workers} workers, "
        f"{args.repeats} runs each, interleaved)"
    )


if __name__ == "__main__":
    main()
