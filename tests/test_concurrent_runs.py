"""Two runs into one ``--out`` at once: exactly one writes the folder, the other refuses.

Each trial starts two real ``smasim run`` processes with different seeds into the same new
``--out`` (the second after a random delay of 0-1 s, so that it arrives while the first is
starting, computing or finishing). Exactly one must exit 0 and leave an intact folder that is
its own (checksums verify, ``config.json`` and ``metadata.json`` carry its seed); the other
must exit 2 with one line on stderr and no traceback; nothing else may be left in the parent
folder (no partial folder, no stray file). 50 trials, ~4 minutes on two shared cores.
"""

from __future__ import annotations

import collections
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from smasim.experiments.runs.store import read_draws

TRIALS = int(os.environ.get("SMASIM_CONCURRENT_TRIALS", "50"))
DRAWS = 12_000  # 6 batches of 2,000: ~0.5 s of computing, plus ~1.5 s of starting up
KINDS = ("another smasim run is writing", "already exists", "has just written", "in the way")
CONFIG = '[experiment]\nextends = "sma12_may2024"\nbatch_size = 2000\n'


def _start(config: Path, out: Path, seed: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "smasim", "run", str(config), "--draws", str(DRAWS),
           "--seed", str(seed), "--out", str(out), "--json"]  # fmt: skip
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_two_runs_into_one_out_one_finishes_the_other_refuses(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text(CONFIG, encoding="utf-8")
    rng = random.Random(15)
    refusals: collections.Counter[str] = collections.Counter()
    for trial in range(TRIALS):
        parent = tmp_path / f"t{trial}"
        parent.mkdir()
        out = parent / "out"
        seeds = (2 * trial + 1, 2 * trial + 2)
        first = _start(config, out, seeds[0])
        time.sleep(rng.uniform(0.0, 1.0))
        second = _start(config, out, seeds[1])
        done = [p.communicate(timeout=300) for p in (first, second)]
        codes = [first.returncode, second.returncode]
        where = f"trial {trial}: exit codes {codes}, stderr {[e for _, e in done]!r}"
        assert sorted(codes) == [0, 2], where
        winner = codes.index(0)
        err = done[1 - winner][1]
        assert err.startswith("error: --out: ") and err.count("\n") == 1, where
        assert "Traceback" not in err and not done[1 - winner][0], where
        assert [p.name for p in parent.iterdir()] == ["out"], where
        read_draws(out)  # every part checked against its checksum, metadata against config
        for name in ("config.json", "metadata.json"):
            data = json.loads((out / name).read_text(encoding="utf-8"))
            seed = data["experiment"]["seed"] if name == "config.json" else data["seed"]
            assert seed == seeds[winner], f"{where}: {name} is the other run's"
        assert json.loads(done[winner][0])["draws"] == DRAWS
        refusals[next((k for k in KINDS if k in err), err.strip())] += 1
    print(f"\n{TRIALS} trials; the second run was refused with: {dict(refusals)}")
    # most trials overlap: the refusal comes from the first run's lock, not a finished folder
    assert refusals["another smasim run is writing"] >= TRIALS // 5, refusals
