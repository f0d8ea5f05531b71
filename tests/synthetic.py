"""A tiny synthetic scene for training tests: a georeferenced GeoTIFF with drawn objects and
its labels in xView GeoJSON form."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from osgeo import gdal, osr

# class 0: bright orange squares ("vehicle"-like), class 1: dark blue bars ("boat"-like)
COLOURS = {0: (240, 150, 40), 1: (30, 40, 170)}
SIZES = {0: (8, 8), 1: (6, 16)}


def make_scene(folder: Path, name: str = "scene.tif", size: int = 256, count: int = 24, seed: int = 0,
               gsd: float = 0.5, epsg: int = 32632) -> tuple[Path, np.ndarray, np.ndarray]:
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
        if taken[max(y0 - 3, 0):y0 + h + 3, max(x0 - 3, 0):x0 + w + 3].any():
            continue
        taken[y0:y0 + h, x0:x0 + w] = True
        for k in range(3):
            img[k, y0:y0 + h, x0:x0 + w] = COLOURS[c][k] + rng.normal(0, 6, (h, w))
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
            features.append({"type": "Feature", "geometry": None, "properties": {
                "bounds_imcoords": ",".join(str(int(v)) for v in b), "type_id": type_ids[int(c)],
                "image_id": image_id}})
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
