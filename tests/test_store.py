"""Result folders: atomic writing, checksums, resuming, interruption, dying workers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from smasim.experiments.config.load import build_experiment, load_config, resolved_dict
from smasim.experiments.config.schema import ConfigError
from smasim.experiments.runs.runner import run_experiment
from smasim.experiments.runs.store import (
    RunWriter,
    StoreError,
    partial_folder,
    read_config_json,
    read_draws,
)
from smasim.simulation.executors import BatchFailed, map_batches
from smasim.simulation.montecarlo import run

ROOT = Path(__file__).resolve().parents[1]


def same_bits(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].dtype == b[k].dtype and a[k].tobytes() == b[k].tobytes(), k


@pytest.fixture(scope="module")
def small():
    cfg = load_config()
    return cfg, replace(build_experiment(cfg), batch_size=500)


def write(small, folder, *, draws=1600, seed=4, stop_after=None, resume=False):
    """Run into ``folder`` as the CLI does; ``stop_after`` batches, interrupt (Ctrl-C)."""
    cfg, experiment = small
    config = resolved_dict(cfg)
    config["experiment"]["draws"], config["experiment"]["seed"] = draws, seed  # as the runner
    config["experiment"]["batch_size"] = experiment.batch_size  # a run's config is its own
    writer = RunWriter(folder, config=config, batch_size=experiment.batch_size, resume=resume)
    finished = [0]

    def progress(_draws):
        finished[0] += 1
        if stop_after is not None and finished[0] >= stop_after:
            raise KeyboardInterrupt

    try:
        done = writer.finished_batches() if resume else None
        result = run(
            experiment, draws=draws, seed=seed, part_dir=writer.part_dir, done=done,
            on_batch=writer.record,
            progress=progress,
        )  # fmt: skip
        writer.finish(result)
    finally:
        writer.release()
    return result


def test_a_run_folder_reads_back_bit_for_bit(small, tmp_path):
    result = write(small, tmp_path / "r")
    same_bits(read_draws(tmp_path / "r"), result.columns)
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == [
        "config.json",
        "draws",
        "metadata.json",
        "summary.json",
    ]
    assert not partial_folder(tmp_path / "r").exists()


def test_an_interrupted_run_leaves_no_finished_looking_folder(small, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        write(small, tmp_path / "r", stop_after=2)
    assert not (tmp_path / "r").exists()
    partial = partial_folder(tmp_path / "r")
    assert not (partial / "summary.json").exists()
    # the interrupt came after two batches; the batches negotiated with them (one group) are
    # on disk too, the rest of the run's four are not
    parts = len(list((partial / "draws").glob("part-*.parquet")))
    assert 2 <= parts < 4


def test_resume_gives_the_bits_of_an_uninterrupted_run(small, tmp_path):
    whole = write(small, tmp_path / "whole")
    with pytest.raises(KeyboardInterrupt):
        write(small, tmp_path / "r", stop_after=2)
    resumed = write(small, tmp_path / "r", resume=True)
    same_bits(read_draws(tmp_path / "r"), read_draws(tmp_path / "whole"))
    assert resumed.summary == whole.summary


def test_resume_refuses_a_different_run(small, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        write(small, tmp_path / "r", stop_after=1)
    cfg, experiment = small
    other = resolved_dict(cfg)
    other["experiment"]["seed"] = 999
    with pytest.raises(StoreError, match="another config"):
        RunWriter(tmp_path / "r", config=other, batch_size=experiment.batch_size, resume=True)
    with pytest.raises(StoreError, match="no interrupted run"):
        RunWriter(tmp_path / "elsewhere", config=other, batch_size=500, resume=True)


def test_a_new_run_does_not_discard_an_interrupted_runs_batches(small, tmp_path):
    """Forgetting --resume used to delete the finished batches silently."""
    with pytest.raises(KeyboardInterrupt):
        write(small, tmp_path / "r", stop_after=1)
    kept = sorted((partial_folder(tmp_path / "r") / "draws").glob("part-*.parquet"))
    with pytest.raises(StoreError, match=r"^out: an interrupted run .* --resume"):
        write(small, tmp_path / "r", seed=5)
    assert sorted((partial_folder(tmp_path / "r") / "draws").glob("part-*.parquet")) == kept
    write(small, tmp_path / "r", resume=True)  # and it can still be resumed


def test_a_partial_without_batches_is_replaced(small, tmp_path):
    (partial_folder(tmp_path / "r") / "draws").mkdir(parents=True)
    (partial_folder(tmp_path / "r") / "run.json").write_text("{}")
    result = write(small, tmp_path / "r", seed=5)
    same_bits(read_draws(tmp_path / "r"), result.columns)


@pytest.mark.parametrize("kind", ["user folder", "symlink", "file"])
def test_something_else_at_the_partial_path_is_never_deleted(small, tmp_path, kind):
    partial = partial_folder(tmp_path / "r")
    target = tmp_path / "precious"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    if kind == "user folder":
        partial.mkdir()
        (partial / "keep.txt").write_text("mine")
    elif kind == "symlink":
        partial.symlink_to(target)
    else:
        partial.write_text("mine")
    with pytest.raises(StoreError, match=r"^out: .* is not an interrupted smasim run"):
        write(small, tmp_path / "r")
    assert (target / "keep.txt").read_text() == "mine"
    assert partial.exists() or partial.is_symlink()


def test_a_second_run_into_a_folder_in_use_is_refused(small, tmp_path):
    cfg, experiment = small
    config = resolved_dict(cfg)
    first = RunWriter(tmp_path / "r", config=config, batch_size=experiment.batch_size)
    try:
        with pytest.raises(StoreError, match=r"^out: another smasim run is writing"):
            RunWriter(tmp_path / "r", config=config, batch_size=experiment.batch_size)
        with pytest.raises(StoreError, match=r"^out: another smasim run is writing"):
            RunWriter(tmp_path / "r", config=config, batch_size=experiment.batch_size,
                      resume=True)  # fmt: skip
        assert (partial_folder(tmp_path / "r") / "run.json").is_file()  # the first is intact
    finally:
        first.release()


def test_resume_refuses_a_part_that_holds_another_batch(small, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        write(small, tmp_path / "r", stop_after=3)
    draws = partial_folder(tmp_path / "r") / "draws"
    parts = sorted(draws.glob("part-*.parquet"))
    assert len(parts) >= 2
    parts[1].write_bytes(parts[0].read_bytes())  # batch 0's rows as batch 1
    with pytest.raises(StoreError, match=r"^resume: part-00001.parquet changed since this run"):
        write(small, tmp_path / "r", resume=True)


def test_resume_refuses_another_runs_part_with_the_same_draws(small, tmp_path):
    """Found by the folder fuzzer: batch 1 of a run with another seed holds the same draw
    indices, so the draw-index check passed and resume certified the other run's rows."""
    write(small, tmp_path / "other", seed=5)
    with pytest.raises(KeyboardInterrupt):
        write(small, tmp_path / "r", stop_after=3)
    part = partial_folder(tmp_path / "r") / "draws" / "part-00001.parquet"
    part.write_bytes((tmp_path / "other" / "draws" / "part-00001.parquet").read_bytes())
    with pytest.raises(StoreError, match=r"^resume: part-00001.parquet changed since this run"):
        write(small, tmp_path / "r", resume=True)
    part.unlink()  # as the message says: the batch is computed again
    write(small, tmp_path / "r", resume=True)
    same_bits(read_draws(tmp_path / "r"), write(small, tmp_path / "fresh").columns)


