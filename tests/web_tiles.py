"""A local XYZ tile folder made from a georeferenced raster, for tests that need a web-tile
layer without a network: {z}/{x}/{y}.png tiles of 256 px in Web Mercator, served from file://."""

from __future__ import annotations

import math
from pathlib import Path

from osgeo import gdal, osr

HALF_WORLD = 20037508.342789244  # Web Mercator half width in metres


def tile_size_m(zoom: int) -> float:
    return 2 * HALF_WORLD / 2 ** zoom


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
            tile = gdal.Warp("", src, format="MEM", dstSRS="EPSG:3857", width=256, height=256,
                             outputBounds=(left, top - size, left + size, top), resampleAlg="bilinear",
                             dstAlpha=True)
            path = folder / str(zoom) / str(x) / f"{y}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            gdal.GetDriverByName("PNG").CreateCopy(str(path), tile)
    url = folder.resolve().as_uri() + "/{z}/{x}/{y}.png"
    return {"uri": f"type=xyz&url={url}&zmin={zoom}&zmax={zoom}", "bounds": (xmin, ymin, xmax, ymax),
            "tiles": len(cols) * len(rows)}


def _bounds_3857(ds, srs) -> tuple[float, float, float, float]:
    info = gdal.Warp("", ds, format="VRT", dstSRS=srs.ExportToWkt())
    g = info.GetGeoTransform()
    return g[0], g[3] + g[5] * info.RasterYSize, g[0] + g[1] * info.RasterXSize, g[3]
