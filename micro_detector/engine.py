"""Sliding-tile detection over a georeferenced raster: the Python API behind the CLI and QGIS.

raster -> window grid (extent/mask, resampling to the model's GSD) -> windowed reads in a
background thread through a bounded queue -> batches -> runner -> boxes in raster pixels ->
merge across tiles -> map coordinates -> vector file (temporary name, renamed on success).
"""

from __future__ import annotations

import datetime as _dt
import queue
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from . import __version__
from .georef import box_areas_m2, box_polygons, map_to_pixel, pixel_to_map
from .merge import edge_cut, merge_detections
from .raster import RasterError, RasterInfo, WindowReader, choose_bands, compute_stretch, open_dataset, read_info
from .tiling import make_grid, overlap_pixels
from .writer import check_writable, ring_polygon, write_detections


class Cancelled(Exception):
    """The run was cancelled through the progress callback; nothing was written."""


@dataclass
class DetectOptions:
    tile: int | None = None  # model input pixels per tile side (default: the model's size)
    overlap: float = 0.2  # fraction of the tile (< 1) or pixels (>= 1)
    conf: float = 0.25
    iou: float = 0.5  # cross-tile merge threshold
    model_iou: float = 0.7  # NMS inside one tile
    merge: str = "nms"  # nms | nmm
    match: str = "iou"  # iou | ios
    classes: list[str] | None = None
    extent: tuple[float, float, float, float] | None = None  # xmin, ymin, xmax, ymax
    extent_crs: str | None = None  # e.g. "EPSG:4326"; default: the raster's CRS
    mask: str | None = None  # polygon vector file limiting the search
    bands: list[int] | None = None
    batch: int = 8
    device: str = "auto"
    backend: str = "auto"
    resample: bool = True  # read at the model's GSD when it differs
    scale: float | None = None  # source pixels per model pixel (overrides the GSD rule)
    gsd_tolerance: float = 0.25  # relative GSD difference ignored
    pixel_coordinates: bool = False  # allow rasters without georeferencing
    max_det: int = 3000  # per tile
    queue_tiles: int = 0  # read-ahead (tiles); 0 = 2 batches


@dataclass
class Detections:
    """Merged detections of one raster: boxes in source pixels and polygons in map units."""

    boxes: np.ndarray  # (n, 4) xyxy source pixels
    scores: np.ndarray
    class_ids: np.ndarray
    class_names: list[str]
    tile_rows: np.ndarray
    tile_cols: np.ndarray
    rings: np.ndarray  # (n, 5, 2) map coordinates
    areas_m2: np.ndarray
    crs_wkt: str | None
    report: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.boxes)

    def counts(self) -> dict[str, int]:
        return {name: int((self.class_ids == k).sum()) for k, name in enumerate(self.class_names)}

    def records(self, source: str) -> list[dict]:
        return [{"class_id": int(c), "class_name": self.class_names[int(c)], "score": float(s),
                 "source": source, "tile_row": int(r), "tile_col": int(q), "area_m2": float(a)}
                for c, s, r, q, a in zip(self.class_ids, self.scores, self.tile_rows,
                                         self.tile_cols, self.areas_m2)]


def _region_geometry(info: RasterInfo, options: DetectOptions):
    """The search region as an OGR geometry in the raster's CRS, or None for everything."""
    from osgeo import ogr, osr

    parts = []
    raster_srs = osr.SpatialReference(wkt=info.crs_wkt) if info.crs_wkt else None
    if raster_srs is not None:
        raster_srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    if options.extent is not None:
        xmin, ymin, xmax, ymax = options.extent
        geom = ogr.CreateGeometryFromWkt(
            f"POLYGON(({xmin} {ymin},{xmax} {ymin},{xmax} {ymax},{xmin} {ymax},{xmin} {ymin}))")
        if options.extent_crs:
            if raster_srs is None:
                raise RasterError(f"{info.path} has no CRS: an extent in {options.extent_crs} "
                                  "cannot be placed on it")
            src = osr.SpatialReference()
            src.SetFromUserInput(options.extent_crs)
            src.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
            geom.AssignSpatialReference(src)
            geom.Segmentize((xmax - xmin) / 16 or 1)
            geom.TransformTo(raster_srs)
        parts.append(geom)
    if options.mask:
        if not Path(options.mask).exists():
            raise RasterError(f"mask file not found: {options.mask}")
        ds = ogr.Open(str(options.mask))
        if ds is None or ds.GetLayerCount() == 0:
            raise RasterError(f"cannot read a polygon layer from mask {options.mask}")
        layer = ds.GetLayer(0)
        union = ogr.Geometry(ogr.wkbMultiPolygon)
        layer_srs = layer.GetSpatialRef()
        transform = None
        if layer_srs is not None and raster_srs is not None and not layer_srs.IsSame(raster_srs):
            layer_srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
            transform = osr.CoordinateTransformation(layer_srs, raster_srs)
        for feature in layer:
            g = feature.GetGeometryRef()
            if g is None:
                continue
            g = g.Clone()
            if transform is not None:
                g.Transform(transform)
            union = union.Union(g)
        if union.IsEmpty():
            raise RasterError(f"mask {options.mask} holds no polygons")
        parts.append(union)
    if not parts:
        return None
    region = parts[0]
    for other in parts[1:]:
        region = region.Intersection(other)
    return region