def test_a_part_written_but_not_recorded_is_computed_again(small, tmp_path):
    """A run stopped between a part's write and its checksum's record left the part
    unvouched for: resume computes it again instead of trusting it."""
    with pytest.raises(KeyboardInterrupt):
        write(small, tmp_path / "r", stop_after=3)
    journal = partial_folder(tmp_path / "r") / "parts.sha256"
    journal.write_text("".join(journal.read_text().splitlines(keepends=True)[:1]))
    write(small, tmp_path / "r", resume=True)
    same_bits(read_draws(tmp_path / "r"), write(small, tmp_path / "fresh").columns)


def test_a_folder_whose_metadata_is_not_its_configs_is_refused(small, tmp_path):
    write(small, tmp_path / "r")
    meta = json.loads((tmp_path / "r" / "metadata.json").read_text())
    meta["seed"] = 5  # rows of seed 4 presented as seed 5's
    (tmp_path / "r" / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(StoreError, match=r"metadata\.json has seed 5 where its config\.json"):
        read_draws(tmp_path / "r")


def test_a_damaged_part_is_detected(small, tmp_path):
    write(small, tmp_path / "r")
    part = next((tmp_path / "r" / "draws").glob("part-*.parquet"))
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0xFF
    part.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="damaged"):
        read_draws(tmp_path / "r")


def test_a_folder_without_summary_is_not_read(small, tmp_path):
    write(small, tmp_path / "r")
    (tmp_path / "r" / "summary.json").unlink()
    with pytest.raises(StoreError, match="not a finished"):
        read_draws(tmp_path / "r")


