"""One entry point for train and evaluate: a label path in one of the imported formats (YOLO,
DOTA, COCO, VOC), its format told or guessed, read into the trainer's `LabelSet`.

What `--labels PATH` may be, per format:
- `yolo`: a `data.yaml` (or the folder that holds it); images and `labels/` as it names them;
- `dota`: the folder of DOTA `.txt` files; `--images` is the folder of the images;
- `coco`: the COCO `.json`; images in `--images`, else beside the json (Roboflow's layout);
- `voc`: the folder of VOC `.xml` files (or one of them); images in `--images`, else beside.

Only the classes a source can label are marked annotated in its images (the class names a
YOLO data.yaml or COCO file lists, the names found in DOTA / VOC files), so a plane-only
data set is not taken as a negative for boats. Images without a GSD (plain JPEG / PNG) take
`image_gsd` when given.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..labels import LabelError, LabelSet
from .class_map import ClassMapping, load_class_mapping
from .coco import load_coco, read_coco
from .dota import load_dota
from .errors import LabelFormatError
from .voc import load_voc
from .yolo import load_yolo, read_names

FORMATS = ("yolo", "dota", "coco", "voc")


def guess_format(labels: str | Path) -> str:
    """The format of a label path, when its form tells it: a .yaml is YOLO, a .json COCO, an
    .xml or a folder of .xml VOC, a folder with data.yaml YOLO, a folder of .txt files DOTA
    when their object lines carry 8 coordinates and a name. LabelError when it cannot tell."""
    path = Path(labels)
    if not path.exists():
        raise LabelError(f"labels not found: {path}")
    suffix = path.suffix.lower()
    if path.is_file():
        if suffix in (".yaml", ".yml"):
            return "yolo"
        if suffix == ".geojson":
            raise LabelError(f"{path} is GeoJSON: give it as --xview (xView) or --vector (a label layer)")
        if suffix == ".json":
            return "coco"
        if suffix == ".xml":
            return "voc"
        raise LabelError(f"cannot tell the label format of {path}: give --labels-format ({'|'.join(FORMATS)})")
    if (path / "data.yaml").is_file() or (path / "data.yml").is_file():
        return "yolo"
    if any(path.glob("*.xml")):
        return "voc"
    jsons = sorted(p for p in path.glob("*.json") if p.name != "classes.json")
    if len(jsons) == 1 and not any(path.glob("*.txt")):
        return "coco"
    txts = sorted(path.glob("*.txt"))
    if txts:
        return (
            "dota"
            if _looks_dota(txts)
            else _not_told(path, "YOLO .txt labels need their data.yaml (class names): give the data.yaml")
        )
    return _not_told(path, "no .yaml, .json, .xml or .txt labels in it")


def _looks_dota(txts: list[Path]) -> bool:
    """Whether the first object line found in the first files has 8 numbers and a name."""
    for txt in txts[:5]:
        for line in txt.read_text(encoding="utf-8", errors="replace").splitlines():
            values = line.split()
            if len(values) < 2 or (":" in line and len(values) < 9):
                continue  # empty, or a header line (imagesource:..., gsd:...)
            try:
                [float(v) for v in values[:8]]
            except ValueError:
                return False
            return len(values) >= 9 and not _is_number(values[8])
    return False


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _not_told(path: Path, why: str):
    raise LabelError(f"cannot tell the label format of {path} ({why}); give --labels-format ({'|'.join(FORMATS)})")


def load_imported(
    labels: str | Path,
    fmt: str | None = None,
    images: str | Path | None = None,
    class_map: str | Path | ClassMapping | None = None,
    image_gsd: float | None = None,
    source: str | None = None,
    log=None,
) -> LabelSet:
    """The LabelSet of a label path in format `fmt` (None or "auto": guessed), class names
    mapped by `class_map` (a mapping file; default the package's class_map.json). Every
    file is parsed here, so a malformed one raises LabelFormatError (file and line) before
    anything else runs; LabelError when no image with labels is found. Unmapped and ignored
    classes are counted in `report` and logged."""
    labels = Path(labels)
    fmt = guess_format(labels) if fmt in (None, "", "auto") else fmt
    if fmt not in FORMATS:
        raise LabelError(f"unknown label format {fmt!r}; one of {', '.join(FORMATS)}")
    if not labels.exists():
        raise LabelError(f"labels not found: {labels}")
    if image_gsd is not None and not image_gsd > 0:
        raise LabelError(f"the images' GSD must be > 0 metres, got {image_gsd}")
    mapping = class_map if isinstance(class_map, ClassMapping) else load_class_mapping(class_map)
    source = source or _source_name(labels)
    label_set, names = _load(fmt, labels, Path(images) if images else None, mapping, source)
    if not label_set.images:
        raise LabelError(
            f"no image found for the {fmt.upper()} labels {labels}"
            + (f" in {images}" if images else "")
            + f" ({label_set.report})"
        )
    _narrow_annotated(label_set, mapping, names)
    if image_gsd is not None:
        for im in label_set.images:
            im.gsd = im.gsd or float(image_gsd)
    _log_report(label_set, fmt, labels, log)
    return label_set


def _load(fmt: str, labels: Path, images: Path | None, mapping: ClassMapping, source: str):
    """(LabelSet, the source class names it can label, or None when only the files tell)."""
    if fmt == "yolo":
        data_yaml = (
            labels
            if labels.is_file()
            else next((p for p in (labels / "data.yaml", labels / "data.yml") if p.is_file()), labels / "data.yaml")
        )
        if not data_yaml.is_file():
            raise LabelError(f"YOLO labels need a data.yaml (class names): none in {labels}")
        return load_yolo(data_yaml, mapping, source=source), read_names(data_yaml)
    if fmt == "dota":
        if not labels.is_dir():
            raise LabelError(f"DOTA labels are a folder of .txt files, {labels} is not a folder")
        return load_dota(_images_dir(images, labels, "DOTA"), labels, mapping, source=source), None
    if fmt == "coco":
        jsons = sorted(p for p in labels.glob("*.json") if p.name != "classes.json") if labels.is_dir() else []
        if len(jsons) == 1:  # a Roboflow split folder: the json among its images
            labels = jsons[0]
        if not labels.is_file():
            raise LabelError(f"COCO labels are one .json file, {labels} is not one (or a folder with one)")
        names = sorted({o.name for rec in read_coco(labels).values() for o in rec.objects})
        return load_coco(labels, images or labels.parent, mapping, source=source), names
    folder = labels if labels.is_dir() else labels.parent
    label_set = load_voc(folder, images or folder, mapping, source=source)
    if labels.is_file():  # one xml: only its image
        stem = labels.stem
        label_set.images = [im for im in label_set.images if Path(im.path).stem == stem]
    return label_set, None


def _images_dir(images: Path | None, labels: Path, what: str) -> Path:
    if images is None:
        sibling = labels.parent / "images"
        if sibling.is_dir():
            return sibling
        raise LabelError(f"{what} labels need --images (the folder of their images)")
    if not images.is_dir():
        raise LabelError(f"images folder not found: {images}")
    return images


def _source_name(labels: Path) -> str:
    """The data set's name for per-source splits and sampling: its folder's name."""
    folder = labels.parent if labels.is_file() else labels
    if (
        folder.name.lower() in ("labels", "labeltxt", "annotations", "train", "valid", "val", "test")
        and folder.parent.name
    ):
        folder = folder.parent
    return folder.name or "labels"


def _narrow_annotated(label_set: LabelSet, mapping: ClassMapping, names: list[str] | None) -> None:
    """Mark as annotated only the classes the source can label: those its class names map to
    (names None: those of the objects found in its files)."""
    if names is None:
        found = np.zeros(len(mapping.classes), bool)
        for im in label_set.images:
            found[np.unique(im.classes)] = True
    else:
        found = np.array([any(mapping.index(n) == k for n in names) for k in range(len(mapping.classes))], bool)
    for im in label_set.images:
        im.annotated = found.copy()


def _log_report(label_set: LabelSet, fmt: str, labels: Path, log) -> None:
    if log is None:
        return
    report = label_set.report
    objects = sum(len(im.boxes) for im in label_set.images)
    log(
        f"{fmt.upper()} labels {labels}: {len(label_set.images)} images, {objects} objects "
        f"({', '.join(f'{k} {v}' for k, v in label_set.instances().items())})"
    )
    for kind in ("unmapped", "ignored"):
        if report.get(kind):
            total = sum(report[kind].values())
            log(
                f"labels: {total} objects of {kind} classes skipped: {report[kind]}"
                + (" (map them with --class-map)" if kind == "unmapped" else "")
            )
    annotated = [n for n, a in zip(label_set.class_names, label_set.images[0].annotated) if a]
    log(f"labels: classes annotated in this source: {', '.join(annotated) or 'none'}")


__all__ = ["FORMATS", "LabelFormatError", "guess_format", "load_imported"]
