"""The `micro-detector` command line (also `python -m micro_detector`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .deps import MissingDependencyError
from .model.spec import DEFAULT_CLASSES, SCALES, ModelFileError


class CliError(Exception):
    """An error to print as one line, without a traceback."""


def _info(args) -> dict:
    if args.model is not None:
        if args.model.suffix.lower() == ".onnx":
            from .model.onnx_io import read_onnx_spec

            return {"format": "onnx", **read_onnx_spec(args.model).to_dict()}
        from .model.io import read_model_file

        payload = read_model_file(args.model)
        return {"format": payload["format"], "format_version": payload["format_version"],
                **payload["spec"].to_dict(), "metadata": payload["metadata"]}
    if args.scale is None:
        raise CliError("give a MODEL_FILE or --scale")
    from .model.flops import count_flops, count_params
    from .model.spec import ModelSpec
    from .model.yolov12 import build_model

    spec = ModelSpec(scale=args.scale, class_names=[f"class{i}" for i in range(args.nc)],
                     bands=args.bands, imgsz=args.imgsz)
    model = build_model(spec)
    flops = count_flops(model, args.imgsz)
    return {"scale": args.scale, "nc": args.nc, "imgsz": args.imgsz, "bands": args.bands,
            "params": count_params(model), "gflops": round(flops["gflops"], 3),
            "attention_gflops": round(flops["attention_gflops"], 3)}


def _new_model(args) -> dict:
    import torch

    from .model.io import save_model
    from .model.spec import ModelSpec
    from .model.yolov12 import build_model

    classes = [c.strip() for c in args.classes.split(",") if c.strip()]
    torch.manual_seed(args.seed)
    spec = ModelSpec(scale=args.scale, class_names=classes, bands=args.bands, imgsz=args.imgsz,
                     gsd=args.gsd)
    save_model(build_model(spec), args.output, metadata={"trained": False, "seed": args.seed})
    return {"written": str(args.output), **spec.to_dict()}


def _export(args) -> dict:
    from .model.io import load_model
    from .model.onnx_io import export_onnx

    model = load_model(args.model)
    out = args.output or args.model.with_suffix(".onnx")
    export_onnx(model, out, imgsz=args.imgsz, dynamic_spatial=not args.static)
    return {"written": str(out), "dynamic_spatial": not args.static}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="micro-detector",
                                     description="Find micro objects in overhead imagery with YOLOv12.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("info", help="describe a model file, or an untrained scale (params, GFLOPs)")
    p.add_argument("model", nargs="?", type=Path, help="model file (.pt) or exported model (.onnx)")
    p.add_argument("--scale", choices=list(SCALES))
    p.add_argument("--nc", type=int, default=80, help="number of classes (with --scale)")
    p.add_argument("--imgsz", type=int, default=640)
    p.add_argument("--bands", type=int, default=3)
    p.set_defaults(func=_info)

    p = sub.add_parser("new-model", help="write an untrained model file")
    p.add_argument("--scale", choices=list(SCALES), default="s")
    p.add_argument("--classes", default=",".join(DEFAULT_CLASSES), help="comma-separated class names")
    p.add_argument("--bands", type=int, default=3)
    p.add_argument("--imgsz", type=int, default=640)
    p.add_argument("--gsd", type=float, default=None, help="ground sample distance, metres/pixel")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", type=Path, required=True)
    p.set_defaults(func=_new_model)

    p = sub.add_parser("export", help="export a model file to ONNX (decode inside the graph)")
    p.add_argument("model", type=Path)
    p.add_argument("-o", "--output", type=Path)
    p.add_argument("--imgsz", type=int, default=None, help="tracing size (default: the model's)")
    p.add_argument("--static", action="store_true", help="fix height/width (batch stays dynamic)")
    p.set_defaults(func=_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result = args.func(args)
    except (CliError, ModelFileError, MissingDependencyError, ValueError, FileNotFoundError,
            PermissionError, RuntimeError) as error:
        print(f"micro-detector {args.command}: error: {error}", file=sys.stderr)
        return 2
    if result is not None:
        print(json.dumps(result, indent=2))
    return 0
