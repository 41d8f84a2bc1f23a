"""Throughput and peak memory of streamed runs, as ``smasim run`` does them.

Each measurement runs in a fresh process (so peak memory is that run's alone):
``experiments.runner.run_experiment(..., out=TMP, in_memory=False)``, which writes the
per-draw table batch by batch, holds none of it in memory and summarises it from the parts
(``simulation/streamed.py``), so peak memory does not grow with the draw count. Peak memory is
the largest resident set of the parent and of any worker (``getrusage``), in MiB.

    python benchmarks/bench_scale.py --draws 100000,1000000 --workers 1,2
    python benchmarks/bench_scale.py --draws 10000000 --workers 2 --no-draws
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
from smasim.experiments.runs.runner import run_experiment
from smasim.simulation.memory import keep_freed_memory
keep_freed_memory()  # as the command line does in its own process
draws, workers, keep, out = {draws}, {workers}, {keep}, {out!r}
start = time.perf_counter()
result, _ = run_experiment({config!r}, draws=draws, workers=workers, out=out,
                           keep_draws=keep, in_memory=False)
wall = time.perf_counter() - start
self_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
child_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({{"wall_s": wall, "peak_parent_mib": self_kib / 1024,
                   "peak_worker_mib": child_kib / 1024,
                   "p_lapse": result.summary["p_lapse"]["p"]}}))
"""


def measure(config: str, draws: int, workers: int, keep: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        code = CHILD.format(
            root=str(ROOT),
            draws=draws,
            workers=workers,
            keep=keep,
            out=str(Path(tmp) / "run"),
            config=config,
        )
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        out = json.loads(done.stdout.strip().splitlines()[-1])
        size = sum(p.stat().st_size for p in (Path(tmp) / "run").rglob("*") if p.is_file())
    out.update(
        draws=draws,
        workers=workers,
        keep_draws=keep,
        folder_mib=size / 2**20,
        draws_per_s=draws / out["wall_s"],
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="sma12_may2024")
    parser.add_argument("--draws", default="100000,1000000", help="comma-separated")
    parser.add_argument("--workers", default="1,2", help="comma-separated")
    parser.add_argument("--no-draws", action="store_true", help="write only summary columns")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    print(
        f"machine: nproc {os.cpu_count()}, {platform.processor() or platform.machine()}, "
        f"python {platform.python_version()}, load average {os.getloadavg()}"
    )
    rows = []
    header = (
        f"{'draws':>12} {'workers':>7} {'per-draw table':>14} {'wall s':>8} "
        f"{'draws/s':>10} {'peak parent MiB':>15} {'peak worker MiB':>15} {'folder MiB':>10}"
    )
    print(header)
    for n in (int(x) for x in args.draws.split(",")):
        for w in (int(x) for x in args.workers.split(",")):
            r = measure(args.config, n, w, keep=not args.no_draws)
            rows.append(r)
            print(
                f"{n:>12,} {w:>7} {'summary only' if args.no_draws else 'all columns':>14} "
                f"{r['wall_s']:>8.1f} {r['draws_per_s']:>10,.0f} "
                f"{r['peak_parent_mib']:>15,.0f} {r['peak_worker_mib']:>15,.0f} "
                f"{r['folder_mib']:>10,.1f}",
                flush=True,
            )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
