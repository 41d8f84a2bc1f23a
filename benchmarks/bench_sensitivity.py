"""Speed of the Sobol' analysis of the political-pressure parameters (issue 4's target).

Measures, for one config (the bundled default unless ``--config``):

* :func:`experiments.sensitivity.analysis.sensitivity` with every uncertain political
  parameter as a factor, ``--n`` base rows (default 2^14, so ``N (d + 2)`` model runs), no
  one-at-a-time analysis, for each worker count in ``--workers``, ``--repeats`` runs each:
  wall time from the call to the result (config loading, design, model runs, 2 x 1000
  bootstrap resamples), median and every run; the target is under 60 s;
* that the indices are the same bits for every worker count;
* the percentile row bootstrap alone (1000 resamples at N, the N/2 check not included), and
  with ``--scipy-bootstrap`` SciPy's BCa bootstrap of :func:`scipy.stats.sobol_indices` on the
  same outputs for comparison (O(N^2): tens of seconds at N = 2^14).

Usage::

    python benchmarks/bench_sensitivity.py                      # N = 16384, workers 1 and 2
    python benchmarks/bench_sensitivity.py --n 4096 --workers 2 --repeats 1 --json out.json

This is a script, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import scipy  # noqa: E402
from scipy import stats  # noqa: E402

from smasim.experiments.sensitivity.analysis import sensitivity  # noqa: E402
from smasim.experiments.sensitivity.estimators import bootstrap_indices, row_terms  # noqa: E402


def machine() -> dict:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu": cpu,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "loadavg_at_start": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--config", default=None, help="config path or bundled name")
    p.add_argument("--n", type=int, default=2**14, help="base rows N (a power of 2)")
    p.add_argument("--metric", default="first_year")
    p.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--scipy-bootstrap", action="store_true", help="also time SciPy's BCa")
    p.add_argument("--json", type=Path, default=None, metavar="PATH")
    args = p.parse_args(argv)
    info = machine()
    print(
        f"machine: nproc {info['nproc']}, {info['cpu']}, python {info['python']}, "
        f"numpy {info['numpy']}, scipy {info['scipy']}, load {info['loadavg_at_start']}"
    )
    results: dict = {"machine": info, "n": args.n, "metric": args.metric, "runs": {}}
    reference = None
    for workers in [int(w) for w in args.workers.split(",") if w.strip()]:
        times = []
        for rep in range(args.repeats):
            start = time.perf_counter()
            res = sensitivity(
                args.config,
                metric=args.metric,
                n=args.n,
                seed=args.seed,
                workers=workers,
                oat_draws=0,
            )
            elapsed = time.perf_counter() - start
            times.append(elapsed)
            print(
                f"  {len(res.sobol.factors)} factors, N = {args.n:,}, "
                f"{res.evaluations:,} model runs, {workers} worker(s), run {rep + 1}: "
                f"{elapsed:6.2f} s ({res.evaluations / elapsed:,.0f} runs/s)",
                flush=True,
            )
            bits = res.sobol.f_ab.tobytes() + res.sobol.f_a.tobytes() + res.sobol.f_b.tobytes()
            if reference is None:
                reference = (bits, res)
            elif bits != reference[0]:
                print("  MISMATCH: outputs differ between worker counts or repeats")
                results["mismatch"] = True
        results["runs"][str(workers)] = {
            "elapsed_s": times,
            "median_elapsed_s": statistics.median(times),
        }
        print(f"  median with {workers} worker(s): {statistics.median(times):.2f} s")
    res = reference[1]
    results["factors"] = [f.name for f in res.sobol.factors]
    results["evaluations"] = res.evaluations
    results["indices"] = res.indices_table()

    s = res.sobol
    terms = row_terms(s.f_a, s.f_b, s.f_ab)
    start = time.perf_counter()
    bootstrap_indices(terms, n_resamples=1000, confidence=0.95, rng=np.random.default_rng(0))
    boot = time.perf_counter() - start
    results["row_bootstrap_1000_s"] = boot
    print(f"  percentile row bootstrap, 1000 resamples at N = {args.n:,}: {boot:.2f} s")
    if args.scipy_bootstrap:
        sci = stats.sobol_indices(
            func={"f_A": s.f_a.copy(), "f_B": s.f_b.copy(), "f_AB": s.f_ab[:, None, :].copy()},
            n=args.n,
        )
        start = time.perf_counter()
        sci.bootstrap(n_resamples=1000)
        t = time.perf_counter() - start
        results["scipy_bca_bootstrap_1000_s"] = t
        print(f"  scipy BCa bootstrap, 1000 resamples at N = {args.n:,}: {t:.1f} s")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    return 1 if results.get("mismatch") else 0


if __name__ == "__main__":
    sys.exit(main())
