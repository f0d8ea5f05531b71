"""Fault test for detect-folder: SIGKILL at random points of a run, then a rerun. Ten times over,
every output must equal the clean run's, the summary must agree, and no litter may remain."""

from __future__ import annotations

import csv
import random
import subprocess
import time

import pytest
from bad_input_kit import ENV, PYTHON, cli, layer_rows, litter, make_raster

RASTERS = ("a", "b", "c", "d", "e")


def _command(folder, out, model):
    return [
        PYTHON,
        "-m",
        "micro_detector",
        "detect-folder",
        str(folder),
        "-o",
        str(out),
        "--weights",
        str(model),
        "--tile",
        "64",
        "-q",
    ]


def _summary(out):
    with open(out / "summary.csv", newline="") as f:
        return sorted((r["raster"], r["status"], r["n_a"], r["n_b"]) for r in csv.DictReader(f))


def _contents(out):
    return {name: layer_rows(out / f"{name}.gpkg") for name in RASTERS}


def _wait_for(path, proc) -> None:
    while not path.exists() and proc.poll() is None:
        time.sleep(0.01)


def _run_to_end(command, out) -> float:
    """Run to the end; return the seconds from the output folder's creation (the model is
    loaded) to the last raster's output: the window in which a kill lands mid-run."""
    proc = subprocess.Popen(command, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for(out, proc)
    start = time.monotonic()
    _wait_for(out / f"{RASTERS[-1]}.gpkg", proc)
    window = time.monotonic() - start
    assert proc.wait() == 0
    return window


@pytest.mark.slow
def test_sigkill_at_random_points_then_rerun_gives_the_clean_result(tmp_path):
    model = tmp_path / "m.pt"
    assert cli("new-model", "--scale", "n", "--imgsz", "64", "--classes", "a,b", "-o", model).returncode == 0
    folder = tmp_path / "in"
    folder.mkdir()
    for k, name in enumerate(RASTERS):
        make_raster(folder / f"{name}.tif", size=192 + 32 * k)
    clean = tmp_path / "clean"
    work_seconds = _run_to_end(_command(folder, clean, model), clean)
    expected, expected_summary = _contents(clean), _summary(clean)
    assert any(expected.values())  # the untrained model finds something to compare

    rng = random.Random(12)
    kills_mid_run = 0
    for attempt in range(10):
        out = tmp_path / f"run{attempt}"
        proc = subprocess.Popen(
            _command(folder, out, model), env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _wait_for(out, proc)  # past start-up: the model is loaded and rasters are being done
        time.sleep(rng.uniform(0, work_seconds))
        proc.kill()  # SIGKILL: no handler, no cleanup
        proc.wait()
        kills_mid_run += not (out / "e.gpkg").exists()
        rerun = subprocess.run(_command(folder, out, model), env=ENV, capture_output=True, text=True)
        assert rerun.returncode == 0, rerun.stderr
        assert _contents(out) == expected, f"attempt {attempt}"
        assert _summary(out) == expected_summary
        assert litter(out) == [], litter(out)
        assert sorted(p.name for p in out.iterdir()) == sorted([f"{n}.gpkg" for n in RASTERS] + ["summary.csv"])
    assert kills_mid_run >= 3  # the kills did land inside runs, not only before or after


def test_an_output_without_its_summary_row_gets_its_counts_back(tmp_path):
    """A kill between a raster's output and its summary row (the window the random kills above
    can hit) must not leave an empty row: the rerun reads the counts back from the output."""
    model = tmp_path / "m.pt"
    assert cli("new-model", "--scale", "n", "--imgsz", "64", "--classes", "a,b", "-o", model).returncode == 0
    folder = tmp_path / "in"
    folder.mkdir()
    for k, name in enumerate(RASTERS[:3]):
        make_raster(folder / f"{name}.tif", size=192 + 32 * k)
    out = tmp_path / "out"
    assert subprocess.run(_command(folder, out, model), env=ENV, capture_output=True).returncode == 0
    expected = _summary(out)
    assert any(int(n_a) + int(n_b) for _, _, n_a, n_b in expected)  # something to count back
    with open(out / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    with open(out / "summary.csv", "w", newline="") as f:  # b's output exists, its row does not
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(r for r in rows if r["raster"] != "b.tif")
    rerun = subprocess.run(_command(folder, out, model), env=ENV, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert _summary(out) == expected
