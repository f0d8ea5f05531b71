"""Detection options: one table of defaults, every value checked when the options are built.

`DetectOptions` is the only place a detection default is written. The CLI (argparse) and the
QGIS parameter definitions read them with `option_default(name)`, so the three front ends
cannot drift apart. `__post_init__` checks every value against its allowed range and raises
`OptionsError` naming the option, the value and the rule, before any raster is read. Checks
that need the raster or the model (the extent meets the raster, the class names exist, the
tile defaults to the model's input) are made by the plan, still before the first tile.
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import MISSING, dataclass, fields

__all__ = [
    "DetectOptions",
    "OptionsError",
    "field_default",
    "option_default",
    "MERGES",
    "MATCHES",
    "BACKENDS",
    "PRECISIONS",
]

MERGES = ("nms", "nmm")
MATCHES = ("iou", "ios")
BACKENDS = ("auto", "torch", "onnx", "openvino")
PRECISIONS = ("auto", "fp32", "bf16", "fp16", "int8")
_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?|intel:(cpu|npu|gpu(\.\d+)?))$")


class OptionsError(ValueError):
    """An option is out of its allowed range; the message names the option and the range."""


@dataclass
class DetectOptions:
    """How to run a detection (see each field's comment); validated on construction."""

    tile: int | None = None  # model input pixels per tile side, a multiple of 32 (None: the model's)
    overlap: float = 0.2  # fraction of the tile (< 1) or model pixels (>= 1)
    conf: float = 0.25  # score threshold
    iou: float = 0.5  # cross-tile merge threshold
    model_iou: float = 0.7  # NMS inside one tile
    merge: str = "nms"  # nms | nmm (greedy non-maximum merging, boxes grow to the union)
    match: str = "iou"  # iou | ios (intersection over the smaller box)
    agnostic: bool = False  # merge boxes of different classes on the same object
    classes: list[str] | None = None  # class names to keep (None: all)
    extent: tuple[float, float, float, float] | None = None  # xmin, ymin, xmax, ymax
    extent_crs: str | None = None  # e.g. "EPSG:4326"; default: the raster's CRS
    mask: str | None = None  # polygon vector file limiting the search
    bands: list[int] | None = None  # 1-based bands in the model's order (None: R,G,B or first)
    # tiles per forward pass; None: by device, 1 on a CPU (batching gains nothing there and
    # multiplies activation memory: YOLOv12s at 640 peaks at 0.35 GB with 1, 1 GB with 8), 8 on a GPU
    batch: int | None = None
    device: str = "auto"  # auto | cpu | cuda | cuda:N | mps | intel:gpu | intel:npu (OpenVINO)
    backend: str = "auto"  # auto | torch | onnx | openvino
    # auto: fp32 unless a reduced precision was measured on the micro ladder for this model
    # (model/precision.py); fp32 | bf16 | fp16 | int8 (OpenVINO; torch: bf16, fp16)
    precision: str = "auto"
    resample: bool = True  # read at the model's GSD when the raster's differs
    scale: float | None = None  # source pixels per model pixel (overrides the GSD rule)
    gsd: float | None = None  # the raster's GSD in metres, for rasters without a usable one
    gsd_tolerance: float = 0.25  # relative GSD difference ignored
    tta: bool = False  # test-time augmentation: flips and quarter turns, fused
    # a second pass over the raster magnified by `zoom` (e.g. 2), merged with the plain pass by
    # the cross-tile merge: objects a few pixels wide are shown to the model `zoom` times larger
    # (boats of 16 px: AP50 0.01 -> 0.31, benchmarks/micro_ladder_zoom2_rule.txt); costs about
    # 1 + zoom**2 the tiles
    zoom: float | None = None
    # the zoom pass is for small objects: its boxes wider than this (sqrt(w*h), in model pixels
    # of the plain pass) are dropped, large objects being the plain pass's (on the micro ladder
    # this keeps planes at 0.70 instead of 0.59 at 16 px, and boats unchanged)
    zoom_max_side: float = 32.0
    pixel_coordinates: bool = False  # allow rasters without georeferencing
    max_det: int = 3000  # per tile
    queue_tiles: int = 0  # read-ahead (tiles); 0 = 2 batches

    def __post_init__(self):
        self._check_tiling()
        self._check_thresholds()
        self._check_choices()
        self._check_resolution()
        self._check_region()

    def _check_tiling(self) -> None:
        if self.tile is not None:
            tile = _integer("tile", self.tile)
            _require("tile", tile, tile > 0 and tile % 32 == 0, "a positive multiple of 32 (e.g. 640)")
        overlap = _number("overlap", self.overlap)
        _require("overlap", overlap, overlap >= 0, ">= 0: a fraction of the tile (< 1) or pixels (>= 1)")
        if self.tile is not None and overlap >= 1:
            _require("overlap", overlap, overlap < self.tile, f"smaller than the tile ({self.tile} px)")
        _require(
            "batch",
            self.batch,
            self.batch is None or _integer("batch", self.batch) >= 1,
            "a whole number >= 1 (or None: by device)",
        )
        _require("max_det", self.max_det, _integer("max_det", self.max_det) >= 1, "a whole number >= 1")
        _require(
            "queue_tiles",
            self.queue_tiles,
            _integer("queue_tiles", self.queue_tiles) >= 0,
            "a whole number >= 0 (0: two batches)",
        )

    def _check_thresholds(self) -> None:
        for name in ("conf", "model_iou"):
            value = _number(name, getattr(self, name))
            _require(name, value, 0 <= value <= 1, "between 0 and 1")
        iou = _number("iou", self.iou)
        _require("iou", iou, 0 < iou <= 1, "above 0 and at most 1")

    def _check_choices(self) -> None:
        _require("merge", self.merge, self.merge in MERGES, " or ".join(MERGES))
        _require("match", self.match, self.match in MATCHES, " or ".join(MATCHES))
        _require("backend", self.backend, self.backend in BACKENDS, " | ".join(BACKENDS))
        _require(
            "device",
            self.device,
            isinstance(self.device, str) and bool(_DEVICE.match(self.device)),
            "auto | cpu | cuda | cuda:N | mps | intel:gpu | intel:npu",
        )
        _require("precision", self.precision, self.precision in PRECISIONS, " | ".join(PRECISIONS))
        if self.classes is not None:
            _require(
                "classes",
                self.classes,
                all(isinstance(c, str) and c.strip() for c in self.classes),
                "a list of class names",
            )
        if self.bands is not None:
            ok = all(isinstance(b, numbers.Integral) and not isinstance(b, bool) and b >= 1 for b in self.bands)
            _require("bands", self.bands, ok and len(self.bands) > 0, "1-based band numbers")

    def _check_resolution(self) -> None:
        for name in ("scale", "gsd"):
            value = getattr(self, name)
            if value is not None:
                value = _number(name, value)
                _require(name, value, value > 0 and math.isfinite(value), "> 0")
        if self.zoom is not None:
            zoom = _number("zoom", self.zoom)
            _require(
                "zoom", zoom, 1 < zoom <= 8 and math.isfinite(zoom), "above 1 and at most 8 (a magnification, e.g. 2)"
            )
        side = _number("zoom_max_side", self.zoom_max_side)
        _require("zoom_max_side", side, side > 0, "> 0 model pixels")
        tol = _number("gsd_tolerance", self.gsd_tolerance)
        _require("gsd_tolerance", tol, tol >= 0, ">= 0 (a relative difference)")

    def _check_region(self) -> None:
        if self.extent is not None:
            try:
                xmin, ymin, xmax, ymax = (float(v) for v in self.extent)
            except (TypeError, ValueError):
                raise OptionsError(f"extent must be four numbers xmin, ymin, xmax, ymax, got {self.extent!r}") from None
            ok = all(map(math.isfinite, (xmin, ymin, xmax, ymax))) and xmin < xmax and ymin < ymax
            _require("extent", self.extent, ok, "xmin < xmax and ymin < ymax")
            self.extent = (xmin, ymin, xmax, ymax)
        if self.extent_crs:
            from osgeo import osr

            srs = osr.SpatialReference()
            try:
                bad = srs.SetFromUserInput(str(self.extent_crs)) != 0
            except RuntimeError:
                bad = True
            _require("extent_crs", self.extent_crs, not bad, "a CRS such as EPSG:4326")


def _require(name: str, value, ok: bool, rule: str) -> None:
    if not ok:
        raise OptionsError(f"option {name}={value!r} is out of range: it must be {rule}")


def _number(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise OptionsError(f"option {name}={value!r} must be a number")
    return float(value)


def _integer(name: str, value) -> int:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise OptionsError(f"option {name}={value!r} must be a whole number")


def field_default(cls: type, name: str):
    """The default of dataclass field `name` of `cls` (its factory's value; None when it has
    none): every default is written once, in its dataclass, and the CLI and QGIS read it here."""
    for f in fields(cls):
        if f.name == name:
            if f.default is not MISSING:
                return f.default
            return f.default_factory() if f.default_factory is not MISSING else None
    raise KeyError(f"{cls.__name__} has no field {name!r}")


def option_default(name: str):
    """The default of DetectOptions field `name` (for argparse and QGIS parameter definitions)."""
    return field_default(DetectOptions, name)
