"""One labelled object as a source format gives it, and the step that turns a source image's
objects into the trainer's `LabeledImage` (boxes clipped to the image, classes mapped).

Every box is float `xmin, ymin, xmax, ymax` in pixel-edge coordinates (0 at the top-left
corner of the top-left pixel), as `labels.load_xview` gives them. Oriented boxes and polygons
keep their vertices (`points`, pixel-edge x, y) beside the box for later use.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from ..labels import LabeledImage
from .class_map import ClassMapping


@dataclass
class SourceObject:
    """An object of a label file: source class name, axis-aligned box, optional vertices
    ((k, 2) float, k >= 3: a DOTA or YOLO-OBB quadrilateral, a polygon), and where it was
    read (line number or JSON path) for messages."""

    name: str
    box: tuple[float, float, float, float]
    points: np.ndarray | None = None
    where: str = ""

    @classmethod
    def from_points(cls, name: str, points, where: str = "") -> SourceObject:
        """The object of a polygon or quadrilateral: its box is the vertices' bounds."""
        pts = np.asarray(points, np.float64).reshape(-1, 2)
        box = (float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max()))
        return cls(name, box, pts.astype(np.float32), where)


@dataclass
class OrientedLabeledImage(LabeledImage):
    """A LabeledImage that also keeps each object's vertices (`points[i]`: (k, 2) float32, or
    None for a plain box), aligned with `boxes`."""

    points: list = field(default_factory=list)


def to_labeled_image(
    path: str,
    width: int,
    height: int,
    objects: list[SourceObject],
    mapping: ClassMapping,
    report: Counter,
    source: str = "",
    gsd: float | None = None,
) -> LabeledImage:
    """The LabeledImage of one image: mapped classes, boxes clipped to the image.

    `report` counts every object under one outcome: `used`, `clipped`, `unmapped:<name>`,
    `ignored:<name>`, `zero_area`, `out_of_image`. Objects with vertices make an
    OrientedLabeledImage. Every class of the mapping counts as annotated; the caller narrows
    `annotated` where a source labels fewer classes.
    """
    rows, points = [], []
    for obj in objects:
        k = _outcome(obj, mapping, width, height, report)
        if k is None:
            continue
        x0, y0, x1, y1 = obj.box
        rows.append((max(x0, 0.0), max(y0, 0.0), min(x1, float(width)), min(y1, float(height)), k))
        points.append(obj.points)
    arr = np.array(rows, np.float64).reshape(-1, 5)
    common = dict(
        path=str(path),
        width=int(width),
        height=int(height),
        boxes=arr[:, :4].astype(np.float32),
        classes=arr[:, 4].astype(np.int64),
        annotated=np.ones(len(mapping.classes), bool),
        source=source,
        gsd=gsd,
    )
    if any(p is not None for p in points):
        return OrientedLabeledImage(**common, points=points)
    return LabeledImage(**common)


def _outcome(obj: SourceObject, mapping: ClassMapping, width: int, height: int, report: Counter) -> int | None:
    """Our class index of an object that is kept (counted `used` or `clipped`), else None
    with the reason counted."""
    status = mapping.status(obj.name)
    if status != "mapped":
        report[f"{status}:{obj.name}"] += 1
        return None
    x0, y0, x1, y1 = obj.box
    if not (x1 > x0 and y1 > y0):
        report["zero_area"] += 1
        return None
    if min(x1, width) <= max(x0, 0) or min(y1, height) <= max(y0, 0):
        report["out_of_image"] += 1
        return None
    inside = x0 >= 0 and y0 >= 0 and x1 <= width and y1 <= height
    report["used" if inside else "clipped"] += 1
    return mapping.index(obj.name)


def summarise(report: Counter) -> dict:
    """A load report as a plain dict: outcome counts, and the unmapped / ignored source class
    names with their counts."""
    out: dict = {}
    for key, n in sorted(report.items()):
        kind, _, name = key.partition(":")
        if name:
            out.setdefault(kind, {})[name] = out.setdefault(kind, {}).get(name, 0) + n
        else:
            out[key] = n
    return out