def test_a_table_larger_than_memory_is_refused_after_its_first_part(small, tmp_path,
                                                                     monkeypatch):  # fmt: skip
    """Protects: every reader of a folder's per-draw table (compare, plot, discover) is
    refused in one line when its columns would take more than half the machine's memory,
    judged from the first part's columns: a 10^8-draw folder with all columns is ~90 GB."""

    write(small, tmp_path / "r")
    first = read_draws(tmp_path / "r")
    need = 2 * 1600 * sum(v.dtype.itemsize for v in first.values())  # the test run's 1,600
    monkeypatch.setattr("smasim.simulation.memory.physical_memory", lambda: need * 2 - 2)
    with pytest.raises(StoreError, match=r"per-draw table of 1,600 draws takes ~.* GB to read"):
        read_draws(tmp_path / "r")
    monkeypatch.setattr("smasim.simulation.memory.physical_memory", lambda: need * 2)
    assert read_draws(tmp_path / "r").keys() == first.keys()


@pytest.mark.parametrize("limit", [-1, 0])
def test_a_file_system_without_a_name_limit_refuses_no_out(tmp_path, monkeypatch, limit):
    """Protects: os.pathconf gives -1 (no or an indeterminate limit) on some file systems and
    0 on some FUSE mounts; every --out was then refused as "longer than -19 bytes"."""
    from smasim.experiments.runs import folders

    monkeypatch.setattr(folders.os, "pathconf", lambda path, name: limit)
    assert folders.require_empty(tmp_path / "new" / "out") == tmp_path / "new" / "out"


def test_only_the_folders_own_name_needs_room_for_its_partial(tmp_path):
    """Protects: a missing parent may use the whole name limit; the folder's own name needs
    room for its hidden partial beside it ("." + name + ".XXXXXXXX.partial")."""
    from smasim.experiments.runs import folders

    limit = os.pathconf(tmp_path, "PC_NAME_MAX")
    long_parent = tmp_path / ("p" * limit) / "out"
    assert folders.require_empty(long_parent) == long_parent
    with pytest.raises(StoreError, match=rf"a name is longer than {limit - 18} bytes"):
        folders.require_empty(tmp_path / ("o" * (limit - 17)))


def test_no_draws_keeps_only_the_summary_columns(tmp_path):
    result, _ = run_experiment(draws=1000, seed=2, out=tmp_path / "r", keep_draws=False)
    table = read_draws(tmp_path / "r")
    assert "param_us_pressure" not in table and "amount_2026_bn_krw" in table
    assert set(table) == set(result.columns)


def _die_on_batch_two(job):
    if job == 2:
        os._exit(3)  # a worker killed mid-batch (out of memory, SIGKILL)
    return job * 10


def test_a_dying_worker_is_an_error_naming_its_batch():
    jobs = [0, 1, 2, 3]
    start = time.perf_counter()
    with pytest.raises(BatchFailed, match="batch 2"):
        list(map_batches(_die_on_batch_two, jobs, batch_of=lambda j: j, workers=2))
    assert time.perf_counter() - start < 30  # an error, not a hang


