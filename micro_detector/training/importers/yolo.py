"""YOLO txt labels (Ultralytics / Darknet / Roboflow exports): one `.txt` per image, one object
per line, coordinates normalised to the image size.

A line is `class cx cy w h` (a box), `class x1 y1 ... x4 y4` (YOLO-OBB, a quadrilateral) or
`class x1 y1 ... xn yn` with n >= 3 (a YOLO segment polygon); the box of vertices is their
bounds and the vertices are kept. Class names come from `data.yaml` (`names:` as a list or as
an index -> name mapping). Labels sit in `labels/` beside `images/` (the Ultralytics rule); an
image without a label file has no objects.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np

from ... import raster as raster_io
from ..labels import LabelSet
from .class_map import ClassMapping
from .errors import LabelFormatError, read_label_text
from .objects import SourceObject, summarise, to_labeled_image

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp")
SLACK = 0.02  # exports round normalised coordinates; a box a little past 0..1 is clipped, not refused


def read_names(data_yaml: str | Path) -> list[str]:
    """The class names of a `data.yaml`, in class-index order."""
    path = Path(data_yaml)
    return parse_names(read_label_text(path), path)


def parse_names(text: str, path: str | Path = "data.yaml") -> list[str]:
    """The `names` of a data.yaml text: a list, or a mapping of index -> name (indices 0..n-1)."""
    names = _yaml(text, path).get("names")
    if isinstance(names, dict):
        try:
            index = {int(k): str(v) for k, v in names.items()}
        except (TypeError, ValueError):
            raise LabelFormatError(path, "`names` keys must be class indices", json_path="names") from None
        if sorted(index) != list(range(len(index))):
            raise LabelFormatError(path, f"`names` indices must be 0..{len(index) - 1}", json_path="names")
        return [index[i] for i in range(len(index))]
    if isinstance(names, list) and names:
        return [str(n) for n in names]
    raise LabelFormatError(path, "no `names` list or mapping", json_path="names")


def _yaml(text: str, path) -> dict:
    """A data.yaml as a dict (PyYAML; without it, the `key: value` and `key: [a, b]` lines)."""
    try:
        import yaml
    except ImportError:
        data: dict = {}
        for key, value in re.findall(r"^(\w+):[ \t]*(.*)$", text, re.M):
            flow = re.fullmatch(r"\[(.*)\]\s*", value)
            data[key] = [v.strip().strip("'\"") for v in flow.group(1).split(",")] if flow else value.strip()
        return data
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise LabelFormatError(path, f"not YAML: {error}") from None
    return data if isinstance(data, dict) else {}


def parse_yolo(
    text: str, width: int, height: int, names: list[str], path: str | Path = "labels.txt"
) -> list[SourceObject]:
    """The objects of one YOLO label file for an image of `width` x `height` pixels.

    LabelFormatError (file and line) for a line that is not numbers, a class index outside
    `names`, a wrong number of values, a negative size or coordinates outside 0..1.
    """
    objects = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        values = line.split()
        try:
            k = int(values[0])
            coords = np.array([float(v) for v in values[1:]], np.float64)
        except ValueError:
            raise LabelFormatError(path, f"not a class index and numbers: {line.strip()[:60]!r}", line=n) from None
        if not 0 <= k < len(names):
            raise LabelFormatError(path, f"class index {k} outside the {len(names)} names", line=n)
        objects.append(_line_object(names[k], coords, width, height, path, n))
    return objects


def _line_object(name: str, coords: np.ndarray, width: int, height: int, path, n: int) -> SourceObject:
    """The object of one line's coordinates (after the class index)."""
    if not np.isfinite(coords).all():
        raise LabelFormatError(path, "coordinates must be finite numbers", line=n)
    if len(coords) == 4:
        cx, cy, w, h = coords
        if w <= 0 or h <= 0:
            raise LabelFormatError(path, f"box width and height must be > 0 (got {w}, {h})", line=n)
        if not (cx - w / 2 >= -SLACK and cx + w / 2 <= 1 + SLACK and cy - h / 2 >= -SLACK and cy + h / 2 <= 1 + SLACK):
            raise LabelFormatError(path, "box outside the normalised 0..1 image", line=n)
        box = ((cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height)
        return SourceObject(name, tuple(float(v) for v in box), None, f"line {n}")
    if len(coords) >= 6 and len(coords) % 2 == 0:
        pts = coords.reshape(-1, 2)
        if pts.min() < -1 or pts.max() > 2:  # a cut object's vertices may lie past the edge, not this far
            raise LabelFormatError(path, "vertex far outside the normalised 0..1 image (not normalised?)", line=n)
        return SourceObject.from_points(name, pts * [width, height], f"line {n}")
    raise LabelFormatError(
        path, f"expected 4 values (box) or 6+ even (polygon) after the class, got {len(coords)}", line=n
    )


def label_path(image: Path) -> Path:
    """The label file of an image: `.../images/x.jpg` -> `.../labels/x.txt` (else beside it)."""
    parts = list(image.parts)
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            return Path(*parts).with_suffix(".txt")
    return image.with_suffix(".txt")


def image_dirs(data_yaml: Path, splits=("train", "val", "test")) -> list[Path]:
    """The existing image folders that data.yaml names for `splits` (relative to its `path:`,
    or to the yaml's folder; Roboflow's `../train/images` is also tried as `train/images`)."""
    data = _yaml(read_label_text(data_yaml), data_yaml)
    root = data_yaml.parent / str(data.get("path") or ".")
    found = []
    for split in splits:
        entries = data.get(split) or []
        for entry in entries if isinstance(entries, list) else [entries]:
            rel = str(entry)
            for candidate in (root / rel, data_yaml.parent / rel, data_yaml.parent / re.sub(r"^(\.\./)+", "", rel)):
                if candidate.is_dir() and candidate.resolve() not in [f.resolve() for f in found]:
                    found.append(candidate)
                    break
    return found


def load_yolo(
    data_yaml: str | Path, mapping: ClassMapping, splits=("train", "val", "test"), source: str = "", log=None
) -> LabelSet:
    """Every image of the data.yaml's splits with its objects (class names from the yaml,
    mapped by `mapping`); the report counts the outcome of every object (see objects.py)."""
    data_yaml = Path(data_yaml)
    names = read_names(data_yaml)
    dirs = image_dirs(data_yaml, splits)
    if not dirs:
        raise LabelFormatError(data_yaml, f"none of the image folders of {list(splits)} exists")
    report: Counter = Counter()
    images = []
    for folder in dirs:
        for image in sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
            info = raster_io.read_info(image)
            txt = label_path(image)
            text = read_label_text(txt) if txt.is_file() else ""
            objects = parse_yolo(text, info.width, info.height, names, txt)
            images.append(
                to_labeled_image(
                    str(image), info.width, info.height, objects, mapping, report, source, info.pixel_size_m
                )
            )
    summary = summarise(report)
    if log:
        log(f"YOLO labels of {data_yaml}: {len(images)} images, {summary}")
    return LabelSet(list(mapping.classes), images, summary)
