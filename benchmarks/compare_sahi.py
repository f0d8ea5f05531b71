"""Side by side: `micro-detector detect` (default command, no backend flag; then
`--backend openvino` at fp32, bf16 and int8) against SAHI + Ultralytics, in torch and
exported to OpenVINO as Ultralytics documents (`export(format="openvino")`), on the same
raster, tile, overlap, thresholds and thread count. Ratios are against the fastest peer, and
the issue-24 targets (default >= 1.5x its prediction speed, <= 0.5x its peak RSS) are
printed as met or not. Note: the peer's OpenVINO model runs with OpenVINO's default
precision hint, which is bf16 on CPUs that have it.

    .venv/bin/python benchmarks/compare_sahi.py [--size 12000] [--threads 2] [--no-contended]

Both sides: an untrained YOLOv12s at 640 (ours: `micro-detector new-model --scale s`, 80
classes like theirs; theirs: `yolo12s.yaml`), tiles of 640 px with overlap 0.2, score
threshold 0.25, NMS merging at IoU 0.5, `--threads` compute threads (OMP_NUM_THREADS and
torch.set_num_threads). The raster is a `--size` square GeoTIFF (uncompressed, so both sides
read the same bytes; SAHI reads the whole image into memory) made from micro4 airport images
as in bench_engine.py.

The peer's environment is built by this script in a throwaway venv (`--venv`, default
~/.cache/micro-detector-bench/peer-venv): torch + torchvision of one release (the CPU-only
torch wheel lacks torchvision's compiled ops), ultralytics and sahi at the versions below.
Each run is a fresh process; its peak RSS is the kernel's high-water mark of that process
alone (benchmarks/peak_rss.py; before 2026-12-03 it included this script's own peak).
Engine efficiency = pure forward time of our runner on the same number of tiles / our
detection time (report "seconds": reading, inference, merging, writing).
A contended run repeats ours next to one CPU-bound process (a busy loop).
The table goes to stdout and to benchmarks/compare_sahi.txt. Not part of `make test`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from peak_rss import launch, peak_rss_mb  # noqa: E402

PEER_PACKAGES = ["torch==2.14.1", "torchvision==0.29.1", "ultralytics==8.4.190", "sahi==0.12.8", "openvino==2026.4.1"]
DEFAULT_VENV = Path.home() / ".cache" / "micro-detector-bench" / "peer-venv"
TILE, OVERLAP, CONF, MERGE_IOU = 640, 0.2, 0.25, 0.5

PEER_SCRIPT = r"""
import json, sys, time
start = time.perf_counter()
raster, threads, batch, weights = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
import torch
torch.set_num_threads(threads)
from sahi import AutoDetectionModel
from sahi.predict import get_sliced_prediction
model = AutoDetectionModel.from_pretrained(model_type="ultralytics", model_path=weights,
                                           confidence_threshold=%(conf)s, device="cpu")
loaded = time.perf_counter()
result = get_sliced_prediction(raster, model, slice_height=%(tile)s, slice_width=%(tile)s,
                               overlap_height_ratio=%(overlap)s, overlap_width_ratio=%(overlap)s,
                               perform_standard_pred=False, postprocess_type="NMS",
                               postprocess_match_metric="IOU", postprocess_match_threshold=%(iou)s,
                               force_postprocess_type=True, batch_size=batch, verbose=0)
print(json.dumps({"seconds": time.perf_counter() - start, "load_s": loaded - start,
                  "predict_s": result.durations_in_seconds.get("prediction"),
                  "slice_s": result.durations_in_seconds.get("slice"),
                  "objects": len(result.object_prediction_list), "torch": torch.__version__}))
