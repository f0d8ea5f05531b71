"""The arguments of the `micro-detector` command line: range-checked argument types, the
detection and output options shared by `detect` and `detect-folder`, their conversion to
`DetectOptions`, and the errors a bad argument raises.

Why apart from cli.py: the commands (what runs) read apart from how their arguments are
declared and checked. The defaults come from the DetectOptions dataclass (one table).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from .options import option_default
from .outputs import DEFAULT_LAYER


class CliError(Exception):
    """An error to print as one line, without a traceback."""


class UsageError(CliError, ValueError):
    """A bad option value or combination: exit status 2."""


def checked(kind, test, rule: str):
    """An argparse type: `kind(text)` that must pass `test`, else a usage error giving `rule`."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a valid value: {rule}") from None
        if not (math.isfinite(value) and test(value)):
            raise argparse.ArgumentTypeError(f"{text} is out of range: {rule}")
        return value

    parse.__name__ = rule
    return parse


TILE = checked(int, lambda v: v > 0 and v % 32 == 0, "the tile is a positive multiple of 32 (e.g. 640)")
OVERLAP = checked(float, lambda v: v >= 0, "the overlap is >= 0: a fraction of the tile (< 1) or pixels (>= 1)")
PROBABILITY = checked(float, lambda v: 0 <= v <= 1, "a threshold between 0 and 1")
BATCH = checked(int, lambda v: v >= 1, "the batch is a whole number >= 1")
SCALE = checked(float, lambda v: v > 0, "the scale is > 0 source pixels per model pixel")
ZOOM = checked(float, lambda v: 1 < v <= 8, "the zoom is a magnification above 1 and at most 8 (e.g. 2)")
WORKERS = checked(int, lambda v: v >= 1, "the number of workers is a whole number >= 1")
SECONDS = checked(float, lambda v: v > 0, "a time in seconds > 0")


def add_output_options(p, what: str) -> None:
    """--layer and --overwrite on parser `p`; `what` is --overwrite's help."""
    p.add_argument(
        "--layer",
        default=DEFAULT_LAYER,
        help=f"layer name in a GeoPackage or SpatiaLite output (default {DEFAULT_LAYER}); "
        "the file's other layers are kept",
    )
    p.add_argument("--overwrite", action="store_true", help=what)


def add_detect_options(p) -> None:
    """The detection options (model, tiling, thresholds, merge, region, bands, device) on parser `p`."""
    d = option_default
    p.add_argument(
        "--weights", type=Path, help="model file (.pt) or exported .onnx (default: the bundled default model)"
    )
    p.add_argument(
        "--tile", type=TILE, default=d("tile"), help="tile size in model pixels, a multiple of 32 (default: model's)"
    )
    p.add_argument("--overlap", type=OVERLAP, default=d("overlap"), help="fraction (<1) or pixels (>=1)")
    p.add_argument("--conf", type=PROBABILITY, default=d("conf"), help="score threshold, 0 to 1")
    p.add_argument("--iou", type=PROBABILITY, default=d("iou"), help="cross-tile merge threshold, 0 to 1")
    p.add_argument("--merge", choices=["nms", "nmm"], default=d("merge"))
    p.add_argument("--match", choices=["iou", "ios"], default=d("match"))
    p.add_argument("--classes", help="comma-separated class names to keep")
    p.add_argument("--extent", help="xmin,ymin,xmax,ymax[,EPSG] (default CRS: the raster's)")
    p.add_argument("--mask", type=Path, help="polygon layer limiting the search")
    p.add_argument("--bands", help="comma-separated 1-based band numbers")
    p.add_argument("--device", default=d("device"), help="cpu | cuda | auto | intel:gpu | intel:npu (OpenVINO)")
    p.add_argument(
        "--batch", type=BATCH, default=d("batch"), help="tiles per forward pass, >= 1 (default: 1 on a CPU, 8 on a GPU)"
    )
    p.add_argument("--backend", choices=["auto", "torch", "onnx", "openvino"], default=d("backend"))
    p.add_argument(
        "--precision",
        choices=["auto", "fp32", "bf16", "fp16", "int8"],
        default=d("precision"),
        help="auto: fp32 unless a reduced precision was measured for the model (OpenVINO)",
    )
    p.add_argument("--no-resample", action="store_true", help="do not resample to the model's GSD")
    p.add_argument("--scale", type=SCALE, default=d("scale"), help="source pixels per model pixel, > 0 (overrides GSD)")
    p.add_argument(
        "--gsd",
        type=SCALE,
        default=d("gsd"),
        help="the raster's ground sample distance in metres per pixel, > 0 (for rasters without a usable one)",
    )
    p.add_argument(
        "--agnostic",
        action="store_true",
        help="class-agnostic merge: one box per object even where boxes of two classes overlap",
    )
    p.add_argument(
        "--tta",
        action="store_true",
        help="test-time augmentation: flips and quarter turns of each tile, fused (about 4x slower)",
    )
    p.add_argument(
        "--zoom",
        type=ZOOM,
        default=d("zoom"),
        metavar="Z",
        help="also detect on the raster magnified Z times (e.g. 2), merged with the plain pass: "
        "finds objects too small for the model at the raster's GSD (about 1 + Z*Z the time)",
    )
    p.add_argument(
        "--pixel-coordinates",
        action="store_true",
        help="accept rasters without georeferencing (output in pixel coordinates)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _extent(text: str | None) -> tuple[tuple | None, str | None]:
    """--extent xmin,ymin,xmax,ymax[,EPSG] -> ((xmin, ymin, xmax, ymax), 'EPSG:code' or None)."""
    if not text:
        return None, None
    parts = text.split(",")
    if len(parts) not in (4, 5):
        raise UsageError("--extent is xmin,ymin,xmax,ymax[,EPSG]")
    try:
        extent = tuple(float(v) for v in parts[:4])
    except ValueError:
        raise UsageError(f"--extent needs four numbers xmin,ymin,xmax,ymax[,EPSG], got {text}") from None
    if len(parts) == 5:
        code = parts[4].strip()
        return extent, code if ":" in code else f"EPSG:{code}"
    return extent, None


def detect_options(args):
    """The DetectOptions of parsed detection arguments; UsageError naming a bad value."""
    from .options import DetectOptions

    extent, extent_crs = _extent(args.extent)
    try:
        bands = [int(b) for b in args.bands.split(",")] if args.bands else None
    except ValueError:
        raise UsageError(f"--bands takes 1-based band numbers separated by commas, got {args.bands}") from None
    try:
        return DetectOptions(
            tile=args.tile,
            overlap=args.overlap,
            conf=args.conf,
            iou=args.iou,
            merge=args.merge,
            match=args.match,
            classes=args.classes.split(",") if args.classes else None,
            extent=extent,
            extent_crs=extent_crs,
            mask=str(args.mask) if args.mask else None,
            bands=bands,
            batch=args.batch,
            device=args.device,
            backend=args.backend,
            precision=args.precision,
            resample=not args.no_resample,
            scale=args.scale,
            pixel_coordinates=args.pixel_coordinates,
            gsd=args.gsd,
            agnostic=args.agnostic,
            tta=args.tta,
            zoom=args.zoom,
        )
    except (TypeError, ValueError) as error:  # the options' own validation (one table of rules)
        raise UsageError(str(error)) from None
