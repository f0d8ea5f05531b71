"""Inputs built at run time for the bad-input and fault suites: rasters of any band count,
type and nodata layout, damaged files, hostile weights, GeoPackages holding the user's
layers; and the CLI run as a subprocess, the way a user runs it."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from osgeo import gdal, ogr, osr

ROOT = Path(__file__).resolve().parents[1]
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
# one thread each: these runs are tiny, and several may share two cores
# ONNX exports of test models go to a cache of this session, not the user's
ENV = {
    **os.environ,
    "OMP_NUM_THREADS": "1",
    "GDAL_PAM_ENABLED": "NO",
    "PYTHONPATH": str(ROOT),
    "MICRO_DETECTOR_CACHE": tempfile.mkdtemp(prefix="md-test-cache-"),
}
GDAL_TYPES = {
    "Byte": gdal.GDT_Byte,
    "UInt16": gdal.GDT_UInt16,
    "Int16": gdal.GDT_Int16,
    "UInt32": gdal.GDT_UInt32,
    "Float32": gdal.GDT_Float32,
    "Float64": gdal.GDT_Float64,
}


def cli(*args, cwd=None, timeout=120, user=None) -> subprocess.CompletedProcess:
    """`python -m micro_detector ARGS` in a fresh process; `user` runs it as that uid."""
    preexec = (lambda: (os.setgid(user), os.setuid(user))) if user is not None else None
    return subprocess.run(
        [PYTHON, "-m", "micro_detector", *map(str, args)],
        cwd=cwd or ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=preexec,
    )


def utm() -> osr.SpatialReference:
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32632)
    return srs


def make_raster(
    path, size=96, bands=3, dtype="Byte", nodata=None, layout="none", georef=True, driver="GTiff", options=()
) -> Path:
    """A textured raster. layout: none | all (every pixel nodata) | half (left half nodata) |
    nan (float NaN everywhere but one corner)."""
    path = Path(path)
    ds = gdal.GetDriverByName(driver).Create(str(path), size, size, bands, GDAL_TYPES[dtype], list(options))
    if georef:
        ds.SetGeoTransform((690000.0, 0.5, 0.0, 5335000.0, 0.0, -0.5))
        ds.SetProjection(utm().ExportToWkt())
    rng = np.random.default_rng(size + bands)
    top = {"Byte": 255, "UInt16": 4000, "Int16": 3000, "UInt32": 70000}.get(dtype, 1.0)
    for b in range(bands):
        data = rng.uniform(0, top, (size, size))
        if layout == "all":
            data[:] = nodata
        elif layout == "half":
            data[:, : size // 2] = nodata
        elif layout == "nan":
            data[:] = np.nan
            data[:16, :16] = rng.uniform(0, 1, (16, 16))
        band = ds.GetRasterBand(b + 1)
        band.WriteArray(data)
        if nodata is not None:
            band.SetNoDataValue(nodata)
    ds = None
    return path


def gpkg_with_user_layers(path) -> Path:
    """A GeoPackage as a user keeps it: a raster (tiles), a polygon layer and an attribute table."""
    ds = gdal.GetDriverByName("GPKG").Create(str(path), 64, 64, 3, gdal.GDT_Byte, ["RASTER_TABLE=ortho"])
    ds.SetGeoTransform((690000.0, 0.5, 0.0, 5335000.0, 0.0, -0.5))
    ds.SetProjection(utm().ExportToWkt())
    for b in range(3):
        ds.GetRasterBand(b + 1).WriteArray(np.random.default_rng(b).integers(0, 255, (64, 64)))
    ds = None
    ds = ogr.Open(str(path), 1)
    zones = ds.CreateLayer("zones", utm(), ogr.wkbPolygon)
    zones.CreateField(ogr.FieldDefn("name", ogr.OFTString))
    feature = ogr.Feature(zones.GetLayerDefn())
    feature.SetField("name", "harbour")
    feature.SetGeometry(
        ogr.CreateGeometryFromWkt("POLYGON((690000 5335000,690010 5335000,690010 5334990,690000 5335000))")
    )
    zones.CreateFeature(feature)
    table = ds.CreateLayer("notes", None, ogr.wkbNone)
    table.CreateField(ogr.FieldDefn("text", ogr.OFTString))
    row = ogr.Feature(table.GetLayerDefn())
    row.SetField("text", "keep me")
    table.CreateFeature(row)
    ds = None
    return Path(path)


def table_dump(path, table: str) -> str:
    """A digest of every row of `table`, geometry blobs and tile images included: equal
    digests mean the table is byte-for-byte the same."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        rows = db.execute(f'SELECT * FROM "{table}" ORDER BY 1').fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def user_tables(path) -> dict[str, str]:
    return {t: table_dump(path, t) for t in ("ortho", "zones", "notes")}


def layer_rows(path, layer=None) -> list[tuple]:
    """(geometry WKT, attributes) of every feature, sorted: the content of a vector output."""
    ds = ogr.Open(str(path))
    lyr = ds.GetLayerByName(layer) if layer else ds.GetLayer(0)
    rows = []
    for feature in lyr:
        geom = feature.GetGeometryRef()
        rows.append((geom.ExportToWkt() if geom else None, tuple(sorted(feature.items().items()))))
    return sorted(rows, key=repr)


def layer_names(path) -> list[str]:
    ds = ogr.Open(str(path))
    return sorted(ds.GetLayer(i).GetName() for i in range(ds.GetLayerCount()))


def sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def litter(folder) -> list[str]:
    """Leftovers of an interrupted write: partial folders, .part files, SQLite journals."""
    return sorted(
        str(p.relative_to(folder))
        for p in Path(folder).rglob("*")
        if p.name.endswith((".partial", ".part", "-journal", "-wal"))
    )


def one_line_error(result: subprocess.CompletedProcess) -> str:
    """The error line of a failed run; asserts there is no traceback."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if "error" in line or "interrupted" in line]
    assert lines, result.stderr
    return lines[-1]
