"""The `micro-detector` command line (also `python -m micro_detector`): its commands and `main`.

The argument types, the shared detection/output options and the errors are in cli_args.py.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .cli_args import SECONDS, WORKERS, CliError, UsageError, add_detect_options, add_output_options, detect_options
from .deps import MissingDependencyError
from .model.files import is_onnx, read_spec
from .model.spec import DEFAULT_CLASSES, SCALES
from .outputs import FORMATS
from .remote import dataset_name, display_name, redact_gdal_messages


def _info(args) -> dict:
    if args.model is not None:
        if is_onnx(args.model):
            return {"format": "onnx", **read_spec(args.model).to_dict()}
        from .model.io import read_model_file

        payload = read_model_file(args.model)
        return {
            "format": payload["format"],
            "format_version": payload["format_version"],
            **payload["spec"].to_dict(),
            "metadata": payload["metadata"],
        }
    if args.scale is None:
        raise CliError("give a MODEL_FILE or --scale")
    from .model.flops import count_flops, count_params
    from .model.spec import ModelSpec
    from .model.yolov12 import build_model

    spec = ModelSpec(
        scale=args.scale, class_names=[f"class{i}" for i in range(args.nc)], bands=args.bands, imgsz=args.imgsz
    )
    model = build_model(spec)
    flops = count_flops(model, args.imgsz)
    return {
        "scale": args.scale,
        "nc": args.nc,
        "imgsz": args.imgsz,
        "bands": args.bands,
        "params": count_params(model),
        "gflops": round(flops["gflops"], 3),
        "attention_gflops": round(flops["attention_gflops"], 3),
    }


def _new_model(args) -> dict:
    import torch

    from .model.io import save_model
    from .model.spec import ModelSpec
    from .model.yolov12 import build_model

    classes = [c.strip() for c in args.classes.split(",") if c.strip()]
    torch.manual_seed(args.seed)
    spec = ModelSpec(scale=args.scale, class_names=classes, bands=args.bands, imgsz=args.imgsz, gsd=args.gsd)
    save_model(build_model(spec), args.output, metadata={"trained": False, "seed": args.seed})
    return {"written": str(args.output), **spec.to_dict()}


def _export(args) -> dict:
    from .model.io import load_model
    from .model.onnx_io import export_onnx

    model = load_model(args.model)
    out = args.output or args.model.with_suffix(".onnx")
    export_onnx(model, out, imgsz=args.imgsz, dynamic_spatial=not args.static)
    return {"written": str(out), "dynamic_spatial": not args.static}


class ProgressBar:
    """One stderr line: tiles done, tiles/s, ETA."""

    def __init__(self, label: str, stream=sys.stderr):
        import time

        self.time = time.perf_counter
        self.start = self.time()
        self.label = label
        self.stream = stream

    def __call__(self, done: int, total: int) -> bool:
        elapsed = max(self.time() - self.start, 1e-9)
        rate = done / elapsed
        eta = (total - done) / rate if rate > 0 else 0
        bar = "#" * int(24 * done / max(total, 1))
        self.stream.write(
            f"\r{self.label} [{bar:<24}] {done}/{total} tiles "
            f"{rate:.2f} tiles/s ETA {int(eta // 60)}:{int(eta % 60):02d}"
        )
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()
        return True


def _log(message: str) -> None:
    print(message, file=sys.stderr)


def _open_runner(args, options):
    """The runner for args.weights; which backend runs and why goes to the log."""
    from .model.runner import open_runner

    runner = open_runner(args.weights, backend=options.backend, device=options.device, precision=options.precision)
    _log(f"backend: {runner.backend} ({runner.backend_reason})")
    return runner


def _detect(args) -> dict:
    from .batch import warn_if_all_nodata
    from .engine import detect
    from .outputs import OutputTarget, check_output
    from .raster import open_dataset

    options = detect_options(args)
    target = check_output(OutputTarget(args.output, args.layer, args.overwrite), inputs=[args.raster, options.mask])
    open_dataset(args.raster)  # a missing or unreadable raster fails before the model loads
    args.weights = _weights(args)
    runner = _open_runner(args, options)
    args.interrupted = "nothing was written"
    result = detect(
        args.raster,
        target,
        runner,
        options=options,
        progress=None if args.quiet else ProgressBar(display_name(args.raster)),
        log=_log,
    )
    result.report.update(backend=runner.backend, backend_reason=runner.backend_reason)
    warn_if_all_nodata(result.report, args.raster, _log)
    return result.report


def _detect_folder(args) -> dict:
    from .batch import detect_folder, plan_outputs
    from .catalog import list_items
    from .outputs import OutputError

    options = detect_options(args)
    if args.output.exists() and not args.output.is_dir():
        raise OutputError(f"the output {args.output} is a file: detect-folder writes into a folder")
    # everything that can be checked is checked before the model loads: format, inputs, outputs
    plan_outputs(list_items(args.folder, args.pattern, args.asset), args.output, args.format, args.layer)
    args.weights = _weights(args)
    args.interrupted = "the rasters finished so far are kept; run again to go on"
    if args.workers is not None or args.scheduler:
        from .distributed import run_from_cli  # Dask is imported only when a cluster is asked for

        return _folder_result(*run_from_cli(args, options, _log))
    if args.task_timeout is not None:
        raise UsageError("--task-timeout needs --workers or --scheduler")
    runner = _open_runner(args, options)
    rows, summary = detect_folder(
        args.folder,
        args.output,
        runner,
        options=options,
        pattern=args.pattern,
        fmt=args.format,
        overwrite=args.overwrite,
        layer=args.layer,
        asset=args.asset,
        log=_log,
        progress_for=None if args.quiet else (lambda raster: ProgressBar(raster.name)),
    )
    return _folder_result(rows, summary)


def _folder_result(rows: list[dict], summary) -> dict:
    failed = [r for r in rows if r["status"] != "ok"]
    for row in failed:
        _log(f"failed: {row['raster']}: {row.get('error', '')}")
    return {"rasters": len(rows), "done": len(rows) - len(failed), "failed": len(failed), "summary": str(summary)}


def default_model_path() -> Path | None:
    """The default model shipped with the package (the .pt file), if present."""
    from .resources import default_model

    return default_model("pt")


def _weights(args) -> Path:
    """--weights, else the bundled default model in the form the backend and the installed
    packages can run (its ONNX export when onnxruntime is there: no torch needed)."""
    if args.weights is not None:
        return args.weights
    from .resources import default_model_for

    default = default_model_for(getattr(args, "backend", "auto"))
    if default is None:
        raise CliError("no --weights given and no default model is installed (resources/models/)")
    return default


def _add_detection_commands(sub) -> None:
    """`detect` (one raster -> one vector output) and `detect-folder` (a folder -> one output
    per raster, resumable)."""
    p = sub.add_parser("detect", help="detect objects on one raster, write a vector file")
    p.add_argument(
        "raster",
        type=dataset_name,
        help="a raster file, an http(s)://, s3:// or gs:// URL, or any GDAL dataset name (/vsicurl/..., /vsis3/...)",
    )
    p.add_argument("-o", "--output", type=Path, required=True, help=f"vector file ({', '.join(sorted(FORMATS))})")
    add_output_options(p, "replace an existing output (in a GeoPackage: our layer only)")
    add_detect_options(p)
    p.set_defaults(func=_detect)

    p = sub.add_parser(
        "detect-folder", help="detect on every raster of a folder, a STAC catalogue or a list of URLs (resumable)"
    )
    p.add_argument(
        "folder",
        help="a folder of rasters, a STAC ItemCollection or Item (JSON file or "
        "URL), or a text file of raster URLs (one a line)",
    )
    p.add_argument("--asset", help="with a STAC catalogue: the asset to read (default: 'visual')")
    p.add_argument("-o", "--output", type=Path, required=True, help="output folder")
    p.add_argument("--pattern", default="*.tif")
    p.add_argument("--format", default="gpkg", help=f"output extension ({', '.join(sorted(FORMATS))})")
    add_output_options(p, "redo rasters already done (default: skip them, resuming a stopped run)")
    add_detect_options(p)
    p.add_argument(
        "--workers",
        type=WORKERS,
        help="run on an embedded Dask LocalCluster of N worker processes (needs dask[distributed])",
    )
    p.add_argument("--scheduler", help="run on an existing Dask cluster: tcp://HOST:8786 or a scheduler file")
    p.add_argument(
        "--task-timeout",
        type=SECONDS,
        help="with --workers/--scheduler: seconds one raster (or block) may run before it is reported as failed",
    )
    p.set_defaults(func=_detect_folder)


def build_parser() -> argparse.ArgumentParser:
    """The `micro-detector` parser: every command, with its options range-checked."""
    parser = argparse.ArgumentParser(
        prog="micro-detector", description="Find micro objects in overhead imagery with YOLOv12."
    )
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

    _add_detection_commands(sub)

    p = sub.add_parser("export", help="export a model file to ONNX (decode inside the graph)")
    p.add_argument("model", type=Path)
    p.add_argument("-o", "--output", type=Path)
    p.add_argument("--imgsz", type=int, default=None, help="tracing size (default: the model's)")
    p.add_argument("--static", action="store_true", help="fix height/width (batch stays dynamic)")
    p.set_defaults(func=_export)

    from .training import cli as training_cli  # argparse only: torch is imported when a command runs

    training_cli.add_commands(sub)
    return parser


EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def main(argv: list[str] | None = None) -> int:
    """Run one command. Exit status: 0 all done; 1 the run failed, or some rasters of a batch
    did (the summary says which); 2 usage errors and bad inputs, refused before any work;
    130 Ctrl-C (nothing half-written is left). Errors are one line, without a traceback."""
    args = None
    try:
        args = build_parser().parse_args(argv)
        with redact_gdal_messages():
            result = args.func(args)
    except KeyboardInterrupt:
        what = getattr(args, "interrupted", "stopped before any output was written")
        print(f"micro-detector {getattr(args, 'command', '')}: interrupted: {what}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (
        CliError,
        ValueError,
        MissingDependencyError,
        FileNotFoundError,
        IsADirectoryError,
        NotADirectoryError,
    ) as error:  # RasterError, OutputError, ModelFileError: ValueErrors
        return _error(args, error, EXIT_USAGE)
    except (OSError, RuntimeError) as error:  # the run itself failed (disk full, GDAL, ...)
        return _error(args, error, EXIT_FAILED)
    if result is not None:
        print(json.dumps(result, indent=2))
    return EXIT_FAILED if isinstance(result, dict) and result.get("failed") else EXIT_OK


def _error(args, error: BaseException, code: int) -> int:
    message = " ".join(str(error).split()) or type(error).__name__
    print(f"micro-detector {getattr(args, 'command', '')}: error: {message}", file=sys.stderr)
    return code
