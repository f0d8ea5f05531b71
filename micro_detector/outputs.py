"""Where detections may be written: one output-safety rule for the CLI, the batch and QGIS.

The rule, checked by `check_output` before any raster is read:
1. The format is known and its OGR driver can create files.
2. The output is not an input, nor a file that holds one (a GeoPackage raster, a mask layer).
3. The output is not a folder; its folder exists and is writable.
4. A container that exists (GeoPackage, SpatiaLite) gains or replaces only our layer
   (`layer`, default "detections"); its other layers and tables are never touched, and a
   table of another kind (raster tiles, attributes) with our layer's name is never replaced.
5. Replacing an existing output (a file, or our layer in a container) needs `overwrite`.
   The CLI asks for --overwrite; QGIS's file widget has already asked, so it passes True.
6. Writes are atomic (writer.py): a new file is made in a hidden `.NAME.HOST-PID.X.partial`
   folder beside it and renamed into place; a layer of an existing container is written in
   one transaction. A run killed half-way leaves a partial folder, which the next run in
   that folder removes (`clean_stale_partials`), and never a file that looks complete.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .remote import is_remote

FORMATS = {
    ".gpkg": "GPKG",
    ".shp": "ESRI Shapefile",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".fgb": "FlatGeobuf",
    ".sqlite": "SQLite",
    ".gml": "GML",
    ".kml": "KML",
    ".csv": "CSV",
}
CONTAINERS = {"GPKG", "SQLite"}  # formats holding several layers: we only touch ours
DEFAULT_LAYER = "detections"
_PARTIAL = re.compile(r"^\.(?P<stem>.+)\.(?P<host>[A-Za-z0-9_-]+)-(?P<pid>\d+)\.[^.]+\.partial$")
_LEGACY_PARTIAL_AGE_S = 600  # partial folders of older versions carry no PID: judged by age


class OutputError(ValueError):
    """The output cannot be written where or how it was asked."""


class OutputExists(OutputError):
    """The output (a file, or our layer in a container) exists and overwrite was not asked."""


@dataclass(frozen=True)
class OutputTarget:
    """A vector output: the file, our layer's name in it, and whether replacing is allowed.
    Behaves as a path (os.fspath), so code that only needs the file name can take it as one."""

    path: Path
    layer: str = DEFAULT_LAYER
    overwrite: bool = False
    fmt: str | None = field(default=None, compare=False)  # extension or driver name; default: path's

    def __post_init__(self):
        object.__setattr__(self, "path", Path(self.path))
        if not self.layer or not str(self.layer).strip():
            raise OutputError("the output layer name is empty")

    def __fspath__(self) -> str:
        return str(self.path)

    def __str__(self) -> str:
        return str(self.path)

    @property
    def driver(self) -> str:
        """The OGR driver name (checked to exist and create files)."""
        return driver_for(self.path, self.fmt)

    @property
    def container(self) -> bool:
        """Whether the format holds several layers (ours is added or replaced alone)."""
        return self.driver in CONTAINERS


def as_target(output, layer: str | None = None, overwrite: bool = True) -> OutputTarget:
    """`output` as an OutputTarget. A plain path keeps the library's (and QGIS's) convention:
    replacing is allowed, since whoever passed the path chose it."""
    if isinstance(output, OutputTarget):
        return output
    return OutputTarget(Path(output), layer or DEFAULT_LAYER, overwrite)


def driver_for(path: str | Path, fmt: str | None = None) -> str:
    """The OGR driver for `fmt` (extension or driver name) or for the path's extension,
    checked to exist and to support creating files."""
    from osgeo import gdal, ogr

    key = fmt if fmt is not None else Path(path).suffix
    name = FORMATS.get(f".{key.lower().lstrip('.')}") if key else None
    if name is None and key in FORMATS.values():
        name = key
    if name is None:
        raise OutputError(
            f"unknown vector format {key or '(no extension)'!r} for {Path(path).name}: "
            f"use one of {', '.join(sorted(FORMATS))}"
        )
    driver = ogr.GetDriverByName(name)
    if driver is None or driver.GetMetadataItem(gdal.DCAP_CREATE) != "YES":
        raise OutputError(f"this GDAL cannot create {name} files ({key}); use .gpkg")
    return name


def check_format(fmt: str) -> str:
    """A detect-folder format (`gpkg`, `.shp`, `GPKG`...) as an extension without the dot."""
    name = driver_for(Path("x"), fmt)
    ext = f".{fmt.lower().lstrip('.')}"
    return ext[1:] if ext in FORMATS else next(e for e, d in FORMATS.items() if d == name)[1:]


def source_files(source: str | Path | None) -> list[Path]:
    """The files behind a GDAL/OGR source string: `GPKG:f.gpkg:table`, `f.gpkg|layername=x`,
    `/vsizip/a.zip/b.tif` and plain paths."""
    if source is None or is_remote(source):
        return []
    text = str(source).split("|")[0]
    if text.upper().startswith("GPKG:"):
        text = text[5:].rsplit(":", 1)[0] if text.count(":") > 1 else text[5:]
    stripped = re.sub(r"^(/vsi[a-z0-9_]+/)+", "", text)
    path = Path(stripped)
    if stripped != text:  # /vsizip//data/a.zip/b.tif -> the archive /data/a.zip
        while not path.exists() and path != path.parent:
            path = path.parent
    return [path] if path.is_file() else []


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def layer_kind(path: Path, layer: str) -> str | None:
    """What `layer` is in the existing container `path`: "features", "attributes", "tiles",
    another GeoPackage data type, or None when absent. A file that is no container raises."""
    from osgeo import gdal

    try:
        ds = gdal.OpenEx(str(path), gdal.OF_VECTOR | gdal.OF_RASTER)  # read-only: a check changes nothing
    except RuntimeError as error:
        raise OutputError(
            f"{path} exists but cannot be opened as a {FORMATS.get(path.suffix.lower(), 'vector')} file: {error}"
        ) from None
    if ds is None:
        raise OutputError(f"{path} exists but is not a readable {path.suffix} file: not replaced")
    if ds.GetDriver().ShortName == "GPKG":
        sql = ds.ExecuteSQL(
            f"SELECT data_type FROM gpkg_contents WHERE lower(table_name) = "
            f"lower('{layer.replace(chr(39), chr(39) * 2)}')"
        )
        row = sql.GetNextFeature() if sql is not None else None
        kind = row.GetField(0) if row is not None else None
        ds.ReleaseResultSet(sql)
        return kind
    names = {ds.GetLayer(i).GetName().lower() for i in range(ds.GetLayerCount())}
    return "features" if layer.lower() in names else None


def check_output(target, inputs=()) -> OutputTarget:
    """Apply the rule above to `target` (an OutputTarget or a path) before any work; `inputs`
    are the source strings read by the run (raster, mask). Returns the target; raises
    OutputError (OutputExists when only --overwrite is missing)."""
    target = as_target(target)
    try:
        return _check(target, inputs)
    except PermissionError as error:  # a folder on the way that this user may not enter
        raise OutputError(f"the output {target.path} cannot be reached: permission denied ({error.filename})") from None


def _check(target: OutputTarget, inputs) -> OutputTarget:
    path = target.path
    if path.is_dir():
        raise OutputError(f"the output {path} is a folder: give a file name (e.g. {path / 'detections.gpkg'})")
    for source in inputs:  # first: "is the input" names the problem better than its format
        for held in source_files(source):
            if path.exists() and _same_file(path, held):
                raise OutputError(f"the output {path} is an input of this run ({source}): choose another output file")
    driver = target.driver
    parent = path.absolute().parent
    if not parent.is_dir():
        raise OutputError(f"output folder does not exist: {parent}")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"output folder is not writable: {parent}")
    if not path.exists():
        return target
    if not os.access(path, os.W_OK):
        raise OutputError(f"output file exists and is not writable: {path}")
    if driver in CONTAINERS:
        kind = layer_kind(path, target.layer)
        if kind not in (None, "features"):
            raise OutputError(
                f"{path} holds a {kind} table named {target.layer!r}: it is not replaced; choose another layer name"
            )
        if kind is not None and not target.overwrite:
            raise OutputExists(
                f"{path} already has a layer {target.layer!r}: add --overwrite to "
                "replace that layer (the file's other layers are kept), or choose "
                "another --layer"
            )
    elif not target.overwrite:
        raise OutputExists(f"output file exists: {path}: add --overwrite to replace it")
    return target


def is_done(target: OutputTarget) -> bool:
    """Whether `target` holds a finished output (resume): the file exists, and for a
    container it has our layer. Outputs are written atomically, so existing means complete."""
    if not target.path.is_file():
        return False
    if target.driver not in CONTAINERS:
        return True
    try:
        return layer_kind(target.path, target.layer) == "features"
    except OutputError:
        return False


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname().split(".")[0]) or "host"


def partial_dir(path: Path) -> Path:
    """A new hidden folder beside `path` to build it in, named with this host and PID so
    that a later run can tell a dead run's folder from a live one's."""
    parent = path.absolute().parent
    return Path(tempfile.mkdtemp(prefix=f".{path.stem}.{_host()}-{os.getpid()}.", suffix=".partial", dir=parent))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def clean_stale_partials(folder: str | Path) -> list[Path]:
    """Remove the partial folders left in `folder` by runs that died (killed, crashed);
    those of live runs on this host, and of other hosts, are left alone. Returns the removed."""
    removed: list[Path] = []
    try:
        entries = list(Path(folder).glob(".*.partial"))
    except OSError:
        return removed
    for entry in entries:
        match = _PARTIAL.match(entry.name)
        if match:
            stale = match["host"] == _host() and not _pid_alive(int(match["pid"]))
        else:
            try:
                stale = time.time() - entry.stat().st_mtime > _LEGACY_PARTIAL_AGE_S
            except OSError:
                continue
        if stale and entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed
