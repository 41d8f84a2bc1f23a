"""Throughput of the Monte Carlo engine against the plain per-draw reference.

Measures, for one config (the bundled default unless ``--config``):

* ``simulation.montecarlo.run`` on ``--draws`` draws with 1 and 2 worker processes (or
  ``--workers``), ``--repeats`` runs each: wall time of the run as the engine reports it
  (``RunResult.elapsed_s``: sampling, negotiation, the per-draw table and, with workers, the
  process pool), draws per second, median and every run;
* ``benchmarks.reference.reference_negotiate`` on the first ``--reference-draws`` draws of the
  run's first batch, one draw at a time, and the engine on the same draws as a cross-check
  (draws whose status, round, package, vetoes or rejections differ, or base beyond rtol 1e-7);
* the speed-up of the engine over the reference, both measured in this invocation.

Usage::

    python benchmarks/bench_engine.py                       # 1M draws x 3 repeats x {1, 2}
    python benchmarks/bench_engine.py --draws 200000 --json bench.json

This is a script, not a test; it takes minutes at the defaults.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere; the repo is not installed
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import simpy  # noqa: E402

from benchmarks.reference import reference_negotiate  # noqa: E402
from smasim.experiments.config.load import build_experiment, load_config  # noqa: E402
from smasim.simulation.montecarlo import batch_rng, negotiate, run  # noqa: E402
from smasim.simulation.sampling import sample  # noqa: E402


def machine_info() -> dict:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    try:
        load = [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        load = None
    return {
        "nproc": usable,
        "loadavg_at_start": load,
        "cpu_count": os.cpu_count(),
        "cpu": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "simpy": simpy.__version__,
    }


def bench_vectorized(experiment, draws: int, seed: int, workers: int, repeats: int) -> dict:
    runs = []
    for rep in range(repeats):
        result = run(experiment, draws=draws, seed=seed, workers=workers)
        elapsed = result.elapsed_s
        del result  # a 1M-draw table is ~0.7 GB; never hold two
        runs.append(elapsed)
        print(
            f"  vectorized, {workers} worker(s), run {rep + 1}/{repeats}: {elapsed:8.2f} s "
            f"= {draws / elapsed:12,.0f} draws/s",
            flush=True,
        )
    rates = [draws / t for t in runs]
    return {
        "workers": workers,
        "draws": draws,
        "elapsed_s": runs,
        "draws_per_s": rates,
        "median_elapsed_s": statistics.median(runs),
        "median_draws_per_s": draws / statistics.median(runs),
    }


def bench_reference(experiment, n: int, seed: int) -> dict:
    """The reference on the first ``n`` draws of batch 0, and the engine on the same draws."""
    size = max(n, min(experiment.batch_size, 16384))
    values, noise = sample(
        experiment.specs,
        size,
        design=experiment.design,
        n_attempts=experiment.ratification_attempts,
        n_packages=experiment.setting.packages.size,
        rng=batch_rng(seed, 0),
    )
    values = {k: v[:n] for k, v in values.items()}
    noise = noise.take(slice(0, n))
    start = time.perf_counter()
    refs = []
    for i in range(n):
        refs.append(reference_negotiate(experiment, values, noise, i))
        if (i + 1) % 50 == 0 or i + 1 == n:
            el = time.perf_counter() - start
            print(f"  reference: {i + 1}/{n} draws, {el:.1f} s", flush=True)
    elapsed = time.perf_counter() - start

    out = negotiate(experiment, values, noise)
    mismatches = []
    for i, ref in enumerate(refs):
        bad = [
            f
            for f in ("status", "agree_round", "package", "vetoes", "rejections")
            if ref[f] != getattr(out, f)[i]
        ]
        if not np.isclose(ref["base"], out.base[i], rtol=1e-7, atol=0.0, equal_nan=True):
            bad.append("base")
        if bad:
            mismatches.append({"draw": i, "fields": bad})
    return {
        "draws": n,
        "elapsed_s": elapsed,
        "draws_per_s": n / elapsed,
        "mean_solves_per_draw": float(np.mean([r["solves"] for r in refs])),
        "mean_rounds_per_draw": float(np.mean([r["rounds_evaluated"] for r in refs])),
        "mismatches": mismatches,
    }


def main(argv: list[str] | None = None) -> int:
    # as `smasim run` does in its own process (the pool's workers do it themselves)
    from smasim.simulation.memory import keep_freed_memory

    keep_freed_memory()
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--config", default=None, help="config path or bundled name (default: the bundled default)"
    )
    p.add_argument("--concept", default=None, help="override the solution concept")
    p.add_argument("--draws", type=int, default=1_000_000, help="draws per vectorized run")
    p.add_argument("--repeats", type=int, default=3, help="vectorized runs per worker count")
    p.add_argument("--workers", default="1,2", help="comma-separated worker counts (default 1,2)")
    p.add_argument(
        "--reference-draws",
        type=int,
        default=300,
        help="draws negotiated by the reference (0 to skip)",
    )
    p.add_argument(
        "--warmup-draws",
        type=int,
        default=None,
        help="untimed in-process run first (imports, first page faults); default one batch",
    )
    p.add_argument("--seed", type=int, default=None, help="run seed (default: the config's)")
    p.add_argument("--json", type=Path, default=None, metavar="PATH", help="write results here")
    args = p.parse_args(argv)

    cfg = load_config(args.config)
    experiment = build_experiment(cfg)
    if args.concept:
        experiment = dataclasses.replace(experiment, concept=args.concept)
    seed = cfg.experiment.seed if args.seed is None else args.seed
    workers = [int(w) for w in args.workers.split(",") if w.strip()]
    info = machine_info()

    print(
        f"smasim engine benchmark: config {experiment.name}, concept {experiment.concept}, "
        f"seed {seed}, batch size {experiment.batch_size}, "
        f"K = {experiment.setting.packages.size} packages, "
        f"{experiment.calendar.round_days.size} rounds"
    )
    print(
        f"machine: nproc {info['nproc']}, {info['cpu']}, python {info['python']}, "
        f"numpy {info['numpy']}, scipy {info['scipy']}, simpy {info['simpy']}, "
        f"load average {info['loadavg_at_start']}",
        flush=True,
    )

    warmup = experiment.batch_size if args.warmup_draws is None else args.warmup_draws
    if warmup > 0:
        t = run(experiment, draws=warmup, seed=seed, workers=1).elapsed_s
        print(f"  warm-up: {warmup:,} draws, 1 worker, {t:.2f} s (not counted)", flush=True)

    vec = {}
    for w in workers:
        vec[w] = bench_vectorized(experiment, args.draws, seed, w, args.repeats)
    ref = bench_reference(experiment, args.reference_draws, seed) if args.reference_draws else None

    # --- report ------------------------------------------------------------------------------
    print()
    print(
        f"{'engine':<26} {'draws':>10} {'runs':>5} {'median s':>10} {'median draws/s':>15}  "
        f"all runs (draws/s)"
    )
    for w, r in vec.items():
        runs = ", ".join(f"{x:,.0f}" for x in r["draws_per_s"])
        label = f"vectorized, {w} worker(s)"
        print(
            f"{label:<26} {r['draws']:>10,} {len(r['elapsed_s']):>5} "
            f"{r['median_elapsed_s']:>10.2f} {r['median_draws_per_s']:>15,.0f}  [{runs}]"
        )
    ratios = {}
    if ref:
        print(
            f"{'reference, 1 process':<26} {ref['draws']:>10,} {1:>5} {ref['elapsed_s']:>10.2f} "
            f"{ref['draws_per_s']:>15,.2f}  (mean {ref['mean_solves_per_draw']:.2f} "
            f"solves, {ref['mean_rounds_per_draw']:.1f} rounds per draw)"
        )
        print()
        for w, r in vec.items():
            ratios[f"vectorized_{w}w_over_reference"] = r["median_draws_per_s"] / ref["draws_per_s"]
            print(
                f"speed-up, vectorized ({w} worker(s)) / reference: "
                f"{ratios[f'vectorized_{w}w_over_reference']:,.0f}x"
            )
        if 1 in vec and 2 in vec:
            ratios["2w_over_1w"] = vec[2]["median_draws_per_s"] / vec[1]["median_draws_per_s"]
            print(f"scaling, 2 workers / 1 worker: {ratios['2w_over_1w']:.2f}x")
        n_bad = len(ref["mismatches"])
        print(
            f"cross-check on the reference draws: {n_bad} of {ref['draws']} draws differ"
            + (f" (first: {ref['mismatches'][:5]})" if n_bad else "")
        )

    if args.json:
        payload = {
            "machine": info,
            "config": experiment.name,
            "concept": experiment.concept,
            "seed": seed,
            "batch_size": experiment.batch_size,
            "time_unit": "s (wall)",
            "rate_unit": "draws/s",
            "vectorized": {str(w): r for w, r in vec.items()},
            "reference": ref,
            "ratios": ratios,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
