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
