"""The images and objects of one source, read from its snapshot through the label importers.

`select_files` lists a source's image files (manifest `select` globs; one copy per original
of a Roboflow export when `dedupe` is set). `labelled_images` yields each image's decoded
pixels with its objects, per `format`; `xyz_mosaic` joins XYZ map tiles (OpenAerialMap) with
polygon labels (GeoJSON, lon/lat) into one truly georeferenced image.
"""

from __future__ import annotations

import fnmatch
import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import numpy as np

from ..importers import SourceObject, parse_coco, parse_dota, parse_names, parse_voc, parse_yolo
from .manifest import SourceManifest

EARTH_R = 6378137.0
TILE_NAME = re.compile(r"(\d+)-(\d+)-(\d+)\.\w+$")


@dataclass
class Labelled:
    """One output image before placement: pixels (PIL RGB), objects, the original files and
    their SHA-256, and true georeferencing when the source has it."""

    name: str
    image: object
    objects: list[SourceObject]
    origins: list[str]
    sha256: list[str]
    crs: str | None = None
    geotransform: tuple | None = None
    gsd: float | None = None
    valid: np.ndarray | None = field(default=None, repr=False)  # False where no source pixel (mosaic holes)


def select_files(manifest: SourceManifest, files: dict) -> list[str]:
    """The image paths of a snapshot's file listing that the manifest selects, sorted."""
    include, exclude = manifest.select.get("include", []), manifest.select.get("exclude", [])
    paths = sorted(
        p
        for p in files
        if any(fnmatch.fnmatch(p, g) for g in include) and not any(fnmatch.fnmatch(p, g) for g in exclude)
    )
    if manifest.select.get("dedupe") == "roboflow":
        seen, kept = set(), []
        for p in paths:  # Roboflow names copies `<original>_<ext>.rf.<hash>.<ext>`
            stem = re.sub(r"_(jpe?g|png|bmp|tiff?)\.rf\.[0-9a-f]+\.\w+$", "", PurePosixPath(p).name)
            if stem not in seen:
                seen.add(stem)
                kept.append(p)
        paths = kept
    return paths


def label_reader(manifest: SourceManifest, read):
    """A function image path -> (objects given the image size) for the manifest's format;
    `read(path) -> bytes` reads the snapshot."""
    cfg, fmt = manifest.labels, manifest.format
    if fmt == "yolo":
        if "names" in cfg:
            names = list(cfg["names"])
        elif "data_yaml" in cfg:
            names = parse_names(read(cfg["data_yaml"]).decode(), cfg["data_yaml"])
        else:
            names = [n.strip() for n in read(cfg["names_file"]).decode().split("\n") if n.strip()]

        def yolo(path, w, h):
            txt = _yolo_label_path(path, cfg.get("rule", "images->labels"))
            return parse_yolo(_read_or_empty(read, txt), w, h, names, f"{manifest.repository}:{txt}")

        return yolo
    if fmt == "coco":
        by_file = {}
        for jp in cfg["json"]:
            for rec in parse_coco(json.loads(read(jp)), f"{manifest.repository}:{jp}").values():
                by_file[str(PurePosixPath(jp).parent / rec.file_name)] = rec
        return lambda path, w, h: by_file[path].objects if path in by_file else []
    if fmt == "dota":

        def dota(path, w, h):
            txt = f"{cfg['labels_dir']}/{PurePosixPath(path).stem}.txt"
            return parse_dota(_read_or_empty(read, txt), f"{manifest.repository}:{txt}").objects

        return dota
    if fmt == "voc":

        def voc(path, w, h):
            xml = f"{cfg['xml_dir']}/{PurePosixPath(path).stem}.xml"
            return parse_voc(read(xml), f"{manifest.repository}:{xml}", cfg.get("one_based", True)).objects

        return voc
    raise ValueError(f"{manifest.source}: no per-image reader for format {fmt}")


def _yolo_label_path(path: str, rule: str) -> str:
    p = PurePosixPath(path)
    if rule == "same-stem":
        return str(p.with_suffix(".txt"))
    if rule == "append-txt":  # `x.tif.txt` beside `x.tif`
        return f"{path}.txt"
    parts = list(p.parts)
    idx = max(i for i, part in enumerate(parts) if part == "images")
    parts[idx] = "labels"
    return str(PurePosixPath(*parts).with_suffix(".txt"))


def _read_or_empty(read, path: str) -> str:
    try:
        return read(path).decode("utf-8")
    except Exception:  # a missing label file means no objects (YOLO, DOTA conventions)
        return ""


