"""A local XYZ tile folder made from a georeferenced raster, for tests that need a web-tile
layer without a network: {z}/{x}/{y}.png tiles of 256 px in Web Mercator, served from file://."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from osgeo import gdal, ogr, osr

HALF_WORLD = 20037508.342789244  # Web Mercator half width in metres


def tile_size_m(zoom: int) -> float:
    return 2 * HALF_WORLD / 2**zoom


def write_xyz_tiles(raster: str | Path, folder: str | Path, zoom: int) -> dict:
    """Warp `raster` onto the tiles of `zoom` that cover it (bilinear; outside the raster the
    tiles are transparent). Returns the layer URI for QGIS's wms provider, and the covered
    bounds (xmin, ymin, xmax, ymax) in EPSG:3857."""
    folder = Path(folder)
    src = gdal.Open(str(raster))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(3857)
    xmin, ymin, xmax, ymax = _bounds_3857(src, srs)
    size = tile_size_m(zoom)
    cols = range(math.floor((xmin + HALF_WORLD) / size), math.floor((xmax + HALF_WORLD) / size) + 1)
    rows = range(math.floor((HALF_WORLD - ymax) / size), math.floor((HALF_WORLD - ymin) / size) + 1)
    for x in cols:
        for y in rows:
            left, top = -HALF_WORLD + x * size, HALF_WORLD - y * size
            tile = gdal.Warp(
                "",
                src,
                format="MEM",
                dstSRS="EPSG:3857",
                width=256,
                height=256,
                outputBounds=(left, top - size, left + size, top),
                resampleAlg="bilinear",
                dstAlpha=True,
            )
            path = folder / str(zoom) / str(x) / f"{y}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            gdal.GetDriverByName("PNG").CreateCopy(str(path), tile)
    url = folder.resolve().as_uri() + "/{z}/{x}/{y}.png"
    return {
        "uri": f"type=xyz&url={url}&zmin={zoom}&zmax={zoom}",
        "bounds": (xmin, ymin, xmax, ymax),
        "tiles": len(cols) * len(rows),
    }


def _bounds_3857(ds, srs) -> tuple[float, float, float, float]:
    info = gdal.Warp("", ds, format="VRT", dstSRS=srs.ExportToWkt())
    g = info.GetGeoTransform()
    return g[0], g[3] + g[5] * info.RasterYSize, g[0] + g[1] * info.RasterXSize, g[3]


# --- a scene on the tile grid at the equator (the map-layer tests) ---

ZOOM = 20
RES = 2 * math.pi * 6378137 / (256 * 2**ZOOM)  # Web Mercator metres per pixel at ZOOM
COLS, ROWS = 4, 1  # tiles of the scene, whose bottom-left corner is (0, 0): on the equator
WIDTH, TOP = COLS * 256 * RES, ROWS * 256 * RES
EXTENT = f"0,{WIDTH},0,{TOP} [EPSG:3857]"


def make_web_scene(folder: Path, source: Path) -> dict:
    """A crop of `source` (the demo raster) as a GeoTIFF in EPSG:3857 on the tile grid of
    ZOOM, and the same pixels cut into 256 px PNG tiles in a {z}/{x}/{y}.png folder."""
    pixels = gdal.Open(str(source)).ReadAsArray(0, 0, COLS * 256, ROWS * 256)[:3]
    raster = folder / "scene.tif"
    ds = gdal.GetDriverByName("GTiff").Create(str(raster), COLS * 256, ROWS * 256, 3, gdal.GDT_Byte)
    ds.SetGeoTransform((0.0, RES, 0.0, TOP, 0.0, -RES))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(3857)
    ds.SetProjection(srs.ExportToWkt())
    for b in range(3):
        ds.GetRasterBand(b + 1).WriteArray(pixels[b])
        ds.GetRasterBand(b + 1).SetColorInterpretation(gdal.GCI_RedBand + b)
    ds = None
    first_x, first_y = 2 ** (ZOOM - 1), 2 ** (ZOOM - 1) - ROWS  # the tiles just north-east of (0, 0)
    for row in range(ROWS):
        for col in range(COLS):
            tile = gdal.GetDriverByName("MEM").Create("", 256, 256, 3, gdal.GDT_Byte)
            for b in range(3):
                tile.GetRasterBand(b + 1).WriteArray(
                    pixels[b, row * 256 : (row + 1) * 256, col * 256 : (col + 1) * 256]
                )
            path = folder / "tiles" / str(ZOOM) / str(first_x + col) / f"{first_y + row}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            gdal.GetDriverByName("PNG").CreateCopy(str(path), tile)
    url = (folder / "tiles").as_uri() + "/{z}/{x}/{y}.png"
    return {
        "raster": raster,
        "pixels": pixels,
        "xyz": f"type=xyz&url={url}&zmin={ZOOM}&zmax={ZOOM}",
        "folder": folder,
        "first_tile": (first_x, first_y),
    }


def boxes_of(path, layer=None) -> list[tuple[str, tuple[float, float, float, float]]]:
    ds = ogr.Open(str(path))
    lyr = ds.GetLayerByName(layer) if layer else ds.GetLayer(0)
    return sorted((f.GetField("class_name"), f.GetGeometryRef().GetEnvelope()) for f in lyr)


def matched(a, b, tolerance: float) -> int:
    """How many objects of `a` have one of the same class in `b` within `tolerance` map units
    on every side."""
    return sum(any(ca == cb and np.allclose(ea, eb, atol=tolerance) for cb, eb in b) for ca, ea in a)


def iou(ea, eb) -> float:
    """Intersection over union of two OGR envelopes (min_x, max_x, min_y, max_y)."""
    w = min(ea[1], eb[1]) - max(ea[0], eb[0])
    h = min(ea[3], eb[3]) - max(ea[2], eb[2])
    inter = max(w, 0.0) * max(h, 0.0)
    union = (ea[1] - ea[0]) * (ea[3] - ea[2]) + (eb[1] - eb[0]) * (eb[3] - eb[2]) - inter
    return inter / union if union > 0 else 0.0


def unmatched_iou(a, b, threshold: float = 0.5) -> list:
    """The objects of `a` with no object of the same class in `b` at IoU >= `threshold`: the
    criterion of detection benchmarks, for runs whose input pixels were resampled."""
    return [(ca, ea) for ca, ea in a if not any(ca == cb and iou(ea, eb) >= threshold for cb, eb in b)]
