"""``--executor`` and ``--scheduler`` on compare, sensitivity and sweep (and run's checks).

Through a real (loopback) Dask cluster each command must print the local run's numbers bit for
bit; a bad executor or a Dask executor without a scheduler must end in one line naming the
option, exit code 2, and nothing written.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smasim import cli
from smasim.experiments.runs import runner
from smasim.experiments.sensitivity import analysis as sa
from smasim.simulation.executors import BatchFailed


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def numbers(stdout: str, out: Path) -> str:
    """The JSON a command printed, as canonical text, without what differs between two runs.

    The output folder is renamed and the wall time dropped. Text rather than parsed data, so
    that NaN equals NaN and every float is compared by its shortest round-trip repr, that is
    bit for bit.
    """
    data = json.loads(stdout.replace(str(out), "OUT"))
    data.pop("elapsed_s", None)
    return json.dumps(data, sort_keys=True)


def computed(cluster, prefix: str) -> int:
    """Tasks of function ``prefix`` (named without leading underscores) the cluster computed."""
    counts = getattr(cluster.scheduler.task_prefixes.get(prefix), "state_counts", {})
    return counts.get("memory", 0)


def local_and_dask(
    capsys, cluster, tmp_path: Path, prefix: str, *argv, write: bool = True
) -> tuple[str, str, int]:
    """Run a command locally, then on the cluster.

    Returns the JSON each printed and how many ``prefix`` tasks the cluster computed (so a
    command that ignored ``--executor`` cannot pass for one that honours it). Each run writes
    into its own ``--out`` folder when ``write``.
    """
    results = []
    before = computed(cluster, prefix)
    for name, where in [
        ("local", []),
        ("dask", ["--executor", "dask", "--scheduler", cluster.scheduler_address]),
    ]:
        folder = ["--out", tmp_path / name] if write else []
        code, out, err = run_cli(capsys, *argv, *where, *folder, "--json")
        assert code == 0, err
        results.append(numbers(out, tmp_path / name))
    return results[0], results[1], computed(cluster, prefix) - before


@pytest.fixture
def small_chunks(monkeypatch):
    # several chunks per evaluation, so the cluster runs many tasks and their order matters
    monkeypatch.setattr(sa, "CHUNK_ROWS", 1000)


def test_compare_on_dask_matches_local(cluster, tmp_path, capsys):
    paths = []
    for name, extends in [("base", "sma12_may2024"), ("high", "sma12_high_pressure")]:
        path = tmp_path / f"{name}.toml"
        path.write_text(
            f'[experiment]\nextends = "{extends}"\nname = "{name}"\n'
            "draws = 600\nbatch_size = 200\n",
            encoding="utf-8",
        )
        paths.append(path)
    # no --out: its figures would take most of the time; the bootstrap intervals of the
    # paired differences already depend on every draw
    argv = ["compare", *paths, "--seed", "5"]
    local, dask, tasks = local_and_dask(
        capsys, cluster, tmp_path, "batch_worker", *argv, write=False
    )
    assert local == dask
    # two configs of three batches, negotiated in groups as simulation.montecarlo groups them
    from smasim.simulation.montecarlo import batch_groups

    assert tasks == 2 * len(batch_groups([200] * 3, [0, 1, 2], 200, workers=1))


def test_sensitivity_on_dask_matches_local(cluster, tmp_path, capsys, small_chunks):
    argv = ["sensitivity", "--params", "audience_cost,nk_threat", "--n", "64", "--seed", "3"]
    local, dask, tasks = local_and_dask(capsys, cluster, tmp_path, "evaluate", *argv)
    assert local == dask
    assert tasks > 2  # the Sobol' design and several chunks of the one-at-a-time analysis


def test_sweep_on_dask_matches_local(cluster, tmp_path, capsys, small_chunks):
    argv = [
        "sweep",
        "--param",
        "us_pressure_if_high=0.5:1:3",
        "--param2",
        "nk_threat=0.2:0.8:2",
        "--draws-per-point",
        "256",
        "--seed",
        "4",
    ]
    local, dask, tasks = local_and_dask(capsys, cluster, tmp_path, "evaluate", *argv)
    assert local == dask
    assert tasks == 2  # 3 x 2 points x 256 draws in chunks of 1000


COMMANDS = {
    "run": ["run", "--draws", "200"],
    "compare": ["compare", "sma12_may2024", "sma12_high_pressure", "--draws", "200"],
    "sensitivity": ["sensitivity", "--params", "audience_cost", "--n", "32"],
    "sweep": ["sweep", "--param", "us_pressure", "--draws-per-point", "32"],
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    ("options", "field"),
    [
        pytest.param(["--executor", "cloud"], "--executor", id="unknown-executor"),
        pytest.param(["--executor", "dask"], "--scheduler", id="dask-without-scheduler"),
    ],
)
def test_bad_executor_options_are_one_line_errors(tmp_path, capsys, command, options, field):
    """Refused before anything runs or is written (run used to leave a partial folder)."""
    code, out, err = run_cli(capsys, *COMMANDS[command], *options, "--out", tmp_path / "out")
    assert code == 2, err
    assert out == "" and "Traceback" not in err
    assert len(err.splitlines()) == 1 and field in err, err
    assert list(tmp_path.iterdir()) == []


def test_failed_chunk_does_not_suggest_resume(tmp_path, capsys, monkeypatch):
    """Only `run` can resume; a failed sweep or sensitivity chunk must not say so."""

    def fail(*args, **kwargs):
        raise BatchFailed(3, "a worker process died")

    monkeypatch.setattr(sa, "sweep", fail)
    code, out, err = run_cli(capsys, "sweep", "--param", "us_pressure", "--out", tmp_path / "o")
    assert code == 1 and out == ""
    assert err.strip() == "error: batch 3 failed: a worker process died"


def test_failed_batch_of_a_run_suggests_resume(tmp_path, capsys, monkeypatch):
    """`run` keeps its finished batches: its failure says how to continue, with exit code 1."""

    def fail(*args, **kwargs):
        raise BatchFailed(2, "a worker process died")

    # the command imports the runner when it runs (a fast --help): patch it at its source
    monkeypatch.setattr(runner, "run_experiment", fail)
    code, out, err = run_cli(capsys, "run", "--draws", "200", "--out", tmp_path / "o")
    assert code == 1 and out == ""
    assert err.strip() == (
        "error: batch 2 failed: a worker process died; "
        "the finished batches are kept: rerun with --resume"
    )
