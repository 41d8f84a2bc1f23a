"""Fixtures shared by several test modules."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def cluster():
    """A real Dask cluster: two worker processes on the loopback interface, no dashboard."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as c:
        yield c


@pytest.fixture(scope="session")
def planted():
    """Uniform x1, x2, x3 on [0, 1]; cases where x1 > 0.7 and x2 < 0.4 (x3 irrelevant).

    The planted box holds 0.3 x 0.4 = 12 % of the draws; with 2 % noise cases outside it,
    its density is ~1 and its coverage ~0.87 (0.12 of the 0.12 + 0.88 x 0.02 = 0.1376
    cases).
    """
    rng = np.random.default_rng(5)
    x = rng.uniform(size=(40_000, 3))
    y = ((x[:, 0] > 0.7) & (x[:, 1] < 0.4)) | (rng.uniform(size=x.shape[0]) < 0.02)
    return x, y


@pytest.fixture(scope="session")
def run_folder(tmp_path_factory):
    """A finished run of the default config: 4,000 draws, seed 3 (scenario discovery)."""
    from smasim.experiments.runs.runner import run_experiment

    folder = tmp_path_factory.mktemp("runs") / "r"
    run_experiment(draws=4000, seed=3, out=folder)
    return folder