def _pixel_bbox(info: RasterInfo, geom) -> tuple[float, float, float, float]:
    xmin, xmax, ymin, ymax = geom.GetEnvelope()
    cols, rows = map_to_pixel(info.geotransform, np.array([xmin, xmax, xmax, xmin]),
                              np.array([ymin, ymin, ymax, ymax]))
    return float(cols.min()), float(rows.min()), float(cols.max()), float(rows.max())


def detect(raster: str | Path, output: str | Path | None = None, *, runner=None,
           weights: str | Path | None = None, options: DetectOptions | None = None,
           progress: Callable[[int, int], bool | None] | None = None, log: Callable[[str], None] | None = None) -> Detections:
    """Detect objects on `raster`; write them to `output` when given; return them.

    `runner` is anything with `.spec` and `.predict(batch, conf, iou, max_det, classes)`
    (a TorchRunner, an OnnxRunner, or a stand-in); otherwise `weights` is opened.
    `progress(done_tiles, total_tiles)` is called after each batch; returning False cancels.
    """
    options = options or DetectOptions()
    log = log or (lambda message: None)
    start = time.perf_counter()
    if output is not None:
        check_writable(output)
    ds = open_dataset(raster)
    info = read_info(raster, ds)
    if not info.georeferenced and not options.pixel_coordinates:
        raise RasterError(f"{raster} is not georeferenced (no CRS or geotransform); "
                          "georeference it first, or ask for pixel coordinates explicitly")
    if runner is None:
        if weights is None:
            raise ValueError("give a runner or a weights file")
        from .model.runner import open_runner

        runner = open_runner(weights, backend=options.backend, device=options.device)
    spec = runner.spec
    bands = choose_bands(info, spec.bands, options.bands)
    stretch = None
    if info.dtype != "byte":
        stretch = compute_stretch(ds, info, bands)
        log(f"{info.dtype} raster: stretched per band between the 2nd and 98th percentiles "
            f"{[(round(a, 3), round(b, 3)) for a, b in stretch]}")
    class_filter = None
    if options.classes:
        unknown = [c for c in options.classes if c not in spec.class_names]
        if unknown:
            raise ValueError(f"unknown class(es) {unknown}; the model knows {spec.class_names}")
        class_filter = [spec.class_names.index(c) for c in options.classes]

    # resolution: source pixels per model pixel
    scale = 1.0
    if options.scale is not None:
        scale = float(options.scale)
    elif options.resample and spec.gsd and info.pixel_size_m:
        ratio = spec.gsd / info.pixel_size_m
        if abs(ratio - 1) > options.gsd_tolerance:
            scale = ratio
    tile = options.tile or spec.imgsz
    if tile % 32:
        raise ValueError(f"tile size must be divisible by 32, got {tile}")
    src_tile = max(1, round(tile * scale))
    overlap = overlap_pixels(src_tile, options.overlap if options.overlap < 1 else options.overlap * scale)

    region = _region_geometry(info, options)
    windows = make_grid(info.width, info.height, src_tile, overlap,
                        _pixel_bbox(info, region) if region is not None else None)
    if region is not None:
        rings = box_polygons(info.geotransform, np.array([w.bounds for w in windows], float))
        windows = [w for w, ring in zip(windows, rings) if ring_polygon(ring).Intersects(region)]
    total = len(windows)
    log(f"{info.width} x {info.height} px, {total} tiles of {src_tile} px "
        f"(model {tile} px, scale {scale:.3f}), overlap {overlap} px")

    # background reader: bounded queue, so memory is bounded by batch and read-ahead
    depth = options.queue_tiles or 2 * options.batch
    tiles_q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def reader():
        try:
            wr = WindowReader(info, bands, stretch)
            for w in windows:
                if stop.is_set():
                    return
                out_w = max(32, round(w.w / scale))
                out_h = max(32, round(w.h / scale))
                image, valid = wr.read(w.x0, w.y0, w.w, w.h, out_w, out_h)
                item = (w, image if valid.any() else None)
                while not stop.is_set():
                    try:
                        tiles_q.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
            tiles_q.put(None)
        except BaseException as error:  # hand the error to the consumer
            tiles_q.put(error)

    thread = threading.Thread(target=reader, name="micro-detector-reader", daemon=True)
    thread.start()
    all_boxes, all_scores, all_cls, all_win = [], [], [], []
    done = skipped = 0
    forward_s = 0.0
    try:
        finished = False
        while not finished:
            batch = []
            while len(batch) < options.batch:
                item = tiles_q.get()
                if item is None:
                    finished = True
                    break
                if isinstance(item, BaseException):
                    raise item
                w, image = item
                if image is None:
                    skipped += 1
                    done += 1
                    continue
                batch.append((w, image))
            if batch:
                t0 = time.perf_counter()
                for group in _same_shape_groups(batch):
                    arr = np.stack([_pad(img) for _, img in group])
                    dets = runner.predict(arr, conf=options.conf, iou=options.model_iou,
                                          max_det=options.max_det, classes=class_filter)
                    for (w, img), d in zip(group, dets):
                        h_img, w_img = img.shape[1:]
                        d = d[(d[:, 0] < w_img) & (d[:, 1] < h_img)]  # ignore the padding
                        b = d[:, :4].astype(np.float64)
                        b[:, [0, 2]] = np.clip(b[:, [0, 2]], 0, w_img) * (w.w / w_img) + w.x0
                        b[:, [1, 3]] = np.clip(b[:, [1, 3]], 0, h_img) * (w.h / h_img) + w.y0
                        all_boxes.append(b)
                        all_scores.append(d[:, 4])
                        all_cls.append(d[:, 5].astype(np.int64))
                        all_win.append(np.repeat([[w.row, w.col, *w.bounds]], len(d), 0))
                forward_s += time.perf_counter() - t0
                done += len(batch)
            if progress is not None and progress(done, total) is False:
                raise Cancelled(f"cancelled after {done} of {total} tiles; nothing was written")
    finally:
        stop.set()
        thread.join(timeout=10)

    boxes = np.concatenate(all_boxes) if all_boxes else np.zeros((0, 4))
    scores = np.concatenate(all_scores) if all_scores else np.zeros(0, np.float32)
    cls = np.concatenate(all_cls) if all_cls else np.zeros(0, np.int64)
    win = np.concatenate(all_win) if all_win else np.zeros((0, 6), np.int64)
    raw_count = len(boxes)
    cut = edge_cut(boxes, win[:, 2:6], (info.width, info.height))
    kept, merged = merge_detections(boxes, scores, cls, cut, options.merge, options.match, options.iou)
    boxes, scores, cls, win = merged.astype(np.float64), scores[kept], cls[kept], win[kept]
    if region is not None and len(boxes):  # objects whose centre lies outside the region go
        from osgeo import ogr

        xs, ys = pixel_to_map(info.geotransform, (boxes[:, 0] + boxes[:, 2]) / 2,
                              (boxes[:, 1] + boxes[:, 3]) / 2)
        inside = np.array([region.Contains(ogr.CreateGeometryFromWkt(f"POINT({x} {y})"))
                           for x, y in zip(xs, ys)], bool)
        boxes, scores, cls, win = boxes[inside], scores[inside], cls[inside], win[inside]
    gt = info.geotransform
    result = Detections(
        boxes=boxes, scores=scores.astype(np.float32), class_ids=cls, class_names=list(spec.class_names),
        tile_rows=win[:, 0], tile_cols=win[:, 1], rings=box_polygons(gt, boxes),
        areas_m2=box_areas_m2(gt, boxes, info.metres_per_unit), crs_wkt=info.crs_wkt)
    elapsed = time.perf_counter() - start
    result.report = {
        "raster": str(raster), "width": info.width, "height": info.height, "tiles": total,
        "tiles_skipped_nodata": skipped, "scale": scale, "tile_source_px": src_tile,
        "overlap_px": overlap, "bands": bands, "stretch": stretch, "boxes_before_merge": raw_count,
        "objects": len(boxes), "counts": result.counts(), "seconds": round(elapsed, 3),
        "forward_seconds": round(forward_s, 3),
    }
    if output is not None:
        meta = {"model": str(weights or getattr(runner, "path", "in-memory")),
                "model_classes": ",".join(spec.class_names), "run_date":
                _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                "micro_detector_version": __version__,
                **{f"option_{k}": v for k, v in asdict(options).items() if v is not None},
                "tiles": total, "scale": scale}
        write_detections(output, result.rings, result.records(str(raster)), info.crs_wkt, meta)
        log(f"wrote {len(boxes)} objects to {output}")
    return result


def _padded_shape(image: np.ndarray) -> tuple[int, int]:
    """Height and width rounded up to a multiple of 32 (tiles at a small raster's edge)."""
    return tuple(max(-(-s // 32) * 32, 32) for s in image.shape[1:])


def _pad(image: np.ndarray) -> np.ndarray:
    th, tw = _padded_shape(image)
    if (th, tw) == image.shape[1:]:
        return image
    out = np.zeros((image.shape[0], th, tw), image.dtype)
    out[:, :image.shape[1], :image.shape[2]] = image
    return out


def _same_shape_groups(batch):
    groups: dict[tuple[int, int], list] = {}
    for w, img in batch:
        groups.setdefault(_padded_shape(img), []).append((w, img))
    return list(groups.values())
