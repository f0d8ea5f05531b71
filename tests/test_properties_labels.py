"""Every label importer round-trips a random box set (Hypothesis): the boxes are written out in
the format by a small writer here, read back by the importer, and must come back as drawn
(to float32 precision), with their classes. Formats: xView GeoJSON, any OGR vector layer over
a georeferenced raster (rotated, south-up, another CRS), YOLO, DOTA, COCO and Pascal VOC."""

from __future__ import annotations

import json
import math
import tempfile
from collections import Counter
from pathlib import Path
from xml.sax.saxutils import escape

import hypothesis_setup  # noqa: F401  (profiles)
import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from osgeo import gdal, ogr, osr

from micro_detector.georef import pixel_to_map
from micro_detector.training.importers import (
    ClassMapping,
    parse_coco,
    parse_dota,
    parse_voc,
    parse_yolo,
    to_labeled_image,
)
from micro_detector.training.labels import ClassMap, load_vector, load_xview

CLASSES = ["car", "boat", "plane"]
MAPPING = ClassMapping(CLASSES, {c: c for c in CLASSES})


@st.composite
def box_sets(draw, max_n=25):
    """(width, height, boxes (n, 4) float64 inside the image, positive size, classes (n,))."""
    width, height = draw(st.integers(8, 6000)), draw(st.integers(8, 6000))
    n = draw(st.integers(0, max_n))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x0 = rng.uniform(0, width - 1, n)
    y0 = rng.uniform(0, height - 1, n)
    x1 = x0 + rng.uniform(0.5, 1, n) * (width - x0)
    y1 = y0 + rng.uniform(0.5, 1, n) * (height - y0)
    boxes = np.stack([x0, y0, x1, y1], 1).reshape(-1, 4)
    if draw(st.booleans()):
        boxes = np.floor(boxes)  # whole pixels, as many tools write them
        boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2] + 1)
    return width, height, boxes, rng.integers(0, len(CLASSES), n)


def same_boxes(image, boxes: np.ndarray, classes: np.ndarray) -> None:
    """The image's boxes are the drawn ones, in order, to float32 precision."""
    assert len(image.boxes) == len(boxes)
    tol = 1e-6 * max(image.width, image.height) + 1e-4
    np.testing.assert_allclose(image.boxes, boxes, rtol=0, atol=tol)
    assert image.classes.tolist() == classes.tolist()


@given(sets=box_sets())
def test_yolo_round_trip(sets):
    width, height, boxes, classes = sets
    lines = []
    for (x0, y0, x1, y1), k in zip(boxes, classes):
        cx, cy, w, h = (x0 + x1) / 2 / width, (y0 + y1) / 2 / height, (x1 - x0) / width, (y1 - y0) / height
        lines.append(f"{k} {cx!r} {cy!r} {w!r} {h!r}")
    objects = parse_yolo("\n".join(lines) + "\n", width, height, CLASSES)
    image = to_labeled_image("i.png", width, height, objects, MAPPING, Counter())
    same_boxes(image, boxes, classes)


@given(sets=box_sets(), gsd=st.one_of(st.none(), st.floats(0.01, 10)))
def test_dota_round_trip(sets, gsd):
    width, height, boxes, classes = sets
    lines = ["imagesource:GoogleEarth"] + ([f"gsd:{gsd!r}"] if gsd else [])
    for (x0, y0, x1, y1), k in zip(boxes, classes):
        lines.append(f"{x0!r} {y0!r} {x1!r} {y0!r} {x1!r} {y1!r} {x0!r} {y1!r} {CLASSES[k]} 0")
    labels = parse_dota("\n".join(lines))
    assert labels.gsd == gsd and labels.imagesource == "GoogleEarth"
    image = to_labeled_image("i.png", width, height, labels.objects, MAPPING, Counter(), gsd=labels.gsd)
    same_boxes(image, boxes, classes)


@given(sets=box_sets())
def test_coco_round_trip(sets):
    width, height, boxes, classes = sets
    data = {
        "images": [{"id": 7, "file_name": "a b.png", "width": width, "height": height}],
        "categories": [{"id": 10 + k, "name": c} for k, c in enumerate(CLASSES)],
        "annotations": [
            {"id": i, "image_id": 7, "category_id": 10 + int(k), "bbox": [x0, y0, x1 - x0, y1 - y0]}
            for i, ((x0, y0, x1, y1), k) in enumerate(zip(boxes.tolist(), classes))
        ],
    }
    images = parse_coco(json.loads(json.dumps(data)))  # through JSON text, as a file holds it
    rec = images[7]
    assert (rec.file_name, rec.width, rec.height) == ("a b.png", width, height)
    image = to_labeled_image(rec.file_name, width, height, rec.objects, MAPPING, Counter())
    same_boxes(image, boxes, classes)


