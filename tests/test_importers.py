"""Label importers (YOLO, DOTA, COCO, VOC) on small real fixtures, and a malformed file of each
format failing with a LabelError that names the file and the line or JSON path.

Fixtures: tests/data/importers (real label lines; see its README for sources and licences).
The tests write blank images of the labelled sizes; nothing here reads ../shared or a mirror.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal

from micro_detector.training.importers import (
    ClassMapping,
    LabelFormatError,
    OrientedLabeledImage,
    load_class_mapping,
    load_coco,
    load_dota,
    load_voc,
    load_yolo,
    parse_coco,
    parse_dota,
    parse_names,
    parse_voc,
    parse_yolo,
    read_coco,
    read_names,
    to_labeled_image,
)
from micro_detector.training.labels import LabeledImage, LabelError

DATA = Path(__file__).parent / "data" / "importers"
SIMD_NAMES = [
    "car",
    "truck",
    "van",
    "longvehicle",
    "bus",
    "airliner",
    "propeller",
    "trainer",
    "chartered",
    "fighter",
    "other",
    "stairtruck",
    "pushbacktruck",
    "helicopter",
    "boat",
]


def blank_image(path: Path, width: int, height: int) -> Path:
    """A grey 3-band image of the given size, in the format its suffix says."""
    mem = gdal.GetDriverByName("MEM").Create("", width, height, 3)
    driver = {".png": "PNG", ".jpg": "JPEG"}.get(path.suffix.lower(), "GTiff")
    gdal.GetDriverByName(driver).CreateCopy(str(path), mem)
    return path


@pytest.fixture
def mapping():
    return load_class_mapping()


def test_class_mapping_normalises_names(mapping):
    assert mapping.classes == ["boat", "building", "plane", "vehicle"]
    assert mapping.index("Small_Vehicle") == mapping.index("small-vehicle") == 3
    assert mapping.index("ship") == 0 and mapping.index("Airplane") == 2
    assert mapping.status("harbor") == "ignored" and mapping.status("zeppelin") == "unmapped"
    assert mapping.with_overrides({"0": "plane"}).index("0") == 2


def test_yolo_box_in_pixel_edges():
    objects = parse_yolo((DATA / "yolo/labels/0001.txt").read_text(), 1024, 768, SIMD_NAMES)
    assert len(objects) == 8 and objects[0].name == "car"
    # 0 0.394531 0.579427 0.039063 0.023438 on 1024 x 768
    np.testing.assert_allclose(
        objects[0].box,
        (
            (0.394531 - 0.0195315) * 1024,
            (0.579427 - 0.011719) * 768,
            (0.394531 + 0.0195315) * 1024,
            (0.579427 + 0.011719) * 768,
        ),
    )
    assert objects[0].points is None


def test_yolo_obb_and_polygon_lines_keep_vertices():
    text = "14 0.1 0.1 0.3 0.1 0.3 0.2 0.1 0.2\n5 0.5 0.5 0.6 0.5 0.55 0.7\n"
    obb, polygon = parse_yolo(text, 100, 50, SIMD_NAMES)
    np.testing.assert_allclose(obb.box, (10, 5, 30, 10))
    assert obb.points.shape == (4, 2) and polygon.points.shape == (3, 2)
    np.testing.assert_allclose(polygon.box, (50, 25, 60, 35))


def test_load_yolo_obb_keeps_quadrilaterals(tmp_path, mapping):
    root = tmp_path / "dota8"
    shutil.copytree(DATA / "yolo_obb", root)
    (root / "images").mkdir()
    blank_image(root / "images" / "P1053__1024__0___90.jpg", 1024, 1024)
    labels = load_yolo(root / "data.yaml", mapping)
    image = labels.images[0]
    assert isinstance(image, OrientedLabeledImage) and labels.instances()["vehicle"] == 4
    assert labels.report["ignored"] == {"swimming pool": 1, "tennis court": 1}
    # 10 0.166016 0.492188 0.15039 0.500977 0.132812 0.467773 0.148438 0.458007
    np.testing.assert_allclose(image.boxes[0], np.array([0.132812, 0.458007, 0.166016, 0.500977]) * 1024, rtol=1e-5)
    assert image.points[0].shape == (4, 2)


def test_load_yolo_reads_data_yaml_and_maps_classes(tmp_path, mapping):
    root = tmp_path / "simd"
    shutil.copytree(DATA / "yolo", root)
    (root / "images").mkdir()
    for stem in ("0001", "0011", "9999"):  # 9999: an image without a label file is a negative
        blank_image(root / "images" / f"{stem}.jpg", 1024, 768)
    assert read_names(root / "data.yaml") == SIMD_NAMES
    labels = load_yolo(root / "data.yaml", mapping, source="simd")
    assert [Path(im.path).name for im in labels.images] == ["0001.jpg", "0011.jpg", "9999.jpg"]
    assert labels.instances() == {"boat": 0, "building": 0, "plane": 2, "vehicle": 8}
    assert len(labels.images[2].boxes) == 0 and labels.images[0].source == "simd"
    assert labels.report["used"] + labels.report.get("clipped", 0) == 10


def test_dota_header_quadrilaterals_and_gsd(tmp_path, mapping):
    parsed = parse_dota((DATA / "dota/P1888.txt").read_text())
    assert parsed.imagesource == "GoogleEarth" and parsed.gsd == pytest.approx(0.266170468393)
    first = parsed.objects[0]
    assert first.name == "small-vehicle" and first.box == (674.0, 375.0, 684.0, 395.0)
    np.testing.assert_allclose(first.points, [[674, 375], [683, 375], [684, 394], [675, 395]])
    (tmp_path / "images").mkdir()
    blank_image(tmp_path / "images" / "P1888.png", 712, 557)
    labels = load_dota(tmp_path / "images", DATA / "dota", mapping)
    image = labels.images[0]
    assert isinstance(image, OrientedLabeledImage) and image.gsd == pytest.approx(0.266170468393)
    assert labels.instances()["vehicle"] == 8 and len(image.points) == 8


def test_coco_bbox_is_pixel_edge_xywh_and_names_map_with_override(tmp_path, mapping):
    images = read_coco(DATA / "coco/_annotations.coco.json")
    first = images[min(images)]
    assert (first.width, first.height) == (640, 360)
    assert first.objects[0].box == (40.0, 173.0, 82.5, 218.0)
    assert first.objects[0].name == "0"  # Roboflow's class under the `Aircrafts` supercategory
    report: Counter = Counter()
    ignored = to_labeled_image("a.jpg", 640, 360, first.objects, mapping, report)
    assert len(ignored.boxes) == 0 and report["ignored:0"] == len(first.objects)
    for rec in images.values():
        blank_image(tmp_path / rec.file_name, 640, 360)
    labels = load_coco(DATA / "coco/_annotations.coco.json", tmp_path, mapping.with_overrides({"0": "plane"}))
    assert labels.instances()["plane"] == 24 and len(labels.images) == 2


def test_coco_missing_image_is_counted(tmp_path, mapping):
    labels = load_coco(DATA / "coco/_annotations.coco.json", tmp_path, mapping)
    assert labels.images == [] and labels.report["missing_image"] == 2


def test_voc_bndbox_is_one_based_and_unwanted_names_are_counted(tmp_path, mapping):
    ann = parse_voc((DATA / "voc/00001.xml").read_bytes())
    assert (ann.filename, ann.width, ann.height) == ("00001.jpg", 1272, 1504)
    assert ann.objects[0].box == (452.0, 555.0, 552.0, 692.0)  # <xmin>453</xmin> ... <ymax>692</ymax>
    assert parse_voc((DATA / "voc/00001.xml").read_bytes(), one_based=False).objects[0].box[0] == 453.0
    (tmp_path / "img").mkdir()
    blank_image(tmp_path / "img" / "00001.jpg", 1272, 1504)
    blank_image(tmp_path / "img" / "00064.jpg", 900, 900)
    labels = load_voc(DATA / "voc", tmp_path / "img", mapping)
    assert labels.instances()["plane"] == 1
    assert labels.report["ignored"] == {"basketball court": 2, "ground track field": 1}


def test_voc_robndbox_corners():
    xml = (
        "<annotation><size><width>100</width><height>100</height></size><object><name>ship</name>"
        "<robndbox><cx>50</cx><cy>40</cy><w>20</w><h>10</h><angle>1.5707963</angle></robndbox>"
        "</object></annotation>"
    )
    obj = parse_voc(xml).objects[0]
    np.testing.assert_allclose(obj.box, (45, 30, 55, 50), atol=1e-4)
    assert obj.points.shape == (4, 2)


def test_unmapped_classes_are_ignored_and_counted(mapping):
    objects = parse_yolo((DATA / "yolo/labels/0001.txt").read_text(), 1024, 768, SIMD_NAMES)
    narrow = ClassMapping(["vehicle"], {"van": "vehicle", "truck": None})
    report: Counter = Counter()
    image = to_labeled_image("x.jpg", 1024, 768, objects, narrow, report)
    assert isinstance(image, LabeledImage)
    assert report["unmapped:car"] == 6 and report["used"] == 2 and image.classes.tolist() == [0, 0]


@pytest.mark.parametrize(
    "call, where",
    [
        (
            lambda: parse_yolo(
                (DATA / "bad/yolo_bad_number.txt").read_text(), 1024, 768, SIMD_NAMES, DATA / "bad/yolo_bad_number.txt"
            ),
            "yolo_bad_number.txt, line 3",
        ),
        (
            lambda: parse_yolo(
                (DATA / "bad/yolo_bad_class.txt").read_text(), 1024, 768, SIMD_NAMES, DATA / "bad/yolo_bad_class.txt"
            ),
            "yolo_bad_class.txt, line 5",
        ),
        (lambda: read_names(DATA / "bad/data_bad.yaml"), "data_bad.yaml, at names"),
        (
            lambda: parse_dota((DATA / "bad/dota_bad.txt").read_text(), DATA / "bad/dota_bad.txt"),
            "dota_bad.txt, line 6",
        ),
        (lambda: read_coco(DATA / "bad/coco_bad.json"), "coco_bad.json, at annotations[1].bbox"),
        (
            lambda: parse_voc((DATA / "bad/voc_bad_syntax.xml").read_bytes(), DATA / "bad/voc_bad_syntax.xml"),
            "voc_bad_syntax.xml, line 30",
        ),
        (
            lambda: parse_voc((DATA / "bad/voc_bad_value.xml").read_bytes(), DATA / "bad/voc_bad_value.xml"),
            "voc_bad_value.xml, at object[0].bndbox.xmax",
        ),
        (lambda: load_class_mapping(DATA / "bad/class_map_bad.json"), "class_map_bad.json, at map.ship"),
    ],
)
def test_a_malformed_file_names_the_file_and_the_place(call, where):
    with pytest.raises(LabelFormatError) as raised:
        call()
    assert isinstance(raised.value, LabelError)
    assert where in str(raised.value)


def test_parse_names_reads_an_index_mapping():
    assert parse_names("names:\n  0: ship\n  1: plane\n") == ["ship", "plane"]
    with pytest.raises(LabelFormatError, match="indices must be 0..1"):
        parse_names("names:\n  0: ship\n  2: plane\n")


def test_coco_unknown_category_names_its_path():
    data = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 10, "height": 10}],
        "categories": [],
        "annotations": [{"image_id": 1, "category_id": 7, "bbox": [0, 0, 1, 1]}],
    }
    with pytest.raises(LabelFormatError, match=r"annotations\[0\].category_id"):
        parse_coco(data, "x.json")
