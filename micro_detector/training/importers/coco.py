"""COCO json labels: `images` (id, file_name, width, height), `categories` (id, name) and
`annotations` (image_id, category_id, `bbox` [x, y, w, h] in pixel-edge coordinates, optional
`segmentation` polygons [[x1, y1, x2, y2, ...], ...]). The box is `bbox`, or the polygons'
bounds when `bbox` is missing; polygons are kept as vertices.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..labels import LabelSet
from .class_map import ClassMapping
from .errors import LabelFormatError
from .objects import SourceObject, summarise, to_labeled_image


@dataclass
class CocoImage:
    """One image record of a COCO file and its objects."""

    file_name: str
    width: int
    height: int
    objects: list[SourceObject] = field(default_factory=list)


def parse_coco(data: dict, path: str | Path = "annotations.json") -> dict[int, CocoImage]:
    """Image id -> CocoImage of a loaded COCO json; LabelFormatError naming the JSON path
    (e.g. `annotations[12].bbox`) of a missing or malformed field, an unknown image or
    category id."""
    if not isinstance(data, dict):
        raise LabelFormatError(path, "not a COCO object", json_path="$")
    categories = {}
    for i, cat in enumerate(_list(data, "categories", path)):
        categories[_field(cat, "id", int, path, f"categories[{i}]")] = str(
            _field(cat, "name", str, path, f"categories[{i}]")
        )
    images = {}
    for i, im in enumerate(_list(data, "images", path)):
        where = f"images[{i}]"
        images[_field(im, "id", int, path, where)] = CocoImage(
            str(_field(im, "file_name", str, path, where)),
            _field(im, "width", int, path, where),
            _field(im, "height", int, path, where),
        )
    for i, ann in enumerate(_list(data, "annotations", path)):
        where = f"annotations[{i}]"
        image_id = _field(ann, "image_id", int, path, where)
        cat_id = _field(ann, "category_id", int, path, where)
        if image_id not in images:
            raise LabelFormatError(path, f"unknown image_id {image_id}", json_path=f"{where}.image_id")
        if cat_id not in categories:
            raise LabelFormatError(path, f"unknown category_id {cat_id}", json_path=f"{where}.category_id")
        images[image_id].objects.append(_object(ann, categories[cat_id], path, where))
    return images


def _list(data: dict, key: str, path) -> list:
    value = data.get(key)
    if not isinstance(value, list):
        raise LabelFormatError(path, f"`{key}` must be a list", json_path=key)
    return value


def _field(obj, key: str, kind, path, where: str):
    """obj[key] as `kind` (int or str), else LabelFormatError at `where.key`."""
    value = obj.get(key) if isinstance(obj, dict) else None
    ok = isinstance(value, str) if kind is str else isinstance(value, (int, float)) and float(value) == int(value)
    if value is None or isinstance(value, bool) or not ok:
        raise LabelFormatError(path, f"missing or not {kind.__name__}: {value!r}", json_path=f"{where}.{key}")
    return kind(value)


def _object(ann: dict, name: str, path, where: str) -> SourceObject:
    """The object of one annotation: its bbox, and its polygons' vertices when given."""
    polygons = ann.get("segmentation")
    points = None
    if isinstance(polygons, list) and polygons:
        try:
            points = np.concatenate([np.asarray(p, np.float64).reshape(-1, 2) for p in polygons])
        except (TypeError, ValueError):
            raise LabelFormatError(
                path, "segmentation polygons must be flat x, y lists", json_path=f"{where}.segmentation"
            ) from None
    bbox = ann.get("bbox")
    if bbox is None:
        if points is None or len(points) < 3:
            raise LabelFormatError(path, "no bbox and no polygon", json_path=f"{where}.bbox")
        return SourceObject.from_points(name, points, where)
    try:
        x, y, w, h = (float(v) for v in bbox)
    except (TypeError, ValueError):
        raise LabelFormatError(
            path, f"bbox must be 4 numbers [x, y, w, h], got {bbox!r}", json_path=f"{where}.bbox"
        ) from None
    if not np.isfinite([x, y, w, h]).all() or w < 0 or h < 0:
        raise LabelFormatError(path, f"bbox must be finite with w, h >= 0, got {bbox!r}", json_path=f"{where}.bbox")
    return SourceObject(name, (x, y, x + w, y + h), None if points is None else points.astype(np.float32), where)


def read_coco(json_path: str | Path) -> dict[int, CocoImage]:
    """parse_coco of a file; LabelFormatError when it is not JSON."""
    json_path = Path(json_path)
    try:
        data = json.loads(json_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise LabelFormatError(json_path, f"cannot read JSON: {error}") from None
    return parse_coco(data, json_path)


def load_coco(
    json_path: str | Path, images_dir: str | Path, mapping: ClassMapping, source: str = "", log=None
) -> LabelSet:
    """Every image of a COCO file (looked up in `images_dir` by file_name; missing images are
    counted in the report as `missing_image`) with its objects."""
    json_path, images_dir = Path(json_path), Path(images_dir)
    report: Counter = Counter()
    images = []
    for _image_id, rec in sorted(read_coco(json_path).items()):
        image = images_dir / rec.file_name
        if not image.is_file():
            report["missing_image"] += 1
            continue
        images.append(to_labeled_image(str(image), rec.width, rec.height, rec.objects, mapping, report, source))
    summary = summarise(report)
    if log:
        log(f"COCO labels of {json_path}: {len(images)} images, {summary}")
    return LabelSet(list(mapping.classes), images, summary)
