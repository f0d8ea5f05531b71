"""Labels: boxes per raster, from xView GeoJSON or from any vector layer of boxes/points.

Boxes are float pixel-edge `xmin, ymin, xmax, ymax`. An image is a negative only for the classes
annotated in it (a source that labels only aircraft says nothing about its vehicles).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import georef
from .. import raster as raster_io
from ..remote import dataset_name, display_name, remote_stem
from .xview_classes import ClassMap  # also imported from here by older code


class LabelError(ValueError):
    """Labels cannot be read or do not fit the rasters: names the file and the problem."""


@dataclass
class LabeledImage:
    path: str
    width: int
    height: int
    boxes: np.ndarray  # (n, 4) float32, pixel-edge xyxy
    classes: np.ndarray  # (n,) int64
    annotated: np.ndarray  # (nc,) bool: the classes labelled in this image
    source: str = ""
    gsd: float | None = None  # metres per pixel

    @property
    def name(self) -> str:
        """The image's file name (a URL's last path element, without secrets)."""
        return display_name(self.path)


@dataclass
class LabelSet:
    class_names: list[str]
    images: list[LabeledImage]
    report: dict = field(default_factory=dict)  # features counted per outcome

    def instances(self) -> dict[str, int]:
        """Labelled objects per class name."""
        counts = Counter(int(c) for im in self.images for c in im.classes)
        return {name: counts.get(k, 0) for k, name in enumerate(self.class_names)}

    def subset(self, names: set[str]) -> LabelSet:
        """The images whose names are given, with the same classes and report."""
        return LabelSet(self.class_names, [im for im in self.images if im.name in names], self.report)


def _annotations_by_image(path: Path | None, names: list[str]) -> dict[str, np.ndarray]:
    """Per image id, the annotated classes, from an `images.json` (list of image records with
    `annotated_groups`) or a classes file with `annotated_groups_by_source`."""
    if path is None or not path.is_file():
        return {}
    data = json.loads(path.read_text())
    out = {}
    if isinstance(data, list):
        for rec in data:
            groups = rec.get("annotated_groups")
            if groups is not None:
                out[rec["image_id"]] = np.array([n in groups for n in names], bool)
    elif "annotated_groups_by_source" in data:
        for source, groups in data["annotated_groups_by_source"].items():
            out[f"source:{source}"] = np.array([n in groups for n in names], bool)
    return out


def _image_size_and_gsd(path: Path) -> tuple[int, int, float | None]:
    info = raster_io.read_info(path)
    return info.width, info.height, info.pixel_size_m


def load_xview(
    geojson: str | Path, images_dir: str | Path, class_map: ClassMap, annotations: str | Path | None = None, log=None
) -> LabelSet:
    """xView labels: one FeatureCollection with `bounds_imcoords`, `type_id`, `image_id`.

    Every feature ends in the report under one outcome: `used`, `clipped` (used after
    clipping to the image), `unknown_type_id`, `zero_area`, `out_of_image`, `missing_image`,
    `bad_bounds`. `annotations` (default: `images.json` beside the GeoJSON) gives the
    classes annotated per image; without it every class counts as annotated everywhere.
    """
    geojson, images_dir = Path(geojson), Path(images_dir)
    log = log or (lambda message: None)
    features = _read_feature_collection(geojson)
    if annotations is None and (geojson.parent / "images.json").is_file():
        annotations = geojson.parent / "images.json"
    annotated = _annotations_by_image(Path(annotations) if annotations else None, class_map.names)
    sizes: dict[str, tuple | None] = {}  # image id -> (width, height, gsd), None when missing
    per_image, report, unknown_ids = _xview_boxes(features, images_dir, class_map, sizes)
    images = _xview_images(per_image, annotated, images_dir, sizes, len(class_map.names))
    if not images:
        raise LabelError(f"{geojson}: no usable labelled image: {dict(report)} (images looked up in {images_dir})")
    return LabelSet(list(class_map.names), images, _xview_report(report, unknown_ids, log))


def _read_feature_collection(geojson: Path) -> list:
    """The features of an xView GeoJSON file; LabelError when it cannot be read or is not one."""
    try:
        collection = json.loads(geojson.read_text())
    except (OSError, ValueError) as error:
        raise LabelError(f"cannot read xView labels {geojson}: {error}") from None
    features = collection.get("features") if isinstance(collection, dict) else None
    if not isinstance(features, list):
        raise LabelError(f"{geojson} is not a GeoJSON FeatureCollection")
    return features


def _image_entry(sizes: dict, images_dir: Path, image_id) -> tuple | None:
    """(width, height, gsd) of image `image_id` in `images_dir`, read once (None when missing)."""
    if image_id not in sizes:
        path = images_dir / str(image_id)
        sizes[image_id] = _image_size_and_gsd(path) if path.is_file() else None
    return sizes[image_id]


def _xview_boxes(features: list, images_dir: Path, class_map: ClassMap, sizes: dict):
    """Boxes clipped to their image, grouped per image id, and the outcome of every feature:
    (per_image {id: [(x0, y0, x1, y1, class)]}, report Counter, unknown type ids Counter)."""
    report: Counter = Counter()
    unknown_ids: Counter = Counter()
    per_image: dict[str, list] = {}
    for feature in features:
        try:  # features, properties and values of the wrong kind are bad bounds too (fuzzing)
            props = feature["properties"]
            image_id = props.get("image_id")
            x0, y0, x1, y1 = (float(v) for v in str(props["bounds_imcoords"]).split(","))
            type_id = int(props["type_id"])
            if not isinstance(image_id, (str, int)) or not np.isfinite([x0, y0, x1, y1]).all():
                raise ValueError("not an image id, or bounds not finite")
        except (KeyError, ValueError, TypeError, OverflowError, AttributeError):
            report["bad_bounds"] += 1
            continue
        if type_id not in class_map.type_to_class:
            report["unknown_type_id"] += 1
            unknown_ids[type_id] += 1
            continue
        entry = _image_entry(sizes, images_dir, image_id)
        if entry is None:
            report["missing_image"] += 1
            continue
        w, h, _ = entry
        if x1 <= x0 or y1 <= y0:
            report["zero_area"] += 1
            continue
        cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        if cx1 <= cx0 or cy1 <= cy0:
            report["out_of_image"] += 1
            continue
        report["clipped" if (cx0, cy0, cx1, cy1) != (x0, y0, x1, y1) else "used"] += 1
        per_image.setdefault(image_id, []).append((cx0, cy0, cx1, cy1, class_map.type_to_class[type_id]))
    return per_image, report, unknown_ids


def _xview_images(per_image: dict, annotated: dict, images_dir: Path, sizes: dict, nc: int) -> list:
    """One LabeledImage per image with boxes or with annotation facts (an annotated image
    without boxes is a negative), with its annotated-classes mask, source and GSD."""
    images = []
    for image_id in sorted(per_image.keys() | {i for i in annotated if not i.startswith("source:")}):
        entry = _image_entry(sizes, images_dir, image_id)
        if entry is None:
            continue
        w, h, gsd = entry
        rows = np.array(per_image.get(image_id, []), np.float64).reshape(-1, 5)
        source = image_id.split("_")[0]
        mask = annotated.get(image_id, annotated.get(f"source:{source}", np.ones(nc, bool)))
        images.append(
            LabeledImage(
                str(images_dir / image_id),
                w,
                h,
                rows[:, :4].astype(np.float32),
                rows[:, 4].astype(np.int64),
                mask,
                source,
                gsd,
            )
        )
    return images


def _xview_report(report: Counter, unknown_ids: Counter, log) -> dict:
    """The load report (outcome counts, unknown type ids); the skipped features are logged."""
    result = dict(report)
    if unknown_ids:
        result["unknown_type_ids"] = dict(sorted(unknown_ids.items()))
    skipped = {k: v for k, v in report.items() if k not in ("used", "clipped")}
    if skipped:
        log(f"labels: skipped features {skipped}" + (f"; unknown type ids {dict(unknown_ids)}" if unknown_ids else ""))
    return result


def load_vector(
    vector: str | Path,
    rasters: list[str | Path],
    class_field: str,
    class_names: list[str] | None = None,
    layer: str | None = None,
    point_size_m: float = 4.0,
    log=None,
) -> LabelSet:
    """Boxes from any OGR vector layer over one or more georeferenced rasters.

    Polygons give their bounding box in each raster's pixel grid (every vertex is
    reprojected, so rotated rasters and other CRSs work); points give a square of
    `point_size_m` metres. Features outside a raster are not in it; features with an empty
    or unknown class are counted in the report.
    """
    from osgeo import ogr

    ogr.UseExceptions()
    log = log or (lambda message: None)
    ds, lyr, src_srs = _open_label_layer(vector, layer, class_field)  # ds keeps lyr alive
    features = _read_label_features(lyr, class_field)
    if class_names is None:
        class_names = sorted({v for v, _ in features if v})
    if not class_names:
        raise LabelError(f"{vector}: no class values in field {class_field!r}")
    report: Counter = Counter()
    placed = [False] * len(features)
    images = [
        _raster_labels(raster_path, features, src_srs, class_names, point_size_m, placed, report)
        for raster_path in rasters
    ]
    outside = sum(1 for p, (_, g) in zip(placed, features) if not p and g is not None)
    if outside:
        report["outside_rasters"] = outside
    if not report.get("used"):
        raise LabelError(f"no label of {vector} falls on the given rasters ({dict(report)})")
    log(f"labels: {dict(report)}")
    return LabelSet(list(class_names), images, dict(report))


def _open_label_layer(vector, layer: str | None, class_field: str):
    """(dataset, layer, its CRS) of a label layer; LabelError when it cannot be opened, lacks
    the layer or the class field, or has no CRS."""
    from osgeo import ogr, osr

    try:
        ds = ogr.Open(str(vector))
    except RuntimeError as error:
        raise LabelError(f"cannot open the label layer {vector}: {error}") from None
    if ds is None:
        raise LabelError(f"cannot open the label layer {vector}")
    lyr = ds.GetLayerByName(layer) if layer else ds.GetLayer(0)
    if lyr is None:
        raise LabelError(f"{vector} has no layer {layer!r}")
    defn = lyr.GetLayerDefn()
    fields = [defn.GetFieldDefn(i).GetName() for i in range(defn.GetFieldCount())]
    if class_field not in fields:
        raise LabelError(f"{vector} has no field {class_field!r} (fields: {', '.join(fields)})")
    src_srs = lyr.GetSpatialRef()
    if src_srs is None:
        raise LabelError(f"{vector} has no CRS; boxes cannot be placed on the rasters")
    src_srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return ds, lyr, src_srs


def _read_label_features(lyr, class_field: str) -> list[tuple]:
    """[(class value stripped or None, geometry copy or None)] of every feature of `lyr`."""
    features = []
    for feat in lyr:
        geom = feat.GetGeometryRef()
        value = feat.GetField(class_field)
        features.append((None if value is None else str(value).strip(), geom.Clone() if geom else None))
    return features


def _raster_labels(
    raster_path, features: list, src_srs, class_names: list[str], point_size_m: float, placed: list, report: Counter
) -> LabeledImage:
    """The LabeledImage of one raster: the boxes of the features on it, in its pixels.
    Marks the features found on it in `placed` and counts used / empty / unknown classes
    in `report`; LabelError when the raster is not georeferenced."""
    from osgeo import osr

    info = raster_io.read_info(raster_path)
    if not info.georeferenced:
        raise LabelError(f"{info.label} is not georeferenced: vector labels cannot be placed on it")
    dst = osr.SpatialReference(wkt=info.crs_wkt)
    dst.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    transform = osr.CoordinateTransformation(src_srs, dst)
    gt = info.geotransform
    try:
        georef.map_to_pixel(gt, 0.0, 0.0)
    except ValueError:
        raise LabelError(f"{info.label} has a singular geotransform") from None
    index = {n: k for k, n in enumerate(class_names)}
    rows = []
    half = point_size_m / 2 / (info.metres_per_unit or 1.0)
    for i, (name, geom) in enumerate(features):
        box = _pixel_box(geom, transform, gt, half, info.width, info.height)
        if box is None:
            continue  # not on this raster
        placed[i] = True
        if not name:
            report["empty_class"] += 1
            continue
        if name not in index:
            report["unknown_class"] += 1
            continue
        report["used"] += 1
        rows.append((*box, index[name]))
    arr = np.array(rows, np.float64).reshape(-1, 5)
    return LabeledImage(
        dataset_name(raster_path),
        info.width,
        info.height,
        arr[:, :4].astype(np.float32),
        arr[:, 4].astype(np.int64),
        np.ones(len(class_names), bool),
        remote_stem(raster_path),
        info.pixel_size_m,
    )


def _pixel_box(geom, transform, gt, half: float, width: int, height: int):
    """(x0, y0, x1, y1) of a geometry in a raster's pixels, clipped to it: a polygon's
    reprojected vertices, a point's square of half-side `half` map units; None when empty
    or off the raster."""
    from osgeo import ogr

    if geom is None or geom.IsEmpty():
        return None
    g = geom.Clone()
    g.Transform(transform)
    if g.GetGeometryType() in (ogr.wkbPoint, ogr.wkbPoint25D, ogr.wkbPointM, ogr.wkbPointZM):
        x, y = g.GetX(), g.GetY()
        xs, ys = np.array([x - half, x + half, x + half, x - half]), np.array([y - half, y - half, y + half, y + half])
    else:
        pts = np.array(_vertices(g), float).reshape(-1, 2)
        if not len(pts):
            return None
        xs, ys = pts[:, 0], pts[:, 1]
    cols, rws = georef.map_to_pixel(gt, xs, ys)
    x0, x1 = max(cols.min(), 0), min(cols.max(), width)
    y0, y1 = max(rws.min(), 0), min(rws.max(), height)
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1


def _vertices(geom) -> list[tuple[float, float]]:
    count = geom.GetGeometryCount()
    if count:
        out = []
        for i in range(count):
            out.extend(_vertices(geom.GetGeometryRef(i)))
        return out
    return [(geom.GetX(i), geom.GetY(i)) for i in range(geom.GetPointCount())]


def split_by_image(
    labels: LabelSet, val_fraction: float = 0.15, val_names: list[str] | None = None
) -> tuple[LabelSet, LabelSet]:
    """Deterministic train/val split by image: the given names, or per source the last
    `val_fraction` of its images in name order (at least one for sources of 3+ images;
    sources of fewer images are pooled and split as one).

    A contiguous tail block keeps near-duplicate neighbouring frames of an image sequence
    mostly on one side of the split.
    """
    if val_names is not None:
        val = set(val_names)
        unknown = val - {im.name for im in labels.images}
        if unknown:
            raise LabelError(f"validation images not among the labelled images: {sorted(unknown)[:5]}")
    else:
        if not 0 <= val_fraction < 1:
            raise LabelError(f"val fraction must be in [0, 1), got {val_fraction}")
        by_source: dict[str, list[str]] = {}
        for im in labels.images:
            by_source.setdefault(im.source, []).append(im.name)
        # sources of one or two images cannot give a share each: they are split as one group
        small = [n for names in by_source.values() if len(names) < 3 for n in names]
        by_source = {k: v for k, v in by_source.items() if len(v) >= 3}
        if small:
            by_source["\0small"] = small
        val = set()
        for names in by_source.values():
            names = sorted(names)
            n = round(len(names) * val_fraction)
            if val_fraction > 0 and n == 0 and len(names) >= 3:
                n = 1
            val.update(names[len(names) - n :] if n else [])
    train = {im.name for im in labels.images} - val
    return labels.subset(train), labels.subset(val)
