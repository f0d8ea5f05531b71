"""Vector output through OGR: one polygon per object, written atomically under the rule of
outputs.py: a new file is built in a hidden partial folder and renamed into place; our layer
of an existing GeoPackage is written in one transaction, its other layers untouched. A failed
or cancelled run never leaves a file that looks complete, and never loses the user's data."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from osgeo import gdal, ogr, osr

from .diskio import DiskFullError, disk_full, fsync_dir, fsync_file
from .georef import ring_polygon
from .outputs import (
    CONTAINERS,
    OutputError,
    OutputTarget,
    as_target,
    check_output,
    clean_stale_partials,
    partial_dir,
)

ogr.UseExceptions()

FIELDS = [
    ("class_id", ogr.OFTInteger),
    ("class_name", ogr.OFTString),
    ("score", ogr.OFTReal),
    ("source", ogr.OFTString),
    ("tile_row", ogr.OFTInteger),
    ("tile_col", ogr.OFTInteger),
    ("area_m2", ogr.OFTReal),
]
LAYER_OPTIONS = {"CSV": ["GEOMETRY=AS_WKT"]}  # a CSV carries its polygons as a WKT column
SHAPEFILE_SIDES = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".qmd")

__all__ = ["OutputError", "OutputTarget", "check_writable", "driver_for", "write_detections"]


def driver_for(path: Path) -> str:
    """The OGR driver writing `path`, by its extension (checked for create support)."""
    from .outputs import driver_for as _driver_for

    return _driver_for(path)


def check_writable(path, inputs=()) -> OutputTarget:
    """Fail early, before any work, when the output cannot be written (outputs.check_output);
    `path` is a path (replacing allowed) or an OutputTarget."""
    return check_output(path, inputs)


def _fill_layer(ds, target: OutputTarget, driver: str, rings, records, crs_wkt, metadata):
    """Create our layer in `ds` and write the features and the run's metadata into it."""
    srs = None
    if crs_wkt:
        srs = osr.SpatialReference(wkt=crs_wkt)
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    layer = ds.CreateLayer(target.layer, srs, ogr.wkbPolygon, LAYER_OPTIONS.get(driver, []))
    for name, kind in FIELDS:
        layer.CreateField(ogr.FieldDefn(name, kind))
    defn = layer.GetLayerDefn()
    for ring_xy, rec in zip(rings, records):
        feat = ogr.Feature(defn)
        for name, _ in FIELDS:
            value = rec[name]
            if not (isinstance(value, float) and np.isnan(value)):
                feat.SetField(name, value)
        feat.SetGeometry(ring_polygon(ring_xy))
        layer.CreateFeature(feat)
    layer.SetMetadata({k: str(v) for k, v in metadata.items()})
    layer.SyncToDisk()  # deferred GeoPackage work (triggers, metadata) inside the transaction
    return layer


def _write_new_file(target: OutputTarget, driver: str, *content) -> None:
    """Build the file in a partial folder beside it, read it back whole, flush it to the
    disk, then rename it (and side files) in. A full disk is a DiskFullError naming it."""
    path = target.path
    tmpdir = partial_dir(path)
    try:
        built = tmpdir / path.name
        ds = ogr.GetDriverByName(driver).CreateDataSource(str(built))
        transaction = ds.TestCapability(ogr.ODsCTransactions)  # fast bulk insert in SQLite files
        if transaction:
            ds.StartTransaction()
        layer = _fill_layer(ds, target, driver, *content)
        if transaction:
            ds.CommitTransaction()
        errors: list[str] = []
        with _gdal_errors(errors):  # some drivers only write (and fail) when closed
            del layer  # the layer's handle goes first, then the dataset: flushed and closed
            ds = None
        if errors:
            raise RuntimeError(f"writing {path.name} failed: {errors[-1]}")
        _check_whole(built, target, len(content[1]))
        produced = list(tmpdir.iterdir())
        for item in produced:
            fsync_file(item)
        if driver == "ESRI Shapefile":  # stale side files of a replaced shapefile would lie
            keep = {p.suffix.lower() for p in produced}
            for side in SHAPEFILE_SIDES:
                old = path.with_suffix(side)
                if side not in keep and old.exists():
                    old.unlink()
        for item in produced:
            os.replace(item, path.parent / item.name)
        fsync_dir(path.parent)
    except (RuntimeError, OSError) as error:
        if disk_full(error, tmpdir):  # judged before the partial folder frees its space
            raise DiskFullError(path) from None
        raise
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


