"""Streamed runs: the summary read back from the parts equals the in-memory one, bit for bit,
and the memory it takes does not grow with the draw count (issue 15)."""

from __future__ import annotations

import json
import tracemalloc
from dataclasses import replace

import numpy as np
import pytest

from smasim.experiments.config.load import build_experiment, load_config
from smasim.experiments.runs.runner import run_experiment
from smasim.simulation import montecarlo, streamed
from smasim.simulation.montecarlo import run
from smasim.simulation.outcomes import summarize, summary_columns


def as_json(summary: dict) -> str:
    return json.dumps(summary, default=str)  # NaN and None kept apart, floats to the last bit


def streamed_summary(experiment, columns, batch: int) -> dict:
    n = columns["outcome"].size

    def batches(names):
        for start in range(0, n, batch):
            yield {k: columns[k][start : start + batch] for k in names}

    return streamed.summarize_batches(experiment, batches, n)


@pytest.fixture(scope="module")
def reopening():
    cfg = load_config("today_reopening")
    experiment = replace(build_experiment(cfg), batch_size=300)
    result = run(experiment, draws=4000, seed=7)
    return experiment, result


# one-draw batches (4,000 of them, ~5 s) in the slow run; the others keep the default suite fast
@pytest.mark.parametrize("batch", [pytest.param(1, marks=pytest.mark.slow), 7, 300, 777, 4000])
def test_streamed_summary_equals_the_in_memory_one(reopening, batch, monkeypatch):
    monkeypatch.setattr(streamed, "LEAF", 128)  # many subtrees of numpy's summation tree
    experiment, result = reopening
    got = streamed_summary(experiment, result.columns, batch)
    assert as_json(got) == as_json(result.summary)


def test_streamed_summary_of_degenerate_tables(reopening):
    """No agreement, no lapse, amounts missing or all alike: the same as numpy's answers."""
    experiment, result = reopening
    cols = {k: result.columns[k].copy() for k in summary_columns(experiment)}
    years = [f"amount_{y}_bn_krw" for y in experiment.report_years]
    cols[years[0]][::3] = np.nan  # some missing
    cols[years[1]][:] = np.nan  # all missing
    cols[years[2]][:] = 1519.2  # one value throughout
    cols[years[3]][::2] = -cols[years[3]][::2]  # signs mixed
    cols["lapse_months"][:] = 0.0
    cols["outcome"][:] = 3
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        expected = summarize(experiment, cols)
    assert as_json(streamed_summary(experiment, cols, 333)) == as_json(expected)


@pytest.mark.parametrize("n", [1, 7, 129, 1000, 40_001])
def test_pairwise_sum_is_numpys(n):
    x = np.random.default_rng(n).standard_normal(n) * 1e3 + 1500.0
    total = streamed.PairwiseSum(n, leaf=128)
    for start in range(0, n, 999):
        total.add(x[start : start + 999])
    assert total.total() == float(np.sum(x))


def test_a_streamed_run_is_the_in_memory_run_whatever_the_workers(tmp_path):
    base = run_experiment("today_reopening", draws=3000, seed=2)[0]
    for workers in (1, 2):
        result, _ = run_experiment(
            "today_reopening", draws=3000, seed=2, workers=workers, in_memory=False,
            keep_draws=False, out=tmp_path / f"w{workers}",
        )  # fmt: skip
        assert result.columns == {}
        assert as_json(result.summary) == as_json(base.summary)
        assert (tmp_path / f"w{workers}" / "summary.json").read_text() == (
            tmp_path / "w1" / "summary.json"
        ).read_text()


def test_a_resumed_streamed_run_has_the_summary_of_an_uninterrupted_one(tmp_path, monkeypatch):
    """Protects: --resume gives the uninterrupted summary, reading the kept parts' summary
    columns only (it read every column, ~460 bytes a draw against ~80)."""
    read = []

    def spy(path, columns=None):
        read.append(columns)
        return real_read(path, columns)

    real_read = montecarlo.read_part
    monkeypatch.setattr(montecarlo, "read_part", spy)
    whole, _ = run_experiment(draws=2000, seed=4, out=tmp_path / "whole", in_memory=False)
    calls = [0]

    def stop(_draws):
        calls[0] += 1
        if calls[0] == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_experiment(draws=2000, seed=4, out=tmp_path / "r", in_memory=False, progress=stop)
    resumed, _ = run_experiment(draws=2000, seed=4, out=tmp_path / "r", in_memory=False,
                                resume=True)  # fmt: skip
    assert as_json(resumed.summary) == as_json(whole.summary)
    wanted = set(summary_columns(resumed.experiment))
    assert read and all(c is not None and set(c) <= wanted for c in read), read


def peak_bytes(experiment, draws: int, folder) -> int:
    folder.mkdir()
    tracemalloc.start()
    try:
        run(experiment, draws=draws, seed=1, part_dir=folder, retain="none",
            part_columns=summary_columns(experiment))  # fmt: skip
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow  # ~9 s: two tracemalloc'd runs
def test_a_streamed_runs_memory_does_not_grow_with_its_draws(tmp_path, monkeypatch):
    """4x the draws, the same peak: nothing per draw is held (the old run held 87 B/draw of
    summary columns, and copies of them while summarising)."""
    monkeypatch.setattr(montecarlo, "COMPUTE_DRAWS", 512)  # small groups: the run's own peak
    # 8-bit radix digits: histograms of 2 KiB per narrowed prefix, whose number (at most one
    # per quantile's rank) varies a little with the data, not with the draw count
    monkeypatch.setattr(streamed, "_DIGIT", 8)
    experiment = replace(build_experiment(load_config("today_reopening")), batch_size=256)
    small = peak_bytes(experiment, 3_000, tmp_path / "small")
    large = peak_bytes(experiment, 12_000, tmp_path / "large")
    # measured: +0.19 MB here (3.27 -> 3.45 MB); the old run grew by 0.99 MB (3.57 -> 4.56)
    assert large - small < 40 * 9_000 and large < 1.2 * small, (small, large)


def test_run_is_not_refused_for_memory_it_no_longer_takes(monkeypatch):
    """10^8 draws on a 4 GB machine: refused held in memory (compare), not streamed (run)."""
    from smasim.commands import options

    monkeypatch.setattr("smasim.simulation.memory.physical_memory", lambda: 4 << 30)
    options.check_draws(10**8, streamed=True)
    with pytest.raises(options.BadInput, match="in memory"):
        options.check_draws(10**8)
