"""A dataset config of the project: what the labels alone do not say about a data set.

Two facts live here, in a JSON file the trainer and the evaluation read (the data folder
itself may be read-only):

- `absent_classes`: per source or per image, the classes that cannot occur in its scenes
  (no boat in a Munich street, no plane in a marina). Those classes become "annotated" for
  the image with no boxes, so the loss teaches them as background there and mAP scores
  their false alarms. Without this, annotated-class masking never penalises a boat box on a
  parked car.
- `spatial_splits`: an image cut in two bands, one for training and one kept out for
  validation, for a class with a single source image. Each band is a GDAL VRT crop of the
  original (georeferencing kept), written into a work folder, with its labels shifted and
  clipped; a gap between the bands keeps near-identical pixels off both sides.

Example: `training/datasets/micro4.json`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .labels import LabeledImage, LabelError, LabelSet, split_by_image


@dataclass
class SpatialSplit:
    image: str  # image name (file name) in the label set
    axis: str = "y"  # "y": horizontal bands (rows), "x": vertical bands (columns)
    val_from: float = 0.75  # the band from this fraction of the axis to the end is validation
    gap_px: int = 16  # pixels dropped between the two bands
    min_visibility: float = 0.5  # a box cut by a band edge is kept if this much of it stays
    note: str = ""  # why, for the reader of the config

    def __post_init__(self):
        if not isinstance(self.image, str) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool)
            for v in (self.val_from, self.gap_px, self.min_visibility)
        ):
            raise LabelError(
                f"spatial split {self.image!r}: image must be a name and val_from, gap_px, min_visibility numbers"
            )
        if self.axis not in ("x", "y"):
            raise LabelError(f"spatial split of {self.image}: axis must be 'x' or 'y', got {self.axis!r}")
        if not 0 < self.val_from < 1:
            raise LabelError(f"spatial split of {self.image}: val_from must be in (0, 1), got {self.val_from}")
        if self.gap_px < 0:
            raise LabelError(f"spatial split of {self.image}: gap_px must be >= 0, got {self.gap_px}")


@dataclass
class DatasetConfig:
    absent_by_source: dict[str, list[str]] = field(default_factory=dict)
    absent_by_image: dict[str, list[str]] = field(default_factory=dict)
    spatial_splits: list[SpatialSplit] = field(default_factory=list)
    path: str | None = None

    @classmethod
    def from_file(cls, path: str | Path) -> DatasetConfig:
        """Read a config; errors name the file and the faulty entry."""
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as error:
            raise LabelError(f"cannot read the dataset config {path}: {error}") from None
        if not isinstance(data, dict):
            raise LabelError(f"{path}: expected a JSON object")
        try:
            absent = data.get("absent_classes", {})
            splits = [SpatialSplit(**s) for s in data.get("spatial_splits", [])]
            config = cls(dict(absent.get("by_source", {})), dict(absent.get("by_image", {})), splits, str(path))
            for names in (*config.absent_by_source.values(), *config.absent_by_image.values()):
                if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                    raise LabelError(f"absent classes must be lists of class names, got {names!r}")
        except LabelError as error:
            raise LabelError(f"{path}: {error}") from None
        except (TypeError, ValueError, AttributeError) as error:  # an entry of the wrong kind
            raise LabelError(
                f"{path}: bad entry ({error}): expected absent_classes.by_source/by_image "
                "objects of class-name lists and spatial_splits objects"
            ) from None
        return config

    def absent_for(self, image: LabeledImage) -> set[str]:
        """Classes known to be absent from this image (its source's and its own): negatives, not unlabelled."""
        return set(self.absent_by_source.get(image.source, [])) | set(self.absent_by_image.get(image.name, []))

    def check(self, labels: LabelSet) -> None:
        """Every class named must exist, and a class cannot be both labelled and absent."""
        names = set(labels.class_names)
        listed = [c for v in (*self.absent_by_source.values(), *self.absent_by_image.values()) for c in v]
        unknown = sorted(set(listed) - names)
        if unknown:
            raise LabelError(f"{self.path}: unknown class(es) {unknown}; the labels have {sorted(names)}")
        image_names = {im.name for im in labels.images}
        for s in self.spatial_splits:
            if s.image not in image_names:
                raise LabelError(f"{self.path}: spatial split image {s.image} is not among the labelled images")


def apply_absent_classes(labels: LabelSet, config: DatasetConfig) -> LabelSet:
    """A copy of `labels` where each image also annotates its absent classes (true negatives).

    A class labelled in an image can never be absent there: such a config entry is an error."""
    images = []
    for im in labels.images:
        absent = config.absent_for(im)
        annotated = im.annotated.copy()
        for name in absent:
            k = labels.class_names.index(name)
            if (im.classes == k).any():
                raise LabelError(
                    f"{config.path}: {name} is listed as absent from {im.name}, "
                    f"which has {int((im.classes == k).sum())} {name} label(s)"
                )
            annotated[k] = True
        images.append(LabeledImage(im.path, im.width, im.height, im.boxes, im.classes, annotated, im.source, im.gsd))
    return LabelSet(labels.class_names, images, labels.report)


def _band_windows(split: SpatialSplit, width: int, height: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(x0, y0, w, h) of the training and validation bands."""
    size = height if split.axis == "y" else width
    cut = int(round(size * split.val_from))
    train_end = max(cut - split.gap_px, 1)
    if split.axis == "y":
        return (0, 0, width, train_end), (0, cut, width, height - cut)
    return (0, 0, train_end, height), (cut, 0, width - cut, height)


def _crop(image: LabeledImage, window: tuple[int, ...], path: Path, min_visibility: float) -> LabeledImage:
    from osgeo import gdal

    x0, y0, w, h = window
    ds = gdal.Translate(str(path), str(Path(image.path).resolve()), format="VRT", srcWin=[x0, y0, w, h])
    if ds is None:
        raise LabelError(f"cannot crop {image.path} to {window}")
    ds = None
    b = image.boxes.astype(np.float64)
    clipped = (
        np.stack(
            [
                np.clip(b[:, 0], x0, x0 + w),
                np.clip(b[:, 1], y0, y0 + h),
                np.clip(b[:, 2], x0, x0 + w),
                np.clip(b[:, 3], y0, y0 + h),
            ],
            1,
        )
        if len(b)
        else b
    )
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) if len(b) else np.zeros(0)
    kept = (clipped[:, 2] - clipped[:, 0]) * (clipped[:, 3] - clipped[:, 1]) if len(b) else np.zeros(0)
    keep = (kept > 0) & (kept >= min_visibility * area)
    boxes = (clipped[keep] - np.array([x0, y0, x0, y0])).astype(np.float32).reshape(-1, 4)
    return LabeledImage(str(path), w, h, boxes, image.classes[keep], image.annotated.copy(), image.source, image.gsd)


def apply_spatial_splits(
    labels: LabelSet, config: DatasetConfig, work_dir: str | Path
) -> tuple[LabelSet, list[str], list[str]]:
    """Replace each split image by its two bands (VRTs in `work_dir`).

    Returns the new label set and the names of the training and validation bands."""
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    by_name = {s.image: s for s in config.spatial_splits}
    images, train_names, val_names = [], [], []
    for im in labels.images:
        split = by_name.get(im.name)
        if split is None:
            images.append(im)
            continue
        stem = Path(im.name).stem
        train_win, val_win = _band_windows(split, im.width, im.height)
        train_part = _crop(im, train_win, work / f"{stem}__train.vrt", split.min_visibility)
        val_part = _crop(im, val_win, work / f"{stem}__val.vrt", split.min_visibility)
        images += [train_part, val_part]
        train_names.append(train_part.name)
        val_names.append(val_part.name)
    return LabelSet(labels.class_names, images, labels.report), train_names, val_names


def prepare_split(
    labels: LabelSet,
    config: DatasetConfig | None,
    work_dir: str | Path,
    val_fraction: float = 0.15,
    val_names: list[str] | None = None,
    log=None,
) -> tuple[LabelSet, LabelSet]:
    """Train and validation sets with the config applied: absent classes become negatives,
    split images become two bands, and every other image follows `split_by_image` (the same
    split as without a config)."""
    log = log or (lambda message: None)
    if config is None:
        return split_by_image(labels, val_fraction, val_names)
    config.check(labels)
    labels = apply_absent_classes(labels, config)
    split_images = {s.image for s in config.spatial_splits}
    rest = LabelSet(labels.class_names, [im for im in labels.images if im.name not in split_images], labels.report)
    train, val = split_by_image(rest, val_fraction, val_names)
    parts, train_parts, val_parts = apply_spatial_splits(
        LabelSet(labels.class_names, [im for im in labels.images if im.name in split_images], labels.report),
        config,
        work_dir,
    )
    by_name = {im.name: im for im in parts.images}
    train.images += [by_name[n] for n in train_parts]
    val.images += [by_name[n] for n in val_parts]
    negatives = {im.name: sorted(config.absent_for(im)) for im in labels.images if config.absent_for(im)}
    log(
        f"dataset config {config.path}: absent classes taught as negatives in {len(negatives)} images; "
        f"spatial splits: train {train_parts}, val {val_parts}"
    )
    return train, val
