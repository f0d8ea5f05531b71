"""Any QGIS raster layer as a window source for the engine: XYZ and WMS/WMTS tiles, WCS,
virtual rasters, database rasters, read through the layer's data provider.

The layer is read on a grid chosen here, not on its own pixels (a web layer has none of its
own: its tiles exist at every zoom level): a north-up grid in the layer's CRS covering the
search area, with square pixels of the processing resolution on the ground. Each window is
one `QgsRasterDataProvider.block` request per band for the window's map rectangle at the
asked output size; the provider picks the zoom level or overview and resamples. Web layers
come as one ARGB32 band (already rendered colours), decoded to R, G, B with alpha as
validity. Other data types are stretched to 0-255 between the 2nd and 98th percentiles of a
decimated read of the area, as the engine does for files.
"""

from __future__ import annotations

import math

import numpy as np
from qgis.core import (
    Qgis,
    QgsCoordinateReferenceSystem,
    QgsDistanceArea,
    QgsPointXY,
    QgsProject,
    QgsRasterLayer,
    QgsRectangle,
)

from ..micro_detector.raster import RasterInfo
from ..micro_detector.source import WindowSource
from ..micro_detector.tiling import Window

NUMPY_TYPES = {
    Qgis.DataType.Byte: np.uint8,
    Qgis.DataType.UInt16: np.uint16,
    Qgis.DataType.Int16: np.int16,
    Qgis.DataType.UInt32: np.uint32,
    Qgis.DataType.Int32: np.int32,
    Qgis.DataType.Float32: np.float32,
    Qgis.DataType.Float64: np.float64,
}
RGBA_TYPES = (Qgis.DataType.ARGB32, Qgis.DataType.ARGB32_Premultiplied)
MAX_PIXELS = 40_000**2  # a grid larger than this is a mistake (a whole web map at 30 cm)
STRETCH_SAMPLE = 1024  # pixels along the longer side of the read that gives the percentiles


class LayerSourceError(ValueError):
    """A QGIS layer cannot be read as asked; the message names the layer and the fix."""


def is_file_layer(layer: QgsRasterLayer) -> bool:
    """True for a layer GDAL opens from a file (read by the engine's GDAL source)."""
    from pathlib import Path

    if layer.providerType() != "gdal":
        return False
    path = layer.source().split("|")[0]
    return Path(path).exists() or path.startswith("/vsi")


def metres_per_unit(crs: QgsCoordinateReferenceSystem, centre: QgsPointXY, span: float) -> tuple[float, float]:
    """Ground metres per CRS unit along x and along y at `centre`, measured on the ellipsoid
    over `span` units (Web Mercator's units are not metres away from the equator). Projected
    CRSs used for imagery are conformal: one factor (along x) serves both axes, so pixels stay
    square in map units; degrees get one factor per axis."""
    area = QgsDistanceArea()
    area.setSourceCrs(crs, QgsProject.instance().transformContext())
    area.setEllipsoid(crs.ellipsoidAcronym() or "EPSG:7030")
    half = span / 2
    dx = area.measureLine(QgsPointXY(centre.x() - half, centre.y()), QgsPointXY(centre.x() + half, centre.y()))
    dy = area.measureLine(QgsPointXY(centre.x(), centre.y() - half), QgsPointXY(centre.x(), centre.y() + half))
    if not (dx > 0 and dy > 0):
        raise LayerSourceError(f"cannot measure ground distances in {crs.authid() or crs.description()}")
    return (dx / span, dy / span) if crs.isGeographic() else (dx / span, dx / span)


