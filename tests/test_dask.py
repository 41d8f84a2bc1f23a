"""The Dask executor: a run through a real (loopback) cluster gives the local run's bits."""

from __future__ import annotations

from dataclasses import replace

import pytest

from smasim.experiments.config.load import build_experiment, load_config
from smasim.simulation.montecarlo import run

pytest.importorskip("distributed")  # the `cluster` fixture is in conftest.py


def test_dask_run_is_identical_to_the_local_run(cluster):
    experiment = replace(build_experiment(load_config()), batch_size=600)
    local = run(experiment, draws=2500, seed=13, workers=1)
    remote = run(
        experiment, draws=2500, seed=13, executor="dask", scheduler=cluster.scheduler_address
    )
    assert local.columns.keys() == remote.columns.keys()
    for k, v in local.columns.items():
        assert v.dtype == remote.columns[k].dtype and v.tobytes() == remote.columns[k].tobytes(), k
    assert local.summary == remote.summary


def test_cli_runs_on_a_dask_cluster(cluster, tmp_path, capsys):
    import json

    from smasim import cli

    code = cli.main(
        [
            "run",
            "--draws",
            "1500",
            "--seed",
            "2",
            "--executor",
            "dask",
            "--scheduler",
            cluster.scheduler_address,
            "--out",
            str(tmp_path / "d"),
            "--json",
        ]
    )
    assert code == 0
    remote = json.loads(capsys.readouterr().out)
    code = cli.main(
        ["run", "--draws", "1500", "--seed", "2", "--out", str(tmp_path / "l"), "--json"]
    )
    local = json.loads(capsys.readouterr().out)
    remote.pop("result_folder"), local.pop("result_folder")
    assert remote == local


@pytest.mark.slow  # ~13 s: the connection timeout itself
def test_an_unreachable_scheduler_is_one_line_and_exit_2_within_seconds(tmp_path, capsys):
    """It used to hang 30 s and end in a 94-line traceback. Nothing listens on port 9."""
    import time

    from smasim import cli
    from smasim.simulation.executors import CONNECT_TIMEOUT_S

    start = time.perf_counter()
    code = cli.main(["run", "--draws", "500", "--executor", "dask",
                     "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path / "r")])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert err.startswith("error: --scheduler: cannot reach the Dask scheduler")
    assert time.perf_counter() - start < CONNECT_TIMEOUT_S + 15
    assert not list(tmp_path.iterdir())  # no folder, and no empty .r.partial left behind


def test_a_relative_out_is_written_where_the_run_looks_whatever_the_workers_directory(
    cluster, tmp_path, capsys, monkeypatch
):
    """Protects: the workers (processes started in another working directory) are given the
    partial folder's absolute path; with a relative --out (the default runs/... too) they
    wrote their parts under their own directory and the run failed."""
    from smasim import cli

    monkeypatch.chdir(tmp_path)
    argv = ["run", "--draws", "1500", "--seed", "2", "--out", "rel", "--json"]
    dask = ["--executor", "dask", "--scheduler", cluster.scheduler_address]
    assert cli.main([*argv, *dask]) == 0, capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rel"]
    assert len(list((tmp_path / "rel" / "draws").glob("part-*.parquet"))) >= 1
