"""Engine benchmark: end-to-end tiles/s versus the model's pure forward on the same tiles,
and peak memory for a small and a large raster.

    .venv/bin/python benchmarks/bench_engine.py [--scale s] [--sizes 2048,12000] [--device cpu]

Each raster is a VRT mosaic of micro4 airport images (2560 x 2560 JPEG-compressed GeoTIFFs)
repeated to the requested size, so reads decode real compressed imagery. Each size runs in a
fresh process so its peak RSS is its own. Efficiency = forward time / end-to-end time.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT.parent / "shared" / "data" / "micro4" / "images"


def build_mosaic(path: Path, size: int) -> Path:
    """A `size` x `size` VRT of airbus tiles (2560 px) in EPSG:32631 at 0.5 m."""
    from osgeo import gdal

    sources = sorted(IMAGES.glob("airbus_*.tif"))
    tile = 2560
    parts = []
    k = 0
    for y in range(0, size, tile):
        for x in range(0, size, tile):
            w, h = min(tile, size - x), min(tile, size - y)
            src = sources[k % len(sources)]
            k += 1
            for band in range(3):
                parts.append(
                    (
                        band,
                        f'<SimpleSource><SourceFilename relativeToVRT="0">{src}</SourceFilename>'
                        f'<SourceBand>{band + 1}</SourceBand><SrcRect xOff="0" yOff="0" xSize="{w}" ySize="{h}"/>'
                        f'<DstRect xOff="{x}" yOff="{y}" xSize="{w}" ySize="{h}"/></SimpleSource>',
                    )
                )
    srs = gdal.Open(str(sources[0])).GetProjection()
    bands = []
    for band, colour in enumerate(("Red", "Green", "Blue")):
        body = "".join(p for b, p in parts if b == band)
        bands.append(
            f'<VRTRasterBand dataType="Byte" band="{band + 1}"><ColorInterp>{colour}</ColorInterp>{body}</VRTRasterBand>'
        )
    path.write_text(
        f'<VRTDataset rasterXSize="{size}" rasterYSize="{size}"><SRS>{srs}</SRS>'
        f"<GeoTransform>500000, 0.5, 0, 4000000, 0, -0.5</GeoTransform>{''.join(bands)}</VRTDataset>"
    )
    return path


def run_one(size: int, scale: str, device: str, batch: int, workdir: Path, backend: str = "auto") -> dict:
    import numpy as np
    import torch

    from micro_detector.engine import DetectOptions, detect
    from micro_detector.model.io import save_model
    from micro_detector.model.runner import open_runner
    from micro_detector.model.spec import ModelSpec
    from micro_detector.model.yolov12 import build_model

    raster = build_mosaic(workdir / f"mosaic_{size}.vrt", size)
    torch.manual_seed(0)
    model = save_model(build_model(ModelSpec(scale=scale, gsd=0.5)), workdir / "model.pt")
    # the path a user gets: open_runner picks the backend (auto: cached ONNX export on the CPU)
    runner = open_runner(model, backend=backend, device=device, cache_dir=workdir / "cache")
    start = time.perf_counter()
    result = detect(raster, workdir / f"out_{size}.gpkg", runner, options=DetectOptions(batch=batch, device=device))
    total = time.perf_counter() - start
    tiles = result.report["tiles"]
    # pure forward on the same number of tiles (same batch), no reading, merging or writing
    x = np.zeros((batch, 3, 640, 640), np.uint8)
    runner.predict(x)  # warm-up
    reps = max(1, min(tiles // batch, 6))
    t0 = time.perf_counter()
    for _ in range(reps):
        runner.predict(x)
    forward_per_tile = (time.perf_counter() - t0) / (reps * batch)
    return {
        "size": size,
        "scale": scale,
        "device": device,
        "backend": runner.backend,
        "tiles": tiles,
        "end_to_end_s": round(total, 2),
        "tiles_per_s": round(tiles / total, 3),
        "forward_only_tiles_per_s": round(1 / forward_per_tile, 3),
        "engine_efficiency": round(forward_per_tile * tiles / total, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "objects": len(result),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="s")
    parser.add_argument("--sizes", default="2048,12000")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--backend", default="auto", choices=["auto", "torch", "onnx"])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(run_one(args.one, args.scale, args.device, args.batch, Path(tmp), args.backend)))
        return 0
    for size in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--one",
                str(size),
                "--scale",
                args.scale,
                "--device",
                args.device,
                "--batch",
                str(args.batch),
                "--backend",
                args.backend,
            ],
            capture_output=True,
            text=True,
        )
        print(out.stdout.strip() or out.stderr[-2000:], flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
