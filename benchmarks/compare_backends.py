"""Every backend and precision of `micro-detector detect` on one raster, in one run.

    .venv/bin/python benchmarks/compare_backends.py [--raster R | --size 12000] [--model M]
        [--threads 2] [--rows auto,onnx,openvino:fp32,openvino:bf16,openvino:int8,torch]

Each row is the CLI in a fresh process (`--backend B --precision P`), run twice with the
same cache folder: the first run makes what the backend keeps (ONNX export, OpenVINO
compiled blob, int8 IR) and is reported apart; the second is measured: wall time, the
engine's detection time and forward time (from its report), ms per tile, peak RSS (wait4:
the kernel's high-water mark of that process alone), objects, and their agreement with the
ONNX Runtime fp32 row (same count; boxes matched within 1 px). Then:
- pipeline efficiency = the engine's time inside the runner / its detection time (reads run
  ahead in a thread; merge and clip follow the last tile);
- pure-forward efficiency = the runner's time per tile measured alone (same tile size, in
  the same process kind) x tiles / detection time, as in compare_sahi.py;
- ratios: each row's detection time against ONNX Runtime fp32 and against the fastest row.
Accuracy per precision is not measured here (a raster has no labels): see
benchmarks/precision_ladder.py. The table goes to stdout and to --out.

Default raster: the bundled demo frame (14 tiles: a check that runs in about a minute, not
a benchmark). `--size N` builds the N x N micro4 mosaic of compare_sahi.py (needs
../shared/data/micro4).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from compare_sahi import make_raster, run_measured  # noqa: E402  (same measurement)

DEMO = ROOT / "resources" / "demo" / "kit_MunichStreet02-MOS93.tif"
DEFAULT_ROWS = "auto,onnx,openvino:fp32,openvino:bf16,openvino:int8,torch"

FORWARD_SCRIPT = r"""
import json, sys, time, warnings
import numpy as np
warnings.simplefilter("ignore")
from micro_detector.model.runner import open_runner
model, backend, precision, tile, reps = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
runner = open_runner(model, backend=backend, device="cpu", precision=precision)
x = np.full((1, runner.spec.bands, tile, tile), 114, np.uint8)
runner.predict(x); runner.predict(x)
t0 = time.perf_counter()
for _ in range(reps):
    runner.predict(x)
print(json.dumps({"ms_per_tile": (time.perf_counter() - t0) / reps * 1000}))
"""


def detect_row(raster: Path, model: Path, backend: str, precision: str, workdir: Path, env: dict, threads: int) -> dict:
    """One measured CLI run (after one warming run) of `backend` at `precision`."""
    out = workdir / f"out_{backend}_{precision}.gpkg"
    cmd = [
        sys.executable,
        "-m",
        "micro_detector",
        "detect",
        str(raster),
        "-o",
        str(out),
        "--overwrite",
        "--weights",
        str(model),
        "--backend",
        backend,
        "--precision",
        precision,
        "--device",
        "cpu",
        "-q",
    ]
    first = run_measured(cmd, env, ROOT)
    run = run_measured(cmd, env, ROOT)
    report = json.loads(run["stdout"])
    backend_line = next((line for line in run["stderr"].splitlines() if line.startswith("backend:")), "?")
    return {
        "wall_s": run["wall_s"],
        "first_wall_s": first["wall_s"],
        "peak_rss_mb": run["peak_rss_mb"],
        "seconds": report["seconds"],
        "forward_s": report["forward_seconds"],
        "tiles": report["tiles"],
        "objects": report["objects"],
        "backend_line": backend_line,
        "output": out,
    }


def pure_forward(model: Path, backend: str, precision: str, tile: int, env: dict, reps: int) -> float:
    """The runner's ms per tile alone, on a constant tile of `tile` px."""
    done = run_measured(
        [sys.executable, "-c", FORWARD_SCRIPT, str(model), backend, precision, str(tile), str(reps)], env, ROOT
    )
    return json.loads(done["stdout"].strip().splitlines()[-1])["ms_per_tile"]


