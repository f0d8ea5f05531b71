"""The search region of a run: the user's extent and/or mask polygons, in the raster's CRS.

Built by the plan before any tile is read, and checked there: a region that misses the
raster is an error giving both extents in the raster's CRS. The region travels in the plan
as WKT (plans are sent to Dask workers; OGR geometries do not pickle).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .georef import box_polygons, map_to_pixel, ring_polygon
from .options import DetectOptions, OptionsError
from .raster import RasterError, RasterInfo

__all__ = ["region_wkt", "raster_footprint", "pixel_bbox"]


def _srs(text_or_wkt: str):
    from osgeo import osr

    srs = osr.SpatialReference()
    srs.SetFromUserInput(text_or_wkt)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


def raster_footprint(info: RasterInfo):
    """The raster's outline as an OGR polygon in its CRS (rotated rasters included)."""
    ring = box_polygons(info.geotransform, np.array([[0, 0, info.width, info.height]], float))[0]
    return ring_polygon(ring)


def _extent_geometry(info: RasterInfo, options: DetectOptions):
    from osgeo import ogr

    assert options.extent is not None
    xmin, ymin, xmax, ymax = options.extent
    geom = ogr.CreateGeometryFromWkt(
        f"POLYGON(({xmin!r} {ymin!r},{xmax!r} {ymin!r},{xmax!r} {ymax!r},{xmin!r} {ymax!r},{xmin!r} {ymin!r}))"
    )
    if not options.extent_crs:
        return geom
    if not info.crs_wkt:
        raise RasterError(f"{info.label} has no CRS: an extent in {options.extent_crs} cannot be placed on it")
    geom.AssignSpatialReference(_srs(options.extent_crs))
    geom.Segmentize((xmax - xmin) / 16 or 1)  # a curved outline once projected
    try:
        geom.TransformTo(_srs(info.crs_wkt))
    except RuntimeError as error:
        raise OptionsError(
            f"the extent {options.extent} in {options.extent_crs} cannot be transformed to the raster's CRS: {error}"
        ) from None
    return geom


def _mask_geometry(info: RasterInfo, mask: str):
    from osgeo import ogr, osr

    if not Path(mask).exists():
        raise RasterError(f"mask file not found: {mask}")
    try:
        ds = ogr.Open(str(mask))
    except RuntimeError:
        ds = None
    if ds is None or ds.GetLayerCount() == 0:
        raise RasterError(f"cannot read a polygon layer from mask {mask}")
    layer = ds.GetLayer(0)
    raster_srs = _srs(info.crs_wkt) if info.crs_wkt else None
    layer_srs = layer.GetSpatialRef()
    transform = None
    if layer_srs is not None and raster_srs is not None and not layer_srs.IsSame(raster_srs):
        layer_srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        transform = osr.CoordinateTransformation(layer_srs, raster_srs)
    union = ogr.Geometry(ogr.wkbMultiPolygon)
    for feature in layer:
        g = feature.GetGeometryRef()
        if g is None:
            continue
        g = g.Clone()
        if transform is not None:
            g.Transform(transform)
        union = union.Union(g)
    if union.IsEmpty():
        raise RasterError(f"mask {mask} holds no polygons")
    return union


def _envelope_text(geom) -> str:
    xmin, xmax, ymin, ymax = geom.GetEnvelope()
    return f"{xmin:.6g},{ymin:.6g},{xmax:.6g},{ymax:.6g}"


def _check_meets_raster(info: RasterInfo, region, options: DetectOptions) -> None:
    footprint = raster_footprint(info)
    if region.Intersects(footprint):
        return
    what = "extent" if options.extent is not None else "mask"
    if options.extent is not None and options.mask:
        what = "extent and mask together"
    message = (
        f"the {what} does not meet the raster: in the raster's CRS the {what} is "
        f"{_envelope_text(region)} and the raster is {_envelope_text(footprint)} "
        "(xmin,ymin,xmax,ymax)"
    )
    x0, y0, x1, y1 = options.extent or (0, 0, 0, 0)
    if (
        options.extent is not None
        and not options.extent_crs
        and max(abs(x0), abs(x1)) <= 180
        and max(abs(y0), abs(y1)) <= 90
    ):
        message += "; if the extent is longitude/latitude, add its EPSG code: xmin,ymin,xmax,ymax,4326"
    raise OptionsError(message)


def region_wkt(info: RasterInfo, options: DetectOptions) -> str | None:
    """The search region (extent intersected with the mask) as WKT in the raster's CRS, or
    None for the whole raster. Raises OptionsError when it misses the raster."""
    parts = []
    if options.extent is not None:
        parts.append(_extent_geometry(info, options))
    if options.mask:
        parts.append(_mask_geometry(info, options.mask))
    if not parts:
        return None
    region = parts[0]
    for other in parts[1:]:
        region = region.Intersection(other)
    _check_meets_raster(info, region, options)
    return region.ExportToWkt()


def pixel_bbox(info: RasterInfo, geom) -> tuple[float, float, float, float]:
    """The pixel bounding box (x0, y0, x1, y1) of a geometry in the raster's CRS."""
    xmin, xmax, ymin, ymax = geom.GetEnvelope()
    cols, rows = map_to_pixel(info.geotransform, np.array([xmin, xmax, xmax, xmin]), np.array([ymin, ymin, ymax, ymax]))
    return float(cols.min()), float(rows.min()), float(cols.max()), float(rows.max())
