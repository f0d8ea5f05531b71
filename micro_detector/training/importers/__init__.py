"""Label importers: YOLO txt, DOTA txt, COCO json and Pascal VOC xml into the trainer's labels.

Every importer gives `labels.LabelSet` / `labels.LabeledImage` with float `xmin, ymin, xmax,
ymax` boxes in pixel-edge coordinates, like `labels.load_xview`. Source class names go
through a class mapping (JSON, default `class_map.json` here); unmapped and ignored names are
counted in `LabelSet.report`, never an error. A malformed file raises `LabelFormatError` (a
`LabelError`) naming the file and the line or JSON path, before any training starts.
Oriented boxes and polygons keep their vertices (`OrientedLabeledImage.points`).

Public API (for the CLI / QGIS train and evaluate):

    load_class_mapping(path: str | Path | None = None) -> ClassMapping
    ClassMapping(classes: list[str], names: dict[str, str | None])
        .index(source_name) -> int | None; .status(source_name) -> "mapped"|"ignored"|"unmapped"
        .with_overrides(overrides: dict[str, str | None]) -> ClassMapping

    load_yolo(data_yaml, mapping, splits=("train", "val", "test"), source="", log=None) -> LabelSet
    load_dota(images_dir, labels_dir, mapping, source="", log=None) -> LabelSet
    load_coco(json_path, images_dir, mapping, source="", log=None) -> LabelSet
    load_voc(xml_dir, images_dir, mapping, source="", one_based=True, log=None) -> LabelSet

    # format parsers without image I/O (sizes given), for builders and tests:
    read_names(data_yaml) -> list[str];  parse_names(text, path) -> list[str]
    parse_yolo(text, width, height, names, path) -> list[SourceObject]
    parse_dota(text, path) -> DotaLabels(objects, imagesource, gsd, difficult)
    parse_coco(data: dict, path) -> dict[int, CocoImage(file_name, width, height, objects)]
    parse_voc(text, path, one_based=True) -> VocAnnotation(filename, width, height, objects)
    to_labeled_image(path, width, height, objects, mapping, report: Counter, source="", gsd=None)
        -> LabeledImage | OrientedLabeledImage

    # train / evaluate: a label path in one of the formats, told or guessed (load.py)
    guess_format(labels) -> "yolo" | "dota" | "coco" | "voc"
    load_imported(labels, fmt=None, images=None, class_map=None, image_gsd=None, source=None, log=None) -> LabelSet

    SourceObject(name, box: (x0, y0, x1, y1), points: (k, 2) array | None, where: str)
    LabelFormatError(path, problem, line=None, json_path=None)  # subclass of LabelError
"""

from .class_map import ClassMapping, load_class_mapping, normalise
from .coco import CocoImage, load_coco, parse_coco, read_coco
from .dota import DotaLabels, load_dota, parse_dota
from .errors import LabelFormatError
from .load import FORMATS, guess_format, load_imported
from .objects import OrientedLabeledImage, SourceObject, summarise, to_labeled_image
from .voc import VocAnnotation, load_voc, parse_voc
from .yolo import load_yolo, parse_names, parse_yolo, read_names

__all__ = [
    "FORMATS",
    "ClassMapping",
    "CocoImage",
    "DotaLabels",
    "LabelFormatError",
    "OrientedLabeledImage",
    "SourceObject",
    "VocAnnotation",
    "guess_format",
    "load_class_mapping",
    "load_coco",
    "load_dota",
    "load_imported",
    "load_voc",
    "load_yolo",
    "normalise",
    "parse_coco",
    "parse_dota",
    "parse_names",
    "parse_voc",
    "parse_yolo",
    "read_coco",
    "read_names",
    "summarise",
    "to_labeled_image",
]
