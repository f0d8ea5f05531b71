"""Model benchmark: params, GFLOPs, torch-CPU and ONNX-Runtime-CPU milliseconds per tile.

    .venv/bin/python benchmarks/bench_model.py [--scales n,s] [--imgsz 640] [--repeat 5]

A scale written with "+p2" (e.g. n+p2) is that scale with the P2 (stride-4) level.

Latency is the median of `repeat` timed runs of one tile after warm-up, both backends in
the same run with the same thread count, so their ratio is meaningful on a noisy machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from micro_detector.model.flops import count_flops, count_params
from micro_detector.model.onnx_io import export_onnx
from micro_detector.model.runner import OnnxRunner
from micro_detector.model.spec import ModelSpec
from micro_detector.model.yolov12 import build_model


def median_ms(fn, repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", default="n,s")
    parser.add_argument("--imgsz", type=int, default=640)
    parser.add_argument("--nc", type=int, default=80)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    threads = torch.get_num_threads()
    rows = []
    for name in args.scales.split(","):
        scale, _, extra = name.partition("+")
        spec = ModelSpec(scale=scale, class_names=[f"c{i}" for i in range(args.nc)], imgsz=args.imgsz, p2=extra == "p2")
        model = build_model(spec).eval()
        flops = count_flops(model, args.imgsz)
        x = torch.rand(1, 3, args.imgsz, args.imgsz)
        with torch.inference_mode():
            torch_ms = median_ms(lambda model=model, x=x: model.forward_decoded(x), args.repeat)
        with tempfile.TemporaryDirectory() as tmp:
            runner = OnnxRunner(export_onnx(model, Path(tmp) / "m.onnx"), threads=threads)
            xn = x.numpy()
            onnx_ms = median_ms(lambda runner=runner, xn=xn: runner.session.run(None, {"images": xn}), args.repeat)
        row = {
            "scale": name,
            "params_M": round(count_params(model) / 1e6, 3),
            "gflops": round(flops["gflops"], 2),
            "attention_gflops": round(flops["attention_gflops"], 2),
            "torch_cpu_ms": round(torch_ms, 1),
            "onnxruntime_cpu_ms": round(onnx_ms, 1),
            "onnx_speedup": round(torch_ms / onnx_ms, 2),
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    print(
        f"# imgsz {args.imgsz}, batch 1, {threads} CPU threads, torch {torch.__version__}, median of {args.repeat}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
