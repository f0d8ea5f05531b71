"""Bounded memory on any raster size (issue 27, item 4): peak RSS of `micro-detector detect`
must not grow with the raster, and planning a huge raster takes under a second.

Rasters are VRTs of one small textured tile (256 px, 0.3 m, UTM) stretched over the whole
raster, so a 200000 x 200000 raster costs nothing on disk. For each size the script times the
plan (open + plan, in this process) and runs the CLI in a child process under an address-space
limit (`ulimit -v`, RLIMIT_AS), sampling its RSS twice a second; the peak comes from the
kernel (the CLI's own high-water mark, through benchmarks/peak_rss.py). Whole rasters are
run over the ladder of --sizes; the --huge raster is run over an --extent-px square in its
middle (and planned whole, for the timing).

    .venv/bin/python benchmarks/bench_memory.py                        # ladder 2000,5000,10000 + 200000 extent
    .venv/bin/python benchmarks/bench_memory.py --sizes 2000,50000     # the issue's whole 50000 run (hours on a CPU)
    .venv/bin/python benchmarks/bench_memory.py --sizes 600,1200 --huge 200000 --extent-px 600 --quick

Writes a table to stdout and JSON to --out (default benchmarks/out/memory.json). Verdicts:
plan of the huge raster < 1 s; peak RSS of the largest whole run within 15 % (+50 MB) of the
smallest; RSS in the last half of each run within 10 % of its first half (flat over a run).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peak_rss import launch, peak_rss_mb  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
GSD = 0.3
ORIGIN = (690000.0, 5335000.0)


def make_tile(path: Path, size: int = 256) -> Path:
    """A small textured RGB GeoTIFF: the one tile every VRT is made of."""
    from osgeo import gdal, osr

    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32632)
    ds = gdal.GetDriverByName("GTiff").Create(str(path), size, size, 3, gdal.GDT_Byte)
    ds.SetGeoTransform((ORIGIN[0], GSD, 0.0, ORIGIN[1], 0.0, -GSD))
    ds.SetProjection(srs.ExportToWkt())
    rng = np.random.default_rng(0)
    for b in range(3):
        ds.GetRasterBand(b + 1).WriteArray(rng.integers(40, 220, (size, size), dtype=np.uint8))
    ds = None
    return path


def make_vrt(path: Path, tile: Path, size: int, tile_size: int = 256) -> Path:
    """A size x size VRT at 0.3 m whose one source is `tile` stretched over all of it."""
    from osgeo import osr

    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32632)
    bands = "".join(
        f'<VRTRasterBand dataType="Byte" band="{b}"><SimpleSource><SourceFilename relativeToVRT="0">{tile}'
        f'</SourceFilename><SourceBand>{b}</SourceBand><SrcRect xOff="0" yOff="0" xSize="{tile_size}" '
        f'ySize="{tile_size}"/><DstRect xOff="0" yOff="0" xSize="{size}" ySize="{size}"/></SimpleSource>'
        f"</VRTRasterBand>"
        for b in (1, 2, 3)
    )
    path.write_text(
        f'<VRTDataset rasterXSize="{size}" rasterYSize="{size}"><SRS>{srs.ExportToWkt()}</SRS>'
        f"<GeoTransform>{ORIGIN[0]}, {GSD}, 0, {ORIGIN[1]}, 0, {-GSD}</GeoTransform>{bands}</VRTDataset>"
    )
    return path


def plan_seconds(vrt: Path, extent=None, weights=None) -> tuple[float, int]:
    """(seconds to open the raster and plan it, windows) in this process."""
    from micro_detector.engine import plan_raster
    from micro_detector.model.files import read_spec
    from micro_detector.options import DetectOptions
    from micro_detector.resources import default_model_for

    spec = read_spec(weights or default_model_for("auto"))
    t0 = time.perf_counter()
    plan = plan_raster(vrt, spec, DetectOptions(extent=extent))
    return time.perf_counter() - t0, len(plan.windows)


def run_detect(vrt: Path, out: Path, limit_gb: float, extra: list[str], weights=None) -> dict:
    """The CLI on `vrt` under an address-space limit: exit code, seconds, peak RSS (MB) and
    the RSS samples (MB, twice a second)."""
    cmd = [PYTHON, "-m", "micro_detector", "detect", str(vrt), "-o", str(out), "-q", "--overwrite", *extra]
    if weights:
        cmd += ["--weights", str(weights)]

    def limit():
        if limit_gb > 0:
            cap = int(limit_gb * 2**30)
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    rss_file = out.with_name(out.name + ".rss")
    proc = launch(cmd, rss_file, preexec_fn=limit, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    samples = []
    while True:
        pid, status, _ = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        try:
            command = psutil.Process(proc.pid).children()  # the launcher's one child: the CLI
            with open(f"/proc/{command[0].pid}/status") as status_file:
                rss = next(int(line.split()[1]) for line in status_file if line.startswith("VmRSS"))
            samples.append(rss / 1024)
        except (OSError, StopIteration, IndexError, psutil.Error):
            pass
        time.sleep(0.5)
    stderr = proc.stderr.read().decode(errors="replace")
    report = {}
    with contextlib.suppress(ValueError):
        report = json.loads(proc.stdout.read().decode())
    return {
        "exit": os.waitstatus_to_exitcode(status),
        "seconds": round(time.perf_counter() - t0, 1),
        "peak_rss_mb": round(peak_rss_mb(rss_file) or 0.0, 1),
        "rss_samples_mb": [round(s, 1) for s in samples],
        "tiles": report.get("tiles"),
        "objects": report.get("objects"),
        "error": stderr.strip().splitlines()[-1] if os.waitstatus_to_exitcode(status) else "",
    }


def flat(samples: list[float]) -> bool | None:
    """RSS in the second half of a run within 10 % of the first half's peak (None: too short)."""
    if len(samples) < 8:
        return None
    half = len(samples) // 2
    return max(samples[half:]) <= 1.10 * max(samples[:half])


