"""detect-folder on Dask: rasters/s and tiles/s for 1, 2 and 4 LocalCluster workers on the
same folder, and the scaling efficiency, in one run.

    .venv/bin/python benchmarks/bench_folder.py [--folder DIR] [--rasters 8] [--size 1024]
        [--workers 1,2,4] [--tile 256] [--weights MODEL.pt]

Without --folder, the folder is `--rasters` crops of `--size` px cut from micro4 images
(../shared/data/micro4/images) or, when that is absent, from the test frame in tests/data.
Each worker count runs on a warm cluster (workers started, the model loaded on each and
one raster run before the clock starts), so the figures are steady-state throughput; the
cluster start is timed apart. Efficiency = rate(n) / (n x rate(1)). The machine's cores and what the
workers had of them are printed too: on 2 cores, more than 2 workers only share them.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MICRO4 = ROOT.parent / "shared" / "data" / "micro4" / "images"
FRAME = ROOT / "tests" / "data" / "micro4_mini" / "images" / "kit_MOS155.tif"


def make_folder(folder: Path, count: int, size: int) -> Path:
    """`count` crops of at most `size` px, from micro4 images or the test frame."""
    from osgeo import gdal

    sources = sorted(MICRO4.glob("*.tif")) if MICRO4.is_dir() else [FRAME]
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        src = gdal.Open(str(sources[i % len(sources)]))
        w, h = min(size, src.RasterXSize), min(size, src.RasterYSize)
        x0 = (i // len(sources)) * 37 % max(1, src.RasterXSize - w + 1)
        gdal.Translate(str(folder / f"r{i:03d}.tif"), src, srcWin=[x0, 0, w, h])
    return folder


def warm_cluster(workers: int, weights: Path, options):
    """A LocalCluster of `workers` one-thread processes with the model loaded on each."""
    from distributed import Client, LocalCluster

    from micro_detector.distributed.worker import ModelRef, warm

    t0 = time.perf_counter()
    cluster = LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.CRITICAL
    )
    client = Client(cluster)
    ref = ModelRef.of(weights, options.backend, options.device)
    backends = set(client.run(warm, ref).values())
    return cluster, client, time.perf_counter() - t0, backends


def _cpu_seconds() -> float:
    return sum(os.times()[:2])


def run(folder: Path, weights: Path, workers: int, options, block_tiles: int) -> dict:
    from micro_detector.distributed import ClusterOptions, detect_folder_dask

    cluster, client, startup, backends = warm_cluster(workers, weights, options)
    out = Path(tempfile.mkdtemp(prefix=f"bench-folder-{workers}-"))
    first = sorted(folder.glob("*.tif"))[0].name  # one raster first: imports and first calls
    detect_folder_dask(
        folder,
        out / "warmup",
        weights,
        options=options,
        progress=False,
        pattern=first,
        cluster=ClusterOptions(scheduler=cluster.scheduler_address, send_model="path"),
    )
    cpu0 = os.times()
    worker_cpu0 = sum(client.run(_cpu_seconds).values())
    try:
        t0 = time.perf_counter()
        rows, _ = detect_folder_dask(
            folder,
            out / "run",
            weights,
            options=options,
            progress=False,
            cluster=ClusterOptions(scheduler=cluster.scheduler_address, block_tiles=block_tiles, send_model="path"),
        )
        wall = time.perf_counter() - t0
        worker_cpu = sum(client.run(_cpu_seconds).values()) - worker_cpu0
    finally:
        client.close()
        cluster.close()
        shutil.rmtree(out, ignore_errors=True)
    client_cpu = sum(os.times()[:2]) - sum(cpu0[:2])
    tiles = sum(int(r.get("tiles") or 0) for r in rows)
    return {
        "workers": workers,
        "startup_s": startup,
        "wall_s": wall,
        "rasters": len(rows),
        "failed": sum(r["status"] != "ok" for r in rows),
        "tiles": tiles,
        "client_cpu_s": client_cpu,
        "worker_cpu_s": worker_cpu,
        "backends": backends,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folder", type=Path)
    parser.add_argument("--rasters", type=int, default=8)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--tile", type=int, default=256)
    parser.add_argument("--block-tiles", type=int, default=256)
    parser.add_argument("--weights", type=Path, default=ROOT / "resources" / "models" / "default.pt")
    args = parser.parse_args()
    os.environ.setdefault("GDAL_PAM_ENABLED", "NO")
    from micro_detector.engine import DetectOptions

    options = DetectOptions(tile=args.tile, device="cpu")
    tmp = Path(tempfile.mkdtemp(prefix="bench-folder-"))
    folder = args.folder or make_folder(tmp / "in", args.rasters, args.size)
    print(
        f"folder {folder}: {len(list(folder.glob('*.tif')))} rasters; tile {args.tile}; "
        f"{os.cpu_count()} cores; python {sys.version.split()[0]}"
    )
    results = [run(folder, args.weights, int(n), options, args.block_tiles) for n in args.workers.split(",")]
    base = results[0]["tiles"] / results[0]["wall_s"] / results[0]["workers"]
    print(
        f"{'workers':>7} {'start s':>8} {'wall s':>8} {'rasters/s':>9} {'tiles/s':>8} "
        f"{'efficiency':>10} {'worker cpu s':>12} {'cores busy':>10} {'client cpu s':>12}"
    )
    for r in results:
        rate = r["tiles"] / r["wall_s"]
        print(
            f"{r['workers']:>7} {r['startup_s']:>8.1f} {r['wall_s']:>8.1f} {r['rasters'] / r['wall_s']:>9.3f} "
            f"{rate:>8.2f} {rate / (r['workers'] * base):>10.0%} {r['worker_cpu_s']:>12.1f} "
            f"{r['worker_cpu_s'] / r['wall_s']:>10.2f} {r['client_cpu_s']:>12.1f}"
            + (f"  ({r['failed']} failed)" if r["failed"] else "")
        )
    print(
        f"backend on the workers: {', '.join(sorted(set().union(*(r['backends'] for r in results))))}; "
        "one compute thread per worker"
    )
    print(
        "efficiency = tiles/s with n workers / (n x tiles/s per worker with the first count); "
        f"cores busy = worker cpu s / wall s (at most {os.cpu_count()} here, whatever the worker count); "
        "client cpu s = planning, merging and writing in the process that owns the output folder"
    )
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