def agreement(reference: Path, other: Path) -> str:
    """'same' when both outputs hold the same objects (boxes within 1 px), else counts."""
    from osgeo import ogr

    def boxes(path):
        ds = ogr.Open(str(path))
        layer = ds.GetLayer(0)
        out = sorted(tuple(round(v, 0) for v in f.GetGeometryRef().GetEnvelope()) for f in layer)
        return out

    a, b = boxes(reference), boxes(other)
    if len(a) != len(b):
        return f"{len(b)} vs {len(a)} objects"
    import numpy as np

    if not a:
        return "same (none)"
    diff = np.abs(np.asarray(a) - np.asarray(b)).max()
    return "same" if diff <= 1.0 else f"boxes differ by up to {diff:.1f} map units"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--raster", type=Path, help=f"default: {DEMO.name}, or --size")
    parser.add_argument("--size", type=int, help="build the micro4 mosaic of this side instead")
    parser.add_argument("--model", type=Path, default=ROOT / "resources" / "models" / "default.pt")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rows", default=DEFAULT_ROWS, help="backend[:precision],... (auto = the default command)")
    parser.add_argument("--reps", type=int, default=8, help="forward passes for the pure-forward time")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "compare_backends.txt")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="compare-backends-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        raster = make_raster(workdir, args.size) if args.size else (args.raster or DEMO)
        rows, notes = compare(args, raster, workdir)
    text = format_table(rows, notes)
    print(text)
    args.out.write_text(text)
    return 0


def compare(args, raster: Path, workdir: Path) -> tuple[list[dict], list[str]]:
    threads = str(args.threads)
    env = {
        **os.environ,
        "OMP_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
        "PYTHONPATH": str(ROOT),
        "MICRO_DETECTOR_CACHE": str(workdir / "cache"),
        "GDAL_PAM_ENABLED": "NO",
        "PYTHONWARNINGS": "ignore",
    }
    rows = []
    for item in args.rows.split(","):
        backend, _, precision = item.strip().partition(":")
        precision = precision or "auto"
        try:
            row = detect_row(raster, args.model, backend, precision, workdir, env, args.threads)
        except RuntimeError as error:  # e.g. a backend not installed: the row says so
            rows.append({"run": item, "error": str(error).strip().splitlines()[-1][:160]})
            continue
        tile = _tile_px(args.model)
        row["pure_ms"] = pure_forward(args.model, backend, precision, tile, env, args.reps)
        rows.append({"run": item, **row})
    reference = next((r for r in rows if r["run"] in ("onnx", "onnx:fp32", "onnx:auto") and "error" not in r), None)
    for r in rows:
        if "error" not in r and reference is not None:
            r["agree"] = "reference" if r is reference else agreement(reference["output"], r["output"])
    notes = [
        f"raster {raster.name}, model {args.model.name}, {args.threads} threads, CPU",
        f"machine: {os.cpu_count()} logical CPUs, load average before {os.getloadavg()[0]:.1f}",
        time.strftime("run %Y-%m-%d %H:%M UTC", time.gmtime()),
    ]
    notes += [f"{r['run']}: {r['backend_line']}" for r in rows if "error" not in r]
    return rows, notes


def _tile_px(model: Path) -> int:
    from micro_detector.model.onnx_meta import onnx_metadata, spec_from_metadata
    from micro_detector.model.ov_open import export_for

    onnx_path, _ = export_for(model)
    return spec_from_metadata(onnx_metadata(onnx_path), onnx_path).imgsz


def format_table(rows: list[dict], notes: list[str]) -> str:
    ok = [r for r in rows if "error" not in r]
    fastest = min((r["seconds"] for r in ok), default=1.0)
    ref = next((r["seconds"] for r in ok if r.get("agree") == "reference"), None)
    lines = [
        "| run | wall s | first run s | detection s | ms/tile | pure ms/tile | pipeline eff. | "
        "pure-forward eff. | peak RSS MB | onnx fp32 / this | fastest / this | objects | agreement |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['run']} | failed: {r['error']} |||||||||||")
            continue
        tiles = max(r["tiles"], 1)
        lines.append(
            f"| {r['run']} | {r['wall_s']:.1f} | {r['first_wall_s']:.1f} | {r['seconds']:.2f} | "
            f"{r['seconds'] / tiles * 1000:.1f} | {r['pure_ms']:.1f} | {r['forward_s'] / r['seconds']:.3f} | "
            f"{r['pure_ms'] * tiles / 1000 / r['seconds']:.3f} | {r['peak_rss_mb']:.0f} | "
            f"{(ref / r['seconds']) if ref else float('nan'):.2f}x | {fastest / r['seconds']:.2f} | "
            f"{r['objects']} | {r.get('agree', '')} |"
        )
    return "\n".join(lines + [""] + [f"- {n}" for n in notes]) + "\n"


if __name__ == "__main__":
    sys.exit(main())