class QgisLayerSource(WindowSource):
    """Windows of a QGIS raster layer on a north-up grid of `resolution_m` ground metres per
    pixel over `area` (a rectangle in the layer's CRS), through the layer's data provider, or
    through `provider`, a clone of it made in the layer's (main) thread."""

    def __init__(self, layer: QgsRasterLayer, area: QgsRectangle, resolution_m: float, provider=None):
        if not layer.isValid():
            raise LayerSourceError(f"the layer {layer.name()} is not valid: {layer.error().summary()}")
        if not layer.crs().isValid():
            raise LayerSourceError(f"the layer {layer.name()} has no CRS: set its CRS first")
        area = area.intersect(layer.extent())
        if area.isEmpty():
            raise LayerSourceError(f"the search area does not overlap the layer {layer.name()}")
        if not resolution_m > 0:
            raise LayerSourceError(f"choose a processing resolution for the layer {layer.name()}")
        self.layer_name = layer.name()
        # a clone read in one thread only, as QGIS's own renderers do
        self._provider = provider or layer.dataProvider().clone()
        self.bands: list[int] | None = None
        self.stretch: list[tuple[float, float]] | None = None
        self.info = self._facts(layer, area, resolution_m)

    def _facts(self, layer: QgsRasterLayer, area: QgsRectangle, resolution_m: float) -> RasterInfo:
        mx, my = metres_per_unit(layer.crs(), area.center(), max(area.width(), area.height()) / 100)
        px, py = resolution_m / mx, resolution_m / my
        width, height = max(1, math.ceil(area.width() / px)), max(1, math.ceil(area.height() / py))
        if width * height > MAX_PIXELS:
            raise LayerSourceError(
                f"{width} x {height} pixels at {resolution_m * 100:g} cm/px: the area is too large for the "
                f"layer {layer.name()}; zoom in and search the visible extent, or give an extent"
            )
        provider = self._provider
        self.rgba = provider.dataType(1) in RGBA_TYPES
        if self.rgba:  # web layers: one band of rendered colours
            count, dtype, interp, nodata = 3, "byte", ["Red", "Green", "Blue"], [None] * 3
        else:
            kind = provider.dataType(1)
            if kind not in NUMPY_TYPES:
                raise LayerSourceError(f"the layer {layer.name()} has pixels of an unsupported type ({kind})")
            count = provider.bandCount()
            dtype = np.dtype(NUMPY_TYPES[kind]).name.replace("uint8", "byte")
            interp = [provider.colorInterpretationName(b) for b in range(1, count + 1)]
            nodata = [
                provider.sourceNoDataValue(b) if provider.sourceHasNoDataValue(b) else None for b in range(1, count + 1)
            ]
        return RasterInfo(
            path=layer.name(),
            width=width,
            height=height,
            count=count,
            dtype=dtype,
            geotransform=(area.xMinimum(), px, 0.0, area.yMaximum(), 0.0, -py),
            crs_wkt=layer.crs().toWkt(QgsCoordinateReferenceSystem.WktVariant.WKT_PREFERRED_GDAL),
            nodata=nodata,
            color_interp=interp,
            georeferenced=True,
            pixel_size_m=resolution_m,
            metres_per_unit=math.sqrt(mx * my),
        )

    # --- the window-source interface (micro_detector/source.py) ---------------------
    def select_bands(self, bands: list[int]) -> list[str]:
        bad = [b for b in bands if not 1 <= b <= self.info.count]
        if bad:
            raise LayerSourceError(
                f"the layer {self.layer_name} has {self.info.count} band(s); band(s) {bad} do not exist"
            )
        self.bands = list(bands)
        if self.rgba or self.info.dtype == "byte":
            return []
        self.stretch = self._stretch()
        return [
            f"{self.info.dtype} layer: stretched per band between the 2nd and 98th percentiles "
            f"{[(round(a, 3), round(b, 3)) for a, b in self.stretch]}"
        ]

    def read(self, window: Window, out_w: int, out_h: int) -> tuple[np.ndarray, np.ndarray]:
        if self.bands is None:
            raise RuntimeError("select_bands() must be called before read()")
        rect = self.window_rect(window.x0, window.y0, window.w, window.h)
        if self.rgba:
            rgb, valid = _rgba_block(self._provider, rect, out_w, out_h)
            image = rgb[[b - 1 for b in self.bands]]
        else:
            data, valid = self._numeric(rect, out_w, out_h)
            image = _to_uint8(data, self.stretch)
        image[:, ~valid] = 0
        return image, valid

    def for_thread(self) -> QgisLayerSource:
        twin = object.__new__(QgisLayerSource)
        twin.__dict__.update(self.__dict__)
        twin._provider = self._provider.clone()  # a provider is not safe across threads
        return twin

    def describe(self) -> dict:
        return {
            "stretch": self.stretch,
            "layer": self.layer_name,
            "resolution_cm": round(self.info.pixel_size_m * 100, 3),
        }

    def close(self) -> None:
        self._provider = None

    # --- reading -------------------------------------------------------------------
    def window_rect(self, x0: float, y0: float, w: float, h: float) -> QgsRectangle:
        """The map rectangle of a window given in grid pixels."""
        g = self.info.geotransform
        return QgsRectangle(g[0] + x0 * g[1], g[3] + (y0 + h) * g[5], g[0] + (x0 + w) * g[1], g[3] + y0 * g[5])

    def _stretch(self) -> list[tuple[float, float]]:
        """2nd and 98th percentiles per band from a decimated read of the whole grid."""
        scale = max(self.info.width, self.info.height) / STRETCH_SAMPLE
        sw = max(1, round(self.info.width / max(scale, 1)))
        sh = max(1, round(self.info.height / max(scale, 1)))
        data, valid = self._numeric(self.window_rect(0, 0, self.info.width, self.info.height), sw, sh)
        out = []
        for band in data:
            values = band[valid & np.isfinite(band)]
            lo, hi = np.percentile(values, [2, 98]) if values.size else (0.0, 1.0)
            out.append((float(lo), float(hi if hi > lo else lo + 1)))
        return out

    def _numeric(self, rect: QgsRectangle, out_w: int, out_h: int):
        arrays, valid = [], np.ones((out_h, out_w), bool)
        for b in self.bands:
            block = self._provider.block(b, rect, out_w, out_h)
            if not block.isValid():
                raise LayerSourceError(f"the layer {self.layer_name} gave no data for band {b}")
            data = np.frombuffer(bytes(block.data()), NUMPY_TYPES[block.dataType()]).reshape(out_h, out_w)
            valid &= _valid_pixels(block, data)
            arrays.append(data)
        return np.stack(arrays), valid


