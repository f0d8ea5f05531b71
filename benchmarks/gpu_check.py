"""One-call CUDA check, for a session that is lent a GPU machine: precision, batch size,
SDPA attention kernels, tiles/s, end-to-end efficiency, and SAHI + Ultralytics beside us
when they are installed there. Nothing here was measured on a GPU yet.

    python benchmarks/gpu_check.py [--out DIR] [--quick]

Run from the repository root on the device machine, e.g. through the device tool as
`python benchmarks/gpu_check.py --out $OUT` (timeout ~500 s; `--quick` for about a minute).
Needs torch with CUDA there; writes gpu_check.json and gpu_check.txt into --out.

1. facts: GPU name, driver, torch/CUDA versions;
2. forward tiles/s of the default model (256 px) and of an untrained YOLOv12s at 640 px
   (80 classes, as compare_sahi.py), in fp32, fp16 and bf16 (channels_last, BatchNorm
   folded), for a sweep of batch sizes, with peak GPU memory;
3. the attention kernel: the same forward (fp16, one batch) with SDPA restricted to the
   flash, memory-efficient and math kernels (the model calls scaled_dot_product_attention);
4. end to end: `detect` on a generated 8192 x 8192 GeoTIFF (the demo frame repeated) at the
   fastest batch, with the engine's forward time over its detection time (efficiency);
5. SAHI + Ultralytics yolo12s at 640 on the same raster when both import there, else the
   row says why it is missing (nothing can be installed on that machine).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEMO = ROOT / "resources" / "demo" / "kit_MunichStreet02-MOS93.tif"


def facts(torch) -> dict:
    out = {"torch": torch.__version__, "cuda": torch.version.cuda, "available": torch.cuda.is_available()}
    if out["available"]:
        out["gpu"] = torch.cuda.get_device_name(0)
    try:
        out["nvidia_smi"] = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as error:
        out["nvidia_smi"] = str(error)
    return out


def models() -> dict:
    """name -> (model, imgsz): the shipped default model and an untrained YOLOv12s at 640."""
    from micro_detector.model.io import load_model
    from micro_detector.model.spec import ModelSpec
    from micro_detector.model.yolov12 import YOLOv12

    default = load_model(ROOT / "resources" / "models" / "default.pt")
    peer = YOLOv12(ModelSpec(scale="s", class_names=[f"c{i}" for i in range(80)], imgsz=640))
    return {"default (256 px)": (default, 256), "yolov12s 80 cls (640 px)": (peer, 640)}


def time_forward(torch, runner, batch: int, size: int, reps: int) -> dict:
    x = torch.randint(0, 256, (batch, runner.spec.bands, size, size), dtype=torch.uint8, device="cuda")
    x = x.to(runner.dtype).contiguous(memory_format=torch.channels_last)
    torch.cuda.reset_peak_memory_stats()
    with torch.inference_mode():
        for _ in range(3):
            runner._forward(x)
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(reps):
            runner._forward(x)
        torch.cuda.synchronize()
    seconds = (time.perf_counter() - t0) / reps
    return {
        "batch": batch,
        "ms_per_batch": seconds * 1000,
        "tiles_per_s": batch / seconds,
        "peak_mem_mb": torch.cuda.max_memory_allocated() / 2**20,
    }


def sweep(torch, quick: bool) -> list[dict]:
    from micro_detector.model.runner import TorchRunner

    rows = []
    batches = [1, 8, 32] if quick else [1, 4, 8, 16, 32, 64, 128]
    for name, (model, size) in models().items():
        for dtype in ("fp32", "fp16", "bf16"):
            runner = TorchRunner(model, device="cuda", dtype=dtype)
            for batch in batches:
                try:
                    row = time_forward(torch, runner, batch, size, 5 if quick else 20)
                except torch.cuda.OutOfMemoryError:
                    row = {"batch": batch, "error": "out of GPU memory"}
                    torch.cuda.empty_cache()
                rows.append({"model": name, "dtype": dtype, **row})
                print(json.dumps(rows[-1]), flush=True)
    return rows


def attention_kernels(torch, quick: bool) -> list[dict]:
    from torch.nn.attention import SDPBackend, sdpa_kernel

    from micro_detector.model.runner import TorchRunner

    rows = []
    for name, (model, size) in models().items():
        runner = TorchRunner(model, device="cuda", dtype="fp16")
        for kernel in ("FLASH_ATTENTION", "EFFICIENT_ATTENTION", "MATH"):
            try:
                with sdpa_kernel(getattr(SDPBackend, kernel)):
                    row = time_forward(torch, runner, 32, size, 5 if quick else 20)
            except RuntimeError as error:  # the kernel does not support this shape or device
                row = {"error": str(error).splitlines()[0][:160]}
            rows.append({"model": name, "kernel": kernel, **row})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def make_raster(path: Path, size: int) -> Path:
    """A `size` square GeoTIFF of the demo frame repeated (real pixels, 0.13 m)."""
    import numpy as np
    from osgeo import gdal

    src = gdal.Open(str(DEMO))
    pixels = src.ReadAsArray()[:3]
    reps = (1, -(-size // pixels.shape[1]), -(-size // pixels.shape[2]))
    data = np.tile(pixels, reps)[:, :size, :size]
    out = gdal.GetDriverByName("GTiff").Create(str(path), size, size, 3, gdal.GDT_Byte, ["TILED=YES"])
    out.SetGeoTransform(src.GetGeoTransform())
    out.SetProjection(src.GetProjection())
    for k in range(3):
        out.GetRasterBand(k + 1).WriteArray(data[k])
    out = None
    return path


def end_to_end(raster: Path, batch: int) -> dict:
    from micro_detector.engine import DetectOptions, detect

    options = DetectOptions(device="cuda", batch=batch, backend="torch")
    t0 = time.perf_counter()
    result = detect(raster, None, ROOT / "resources" / "models" / "default.pt", options=options)
    wall = time.perf_counter() - t0
    report = result.report
    return {
        "batch": batch,
        "wall_s": wall,
        "detection_s": report["seconds"],
        "tiles": report["tiles"],
        "tiles_per_s": report["tiles"] / report["seconds"],
        "objects": len(result),
        "efficiency": report["forward_seconds"] / report["seconds"],
    }


def sahi_peer(raster: Path) -> dict:
    try:
        from sahi import AutoDetectionModel
        from sahi.predict import get_sliced_prediction
    except ImportError as error:
        return {"skipped": f"SAHI + Ultralytics not installed on this machine ({error})"}
    model = AutoDetectionModel.from_pretrained(
        model_type="ultralytics", model_path="yolo12s.yaml", confidence_threshold=0.25, device="cuda:0"
    )
    t0 = time.perf_counter()
    result = get_sliced_prediction(
        str(raster),
        model,
        slice_height=640,
        slice_width=640,
        overlap_height_ratio=0.2,
        overlap_width_ratio=0.2,
        verbose=0,
    )
    return {
        "wall_s": time.perf_counter() - t0,
        "predict_s": result.durations_in_seconds.get("prediction"),
        "objects": len(result.object_prediction_list),
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=Path("."))
    p.add_argument("--quick", action="store_true")
    p.add_argument("--size", type=int, default=8192, help="side of the generated raster")
    args = p.parse_args(argv)
    import torch

    result = {"facts": facts(torch)}
    print(json.dumps(result["facts"]), flush=True)
    if not result["facts"]["available"]:
        print("no CUDA GPU here: nothing measured", file=sys.stderr)
        return 1
    result["sweep"] = sweep(torch, args.quick)
    result["attention"] = attention_kernels(torch, args.quick)
    raster = make_raster(args.out / "gpu_check.tif", 2048 if args.quick else args.size)
    ok = [r for r in result["sweep"] if r["model"].startswith("default") and r["dtype"] == "fp16" and "error" not in r]
    best = max(ok, key=lambda r: r["tiles_per_s"])["batch"] if ok else 8
    result["end_to_end"] = [end_to_end(raster, b) for b in sorted({8, best})]
    result["sahi"] = sahi_peer(raster)
    raster.unlink(missing_ok=True)
    (args.out / "gpu_check.json").write_text(json.dumps(result, indent=1))
    print(json.dumps({k: result[k] for k in ("end_to_end", "sahi")}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
