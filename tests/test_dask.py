"""detect-folder on Dask distributed, real: LocalCluster processes, a `dask scheduler` and
`dask worker` processes on 127.0.0.1, a worker killed with SIGKILL, a client killed and
resumed, a raster split into blocks. The default model on crops of a real aerial frame
(tests/data), tiles of 128 px: a few seconds of CPU per run. Outputs are compared feature by
feature with the serial run."""

from __future__ import annotations

import contextlib
import csv
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import ROOT, run_python, run_qgis_process, venv_site_packages
from osgeo import gdal, ogr

FRAME = ROOT / "tests" / "data" / "micro4_mini" / "images" / "kit_MOS155.tif"  # 1764 x 430 px
MODEL = ROOT / "resources" / "models" / "default.pt"
VENV_BIN = Path(sys.executable).parent
CLI = str(VENV_BIN / "micro-detector")
os.environ["GDAL_PAM_ENABLED"] = "NO"


def crops(folder: Path, n: int = 6, width: int = 300, height: int = 256) -> Path:
    """`n` rasters cut side by side from the real frame (each 9 tiles of 128 px)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        gdal.Translate(str(folder / f"crop{i}.tif"), str(FRAME), srcWin=[i * 290, 100, width, height])
    return folder


def options(**kw):
    from micro_detector.engine import DetectOptions

    return DetectOptions(tile=128, batch=4, device="cpu", **kw)


def features(path: Path) -> list[tuple]:
    """Class, score and corner coordinates of every feature, sorted by class and place."""
    ds = ogr.Open(str(path))
    out = []
    for f in ds.GetLayer(0):
        env = f.GetGeometryRef().GetEnvelope()
        out.append((f["class_name"], f["score"], *env))
    return sorted(out, key=lambda t: (t[0], round(t[2], 1), round(t[4], 1), t[1]))


def same_features(a: list[tuple], b: list[tuple], conf: float = 0.25, tol: float = 5e-3) -> bool:
    """The same objects: each feature of one has a feature of the other with its class, a
    score within `tol` and corners within 2 cm. Workers run ONNX Runtime with one thread and
    the serial run with two, so float sums are taken in another order: scores may differ in
    the third decimal (up to 0.0027 seen with the YOLOv12s default on a raster re-run after
    its worker was killed; corners 1 mm), and an object scored within `tol` of the threshold
    `conf` may be in one output only."""
    unmatched = list(b)
    for x in a:
        match = next(
            (
                y
                for y in unmatched
                if y[0] == x[0] and abs(x[1] - y[1]) <= tol and max(abs(u - v) for u, v in zip(x[2:], y[2:])) <= 0.02
            ),
            None,
        )
        if match is not None:
            unmatched.remove(match)
        elif x[1] > conf + tol:
            return False
    return all(y[1] <= conf + tol for y in unmatched)


def serial_run(folder: Path, out: Path) -> Path:
    from micro_detector.batch import detect_folder
    from micro_detector.model.runner import open_runner

    detect_folder(folder, out, open_runner(MODEL, device="cpu"), options=options())
    return out


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    """Six crops and their serial (single-process) outputs, shared by the tests."""
    base = tmp_path_factory.mktemp("serial")
    folder = crops(base / "in")
    return folder, serial_run(folder, base / "out")


def assert_same_outputs(out: Path, reference: Path, names: list[str]) -> None:
    for name in names:
        assert same_features(features(out / name), features(reference / name)), name
    assert not [p for p in out.iterdir() if p.name.startswith(".") or p.name.endswith(".part")]
    rows = {r["raster"]: r for r in csv.DictReader(open(out / "summary.csv"))}
    ref = {r["raster"]: r for r in csv.DictReader(open(reference / "summary.csv"))}
    for raster, row in ref.items():
        # counts: each output's own (checked against its file), which may differ by an object
        # at the threshold (see same_features)
        keep = [k for k in row if k != "seconds" and k != "objects" and not k.startswith("n_")]
        assert {k: rows[raster][k] for k in keep} == {k: row[k] for k in keep}
        name = Path(row["output"]).name if row.get("output") else None
        if name and (out / name).is_file():
            assert int(rows[raster]["objects"]) == len(features(out / name))


def gpkgs(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.gpkg"))


def test_blocks_partition_the_plan_windows_exactly():
    from micro_detector.distributed.blocks import split_windows
    from micro_detector.engine import plan_raster
    from micro_detector.model.spec import ModelSpec

    plan = plan_raster(FRAME, ModelSpec(scale="n", imgsz=128), options())
    for size in (1, 7, 20, len(plan.windows), 10_000):
        blocks = split_windows(len(plan.windows), size)
        assert len(blocks) == -(-len(plan.windows) // size)
        assert [b.index for b in blocks] == list(range(len(blocks)))
        assert [w for b in blocks for w in plan.windows[b.start : b.stop]] == plan.windows
        assert all(0 < len(b) <= size for b in blocks)


def test_no_dask_import_without_workers(tmp_path, serial):
    folder, _ = serial
    code = (
        f"import sys\nfrom micro_detector.cli import main\n"
        f"rc = main(['detect-folder', {str(folder)!r}, '-o', {str(tmp_path / 'o')!r}, '--pattern', "
        f"'crop0.tif', '--tile', '128', '-q'])\n"
        "print('RC', rc, 'DASK', sorted({m.split('.')[0] for m in sys.modules} & {'dask', 'distributed'}))"
    )
    result = run_python(code, env={"GDAL_PAM_ENABLED": "NO"})
    assert "RC 0 DASK []" in result.stdout, result.stderr


def test_workers_without_dask_fail_with_the_install_command(tmp_path, serial):
    folder, _ = serial
    code = (
        "import sys\nclass Block:\n    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('dask', 'distributed'):\n"
        "            raise ModuleNotFoundError(name)\nsys.meta_path.insert(0, Block())\n"
        "from micro_detector.cli import main\n"
        f"print('RC', main(['detect-folder', {str(folder)!r}, '-o', {str(tmp_path / 'o')!r}, "
        "'--workers', '2', '-q']))"
    )
    result = run_python(code)
    assert "RC 2" in result.stdout, result.stderr
    assert 'pip install "dask[distributed]==' in result.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_local_cluster_of_two_processes_equals_serial_run(tmp_path, serial):
    from micro_detector.distributed import ClusterOptions, detect_folder_dask

    folder, reference = serial
    messages = []
    rows, _ = detect_folder_dask(
        folder,
        tmp_path / "out",
        MODEL,
        options=options(),
        cluster=ClusterOptions(workers=2),
        progress=False,
        log=messages.append,
    )
    assert [r["status"] for r in rows] == ["ok"] * 6
    assert_same_outputs(tmp_path / "out", reference, gpkgs(reference))
    loads = [m for m in messages if m.startswith("model loads per worker: ")]
    counts = [int(n) for n in loads[0].split(": ")[1].split(", ")]
    assert len(counts) == 2 and max(counts) == 1, messages  # 6 rasters, at most one load per worker
    assert any("dashboard" in m for m in messages)


@pytest.mark.slow
@pytest.mark.parametrize("zoom", [None, 2])
def test_large_raster_split_into_blocks_equals_single_process(tmp_path, zoom):
    """Also with the zoom pass: its windows get blocks of their own after the plain pass's."""
    from micro_detector.distributed import ClusterOptions, detect_folder_dask
    from micro_detector.engine import detect

    folder = tmp_path / "in"
    folder.mkdir()
    gdal.Translate(str(folder / "frame.tif"), str(FRAME))
    (tmp_path / "ref").mkdir()
    from micro_detector.model.runner import open_runner

    single = detect(folder / "frame.tif", None, open_runner(MODEL, device="cpu"), options=options(zoom=zoom))
    assert single.report["tiles"] > 60 and len(single) > 20
    messages = []
    rows, _ = detect_folder_dask(
        folder,
        tmp_path / "out",
        MODEL,
        options=options(zoom=zoom),
        cluster=ClusterOptions(workers=2, block_tiles=20),
        progress=False,
        log=messages.append,
    )
    assert rows[0]["status"] == "ok" and int(rows[0]["objects"]) == len(single)
    blocks = -(-single.report["tiles"] // 20) if zoom is None else None
    line = next(m for m in messages if " blocks" in m)
    assert f"{single.report['tiles']} tiles in " in line, messages
    if blocks is not None:
        assert f"{blocks} blocks" in line, messages
    got = features(tmp_path / "out" / "frame.gpkg")
    want = sorted(
        (
            (single.class_names[c], float(s), *ogr.CreateGeometryFromWkt(_ring_wkt(r)).GetEnvelope())
            for c, s, r in zip(single.class_ids, single.scores, single.rings)
        ),
        key=lambda t: (t[0], round(t[2], 1), round(t[4], 1), t[1]),
    )
    assert same_features(got, want)


def _ring_wkt(ring) -> str:
    return "POLYGON((" + ",".join(f"{x!r} {y!r}" for x, y in ring) + "))"


def start(args: list[str], cwd: Path, log: Path) -> subprocess.Popen:
    """A process in its own session, so the test can end it and all its children."""
    return subprocess.Popen(
        args,
        cwd=cwd,
        stdout=open(log, "w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "GDAL_PAM_ENABLED": "NO"},
    )


def stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def wait_for(condition, timeout: float = 120, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout} s for {what}")
        time.sleep(0.05)


@pytest.mark.slow
def test_worker_killed_mid_batch_on_a_scheduler_loses_nothing(tmp_path, serial):
    from distributed import Client

    from micro_detector.distributed import ClusterOptions, detect_folder_dask

    folder, reference = serial
    sched_file = tmp_path / "scheduler.json"
    procs = [
        start(
            [
                str(VENV_BIN / "dask"),
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(sched_file),
            ],
            tmp_path,
            tmp_path / "s.log",
        )
    ]
    try:
        wait_for(sched_file.exists, what="the scheduler file")
        for i in range(2):  # no nanny: killing the worker process removes the worker for good
            procs.append(
                start(
                    [
                        str(VENV_BIN / "dask"),
                        "worker",
                        "--scheduler-file",
                        str(sched_file),
                        "--nthreads",
                        "1",
                        "--no-nanny",
                        "--no-dashboard",
                        "--name",
                        f"w{i}",
                    ],
                    tmp_path,
                    tmp_path / f"w{i}.log",
                )
            )
        watcher = Client(scheduler_file=str(sched_file), timeout="60s")
        wait_for(lambda: len(watcher.scheduler_info()["workers"]) == 2, what="two workers")
        info = watcher.scheduler_info()["workers"]
        pids = {info[addr]["name"]: pid for addr, pid in watcher.run(os.getpid).items()}
        outcome = {}

        def run():
            try:
                outcome["rows"] = detect_folder_dask(
                    folder,
                    tmp_path / "out",
                    MODEL,
                    options=options(),
                    cluster=ClusterOptions(scheduler=str(sched_file)),
                    progress=False,
                )[0]
            except BaseException as error:  # handed to the test thread
                outcome["error"] = error

        thread = threading.Thread(target=run)
        thread.start()
        busy = {}
        wait_for(lambda: busy.update(_busy_workers(watcher)) or busy, what="a task in flight")
        victim = next(iter(busy))
        os.kill(pids[victim], signal.SIGKILL)
        thread.join(timeout=300)
        assert "error" not in outcome, outcome.get("error")
        assert [r["status"] for r in outcome["rows"]] == ["ok"] * 6
        assert_same_outputs(tmp_path / "out", reference, gpkgs(reference))
        assert len(watcher.scheduler_info()["workers"]) == 1  # the victim stayed dead
        watcher.close()
    finally:
        stop(procs[1:] + procs[:1])


def _busy_workers(client) -> dict:
    """Names of workers processing a detection task now."""
    info = client.scheduler_info()["workers"]
    return {
        info[addr]["name"]: keys
        for addr, keys in client.processing().items()
        if any("detect-" in str(k) for k in keys) and addr in info
    }


def tiled_frame(path: Path, reps: int = 5) -> Path:
    """FRAME repeated reps x reps times, at its own GSD: reps**2 times its tiles (the model
    reads rasters in its GSD range at their own pixels, so upsampling would not add work)."""
    import numpy as np

    src = gdal.Open(str(FRAME))
    data = np.tile(src.ReadAsArray(), (1, reps, reps))
    out = gdal.GetDriverByName("GTiff").Create(
        str(path), data.shape[2], data.shape[1], data.shape[0], gdal.GDT_Byte, options=["TILED=YES", "COMPRESS=LZW"]
    )
    out.SetGeoTransform(src.GetGeoTransform())
    out.SetProjection(src.GetProjection())
    out.WriteRaster(0, 0, data.shape[2], data.shape[1], data.tobytes())
    out = None
    return path


def crops_and_frame(tmp_path: Path, serial) -> tuple[Path, Path]:
    """The six crops and a big frame (zframe.tif, sorted last: FRAME tiled 5 x 5, about 1900
    tiles, 2-3 s of work, still running when a run is stopped at its first finished crop;
    with the frame alone, 72 tiles and 0.1 s, a quiet machine finished the whole batch before
    the kill), with their serial outputs."""
    crops_folder, crops_reference = serial
    folder, big, reference = (tmp_path / name for name in ("in", "big", "ref"))
    for path in (folder, big):
        path.mkdir()
    for raster in crops_folder.glob("*.tif"):
        gdal.Translate(str(folder / raster.name), str(raster))
    tiled_frame(big / "zframe.tif")
    gdal.Translate(str(folder / "zframe.tif"), str(big / "zframe.tif"))
    serial_run(big, reference)
    for done in crops_reference.glob("*.gpkg"):
        gdal.VectorTranslate(str(reference / done.name), str(done))
    return folder, reference


def assert_finished_outputs_whole(out: Path, reference: Path) -> None:
    """Every output present equals the serial one; nothing half-written is left."""
    for name in gpkgs(out):
        assert same_features(features(out / name), features(reference / name)), name
    assert not [p for p in out.iterdir() if p.name.startswith(".") or p.name.endswith(".part")]


@pytest.mark.slow
def test_client_killed_then_rerun_skips_finished_rasters(tmp_path, serial):
    folder, reference = crops_and_frame(tmp_path, serial)
    out = tmp_path / "out"
    args = [
        CLI,
        "detect-folder",
        str(folder),
        "-o",
        str(out),
        "--weights",
        str(MODEL),
        "--tile",
        "128",
        "--batch",
        "4",
        "--device",
        "cpu",
        "--workers",
        "2",
    ]
    client = start(args + ["-q"], tmp_path, tmp_path / "first.log")
    try:

        def finished():
            rows = list(csv.DictReader(open(out / "summary.csv"))) if (out / "summary.csv").exists() else []
            return sum(r["status"] == "ok" for r in rows) >= 1

        # killed at the first finished raster: on a quiet machine waiting for more can let the
        # whole batch finish, and there would be nothing left to resume
        wait_for(finished, timeout=300, what="a finished raster")
        os.killpg(client.pid, signal.SIGKILL)  # the client and its LocalCluster, at once
    finally:
        stop([client])
    done_before = gpkgs(out)
    assert 1 <= len(done_before) < 7, done_before
    second = subprocess.run(
        args, capture_output=True, text=True, timeout=600, env={**os.environ, "GDAL_PAM_ENABLED": "NO"}
    )
    assert second.returncode == 0, second.stderr
    for name in done_before:
        assert f"{Path(name).stem}.tif: done before, skipped" in second.stderr
    assert "Dask dashboard" in second.stderr
    assert "rasters" in second.stderr and "tiles/s" in second.stderr  # the progress bar
    assert sorted(gpkgs(reference)) == sorted(gpkgs(out)) and len(gpkgs(out)) == 7
    assert_finished_outputs_whole(out, reference)
    rows = list(csv.DictReader(open(out / "summary.csv")))
    assert sorted(r["raster"] for r in rows) == sorted(p.name for p in folder.glob("*.tif"))
    assert all(r["status"] == "ok" for r in rows)


@pytest.mark.slow
def test_failed_and_timed_out_rasters_are_reported_and_the_batch_goes_on(tmp_path, serial):
    folder, _ = serial
    mixed = tmp_path / "in"
    mixed.mkdir()
    (mixed / "broken.tif").write_bytes(b"not a tiff at all")
    gdal.Translate(str(mixed / "good.tif"), str(folder / "crop0.tif"))
    base = [
        CLI,
        "detect-folder",
        str(mixed),
        "--weights",
        str(MODEL),
        "--tile",
        "128",
        "--device",
        "cpu",
        "--workers",
        "2",
        "-q",
    ]
    first = subprocess.run(base + ["-o", str(tmp_path / "a")], capture_output=True, text=True, timeout=600)
    assert first.returncode == 1, first.stderr
    rows = {r["raster"]: r for r in csv.DictReader(open(tmp_path / "a" / "summary.csv"))}
    assert rows["good.tif"]["status"] == "ok" and rows["broken.tif"]["status"] == "error"
    assert "broken.tif" in rows["broken.tif"]["error"] or "not recognized" in rows["broken.tif"]["error"]
    late = subprocess.run(
        base + ["-o", str(tmp_path / "b"), "--task-timeout", "0.001"], capture_output=True, text=True, timeout=600
    )
    assert late.returncode == 1, late.stderr
    rows = {r["raster"]: r for r in csv.DictReader(open(tmp_path / "b" / "summary.csv"))}
    assert "timed out" in rows["good.tif"]["error"] and not (tmp_path / "b" / "good.gpkg").exists()


@pytest.mark.slow
def test_qgis_detect_folder_on_workers_and_its_cancel(plugin, tmp_path, serial):
    from qgis.core import QgsProcessingContext, QgsProcessingFeedback

    import processing

    folder, reference = crops_and_frame(tmp_path, serial)
    params = {"FOLDER": str(folder), "MODEL": str(MODEL), "TILE": 128, "BATCH": 4, "SUMMARY": "memory:"}
    plain = processing.run("micro_detector:detect_folder", {**params, "OUTPUT_FOLDER": str(tmp_path / "plain")})
    context = QgsProcessingContext()
    result = processing.run(
        "micro_detector:detect_folder",
        {**params, "OUTPUT_FOLDER": str(tmp_path / "dask"), "WORKERS": 2},
        context=context,
    )
    assert result["SUMMARY_CSV"] and plain["SUMMARY_CSV"]
    assert gpkgs(tmp_path / "dask") == gpkgs(tmp_path / "plain") and len(gpkgs(tmp_path / "dask")) == 7
    for name in gpkgs(tmp_path / "plain"):
        assert same_features(features(tmp_path / "dask" / name), features(tmp_path / "plain" / name)), name

    class CancelAfterAFifth(QgsProcessingFeedback):
        def setProgress(self, progress):  # noqa: N802 (QGIS API)
            super().setProgress(progress)
            self.cancel()  # at the first report: on a quiet machine a later one may come at the end

    out = tmp_path / "cancelled"
    result = processing.run(
        "micro_detector:detect_folder",
        {**params, "OUTPUT_FOLDER": str(out), "WORKERS": 2},
        feedback=CancelAfterAFifth(),
    )
    assert result == {}
    assert "zframe.gpkg" not in gpkgs(out)  # pending when cancelled: never written
    assert_finished_outputs_whole(out, tmp_path / "plain")


@pytest.mark.slow
def test_qgis_process_runs_workers_from_its_embedded_python(plugins_dir, tmp_path, serial):
    """qgis_process embeds Python: its sys.executable is not an interpreter of this install,
    so the local workers must be spawned from the right one."""
    folder, _ = serial
    assert (
        run_qgis_process(
            ["plugins", "enable", "micro_object_detection"], config_dir=tmp_path, plugin_path=plugins_dir
        ).returncode
        == 0
    )
    done = run_qgis_process(
        [
            "run",
            "micro_detector:detect_folder",
            "--",
            f"FOLDER={folder}",
            f"MODEL={MODEL}",
            "PATTERN=crop[01].tif",
            "TILE=128",
            "WORKERS=2",
            f"OUTPUT_FOLDER={tmp_path / 'out'}",
            f"SUMMARY={tmp_path / 'summary.gpkg'}",
        ],
        config_dir=tmp_path,
        plugin_path=plugins_dir,
        extra_env={"PYTHONPATH": venv_site_packages(), "GDAL_PAM_ENABLED": "NO"},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    loads = (done.stdout + done.stderr).split("model loads per worker: ")[1].splitlines()[0]
    assert sorted(loads.split(", ")) in (["0", "1"], ["1", "1"])  # two workers, each at most one load
    assert gpkgs(tmp_path / "out") == ["crop0.gpkg", "crop1.gpkg"]