def source_georef(data: bytes) -> tuple[str | None, tuple | None]:
    """(CRS as WKT, geotransform) of a georeferenced image file's bytes, (None, None) if it has none."""
    from osgeo import gdal

    name = f"/vsimem/georef_{id(data)}"
    gdal.FileFromMemBuffer(name, data)
    try:
        ds = gdal.Open(name)
        gt, wkt = ds.GetGeoTransform(can_return_null=True), ds.GetProjection()
    finally:
        gdal.Unlink(name)
    return (wkt, tuple(gt)) if gt and wkt else (None, None)


def tile_xyz(path: str) -> tuple[int, int, int]:
    """(x, y, z) of a tile file named `...-<x>-<y>-<z>.<ext>`."""
    match = TILE_NAME.search(PurePosixPath(path).name)
    if not match:
        raise ValueError(f"{path}: not a tile name ending in -<x>-<y>-<z>")
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


def xyz_mosaic(manifest: SourceManifest, tiles: dict, digests: dict[str, str], read) -> Labelled:
    """One image of XYZ tiles (path -> PIL image; EPSG:3857, holes left black and marked
    invalid), with the GeoJSON polygons of `labels.geojson` as objects (class `labels.class`)."""
    xyz = {p: tile_xyz(p) for p in tiles}
    zooms = {z for _, _, z in xyz.values()}
    if len(zooms) != 1:
        raise ValueError(f"{manifest.source}: tiles of several zoom levels {sorted(zooms)}")
    z = zooms.pop()
    first = tiles[min(tiles)]
    size = first.size[0]
    xs, ys = [v[0] for v in xyz.values()], [v[1] for v in xyz.values()]
    x0, y0 = min(xs), min(ys)
    canvas = np.zeros(((max(ys) - y0 + 1) * size, (max(xs) - x0 + 1) * size, 3), np.uint8)
    valid = np.zeros(canvas.shape[:2], bool)
    for path in sorted(tiles):
        tx, ty, _ = xyz[path]
        r, c = (ty - y0) * size, (tx - x0) * size
        canvas[r : r + size, c : c + size] = np.asarray(tiles[path].resize((size, size)))
        valid[r : r + size, c : c + size] = True
    span = 2 * math.pi * EARTH_R / 2**z
    res = span / size
    gt = (-math.pi * EARTH_R + x0 * span, res, 0.0, math.pi * EARTH_R - y0 * span, 0.0, -res)
    objects = _geojson_objects(
        json.loads(read(manifest.labels["geojson"])), gt, manifest.labels.get("class", "building")
    )
    lat = math.degrees(math.atan(math.sinh(math.pi - 2 * math.pi * (y0 + canvas.shape[0] / size / 2) / 2**z)))
    from PIL import Image

    return Labelled(
        f"z{z}-{x0}-{y0}",
        Image.fromarray(canvas),
        objects,
        sorted(tiles),
        [digests[p] for p in sorted(tiles)],
        "EPSG:3857",
        gt,
        res * math.cos(math.radians(lat)),
        valid,
    )


def _geojson_objects(collection: dict, gt: tuple, name: str) -> list[SourceObject]:
    """Objects of the polygons of a lon/lat FeatureCollection, in the pixels of `gt` (EPSG:3857)."""
    out = []
    for i, feature in enumerate(collection.get("features", [])):
        geom = feature.get("geometry") or {}
        rings = geom.get("coordinates") or []
        polys = rings if geom.get("type") == "MultiPolygon" else [rings]
        for poly in polys:
            lonlat = np.asarray(poly[0], np.float64)[:, :2]
            mx = np.radians(lonlat[:, 0]) * EARTH_R
            my = np.log(np.tan(math.pi / 4 + np.radians(lonlat[:, 1]) / 2)) * EARTH_R
            px = np.stack([(mx - gt[0]) / gt[1], (my - gt[3]) / gt[5]], axis=1)
            out.append(SourceObject.from_points(name, px, f"features[{i}]"))
    return out


def estimate_gsd(manifest: SourceManifest, objects: list[SourceObject]) -> float | None:
    """Metres per pixel of one image: the manifest's stated value, or `reference size / median
    long box side` of the first reference class present (`gsd.estimate_from`, in order),
    kept within `gsd.clamp_m` (min, max) when given."""
    cfg = manifest.gsd
    if cfg.get("m"):
        return float(cfg["m"])
    sides = defaultdict(list)
    for obj in objects:
        sides[obj.name.lower()].append(max(obj.box[2] - obj.box[0], obj.box[3] - obj.box[1]))
    for name, metres in cfg.get("estimate_from", {}).items():
        if sides.get(name.lower()):
            gsd = float(metres) / float(np.median(sides[name.lower()]))
            low, high = cfg.get("clamp_m", (0.0, math.inf))
            return min(max(gsd, low), high)
    return cfg.get("fallback_m")
