"""DOTA txt labels: optional header lines (`imagesource:GoogleEarth`, `gsd:0.146`, `acquisition
dates:...`), then one object per line `x1 y1 x2 y2 x3 y3 x4 y4 category difficult` (pixel
coordinates of an oriented quadrilateral, `difficult` optional). The quadrilateral is kept
beside its axis-aligned box; the header's GSD (metres per pixel) becomes the image's GSD.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ... import raster as raster_io
from ..labels import LabelSet
from .class_map import ClassMapping
from .errors import LabelFormatError, read_label_text
from .objects import SourceObject, summarise, to_labeled_image
from .yolo import IMAGE_SUFFIXES


@dataclass
class DotaLabels:
    """The content of one DOTA label file: objects, header facts, and the object indices
    marked difficult."""

    objects: list[SourceObject] = field(default_factory=list)
    imagesource: str | None = None
    gsd: float | None = None
    difficult: list[int] = field(default_factory=list)


def parse_dota(text: str, path: str | Path = "labels.txt") -> DotaLabels:
    """The objects and header of one DOTA label file; LabelFormatError (file and line) for an
    object line without 8 coordinates and a category, or with coordinates that are not numbers."""
    out = DotaLabels()
    for n, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped:
            continue
        key, sep, value = stripped.partition(":")
        if sep and not _is_number(key.split()[0] if key.split() else key):
            _header(out, key.strip().lower(), value.strip(), path, n)
            continue
        values = stripped.split()
        if len(values) < 9:
            raise LabelFormatError(path, f"expected 8 coordinates and a category, got {len(values)} values", line=n)
        try:
            pts = np.array([float(v) for v in values[:8]], np.float64).reshape(4, 2)
        except ValueError:
            raise LabelFormatError(path, f"coordinates must be numbers: {stripped[:60]!r}", line=n) from None
        if not np.isfinite(pts).all():
            raise LabelFormatError(path, "coordinates must be finite", line=n)
        if len(values) > 9 and values[9] not in ("0", "1"):
            raise LabelFormatError(path, f"difficult must be 0 or 1, got {values[9]!r}", line=n)
        if len(values) > 9 and values[9] == "1":
            out.difficult.append(len(out.objects))
        out.objects.append(SourceObject.from_points(values[8], pts, f"line {n}"))
    return out


def _header(out: DotaLabels, key: str, value: str, path, n: int) -> None:
    """Store a header line's fact (unknown keys are allowed and ignored)."""
    if key == "imagesource":
        out.imagesource = value or None
    elif key == "gsd":
        if value.lower() in ("", "none", "null"):
            return
        try:
            out.gsd = float(value)
        except ValueError:
            raise LabelFormatError(path, f"gsd must be a number, got {value!r}", line=n) from None
        if not out.gsd > 0:
            raise LabelFormatError(path, f"gsd must be > 0, got {value!r}", line=n)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def load_dota(
    images_dir: str | Path, labels_dir: str | Path, mapping: ClassMapping, source: str = "", log=None
) -> LabelSet:
    """Every image of `images_dir` with the objects of `labels_dir/<stem>.txt` (no file: no
    objects). The image's GSD is the header's, else the raster's own."""
    images_dir, labels_dir = Path(images_dir), Path(labels_dir)
    report: Counter = Counter()
    images = []
    for image in sorted(p for p in images_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
        info = raster_io.read_info(image)
        txt = labels_dir / f"{image.stem}.txt"
        labels = parse_dota(read_label_text(txt), txt) if txt.is_file() else DotaLabels()
        images.append(
            to_labeled_image(
                str(image),
                info.width,
                info.height,
                labels.objects,
                mapping,
                report,
                source,
                labels.gsd or info.pixel_size_m,
            )
        )
    summary = summarise(report)
    if log:
        log(f"DOTA labels of {labels_dir}: {len(images)} images, {summary}")
    return LabelSet(list(mapping.classes), images, summary)
