"""Pascal VOC xml labels: one file per image with `size` (width, height), `filename`, and per
`object` a `name` and a `bndbox` (xmin, ymin, xmax, ymax) or a roLabelImg `robndbox` (cx, cy,
w, h, angle in radians; the rotated rectangle's corners are kept).

VOC's bndbox values are 1-based pixel indices, inclusive: pixel-edge coordinates are
(xmin - 1, ymin - 1, xmax, ymax). `one_based=False` reads them as edges unchanged (some tools
write edges); robndbox values are continuous coordinates either way.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ... import raster as raster_io
from ..labels import LabelSet
from .class_map import ClassMapping
from .errors import LabelFormatError
from .objects import SourceObject, summarise, to_labeled_image


@dataclass
class VocAnnotation:
    """One VOC file: image file name, size (0 when absent) and objects."""

    filename: str
    width: int
    height: int
    objects: list[SourceObject] = field(default_factory=list)


def parse_voc(text: str | bytes, path: str | Path = "annotation.xml", one_based: bool = True) -> VocAnnotation:
    """The annotation of one VOC xml text; LabelFormatError naming the line of an XML syntax
    error, or the element path (e.g. `object[2].bndbox.xmax`) of a missing or bad value."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as error:
        raise LabelFormatError(path, f"not XML: {error}", line=error.position[0]) from None
    if root.tag != "annotation":
        raise LabelFormatError(path, f"root element is <{root.tag}>, not <annotation>", line=1)
    size = root.find("size")
    width = int(_number(size, "width", path, "size")) if size is not None else 0
    height = int(_number(size, "height", path, "size")) if size is not None else 0
    out = VocAnnotation((root.findtext("filename") or "").strip(), width, height)
    for i, obj in enumerate(root.findall("object")):
        where = f"object[{i}]"
        name = (obj.findtext("name") or "").strip()
        if not name:
            raise LabelFormatError(path, "object without a name", json_path=f"{where}.name")
        out.objects.append(_object(obj, name, path, where, one_based))
    return out


def _object(obj, name: str, path, where: str, one_based: bool) -> SourceObject:
    rob = obj.find("robndbox")
    if rob is not None:
        cx, cy, w, h, angle = (_number(rob, k, path, f"{where}.robndbox") for k in ("cx", "cy", "w", "h", "angle"))
        c, s = math.cos(angle), math.sin(angle)
        corners = [
            (cx + c * dx - s * dy, cy + s * dx + c * dy)
            for dx, dy in ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2))
        ]
        return SourceObject.from_points(name, corners, where)
    box = obj.find("bndbox")
    if box is None:
        raise LabelFormatError(path, "object without bndbox or robndbox", json_path=where)
    x0, y0, x1, y1 = (_number(box, k, path, f"{where}.bndbox") for k in ("xmin", "ymin", "xmax", "ymax"))
    shift = 1.0 if one_based else 0.0
    return SourceObject(name, (x0 - shift, y0 - shift, x1, y1), None, where)


def _number(element, tag: str, path, where: str) -> float:
    text = element.findtext(tag)
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise LabelFormatError(path, f"missing or not a number: {text!r}", json_path=f"{where}.{tag}") from None
    if not math.isfinite(value):
        raise LabelFormatError(path, f"not finite: {text!r}", json_path=f"{where}.{tag}")
    return value


def load_voc(
    xml_dir: str | Path,
    images_dir: str | Path,
    mapping: ClassMapping,
    source: str = "",
    one_based: bool = True,
    log=None,
) -> LabelSet:
    """Every xml of `xml_dir` with its image in `images_dir` (by `filename`, else the xml's
    stem with the image's suffix); images missing are counted as `missing_image`. The size is
    the raster's (the xml's when they agree is not required: the raster wins)."""
    xml_dir, images_dir = Path(xml_dir), Path(images_dir)
    report: Counter = Counter()
    images = []
    for xml in sorted(xml_dir.glob("*.xml")):
        ann = parse_voc(xml.read_bytes(), xml, one_based)
        image = _find_image(images_dir, ann.filename, xml.stem)
        if image is None:
            report["missing_image"] += 1
            continue
        info = raster_io.read_info(image)
        images.append(
            to_labeled_image(
                str(image), info.width, info.height, ann.objects, mapping, report, source, info.pixel_size_m
            )
        )
    summary = summarise(report)
    if log:
        log(f"VOC labels of {xml_dir}: {len(images)} images, {summary}")
    return LabelSet(list(mapping.classes), images, summary)


def _find_image(images_dir: Path, filename: str, stem: str) -> Path | None:
    if filename and (images_dir / filename).is_file():
        return images_dir / filename
    matches = sorted(p for p in images_dir.glob(f"{stem}.*") if p.suffix.lower() != ".xml")
    return matches[0] if matches else None