def main(argv=None) -> int:
    """Run the ladder and the huge raster; print the table and verdicts; write JSON."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="2000,5000,10000", help="whole-raster sizes (px), comma-separated")
    p.add_argument("--huge", type=int, default=200000, help="the huge raster's size (px); 0: none")
    p.add_argument("--extent-px", type=int, default=3000, help="side of the square run on the huge raster")
    p.add_argument("--limit-gb", type=float, default=6.0, help="address-space limit of the runs (0: none)")
    p.add_argument("--weights", type=Path, help="model (default: the bundled one)")
    p.add_argument("--quick", action="store_true", help="plan only, no detection runs (a check of the script)")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "memory.json")
    args = p.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as work:
        work = Path(work)
        tile = make_tile(work / "tile.tif")
        for size in [int(s) for s in args.sizes.split(",") if s]:
            vrt = make_vrt(work / f"r{size}.vrt", tile, size)
            plan_s, windows = plan_seconds(vrt, weights=args.weights)
            row = {"raster": f"{size} x {size}", "region": "whole", "windows": windows, "plan_s": round(plan_s, 4)}
            if not args.quick:
                row.update(run_detect(vrt, work / f"o{size}.gpkg", args.limit_gb, [], args.weights))
            rows.append(row)
            print(json.dumps({k: v for k, v in row.items() if k != "rss_samples_mb"}), flush=True)
        if args.huge:
            vrt = make_vrt(work / "huge.vrt", tile, args.huge)
            mid = (ORIGIN[0] + args.huge * GSD / 2, ORIGIN[1] - args.huge * GSD / 2)
            half = args.extent_px * GSD / 2
            extent = (mid[0] - half, mid[1] - half, mid[0] + half, mid[1] + half)
            whole_s, whole_n = plan_seconds(vrt, weights=args.weights)
            plan_s, windows = plan_seconds(vrt, extent, args.weights)
            row = {
                "raster": f"{args.huge} x {args.huge}",
                "region": f"extent {args.extent_px} px",
                "windows": windows,
                "plan_s": round(plan_s, 4),
                "whole_plan_s": round(whole_s, 4),
                "whole_windows": whole_n,
            }
            if not args.quick:
                row.update(
                    run_detect(
                        vrt,
                        work / "huge.gpkg",
                        args.limit_gb,
                        ["--extent", ",".join(f"{v:.3f}" for v in extent)],
                        args.weights,
                    )
                )
            rows.append(row)
            print(json.dumps({k: v for k, v in row.items() if k != "rss_samples_mb"}), flush=True)
    verdicts = verdict(rows, args)
    print(json.dumps(verdicts, indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"rows": rows, "verdicts": verdicts}, indent=1))
    return 0 if all(v is not False for v in verdicts.values()) else 1


def verdict(rows: list[dict], args) -> dict:
    """The checks of the issue over the rows (None where not measured)."""
    out = {
        "huge plan under 1 s": None,
        "peak RSS flat over sizes": None,
        "RSS flat within runs": None,
        "all runs finished": None,
    }
    huge = [r for r in rows if r["region"] != "whole"]
    if huge:
        out["huge plan under 1 s"] = max(huge[0]["plan_s"], huge[0]["whole_plan_s"]) < 1.0
    runs = [r for r in rows if "peak_rss_mb" in r]
    if runs:
        out["all runs finished"] = all(r["exit"] == 0 for r in runs)
        whole = [r for r in runs if r["region"] == "whole"]
        if len(whole) >= 2:
            out["peak RSS flat over sizes"] = whole[-1]["peak_rss_mb"] <= 1.15 * whole[0]["peak_rss_mb"] + 50
        flats = [flat(r["rss_samples_mb"]) for r in runs]
        measured = [f for f in flats if f is not None]
        out["RSS flat within runs"] = all(measured) if measured else None
    return out


if __name__ == "__main__":
    sys.exit(main())