""" % {"conf": CONF, "tile": TILE, "overlap": OVERLAP, "iou": MERGE_IOU}

# the peer's OpenVINO route, as Ultralytics documents it (three lines); run once, not timed
PEER_EXPORT = r"""
import sys
from ultralytics import YOLO
print(YOLO("yolo12s.yaml").export(format="openvino", imgsz=%(tile)s))
""" % {"tile": TILE}
# ours on OpenVINO at each precision (the default command's row is measured apart)

FORWARD_SCRIPT = r"""
import json, sys, time
import numpy as np
from micro_detector.model.runner import open_runner
from micro_detector.engine import DetectOptions
from micro_detector.predict import batch_size
model, tiles = sys.argv[1], int(sys.argv[2])
runner = open_runner(model, device="cpu")
batch = batch_size(DetectOptions(), runner)  # what the default command uses
x = np.zeros((batch, 3, %(tile)s, %(tile)s), np.uint8)
runner.predict(x, conf=%(conf)s)  # warm-up
reps = max(2, min(8, tiles // batch))
t0 = time.perf_counter()
for _ in range(reps):
    runner.predict(x, conf=%(conf)s)
per_tile = (time.perf_counter() - t0) / (reps * batch)
print(json.dumps({"per_tile_s": per_tile, "backend": runner.backend, "reason": runner.backend_reason}))
""" % {"tile": TILE, "conf": CONF}


def ensure_peer_venv(venv: Path) -> Path:
    """The peer's python, building its venv first when missing (pip from the usual indexes)."""
    python = venv / "bin" / "python"
    marker = venv / ".complete"
    if marker.is_file() and marker.read_text().split() == PEER_PACKAGES:
        return python
    print(f"building the peer venv in {venv} ({' '.join(PEER_PACKAGES)}) ...", file=sys.stderr)
    # the system python3, not this venv's: the peer must not see our site packages
    subprocess.run(["python3", "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *PEER_PACKAGES, "psutil"], check=True)
    marker.write_text(" ".join(PEER_PACKAGES))
    return python


def make_raster(workdir: Path, size: int) -> Path:
    """A `size` square uncompressed RGB GeoTIFF of micro4 airport images (as bench_engine)."""
    from osgeo import gdal

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_engine import build_mosaic

    vrt = build_mosaic(workdir / f"mosaic_{size}.vrt", size)
    tif = workdir / f"mosaic_{size}.tif"
    gdal.Translate(str(tif), str(vrt), creationOptions=["INTERLEAVE=PIXEL"])
    return tif


def run_measured(cmd: list[str], env: dict, cwd: Path) -> dict:
    """Run `cmd`: wall seconds, the child's peak RSS in MB (the kernel's high-water mark of
    that process alone, through peak_rss.py's launcher: a child of this big process would
    report this process's peak instead), its stdout and stderr."""
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        rss_file = Path(tmp) / "rss"
        proc = launch(cmd, rss_file, env=env, cwd=cwd, stdout=out, stderr=err, text=True)
        proc.wait()
        wall = time.perf_counter() - start
        peak = peak_rss_mb(rss_file)
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode or peak is None:
        raise RuntimeError(f"{' '.join(cmd[:4])} ... failed ({proc.returncode}):\n{stderr[-3000:]}")
    return {"wall_s": wall, "peak_rss_mb": peak, "stdout": stdout, "stderr": stderr}


def busy_loop() -> subprocess.Popen:
    """One CPU-bound competitor."""
    return subprocess.Popen([sys.executable, "-c", "while True:\n    pass"])


def ours(raster: Path, model: Path, workdir: Path, env: dict, tag: str, flags: list[str] = ()) -> dict:
    out = workdir / f"ours_{tag}.gpkg"
    out.unlink(missing_ok=True)
    run = run_measured(
        [
            sys.executable,
            "-m",
            "micro_detector",
            "detect",
            str(raster),
            "-o",
            str(out),
            "--weights",
            str(model),
            "--tile",
            str(TILE),
            "--overlap",
            str(OVERLAP),
            "--conf",
            str(CONF),
            "--iou",
            str(MERGE_IOU),
            "--merge",
            "nms",
            "-q",
            *flags,
        ],
        env,
        ROOT,
    )
    try:
        report = json.loads(run["stdout"])
    except ValueError:  # a row that cannot be read is reported as failed, the others still run
        raise RuntimeError(f"its stdout is not the JSON report: {run['stdout'][:200]!r}") from None
    backend = [line for line in run["stderr"].splitlines() if line.startswith("backend:")]
    return {**run, "report": report, "backend": backend[0] if backend else "?"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=12000, help="raster side in pixels")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--peer-batch", type=int, default=1, help="SAHI batch_size (its default: 1)")
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV)
    parser.add_argument("--no-contended", action="store_true", help="skip the run beside a busy process")
    parser.add_argument(
        "--openvino",
        default="fp32,bf16,int8",
        help="precisions of our OpenVINO rows (bf16 runs as fp32 on a CPU without AVX512-BF16/AMX)",
    )
    parser.add_argument("--workdir", type=Path, help="keep rasters and outputs here (default: temporary)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "compare_sahi.txt")
    args = parser.parse_args(argv)
    peer_python = ensure_peer_venv(args.venv)
    with tempfile.TemporaryDirectory(prefix="compare-sahi-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        rows, notes = compare(args, peer_python, workdir)
    text = format_table(rows, notes)
    print(text)
    args.out.write_text(text)
    return 0


def compare(args, peer_python: Path, workdir: Path) -> tuple[list[dict], list[str]]:
    threads = str(args.threads)
    env = {
        **os.environ,
        "OMP_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
        "PYTHONPATH": str(ROOT),
        "MICRO_DETECTOR_CACHE": str(workdir / "cache"),
        "YOLO_OFFLINE": "1",
        "YOLO_VERBOSE": "False",
        "GDAL_PAM_ENABLED": "NO",
    }
    raster = make_raster(workdir, args.size)
    model = workdir / "ours_s.pt"
    classes = ",".join(f"c{i}" for i in range(80))
    subprocess.run(
        [sys.executable, "-m", "micro_detector", "new-model", "--scale", "s", "--classes", classes, "-o", str(model)],
        env=env,
        check=True,
        capture_output=True,
    )
    # first run makes the cached ONNX export (a one-time cost, reported apart)
    first = ours(raster, model, workdir, env, "first")
    quiet = ours(raster, model, workdir, env, "quiet")
    tiles = quiet["report"]["tiles"]
    fwd = json.loads(run_measured([sys.executable, "-c", FORWARD_SCRIPT, str(model), str(tiles)], env, ROOT)["stdout"])
    rows = [row("micro-detector detect (default)", quiet, quiet["report"]["seconds"])]
    for backend, precision in [("openvino", p) for p in args.openvino.split(",") if p]:
        flags = ["--backend", backend, "--precision", precision]
        try:
            ours(raster, model, workdir, env, f"{backend}_{precision}_first", flags)  # compile / quantize once
            run = ours(raster, model, workdir, env, f"{backend}_{precision}", flags)
        except RuntimeError as error:  # openvino or nncf missing: the row says so
            rows.append({"run": f"micro-detector {backend} {precision}", "error": str(error).splitlines()[-1][:120]})
            continue
        rows.append(row(f"micro-detector --backend {backend} --precision {precision}", run, run["report"]["seconds"]))
    exported = run_measured([str(peer_python), "-c", PEER_EXPORT], env, workdir)["stdout"].strip().splitlines()[-1]
    peers = {}
    for name, weights in (
        ("SAHI + Ultralytics yolo12s.yaml", "yolo12s.yaml"),
        ("SAHI + Ultralytics OpenVINO export", exported),
    ):
        peer_run = run_measured(
            [str(peer_python), "-c", PEER_SCRIPT, str(raster), threads, str(args.peer_batch), weights], env, workdir
        )
        peers[name] = json.loads(peer_run["stdout"].strip().splitlines()[-1])
        rows.append(row(name, peer_run, peers[name]["predict_s"]))
    peer = min(peers.values(), key=lambda p: p["predict_s"])
    if not args.no_contended:
        competitor = busy_loop()
        try:
            loaded = ours(raster, model, workdir, env, "contended")
        finally:
            competitor.kill()
            competitor.wait()
        rows.append(row("micro-detector, 1 busy process beside", loaded, loaded["report"]["seconds"]))
        rows[-1]["slowdown"] = loaded["wall_s"] / quiet["wall_s"]
    efficiency = fwd["per_tile_s"] * tiles / quiet["report"]["seconds"]
    notes = [
        f"raster {args.size} x {args.size} px, {tiles} tiles of {TILE} px, overlap {OVERLAP}, "
        f"conf {CONF}, NMS IoU {MERGE_IOU}, {args.threads} threads, SAHI batch {args.peer_batch}",
        f"ours: {quiet['backend']}",
        f"ours, first run (includes the one-time ONNX export): {first['wall_s']:.1f} s",
        f"engine efficiency (forward {fwd['per_tile_s'] * 1000:.0f} ms/tile x {tiles} tiles / "
        f"detection {quiet['report']['seconds']:.1f} s): {efficiency:.3f}",
        f"peer: torch {peer['torch']}, {' '.join(PEER_PACKAGES[2:])}; model build {peer['load_s']:.1f} s, "
        f"slicing {peer['slice_s'] or 0:.1f} s",
        f"objects: ours {quiet['report']['objects']}, peer {peer['objects']} (untrained models)",
        *[
            f"{r['run']}: pipeline efficiency (time in the runner / detection time) {r['pipeline']:.3f}; {r['backend']}"
            for r in rows
            if "pipeline" in r
        ],
        f"machine: {os.cpu_count()} logical CPUs, load average before {os.getloadavg()[0]:.1f}",
        time.strftime("run %Y-%m-%d %H:%M UTC", time.gmtime()),
    ]
    return rows, notes


def row(name: str, run: dict, predict_s: float) -> dict:
    out = {"run": name, "wall_s": run["wall_s"], "predict_s": predict_s, "peak_rss_mb": run["peak_rss_mb"]}
    if "report" in run:  # ours: the engine's time in the runner over its detection time
        out["pipeline"] = run["report"]["forward_seconds"] / max(run["report"]["seconds"], 1e-9)
        out["backend"] = run["backend"]
    return out


def format_table(rows: list[dict], notes: list[str]) -> str:
    """The table against the fastest peer (least SAHI prediction time), and the targets."""
    peer = min((r for r in rows if r["run"].startswith("SAHI")), key=lambda r: r["predict_s"])
    ours = rows[0]
    lines = [
        "| run | wall s | prediction s | peak RSS MB | fastest peer's prediction / this | RSS / that peer's | slowdown |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['run']} | failed: {r['error']} ||||||")
            continue
        r["vs_peer_predict"] = peer["predict_s"] / r["predict_s"]
        lines.append(
            f"| {r['run']} | {r['wall_s']:.1f} | {r['predict_s']:.1f} | {r['peak_rss_mb']:.0f} | "
            f"{r['vs_peer_predict']:.2f}x | {r['peak_rss_mb'] / peer['peak_rss_mb']:.2f} | "
            f"{r['slowdown']:.2f}x |"
            if "slowdown" in r
            else f"| {r['run']} | {r['wall_s']:.1f} | {r['predict_s']:.1f} | {r['peak_rss_mb']:.0f} | "
            f"{r['vs_peer_predict']:.2f}x | {r['peak_rss_mb'] / peer['peak_rss_mb']:.2f} | |"
        )
    speed, rss = peer["predict_s"] / ours["predict_s"], ours["peak_rss_mb"] / peer["peak_rss_mb"]
    notes = [
        f"fastest peer: {peer['run']}; default command {speed:.2f}x its prediction speed (target >= 1.5x: "
        f"{'met' if speed >= 1.5 else 'NOT met'}), peak RSS {rss:.2f} of its (target <= 0.5: "
        f"{'met' if rss <= 0.5 else 'NOT met'})"
    ] + notes
    return "\n".join(lines + [""] + [f"- {n}" for n in notes]) + "\n"


if __name__ == "__main__":
    sys.exit(main())
