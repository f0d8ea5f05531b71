"""The short variant of the soak run (scripts/soak.py): detect-folder over a few small rasters
with each fault injected at least once (SIGKILL, SIGTERM, a killed Dask worker, a full disk on
a tmpfs when root, a corrupt raster), rerun until done: every good raster as in a clean run,
the corrupt one failed with a reason, no litter, no traceback, flat memory. And a Dask worker
killed as the client finishes must not fail a run whose work is done."""

from __future__ import annotations

import random
import sys
from pathlib import Path
from types import SimpleNamespace

import psutil
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from bad_input_kit import make_raster  # noqa: E402
from soak import WORKER_KILL, run, soak, tiny_model  # noqa: E402


@pytest.mark.slow
def test_short_soak_with_every_fault(tmp_path):
    report = soak(tmp_path, n=10, seed=5, max_rounds=15)
    assert report["rounds"] >= 4
    assert report["faults"][0] == WORKER_KILL and {"kill", "term", "none"} <= set(report["faults"])
    assert all(report["verdicts"].values()), report
    first = report["killed_worker_rounds"][0]
    assert first["killed"]["in_task"] and "spawn_main" in first["killed"]["cmdline"], first
    assert first["workers_seen"] >= 3, first  # the two workers and the one the nanny started anew
    assert first["exit"] == 1 and first["rows"] == 10, first  # 1: the corrupt raster, reported
    assert len(first["error_rows"]) == report["corrupt"] == 1, first


@pytest.mark.slow
def test_worker_killed_as_the_client_finishes_fails_nothing(tmp_path):
    """Killed after every output is written (while the client asks the workers for their
    model loads, or closes the cluster): the run still ends with exit 0 and no error line."""
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(3):
        make_raster(folder / f"r{i}.tif", size=64)
    out = tmp_path / "out"
    result = run(folder, out, tiny_model(tmp_path / "tiny.pt"), WORKER_KILL, random.Random(1), None, "at the end", 3)
    assert result["killed"] is not None, result
    assert result["exit"] == 0 and not result["run_error"] and not result["traceback"], result
    assert result["rows"] == 3 and not result["error_rows"] and not result["workers_left"], result
    assert sorted(p.name for p in out.glob("*.gpkg")) == ["r0.gpkg", "r1.gpkg", "r2.gpkg"]


def test_model_loads_of_a_gone_worker_show_as_unknown():
    """The loads per worker are a diagnostic asked for after the last output: a worker that died
    meanwhile is a "?", a scheduler that cannot be asked an "unknown"; neither raises."""
    from micro_detector.distributed.client import _Run

    gone = ConnectionError("Stream is closed")
    answers = {"tcp://a": ["h"], "tcp://b": gone}
    calls = []

    def client_run(function, on_error="raise"):
        calls.append(on_error)
        return answers

    assert _Run.model_loads(SimpleNamespace(client=SimpleNamespace(run=client_run))) == "1, ?"
    assert calls == ["return"]

    def unreachable(function, on_error="raise"):
        raise OSError("in <TCP (closed) Scheduler Broadcast>: Stream is closed")

    said = _Run.model_loads(SimpleNamespace(client=SimpleNamespace(run=unreachable)))
    assert said.startswith("unknown (OSError: ")


@pytest.mark.slow
def test_worker_killed_as_the_cluster_starts_fails_with_one_clear_line(tmp_path):
    """Killed before it joins the cluster: the nanny cannot start, and the run stops before
    any work with one line that says so (or Dask copes, and the run is simply done)."""
    folder = tmp_path / "in"
    folder.mkdir()
    make_raster(folder / "r0.tif", size=64)
    out = tmp_path / "out"
    result = run(folder, out, tiny_model(tmp_path / "tiny.pt"), WORKER_KILL, random.Random(1), None, "at start", 1)
    assert result["killed"] is not None and not result["traceback"] and not result["workers_left"], result
    if result["exit"] == 0:
        assert result["rows"] == 1 and (out / "r0.gpkg").is_file(), result
    else:
        assert result["exit"] == 1 and "Dask cluster of 2 worker processes did not start" in result["run_error"], result
        assert "run again" in result["run_error"] and not result["work_done"], result
        assert not out.exists() or not list(out.iterdir()), result  # nothing was written


@pytest.mark.slow
def test_a_raster_whose_worker_dies_every_time_fails_alone(tmp_path):
    """Every worker that opens one raster is killed, again and again, until Dask gives up on
    its task: that raster becomes an error row that says its workers died, the others are
    done, the run ends with exit 1 and one line per failure, and nothing is left behind."""
    import subprocess
    import time

    from bad_input_kit import ENV, PYTHON, litter
    from soak import dask_workers, summary

    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a", "b"):
        make_raster(folder / f"{name}.tif", size=64)
    doomed = make_raster(folder / "doomed.tif", size=768)
    out = tmp_path / "out"
    model = tiny_model(tmp_path / "tiny.pt")
    cmd = [PYTHON, "-m", "micro_detector", "detect-folder", str(folder), "-o", str(out), "--weights", str(model)]
    with open(tmp_path / "stderr.txt", "w+") as err:
        proc = subprocess.Popen([*cmd, "-q", "--tile", "64", "--workers", "2"], env=ENV, stderr=err)
        killed: set[int] = set()
        seen: set[int] = set()
        deadline = time.monotonic() + 600
        while proc.poll() is None and time.monotonic() < deadline:
            for worker in dask_workers(proc):
                seen.add(worker.pid)
                try:
                    if worker.pid not in killed and any(Path(f.path) == doomed for f in worker.open_files()):
                        worker.kill()
                        killed.add(worker.pid)
                except psutil.Error:
                    continue
            time.sleep(0.02)
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        err.seek(0)
        stderr = err.read()
    rows = summary(out)
    assert proc.returncode == 1 and "Traceback" not in stderr, stderr[-3000:]
    assert len(killed) >= 2, killed
    assert rows["a.tif"]["status"] == rows["b.tif"]["status"] == "ok", rows
    reason = rows["doomed.tif"]["error"]
    assert rows["doomed.tif"]["status"] != "ok" and reason.startswith("the worker process running it"), reason
    assert "died 4 times (killed, or out of memory)" in reason and "KilledWorker" not in reason, reason
    assert f"doomed.tif: error: {reason}" in stderr and "KilledWorker" not in stderr, stderr
    assert sorted(p.name for p in out.glob("*.gpkg")) == ["a.gpkg", "b.gpkg"] and not litter(out)
    time.sleep(1.0)
    alive = [p for p in seen if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
    assert len(seen) > len(killed) and not alive, (seen, alive)