@contextmanager
def _gdal_errors(errors: list):
    """GDAL's errors collected into `errors` (a dataset being closed): with exceptions on,
    an error in a destructor is printed by Python as "Exception ignored", not raised."""

    def handler(kind, number, message):
        if kind >= gdal.CE_Failure:
            errors.append(message)

    hook = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: errors.append(str(unraisable.exc_value))
    gdal.PushErrorHandler(handler)
    try:
        yield
    finally:
        gdal.PopErrorHandler()
        sys.unraisablehook = hook


def _check_whole(built: Path, target: OutputTarget, expected: int) -> None:
    """Read the built file back: some drivers (GeoJSON) cut a file short on a full disk
    and report nothing. RuntimeError unless it holds our layer with every object."""
    try:
        ds = ogr.Open(str(built))
        layer = ds.GetLayerByName(target.layer) if target.container else ds.GetLayer(0)
        count = layer.GetFeatureCount() if layer is not None else -1
    except RuntimeError as error:
        raise RuntimeError(f"{built.name} was not written whole: {error}") from None
    if count != expected:
        raise RuntimeError(f"{built.name} was not written whole: {expected} objects written, {max(count, 0)} read back")


def _write_into_container(target: OutputTarget, driver: str, *content) -> None:
    """Replace or add our layer of an existing GeoPackage/SpatiaLite in one transaction:
    on any failure (Ctrl-C included) it is rolled back and the file is as it was; a full
    disk is a DiskFullError naming the file."""
    held = [gdal.OpenEx(str(target.path), gdal.OF_VECTOR | gdal.OF_UPDATE)]  # closed by held.clear()
    if held[0] is None:
        raise OutputError(f"{target.path} cannot be opened for update")
    try:
        ds = held[0]
        ds.StartTransaction()
        for i in range(ds.GetLayerCount()):
            if ds.GetLayer(i).GetName().lower() == target.layer.lower():
                ds.DeleteLayer(i)
                break
        _fill_layer(ds, target, driver, *content)
        ds.CommitTransaction()
        ds = None
    except BaseException as error:
        ds = None
        full = isinstance(error, (RuntimeError, OSError)) and disk_full(error, target.path.parent)
        _rollback(held)
        if full:
            raise DiskFullError(target.path) from None
        raise
    held.clear()


def _rollback(held: list) -> None:
    """Roll back our layer's transaction and close the dataset (the only reference to it
    is in `held`). GDAL may retry deferred GeoPackage work on the rolled-back layer and
    report it; the file itself is already back to its old state."""
    with _gdal_errors([]):
        # RuntimeError: nothing was started, or SQLite already rolled back on its error
        with contextlib.suppress(RuntimeError):
            held[0].RollbackTransaction()
        held.clear()


def write_detections(
    path,
    rings: np.ndarray,
    records: list[dict],
    crs_wkt: str | None,
    metadata: dict[str, str],
    layer_name: str | None = None,
) -> Path:
    """Write polygons `rings` (n, 5, 2) with attribute `records` to `path` (a path, or an
    OutputTarget naming the layer and whether replacing is allowed), atomically, under the
    rule of outputs.py. Returns the file's path."""
    target = as_target(path, layer_name)
    if layer_name and layer_name != target.layer:
        target = OutputTarget(target.path, layer_name, target.overwrite, target.fmt)
    check_output(target)
    clean_stale_partials(target.path.absolute().parent)
    driver = target.driver
    content = (rings, records, crs_wkt, metadata)
    if driver in CONTAINERS and target.path.exists():
        _write_into_container(target, driver, *content)
    else:
        _write_new_file(target, driver, *content)
    return target.path