def _valid_pixels(block, data: np.ndarray) -> np.ndarray:
    valid = np.isfinite(data) if np.issubdtype(data.dtype, np.floating) else np.ones(data.shape, bool)
    if block.hasNoDataValue():
        valid &= data != block.noDataValue()
    elif block.hasNoData():  # a nodata bitmap without a value (outside the layer): rare, slow
        h, w = data.shape
        valid &= ~np.array([[block.isNoData(r, c) for c in range(w)] for r in range(h)], bool)
    return valid


def _rgba_block(provider, rect: QgsRectangle, out_w: int, out_h: int):
    """R, G, B (3, h, w) uint8 and alpha > 0 of a rendered (ARGB32) block; premultiplied
    colours are divided back by alpha."""
    block = provider.block(1, rect, out_w, out_h)
    if not block.isValid():
        raise LayerSourceError("the layer gave no image for this window (a tile server not answering?)")
    argb = np.frombuffer(bytes(block.data()), np.uint32).reshape(out_h, out_w)
    alpha = (argb >> 24).astype(np.uint16)
    rgb = np.stack([(argb >> s) & 255 for s in (16, 8, 0)]).astype(np.uint16)
    if block.dataType() == Qgis.DataType.ARGB32_Premultiplied:
        partial = (alpha > 0) & (alpha < 255)
        rgb[:, partial] = np.minimum(rgb[:, partial] * 255 // alpha[partial], 255)
    return rgb.astype(np.uint8), alpha > 0


def _to_uint8(data: np.ndarray, stretch) -> np.ndarray:
    if stretch is None:
        return data.astype(np.uint8, copy=False).copy()
    out = np.empty(data.shape, np.uint8)
    for k, (lo, hi) in enumerate(stretch):
        out[k] = np.clip(np.nan_to_num((data[k].astype(np.float32) - lo) * (255.0 / (hi - lo))), 0, 255)
    return out
