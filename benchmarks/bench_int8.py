"""int8 against fp32 on ONNX Runtime: forward speed and end-to-end detection on one raster.

    .venv/bin/python benchmarks/bench_int8.py [--model resources/models/default.pt]
        [--raster resources/demo/kit_MunichStreet02-MOS93.tif] [--calibration RASTER] [--repeat 3]

Both exports come from the cache (micro_detector.model.cache.cached_export), the int8 one
calibrated on chips of `--calibration` (default: `--raster`). Runs alternate fp32 / int8 so a
noisy machine affects both alike; medians are reported. The int8 file's path is printed: the
accuracy it costs is measured with the evaluation, e.g.

    micro-detector evaluate <printed int8 .onnx> --xview ... --split val
    micro-detector evaluate <model .pt> --xview ... --split val

(keep int8 only if >= 1.5x faster for < 0.02 mAP50 lost).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None) -> int:
    from micro_detector.engine import detect
    from micro_detector.model.quantize import calibration_chips
    from micro_detector.model.runner import open_runner

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "resources" / "models" / "default.pt")
    parser.add_argument("--raster", type=Path, default=ROOT / "resources" / "demo" / "kit_MunichStreet02-MOS93.tif")
    parser.add_argument("--calibration", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "micro-detector-bench-cache")
    args = parser.parse_args(argv)
    runners = {p: open_runner(args.model, device="cpu", precision=p, cache_dir=args.cache,
                              calibration=args.calibration or args.raster) for p in ("fp32", "int8")}
    x = calibration_chips(args.raster, runners["fp32"].spec.imgsz, count=args.batch, seed=1)
    forward = {p: [] for p in runners}
    e2e = {p: [] for p in runners}
    objects = {}
    for p, r in runners.items():  # warm-up
        r.session.run(None, {r.input_name: x})
    for _ in range(args.repeat):
        for p, r in runners.items():
            t0 = time.perf_counter()
            r.session.run(None, {r.input_name: x})
            forward[p].append((time.perf_counter() - t0) / len(x))
            t0 = time.perf_counter()
            objects[p] = len(detect(args.raster, None, runner=r))
            e2e[p].append(time.perf_counter() - t0)
    med = {k: {p: statistics.median(v) for p, v in d.items()} for k, d in (("forward", forward), ("e2e", e2e))}
    print(json.dumps({
        "model": str(args.model), "raster": str(args.raster), "threads": runners["fp32"].threads,
        "fp32_ms_per_tile": round(med["forward"]["fp32"] * 1000, 1),
        "int8_ms_per_tile": round(med["forward"]["int8"] * 1000, 1),
        "forward_speedup": round(med["forward"]["fp32"] / med["forward"]["int8"], 2),
        "fp32_detect_s": round(med["e2e"]["fp32"], 2), "int8_detect_s": round(med["e2e"]["int8"], 2),
        "detect_speedup": round(med["e2e"]["fp32"] / med["e2e"]["int8"], 2),
        "objects": objects, "int8_onnx": str(runners["int8"].path),
        "fp32_onnx": str(runners["fp32"].path)}, indent=1))
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
