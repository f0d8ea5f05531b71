"""Remote COG benchmark: one raster as a COG read from a local file and served over local HTTP
(byte ranges, tests/http_range_server.py), detected the same way: wall time, bytes, requests.

    .venv/bin/python benchmarks/remote_cog.py                       # the 12k mosaic (bench_engine)
    .venv/bin/python benchmarks/remote_cog.py --raster resources/demo/kit_MunichStreet02-MOS93.tif

The raster (default: bench_engine's 12000 px VRT mosaic of micro4 airport images) is written
once as a COG (512 px tiles, JPEG for 8-bit RGB, else DEFLATE) into --workdir. The local run
reads that COG file; the remote run reads the same COG at http://127.0.0.1:PORT/. Each run is
in a fresh process (no GDAL cache shared between them). Target (issue 25): remote wall time at
most 1.2x the local one; bytes fetched close to the file's size (each block once).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))


def make_cog(src: Path, dst: Path, blocksize: int) -> Path:
    """`src` as a COG at `dst` (kept when it exists: the mosaic takes minutes to encode)."""
    from osgeo import gdal

    if dst.exists():
        return dst
    ds = gdal.Open(str(src))
    rgb8 = ds.RasterCount == 3 and ds.GetRasterBand(1).DataType == gdal.GDT_Byte
    options = [f"BLOCKSIZE={blocksize}", "COMPRESS=JPEG" if rgb8 else "COMPRESS=DEFLATE", "NUM_THREADS=ALL_CPUS"]
    tmp = dst.with_suffix(".part.tif")
    gdal.Translate(str(tmp), ds, format="COG", creationOptions=options)
    tmp.rename(dst)
    return dst


def one_run(raster: str, weights: str | None, batch: int) -> dict:
    """Detect on `raster` in this process; the figures of the run."""
    from micro_detector import engine
    from micro_detector.model.runner import open_runner
    from micro_detector.options import DetectOptions
    from micro_detector.resources import default_model_for

    runner = open_runner(weights or default_model_for("auto"))
    start = time.perf_counter()
    result = engine.detect(raster, None, runner, options=DetectOptions(batch=batch))
    wall = time.perf_counter() - start
    net = result.report.get("network", {})
    return {
        "wall_s": round(wall, 3),
        "forward_s": result.report["forward_seconds"],
        "other_s": round(wall - result.report["forward_seconds"], 3),
        "objects": len(result),
        "tiles": result.report["tiles"],
        "bytes_fetched": net.get("bytes_fetched"),
        "requests": net.get("requests"),
        "warnings": result.report["warnings"],
        "scores_sum": float(result.scores.sum()),
    }


def in_fresh_process(raster: str, args) -> dict:
    cmd = [sys.executable, __file__, "--one", raster, "--batch", str(args.batch)]
    if args.weights:
        cmd += ["--weights", args.weights]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--raster", help="raster to serve as a COG (default: the 12k mosaic)")
    parser.add_argument("--size", type=int, default=12000, help="mosaic side when --raster is not given")
    parser.add_argument("--blocksize", type=int, default=512)
    parser.add_argument("--weights")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "remote_cog_bench")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_run(args.one, args.weights, args.batch)))
        return
    from http_range_server import RangeServer

    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.raster:
        src = Path(args.raster)
    else:
        from bench_engine import build_mosaic

        src = build_mosaic(args.workdir / f"mosaic_{args.size}.vrt", args.size)
    cog = make_cog(src, args.workdir / f"{src.stem}_cog{args.blocksize}.tif", args.blocksize)
    size = cog.stat().st_size
    local = in_fresh_process(str(cog), args)
    with RangeServer(args.workdir) as server:
        remote = in_fresh_process(f"{server.url}/{cog.name}", args)
        remote.update(server_requests=server.requests, server_bytes=server.bytes_sent)
    figures = {
        "raster": str(src),
        "cog": str(cog),
        "cog_bytes": size,
        "local": local,
        "remote": remote,
        "wall_ratio": round(remote["wall_s"] / local["wall_s"], 3),
        "bytes_ratio": round((remote["bytes_fetched"] or 0) / size, 3),
        "same_objects": local["objects"] == remote["objects"] and local["scores_sum"] == remote["scores_sum"],
    }
    print(f"COG {cog.name}: {size / 1e6:.1f} MB, {local['tiles']} tiles")
    print(f"local : {local['wall_s']:.2f} s ({local['other_s']:.2f} s outside the model), {local['objects']} objects")
    print(
        f"remote: {remote['wall_s']:.2f} s ({remote['other_s']:.2f} s outside the model), {remote['objects']} objects, {remote['bytes_fetched'] / 1e6:.1f} MB "
        f"in {remote['requests']} requests (server: {remote['server_bytes'] / 1e6:.1f} MB, "
        f"{remote['server_requests']} requests)"
    )
    print(
        f"wall ratio remote/local {figures['wall_ratio']} (target <= 1.2); bytes fetched / COG size "
        f"{figures['bytes_ratio']}; same detections: {figures['same_objects']}"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