def test_unknown_executor_and_missing_scheduler_are_refused():
    with pytest.raises(ValueError, match="unknown executor"):
        list(map_batches(str, [1], batch_of=int, executor="cloud"))
    with pytest.raises(ValueError, match="scheduler"):
        list(map_batches(str, [1], batch_of=int, executor="dask"))


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
def test_sigint_stops_a_real_run_and_resume_gives_identical_bits(tmp_path):
    cmd = [
        sys.executable,
        "-m",
        "smasim",
        "run",
        "--draws",
        # long enough (~4 s on 2 quiet cores) that the interrupt lands while batches remain
        # on a loaded machine too: at 60,000 draws a busy CI machine finished the run first
        "240000",
        "--seed",
        "3",
        "--workers",
        "2",
    ]
    subprocess.run(
        [*cmd, "--out", str(tmp_path / "whole"), "--json"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    out = tmp_path / "r"
    proc = subprocess.Popen(
        [*cmd, "--out", str(out)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl-C at its default in the run, as in a terminal: an ignored SIGINT is inherited
        # across exec, and a test earlier in the same pytest process may have left one
        preexec_fn=_default_sigint,
    )
    partial = partial_folder(out) / "draws"
    deadline = time.time() + 60
    while time.time() < deadline and not list(partial.glob("part-*.parquet")):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    sent = time.perf_counter()
    _, err = proc.communicate(timeout=30)
    stopped = time.perf_counter() - sent
    assert proc.returncode == 130
    assert "Traceback" not in err and "--resume" in err
    assert stopped < 5  # generous for a loaded 2-core CI machine; ~1 s when quiet
    assert not out.exists() and not (partial_folder(out) / "summary.json").exists()
    done = subprocess.run(
        [*cmd, "--out", str(out), "--resume", "--json"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    same_bits(read_draws(out), read_draws(tmp_path / "whole"))
    summary = json.loads(done.stdout)
    assert summary["draws"] == 240000


def test_executors_keep_only_a_window_of_batches_in_flight():
    # results are collected in job order and dropped as handed on: a 10M-draw run must not
    # hold every finished batch (the cause of a 5.5 GB peak before the window)
    from smasim.simulation.executors import _windowed

    outstanding, peak = set(), [0]

    def submit(job):
        outstanding.add(job)
        peak[0] = max(peak[0], len(outstanding))
        return job

    order = []
    for job, _ in _windowed(submit, list(range(100)), 4):
        outstanding.discard(job)
        order.append(job)
    assert order == list(range(100))
    assert peak[0] <= 5  # the window plus the one being handed on


def test_default_run_folders_started_in_the_same_second_differ(tmp_path, monkeypatch):
    """Two default-named runs in one second used to share (and corrupt) one folder."""
    from smasim.commands.run import _default_out

    monkeypatch.chdir(tmp_path)
    first = _default_out("x")
    partial_folder(first).mkdir(parents=True)  # the first run is going
    second = _default_out("x")
    assert second != first and not partial_folder(second).exists()


# --- hostile result folders and configs --------------------------------------------------------
@pytest.fixture
def finished(small, tmp_path):
    write(small, tmp_path / "r")
    return tmp_path / "r"


@pytest.mark.parametrize(
    "file", ["/etc/passwd", "../other/draws/part-00000.parquet", "draws/part-00001.parquet"]
)
def test_metadata_cannot_point_the_reader_at_other_files(finished, file):
    meta = json.loads((finished / "metadata.json").read_text())
    meta["parts"][0]["file"] = file
    (finished / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(StoreError, match=r"metadata\.json lists"):
        read_draws(finished)


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("agreement", "report_last_year"), 10**12, "report_last_year"),
        (("experiment", "description"), "\x1b]52;c;ZXZpbA==\x07hi", "description"),
        (("agreement", "rules", 0, "name"), "\x1b[2Jfrozen", "name"),
    ],
)
def test_a_result_folders_config_is_validated_before_use(finished, path, value, field, capsys):
    """A hostile config.json could exhaust memory (a report year of 10^12) or write escape
    sequences to the terminal (OSC 52 sets the clipboard): compare and plot refuse it."""
    config = json.loads((finished / "config.json").read_text())
    node = config
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    (finished / "config.json").write_text(json.dumps(config))
    with pytest.raises(StoreError, match=rf"config\.json is not a valid smasim config \(.*{field}"):
        read_config_json(finished)
    from smasim import cli

    assert cli.main(["plot", str(finished), "--json"]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and len(err.strip().splitlines()) == 1


def test_a_config_with_escape_sequences_is_refused(tmp_path):
    path = tmp_path / "c.toml"
    body = 'extends = "sma12_may2024"\ndescription = "\\u001b]0;pwned\\u0007"'
    path.write_text(f"[experiment]\n{body}\n")
    with pytest.raises(ConfigError, match=r"^experiment\.description: .*printable"):
        load_config(path)


@pytest.mark.parametrize("kind", ["dangling", "to an empty folder"])
def test_a_symlinked_out_is_refused_before_the_run(small, tmp_path, kind):
    out = tmp_path / "r"
    target = tmp_path / "target"
    if kind == "to an empty folder":
        target.mkdir()
    out.symlink_to(target)
    with pytest.raises(StoreError, match=r"^out: .* is a symbolic link"):
        write(small, out)
    assert not partial_folder(out).exists()


def test_a_file_dropped_into_out_mid_run_leaves_the_run_resumable(small, tmp_path):
    cfg, experiment = small
    out = tmp_path / "r"
    config = resolved_dict(cfg)
    config["experiment"]["draws"], config["experiment"]["seed"] = 1600, 4
    config["experiment"]["batch_size"] = experiment.batch_size
    writer = RunWriter(out, config=config, batch_size=experiment.batch_size)
    try:
        result = run(
            experiment, draws=1600, seed=4, part_dir=writer.part_dir, on_batch=writer.record
        )
        out.mkdir()
        (out / "dropped.txt").write_text("someone else's")
        with pytest.raises(StoreError, match=r"^out: cannot move .* --resume"):
            writer.finish(result)
    finally:
        writer.release()
    (out / "dropped.txt").unlink()
    resumed = write(small, out, resume=True)
    same_bits(read_draws(out), result.columns)
    assert resumed.summary == result.summary


def test_out_cannot_be_the_working_directory(small, tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    with pytest.raises(StoreError, match=r"^out: \. is the working directory"):
        write(small, Path("."))


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"  # a zombie has ended


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_pool_workers_die_with_a_killed_parent(tmp_path):
    """A SIGKILLed run cannot stop its pool; its workers used to live on (~145 MB each)."""
    cmd = [sys.executable, "-m", "smasim", "run", "--draws", "400000", "--workers", "2",
           "--out", str(tmp_path / "r")]  # fmt: skip
    parent = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while time.time() < deadline and len(_children(parent.pid)) < 2:
            time.sleep(0.2)
        workers = _children(parent.pid)
        assert len(workers) >= 2, "the pool did not start"
        time.sleep(1.0)  # the workers have set themselves up
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.time() + 15
        while time.time() < deadline and any(_running(w) for w in workers):
            time.sleep(0.2)
        alive = [w for w in workers if _running(w)]
        assert not alive, f"workers {alive} outlived their parent"
    finally:
        if parent.poll() is None:
            parent.kill()


def test_more_draws_than_memory_holds_is_one_line(capsys, monkeypatch):
    # compare holds its runs' columns in memory; `smasim run` streams and holds none
    # (tests/test_streamed.py), so it is not refused for memory
    from smasim import cli

    monkeypatch.setattr("smasim.simulation.memory.physical_memory", lambda: 16 << 30)
    argv = ["compare", "sma12_may2024", "sma12_high_pressure", "--draws", "1000000000"]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "--draws" in err and "GB" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("command", "draws", "target"),
    [
        # 3 million draws: ~11 GB in seven negotiations' columns (3.4 kB a draw)
        ("backtest", "3000000", "smasim.experiments.record.backtest.run_backtest"),
        # 15 million common prior draws: ~9 GB (0.53 kB a draw)
        ("calibrate", "15000000", "smasim.experiments.record.study.run_study"),
    ],
)
def test_the_records_commands_are_bounded_by_what_they_hold(capsys, monkeypatch, command, draws,
                                                              target):  # fmt: skip
    """Protects: backtest and calibrate count what they hold a draw (measured), not a run's
    96 bytes, before they start: on a 16 GB machine these were accepted and ran out of memory."""
    from smasim import cli

    def started(*args, **kwargs):
        raise AssertionError(f"{command} started")

    monkeypatch.setattr("smasim.simulation.memory.physical_memory", lambda: 16 << 30)
    monkeypatch.setattr(target, started)
    assert cli.main([command, "--draws", draws]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: --draws: {int(draws):,} draws keep ~"), err
    assert "GB in memory" in err and len(err.strip().splitlines()) == 1


def test_parts_carry_each_columns_unit_and_meaning(tmp_path):
    """A per-draw table read by any Parquet tool says what its numbers are: units and the
    outcome codes' labels are field metadata."""
    import pyarrow.parquet as pq

    from smasim.experiments.config.load import build_experiment, load_config
    from smasim.experiments.runs.store import write_run
    from smasim.simulation.montecarlo import run

    cfg = load_config("sma12_may2024")
    result = run(build_experiment(cfg), draws=300, seed=2)
    folder = write_run(result, tmp_path / "r", config={})
    part = next((folder / "draws").glob("part-*.parquet"))
    schema = pq.read_schema(part)
    assert schema.field("amount_2026_bn_krw").metadata[b"unit"] == b"bn KRW per year"
    assert b"3 = no_talks" in schema.field("outcome").metadata[b"description"]
    assert schema.field("param_us_pressure").metadata[b"unit"] == b"index 0-1"
    assert schema.field("noise_talks").metadata[b"unit"] == b"uniform in [0, 1)"


def test_to_pandas_labels_the_outcome_codes():
    pd = pytest.importorskip("pandas")
    from smasim.experiments.config.load import build_experiment, load_config
    from smasim.simulation.montecarlo import run

    result = run(build_experiment(load_config("sma12_may2024")), draws=300, seed=2)
    df = result.to_pandas()
    assert isinstance(df["outcome"].dtype, pd.CategoricalDtype)
    assert list(df["outcome"].cat.categories)[3] == "no_talks"
    codes = df["outcome"].cat.codes.to_numpy()
    assert (codes == result.columns["outcome"]).all()
    assert pd.api.types.is_datetime64_any_dtype(df["agreement_date"])