@given(
    sets=box_sets(),
    one_based=st.booleans(),
    filename=st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12),
)
def test_voc_round_trip(sets, one_based, filename):
    width, height, boxes, classes = sets
    shift = 1.0 if one_based else 0.0
    objects = "".join(
        f"<object><name>{CLASSES[k]}</name><difficult>0</difficult><bndbox><xmin>{x0 + shift!r}</xmin>"
        f"<ymin>{y0 + shift!r}</ymin><xmax>{x1!r}</xmax><ymax>{y1!r}</ymax></bndbox></object>"
        for (x0, y0, x1, y1), k in zip(boxes.tolist(), classes)
    )
    clean = "".join(ch for ch in filename if ch.isprintable()).strip() or "a.png"
    text = (
        f"<annotation><filename>{escape(clean)}</filename><size><width>{width}</width><height>{height}</height>"
        f"<depth>3</depth></size>{objects}</annotation>"
    )
    ann = parse_voc(text, one_based=one_based)
    assert (ann.filename, ann.width, ann.height) == (clean, width, height)
    image = to_labeled_image("i.png", width, height, ann.objects, MAPPING, Counter())
    same_boxes(image, boxes, classes)


def _raster(path: Path, width: int, height: int, gt=(0.0, 1.0, 0.0, 0.0, 0.0, -1.0), epsg: int = 32632) -> Path:
    ds = gdal.GetDriverByName("GTiff").Create(str(path), width, height, 1, gdal.GDT_Byte, ["SPARSE_OK=YES"])
    ds.SetGeoTransform(gt)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    ds.SetProjection(srs.ExportToWkt())
    ds = None
    return path


@given(sets=box_sets())
def test_xview_round_trip(sets):
    width, height, boxes, classes = sets
    type_ids = {0: 18, 1: 40, 2: 11}
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        _raster(folder / "img 1.tif", width, height)
        features = [
            {
                "type": "Feature",
                "geometry": None,
                "properties": {
                    "bounds_imcoords": ",".join(repr(float(v)) for v in b),
                    "type_id": type_ids[int(k)],
                    "image_id": "img 1.tif",
                },
            }
            for b, k in zip(boxes, classes)
        ]
        (folder / "labels.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": features}))
        (folder / "map.json").write_text(json.dumps({c: [type_ids[k]] for k, c in enumerate(CLASSES)}))
        if not len(boxes):
            return  # no labelled image: load_xview refuses (covered by its own tests)
        labels = load_xview(folder / "labels.geojson", folder, ClassMap.from_file(folder / "map.json"))
    assert labels.class_names == CLASSES and len(labels.images) == 1
    same_boxes(labels.images[0], boxes, classes)


@given(
    sets=box_sets(max_n=12),
    angle=st.sampled_from([0.0, 0.3, -2.0]),
    south_up=st.booleans(),
    epsg=st.sampled_from([32632, 4326, 3857]),
    driver=st.sampled_from(["GPKG", "GeoJSON"]),
)
def test_vector_layer_round_trip_on_any_affine_and_crs(sets, angle, south_up, epsg, driver):
    """Boxes drawn in a raster's pixels, written as map polygons (in the raster's CRS or
    another), read back in the raster's pixels by load_vector: rotated and south-up rasters
    included (the polygon's corners bound the same pixel box whatever the affine)."""
    width, height, boxes, classes = sets
    if not len(boxes):
        return
    c, s = math.cos(angle), math.sin(angle)
    e = 0.5 if south_up else -0.5
    gt = (690000.0, 0.5 * c, -e * s, 5335000.0, 0.5 * s, e * c)
    utm, target = osr.SpatialReference(), osr.SpatialReference()
    utm.ImportFromEPSG(32632)
    target.ImportFromEPSG(epsg)
    for srs in (utm, target):
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    to_target = osr.CoordinateTransformation(utm, target)
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        raster = _raster(folder / "r.tif", width, height, gt)
        out = folder / ("labels.gpkg" if driver == "GPKG" else "labels.geojson")
        ds = ogr.GetDriverByName(driver).CreateDataSource(str(out))
        layer = ds.CreateLayer("labels", target, ogr.wkbPolygon)
        layer.CreateField(ogr.FieldDefn("cls", ogr.OFTString))
        for (x0, y0, x1, y1), k in zip(boxes, classes):
            xs, ys = pixel_to_map(gt, np.array([x0, x1, x1, x0, x0]), np.array([y0, y0, y1, y1, y0]))
            ring = ogr.Geometry(ogr.wkbLinearRing)
            for x, y in zip(xs, ys):
                tx, ty, _ = to_target.TransformPoint(float(x), float(y))
                ring.AddPoint_2D(tx, ty)
            polygon = ogr.Geometry(ogr.wkbPolygon)
            polygon.AddGeometry(ring)
            feature = ogr.Feature(layer.GetLayerDefn())
            feature.SetField("cls", CLASSES[k])
            feature.SetGeometry(polygon)
            layer.CreateFeature(feature)
        ds = layer = None
        labels = load_vector(out, [raster], "cls", class_names=CLASSES)
    image = labels.images[0]
    assert len(image.boxes) == len(boxes)
    tol = 2e-6 * max(width, height) + (2e-3 if epsg != 32632 else 1e-4)  # a reprojection round trip
    np.testing.assert_allclose(image.boxes, np.clip(boxes, 0, [width, height, width, height]), rtol=0, atol=tol)
    assert image.classes.tolist() == classes.tolist()
