"""Shared test helpers (imported by test files, never from one test file into another): tiny
synthetic scenes for training tests (a georeferenced GeoTIFF with drawn objects and its labels
in xView GeoJSON form), rasters of bright rectangles with the stand-in detector that finds
them (`BlobRunner`), crops of a real aerial frame, and an untrained model with lively outputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from osgeo import gdal, osr

from micro_detector.model.spec import ModelSpec

KIT_RASTER = Path(__file__).parent / "data" / "micro4_mini" / "images" / "kit_MOS155.tif"  # a real street scene

# class 0: bright orange squares ("vehicle"-like), class 1: dark blue bars ("boat"-like)
COLOURS = {0: (240, 150, 40), 1: (30, 40, 170)}
SIZES = {0: (8, 8), 1: (6, 16)}


def make_scene(
    folder: Path,
    name: str = "scene.tif",
    size: int = 256,
    count: int = 24,
    seed: int = 0,
    gsd: float = 0.5,
    epsg: int = 32632,
) -> tuple[Path, np.ndarray, np.ndarray]:
    """Write a textured background with `count` non-overlapping objects; return the raster
    path, boxes (n, 4) pixel-edge xyxy and classes."""
    rng = np.random.default_rng(seed)
    img = rng.normal(110, 12, (3, size, size))
    img += np.linspace(-20, 20, size)[None, None, :]  # a gentle gradient, like real light
    boxes, classes = [], []
    taken = np.zeros((size, size), bool)
    tries = 0
    while len(boxes) < count and tries < 5000:
        tries += 1
        c = int(rng.integers(0, 2))
        w, h = SIZES[c]
        if rng.random() < 0.5:
            w, h = h, w
        x0, y0 = int(rng.integers(2, size - w - 2)), int(rng.integers(2, size - h - 2))
        if taken[max(y0 - 3, 0) : y0 + h + 3, max(x0 - 3, 0) : x0 + w + 3].any():
            continue
        taken[y0 : y0 + h, x0 : x0 + w] = True
        for k in range(3):
            img[k, y0 : y0 + h, x0 : x0 + w] = COLOURS[c][k] + rng.normal(0, 6, (h, w))
        boxes.append((x0, y0, x0 + w, y0 + h))
        classes.append(c)
    path = Path(folder) / name
    ds = gdal.GetDriverByName("GTiff").Create(str(path), size, size, 3, gdal.GDT_Byte)
    ds.SetGeoTransform((690000.0, gsd, 0.0, 5335000.0, 0.0, -gsd))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    ds.SetProjection(srs.ExportToWkt())
    for k in range(3):
        ds.GetRasterBand(k + 1).WriteArray(np.clip(img[k], 0, 255).astype(np.uint8))
        ds.GetRasterBand(k + 1).SetColorInterpretation(gdal.GCI_RedBand + k)
    ds = None
    return path, np.array(boxes, np.float32), np.array(classes, np.int64)


def write_xview(path: Path, scenes: list[tuple[str, np.ndarray, np.ndarray]], type_ids=(18, 40)) -> Path:
    """xView-style FeatureCollection for (image_id, boxes, classes); class k -> type_ids[k]."""
    features = []
    for image_id, boxes, classes in scenes:
        for b, c in zip(boxes, classes):
            features.append(
                {
                    "type": "Feature",
                    "geometry": None,
                    "properties": {
                        "bounds_imcoords": ",".join(str(int(v)) for v in b),
                        "type_id": type_ids[int(c)],
                        "image_id": image_id,
                    },
                }
            )
    Path(path).write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return Path(path)


def write_mapping(path: Path) -> Path:
    Path(path).write_text(json.dumps({"vehicle": [17, 18, 19], "boat": [40, 41]}))
    return Path(path)


def components(mask: np.ndarray) -> list[tuple[tuple[int, int, int, int], tuple[int, int]]]:
    """The 4-connected components of a boolean mask: per component, its bounding box
    (pixel edges, x0, y0, x1, y1) and its first pixel (row, column) in scan order.
    Stand-in detectors of the tests find objects with it."""
    seen = np.zeros_like(mask)
    out = []
    for y, x in zip(*np.nonzero(mask)):
        if seen[y, x]:
            continue
        stack, ys, xs = [(y, x)], [], []
        seen[y, x] = True
        while stack:
            cy, cx = stack.pop()
            ys.append(cy)
            xs.append(cx)
            for ny, nx in ((cy + 1, cx), (cy - 1, cx), (cy, cx + 1), (cy, cx - 1)):
                if 0 <= ny < mask.shape[0] and 0 <= nx < mask.shape[1] and mask[ny, nx] and not seen[ny, nx]:
                    seen[ny, nx] = True
                    stack.append((ny, nx))
        out.append(((min(xs), min(ys), max(xs) + 1, max(ys) + 1), (ys[0], xs[0])))
    return out


UTM32 = 32632


class BlobRunner:
    """Runner interface; finds 4-connected bright blobs in each tile (pixel-edge boxes)."""

    model_file = None  # in memory

    def __init__(self, imgsz=64, gsd=None):
        self.spec = ModelSpec(scale="n", imgsz=imgsz, gsd=gsd)
        self.tiles_seen = 0

    def predict(self, batch, conf=0.25, iou=0.7, max_det=3000, classes=None):
        out = []
        for image in batch:
            self.tiles_seen += 1
            mask = image[0] > 128
            dets = []
            for box, (y, x) in components(mask):
                cls = int(image[1, y, x]) // 64
                if classes is None or cls in classes:
                    dets.append([*box, 0.9, cls])
            out.append(np.array(dets, np.float32).reshape(-1, 6))
        return out


def write_raster(
    path,
    width,
    height,
    objects=(),
    gt=(500000.0, 0.5, 0.0, 5000000.0, 0.0, -0.5),
    epsg=UTM32,
    dtype=gdal.GDT_Byte,
    background=30,
    value=255,
    nodata=None,
    bands=3,
):
    """A GeoTIFF with bright rectangles (col0, row0, col1, row1, class) on a dark background."""
    data = np.full((bands, height, width), background, np.float64)
    for c0, r0, c1, r1, cls in objects:
        data[0, r0:r1, c0:c1] = value
        if bands > 1:
            data[1, r0:r1, c0:c1] = cls * 64 + 10 if dtype == gdal.GDT_Byte else (cls * 64 + 10) * value / 255
    ds = gdal.GetDriverByName("GTiff").Create(str(path), width, height, bands, dtype)
    if gt is not None:
        ds.SetGeoTransform(gt)
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(epsg)
        ds.SetProjection(srs.ExportToWkt())
    for b in range(bands):
        band = ds.GetRasterBand(b + 1)
        band.WriteArray(data[b])
        if nodata is not None:
            band.SetNoDataValue(nodata)
    ds = None
    return path


def real_crops(n, h, w, seed=0):
    """`n` uint8 RGB crops (n, 3, h, w) of a real aerial image (a KIT AIS street scene)."""
    image = gdal.Open(str(KIT_RASTER)).ReadAsArray()
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, image.shape[1] - h, n)
    cols = rng.integers(0, image.shape[2] - w, n)
    return np.stack([image[:, r : r + h, c : c + w] for r, c in zip(rows, cols)])


def lively_model(seed=0, **spec):
    """An untrained model whose outputs depend on the image: BatchNorm statistics calibrated on
    real crops (with default init and unit running variance the signal fades with depth and
    every output is a near-constant bias, so ties decide NMS), head randomised."""
    import torch

    from micro_detector.model.yolov12 import build_model

    torch.manual_seed(seed)
    model = build_model(ModelSpec(scale="n", **spec))
    for seq in list(model.detect.cv2) + list(model.detect.cv3):
        torch.nn.init.normal_(seq[-1].weight, std=0.05)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the calibration batches
    model.train()
    with torch.no_grad():
        for k in range(4):
            model(torch.from_numpy(real_crops(4, 128, 128, seed=100 + k)))  # pixels: the model normalises
    return model.eval()
