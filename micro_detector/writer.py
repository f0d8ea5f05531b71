"""Vector output through OGR: one polygon per object, written under a temporary name and
renamed on success, so a failed or cancelled run never leaves a file that looks complete."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
from osgeo import ogr, osr

ogr.UseExceptions()

DRIVERS = {".gpkg": "GPKG", ".shp": "ESRI Shapefile", ".geojson": "GeoJSON", ".json": "GeoJSON",
           ".fgb": "FlatGeobuf", ".sqlite": "SQLite", ".gml": "GML", ".kml": "KML",
           ".csv": "CSV"}
FIELDS = [("class_id", ogr.OFTInteger), ("class_name", ogr.OFTString), ("score", ogr.OFTReal),
          ("source", ogr.OFTString), ("tile_row", ogr.OFTInteger), ("tile_col", ogr.OFTInteger),
          ("area_m2", ogr.OFTReal)]


class OutputError(ValueError):
    """The output cannot be written where or how it was asked."""


def driver_for(path: Path) -> str:
    driver = DRIVERS.get(path.suffix.lower())
    if driver is None:
        raise OutputError(f"unknown vector format for {path.name}: use one of "
                          f"{', '.join(sorted(DRIVERS))}")
    return driver


def check_writable(path: str | Path) -> Path:
    """Fail early, before any work, when the output cannot be written."""
    path = Path(path)
    driver_for(path)
    parent = path.resolve().parent
    if not parent.is_dir():
        raise OutputError(f"output folder does not exist: {parent}")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"output folder is not writable: {parent}")
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputError(f"output file exists and is not writable: {path}")
    return path


def ring_polygon(ring_xy) -> ogr.Geometry:
    """An OGR polygon from one closed ring of (x, y) map coordinates."""
    ring = ogr.Geometry(ogr.wkbLinearRing)
    for x, y in ring_xy:
        ring.AddPoint_2D(float(x), float(y))
    poly = ogr.Geometry(ogr.wkbPolygon)
    poly.AddGeometry(ring)
    return poly


def write_detections(path: str | Path, rings: np.ndarray, records: list[dict], crs_wkt: str | None,
                     metadata: dict[str, str], layer_name: str = "detections") -> Path:
    """Write polygons `rings` (n, 5, 2) with attribute `records`; replaces `path` atomically."""
    path = check_writable(path)
    tmpdir = Path(tempfile.mkdtemp(prefix=f".{path.stem}.", suffix=".partial", dir=path.resolve().parent))
    try:
        tmp = tmpdir / path.name
        ds = ogr.GetDriverByName(driver_for(path)).CreateDataSource(str(tmp))
        srs = None
        if crs_wkt:
            srs = osr.SpatialReference(wkt=crs_wkt)
            srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        layer = ds.CreateLayer(layer_name, srs, ogr.wkbPolygon)
        for name, kind in FIELDS:
            layer.CreateField(ogr.FieldDefn(name, kind))
        defn = layer.GetLayerDefn()
        layer.StartTransaction()
        for ring_xy, rec in zip(rings, records):
            feat = ogr.Feature(defn)
            for name, _ in FIELDS:
                value = rec[name]
                if not (isinstance(value, float) and np.isnan(value)):
                    feat.SetField(name, value)
            feat.SetGeometry(ring_polygon(ring_xy))
            layer.CreateFeature(feat)
        layer.CommitTransaction()
        layer.SetMetadata({k: str(v) for k, v in metadata.items()})
        ds = None  # flush and close
        for produced in tmpdir.iterdir():  # shapefiles come with side files
            os.replace(produced, path.parent / produced.name)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return path
