"""Draws per second of two source trees of smasim, measured in one invocation.

On a shared machine absolute times drift by tens of percent over minutes, so a speed-up is
only meaningful as a ratio of runs interleaved in time. Each run is a fresh process that
imports smasim from its tree, warms up on one batch and times ``simulation.montecarlo.run``
on the default config; the order of the trees alternates between repeats.

Usage::

    git worktree add /tmp/before <commit>
    python benchmarks/ab_trees.py /tmp/before . --draws 1000000 --workers 2 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

RUN = """
import sys, time
sys.path.insert(0, {tree!r})
from smasim.experiments.config.load import build_experiment, load_config
from smasim.simulation.montecarlo import run
try:  # as `smasim run` does in its own process, where the tree has it
    from smasim.simulation.memory import keep_freed_memory
    keep_freed_memory()
except ImportError:
    pass
experiment = build_experiment(load_config({config!r}))
run(experiment, draws=min(experiment.batch_size, {draws}), seed=3, workers=1)
start = time.perf_counter()
run(experiment, draws={draws}, seed=1, workers={workers})
print({draws} / (time.perf_counter() - start))
"""


def draws_per_second(tree: Path, config: str, draws: int, workers: int) -> float:
    code = RUN.format(tree=str(tree.resolve()), config=config, draws=draws, workers=workers)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd="/"
    )
    if done.returncode:
        sys.exit(f"run in {tree} failed:\n{done.stderr}")
    return float(done.stdout)


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
    for repeat in range(args.repeats):
        order = (args.before, args.after) if repeat % 2 == 0 else (args.after, args.before)
        for tree in order:
            rates[tree].append(draws_per_second(tree, args.config, args.draws, args.workers))
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
