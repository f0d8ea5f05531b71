"""What `detect` reads: the search area (whole layer, the map canvas's visible extent, mask
polygons, an extent) and the raster source (GDAL for files, the QGIS provider otherwise)."""

from __future__ import annotations

from dataclasses import dataclass

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsProject,
    QgsRasterDataProvider,
    QgsRasterLayer,
    QgsRectangle,
)

from .qgis_source import LayerSourceError, QgisLayerSource, is_file_layer, metres_per_unit

AREA_ENTIRE, AREA_VISIBLE, AREA_MASK = 0, 1, 2


@dataclass
class CanvasView:
    """What the map canvas shows: its extent, CRS and map units per screen pixel."""

    rect: QgsRectangle
    crs: QgsCoordinateReferenceSystem
    units_per_pixel: float

    def resolution_m(self) -> float:
        """Ground metres per screen pixel at the centre of the view."""
        mx, _ = metres_per_unit(self.crs, self.rect.center(), self.rect.width() / 100)
        return self.units_per_pixel * mx


def visible_extent() -> CanvasView | None:
    """The map canvas's view, or None outside the QGIS desktop. Call from the main thread
    (Processing's prepareAlgorithm)."""
    try:
        from qgis.utils import iface
    except ImportError:
        return None
    canvas = iface.mapCanvas() if iface is not None else None
    if canvas is None or canvas.extent().isEmpty():
        return None
    return CanvasView(
        QgsRectangle(canvas.extent()),
        QgsCoordinateReferenceSystem(canvas.mapSettings().destinationCrs()),
        canvas.mapUnitsPerPixel(),
    )


def to_layer_crs(rect: QgsRectangle, crs: QgsCoordinateReferenceSystem, layer: QgsRasterLayer) -> QgsRectangle:
    """`rect` given in `crs` as a bounding rectangle in the layer's CRS."""
    if crs == layer.crs():
        return QgsRectangle(rect)
    transform = QgsCoordinateTransform(crs, layer.crs(), QgsProject.instance().transformContext())
    return transform.transformBoundingBox(rect)


def intersect(a: QgsRectangle | None, b: QgsRectangle | None) -> QgsRectangle | None:
    """Both limits (None is no limit)."""
    if a is None or b is None:
        return b if a is None else a
    return a.intersect(b)


def mask_rect(mask_layer, layer: QgsRasterLayer) -> QgsRectangle | None:
    """The mask polygons' bounding rectangle in the layer's CRS."""
    if mask_layer is None:
        return None
    return to_layer_crs(mask_layer.extent(), mask_layer.crs(), layer)


def native_resolution_m(layer: QgsRasterLayer) -> float | None:
    """Ground metres per pixel of a layer with pixels of its own (WCS, virtual, database
    rasters); None for web layers, whose tiles exist at every zoom level."""
    provider = layer.dataProvider()
    if not provider.capabilities() & QgsRasterDataProvider.Capability.Size or layer.width() <= 1:
        return None
    extent = layer.extent()
    mx, _ = metres_per_unit(layer.crs(), extent.center(), max(extent.width(), extent.height()) / 100)
    return layer.rasterUnitsPerPixelX() * mx


def provider_source(
    layer: QgsRasterLayer,
    area: QgsRectangle | None,
    resolution_m: float | None,
    model_gsd: float | None,
    view: CanvasView | None = None,
    provider=None,
) -> QgisLayerSource:
    """The layer read through its data provider over `area` (None: the whole layer) at
    `resolution_m`, else the model's GSD, else the layer's own pixels, else the resolution
    the map canvas shows it at."""
    resolution = resolution_m or model_gsd or native_resolution_m(layer) or (view and view.resolution_m())
    if not resolution:
        raise LayerSourceError(
            f"the layer {layer.name()} has no pixel size of its own and the model states "
            "no ground sample distance: set the processing resolution (cm/px)"
        )
    return QgisLayerSource(layer, area if area is not None else layer.extent(), resolution, provider)


def file_scale(path: str, resolution_m: float) -> float:
    """Source pixels per model pixel that read a file at `resolution_m` metres per pixel."""
    from ..micro_detector.raster import read_info

    info = read_info(path)
    if not info.pixel_size_m:
        raise LayerSourceError(
            f"{path} has no known pixel size in metres: a processing resolution cannot be applied to it"
        )
    return resolution_m / info.pixel_size_m


__all__ = [
    "CanvasView",
    "AREA_ENTIRE",
    "AREA_VISIBLE",
    "AREA_MASK",
    "LayerSourceError",
    "file_scale",
    "intersect",
    "is_file_layer",
    "mask_rect",
    "provider_source",
    "to_layer_crs",
    "visible_extent",
]
