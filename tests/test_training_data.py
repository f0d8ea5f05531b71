"""Training data: xView and vector labels, the split, chips and their cache, augmentations."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import MINI
from osgeo import ogr, osr
from synthetic import make_scene, write_mapping, write_xview

from micro_detector.training import augment
from micro_detector.training.chips import ChipConfig, build_chips, chip_boxes
from micro_detector.training.dataset import AugmentConfig, ChipDataset, collate
from micro_detector.training.labels import ClassMap, LabelError, load_vector, load_xview, split_by_image


@pytest.fixture(scope="module")
def micro4(micro4_full):
    """The whole micro4 set: its published counts (skipped on a bare clone, see conftest)."""
    return load_xview(
        micro4_full / "micro4_dev.geojson", micro4_full / "images", ClassMap.from_file(micro4_full / "classes.json")
    )


def test_micro4_xview_labels_match_the_dataset_readme(micro4):
    assert micro4.class_names == ["boat", "building", "plane", "vehicle"]
    # the README's table: 244 boats, 367 buildings, 2391 planes, 2148 vehicles in 122 images
    assert micro4.instances() == {"boat": 244, "building": 367, "plane": 2391, "vehicle": 2148}
    assert len(micro4.images) == 122
    assert micro4.report.get("used", 0) + micro4.report.get("clipped", 0) == 5150
    by_name = {im.name: im for im in micro4.images}
    # each source annotates only its own classes (images.json)
    assert by_name["airbus_0001.tif"].annotated.tolist() == [False, False, True, False]
    assert by_name["kit_MOS155.tif"].annotated.tolist() == [False, False, False, True]
    assert by_name["dota_P0706_a.tif"].annotated.tolist() == [True, False, False, False]  # ships only
    im = by_name["airbus_0001.tif"]
    # the first feature of the GeoJSON: bounds_imcoords "767,306,828,360", a plane
    assert [767, 306, 828, 360] in im.boxes.astype(int).tolist()
    assert (im.boxes[:, 2] <= im.width).all() and (im.boxes[:, 3] <= im.height).all()
    assert im.gsd == pytest.approx(0.5)


def test_all_60_xview_classes_can_be_kept():
    cm = ClassMap.from_file(MINI / "classes.json", all_xview=True)
    assert len(cm.names) == 60 and cm.names[cm.type_to_class[11]] == "Fixed-wing Aircraft"


def test_bad_xview_features_are_counted_not_silently_dropped(tmp_path):
    path, boxes, classes = make_scene(tmp_path, "a.tif", size=64, count=3)
    w = write_xview(tmp_path / "l.geojson", [("a.tif", boxes, classes)])
    data = json.loads(w.read_text())
    extra = [
        ("10,10,10,20", 18, "a.tif"),  # zero area
        ("70,70,90,90", 18, "a.tif"),  # outside the 64 px image
        ("60,60,70,70", 18, "a.tif"),  # crosses the edge: clipped
        ("1,1,5,5", 99, "a.tif"),  # unknown type id
        ("1,1,5,5", 18, "missing.tif"),
        ("nonsense", 18, "a.tif"),
    ]
    for bounds, type_id, image in extra:
        data["features"].append(
            {
                "type": "Feature",
                "geometry": None,
                "properties": {"bounds_imcoords": bounds, "type_id": type_id, "image_id": image},
            }
        )
    w.write_text(json.dumps(data))
    labels = load_xview(w, tmp_path, ClassMap.from_file(write_mapping(tmp_path / "m.json")))
    assert labels.report == {
        "used": 3,
        "zero_area": 1,
        "out_of_image": 1,
        "clipped": 1,
        "unknown_type_id": 1,
        "missing_image": 1,
        "bad_bounds": 1,
        "unknown_type_ids": {99: 1},
    }
    im = labels.images[0]
    assert [60, 60, 64, 64] in im.boxes.astype(int).tolist()


def test_vector_polygons_and_points_in_another_crs_give_pixel_boxes(tmp_path):
    raster, boxes, classes = make_scene(tmp_path, "r.tif", size=128, count=6, seed=3)
    gt = (690000.0, 0.5, 0.0, 5335000.0, 0.0, -0.5)
    utm, wgs = osr.SpatialReference(), osr.SpatialReference()
    utm.ImportFromEPSG(32632)
    wgs.ImportFromEPSG(4326)
    for s in (utm, wgs):
        s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    to_wgs = osr.CoordinateTransformation(utm, wgs)
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(tmp_path / "labels.gpkg"))
    lyr = ds.CreateLayer("boxes", wgs, ogr.wkbPolygon)
    lyr.CreateField(ogr.FieldDefn("kind", ogr.OFTString))
    names = ["car", "ship"]
    for b, c in zip(boxes, classes):
        ring = ogr.Geometry(ogr.wkbLinearRing)
        for px, py in [(b[0], b[1]), (b[2], b[1]), (b[2], b[3]), (b[0], b[3]), (b[0], b[1])]:
            x, y, _ = to_wgs.TransformPoint(gt[0] + px * gt[1], gt[3] + py * gt[5])
            ring.AddPoint_2D(x, y)
        poly = ogr.Geometry(ogr.wkbPolygon)
        poly.AddGeometry(ring)
        f = ogr.Feature(lyr.GetLayerDefn())
        f.SetField("kind", names[int(c)])
        f.SetGeometry(poly)
        lyr.CreateFeature(f)
    pts = ds.CreateLayer("points", utm, ogr.wkbPoint)
    pts.CreateField(ogr.FieldDefn("kind", ogr.OFTString))
    f = ogr.Feature(pts.GetLayerDefn())
    f.SetField("kind", "car")
    f.SetGeometry(ogr.CreateGeometryFromWkt(f"POINT ({gt[0] + 40 * 0.5} {gt[3] - 30 * 0.5})"))
    pts.CreateFeature(f)
    ds = None

    labels = load_vector(tmp_path / "labels.gpkg", [raster], "kind", layer="boxes")
    assert labels.class_names == ["car", "ship"]
    im = labels.images[0]
    order = np.lexsort((im.boxes[:, 1], im.boxes[:, 0]))
    ref = np.lexsort((boxes[:, 1], boxes[:, 0]))
    np.testing.assert_allclose(im.boxes[order], boxes[ref], atol=0.01)  # through WGS84 and back
    np.testing.assert_array_equal(im.classes[order], classes[ref])

    points = load_vector(tmp_path / "labels.gpkg", [raster], "kind", layer="points", point_size_m=4.0)
    np.testing.assert_allclose(points.images[0].boxes, [[36, 26, 44, 34]], atol=1e-6)  # 4 m = 8 px
    with pytest.raises(LabelError, match="no field 'klass'"):
        load_vector(tmp_path / "labels.gpkg", [raster], "klass", layer="boxes")


def test_split_is_by_image_per_source_and_deterministic(micro4):
    train, val = split_by_image(micro4, 0.15)
    again = split_by_image(micro4, 0.15)[1]
    assert [im.name for im in val.images] == [im.name for im in again.images]
    names = {im.name for im in val.images}
    assert not names & {im.name for im in train.images}
    assert len(train.images) + len(val.images) == 122
    # the last images of each source in name order; dota (2 images) stays in training
    assert "airbus_0072.tif" in names and "airbus_0001.tif" not in names
    assert not any(n.startswith("dota") for n in names)
    assert sum(n.startswith("joplin") for n in names) == 1
    _, given = split_by_image(micro4, val_names=["kit_MOS155.tif"])
    assert [im.name for im in given.images] == ["kit_MOS155.tif"]


def test_chip_boxes_keep_enough_visible_area():
    boxes = np.array([[10, 10, 20, 20], [95, 10, 105, 20], [98, 10, 108, 20]], np.float32)
    b, c = chip_boxes(boxes, np.array([0, 1, 2]), (0, 0, 100, 100), 1.0, 0.5)
    assert c.tolist() == [0, 1]  # the third keeps only 20 % of its area
    np.testing.assert_allclose(b[1], [95, 10, 100, 20])
    b, _ = chip_boxes(boxes, np.array([0, 1, 2]), (0, 0, 100, 100), 2.0, 0.5)
    np.testing.assert_allclose(b[0], [5, 5, 10, 10])  # in chip pixels at half resolution


def test_chips_hold_the_raster_pixels_and_are_cached(tmp_path):
    raster, boxes, classes = make_scene(tmp_path, "s.tif", size=200, count=12, seed=1)
    labels = load_xview(
        write_xview(tmp_path / "l.geojson", [("s.tif", boxes, classes)]),
        tmp_path,
        ClassMap.from_file(write_mapping(tmp_path / "m.json")),
    )
    messages = []
    config = ChipConfig(size=96, overlap=0.25, negative_ratio=1.0)
    store = build_chips(labels.images, 2, config, tmp_path / "cache", log=messages.append)
    from osgeo import gdal

    full = gdal.Open(str(raster)).ReadAsArray()
    for k in range(len(store)):
        x0, y0, x1, y1 = store.origin[k]["window"]
        np.testing.assert_array_equal(store.images[k], full[:, y0:y1, x0:x1])
        for b in store.boxes[k]:  # every chip box lies on a drawn object, not on background
            bx0, by0, bx1, by1 = np.round(b).astype(int)
            assert store.images[k][:, by0:by1, bx0:bx1].std(axis=(1, 2)).max() < 15
    assert sum(len(b) for b in store.boxes) >= len(boxes)  # overlap repeats some
    assert "cut" in messages[-1]
    again = build_chips(labels.images, 2, config, tmp_path / "cache", log=messages.append)
    assert "cached" in messages[-1] and len(again) == len(store)
    # at half the resolution (GSD 1.0 m from 0.5 m) the chips cover twice the ground
    half = build_chips(labels.images, 2, ChipConfig(size=96, gsd=1.0), tmp_path / "cache")
    assert half.origin[0]["scale"] == pytest.approx(2.0)


def _painted(h, w, boxes):
    """A one-band image with each box painted by its index + 1."""
    img = np.zeros((1, h, w), np.uint8)
    for k, b in enumerate(boxes.astype(int)):
        img[0, b[1] : b[3], b[0] : b[2]] = k + 1
    return img


@pytest.mark.parametrize("op", ["rot1", "rot2", "rot3", "lr", "ud"])
def test_rotations_and_flips_move_boxes_exactly_with_pixels(op):
    boxes = np.array([[3, 5, 10, 9], [20, 2, 23, 30], [0, 31, 40, 40]], np.float32)
    img = _painted(40, 48, boxes)  # not square, so width and height mix-ups show
    if op.startswith("rot"):
        out, moved = augment.rot90(img, boxes, int(op[-1]))
    else:
        out, moved = (augment.flip_lr if op == "lr" else augment.flip_ud)(img, boxes)
    np.testing.assert_array_equal(_painted(out.shape[1], out.shape[2], moved), out)


def test_scale_jitter_keeps_boxes_on_their_objects():
    rng = np.random.default_rng(0)
    boxes = np.array([[10, 10, 30, 20], [40, 50, 60, 62]], np.float32)
    img = (_painted(80, 80, boxes) > 0).astype(np.uint8) * 200  # padding is 114
    for factor in (0.7, 1.3):
        out, moved = augment.scale_jitter(img, boxes, factor, rng)
        moved, _ = augment.filter_boxes(moved, np.arange(2), 80, 80, 0.3)
        assert len(moved)
        for b in moved:
            x0, y0, x1, y1 = np.round(b).astype(int)
            inner = out[0, y0 + 1 : y1 - 1, x0 + 1 : x1 - 1]
            assert inner.size and inner.min() > 150  # the object fills its box
        # the painted area equals the boxes' area, up to the interpolated rim
        area = ((moved[:, 2] - moved[:, 0]) * (moved[:, 3] - moved[:, 1])).sum()
        rim = 2 * (moved[:, 2] - moved[:, 0] + moved[:, 3] - moved[:, 1]).sum()
        assert abs((out[0] > 157).sum() - area) <= rim


def test_hsv_jitter_identity_and_gains():
    img = np.random.default_rng(1).integers(0, 256, (3, 8, 8)).astype(np.uint8)
    np.testing.assert_allclose(augment.hsv_jitter(img, 0.0, 1.0, 1.0), img, atol=1)
    grey = augment.hsv_jitter(img, 0.0, 0.0, 1.0)  # no saturation: all bands equal
    assert np.abs(grey.astype(int) - grey[0:1]).max() <= 1


def test_dataset_items_with_mosaic_keep_boxes_on_objects(tmp_path):
    scenes = []
    for i in range(2):
        raster, boxes, classes = make_scene(tmp_path, f"s{i}.tif", size=160, count=14, seed=10 + i)
        scenes.append((raster.name, boxes, classes))
    labels = load_xview(
        write_xview(tmp_path / "l.geojson", scenes), tmp_path, ClassMap.from_file(write_mapping(tmp_path / "m.json"))
    )
    store = build_chips(labels.images, 2, ChipConfig(size=96), tmp_path / "cache")
    ds = ChipDataset(store, augment_config=AugmentConfig(mosaic=1.0, hsv_h=0, hsv_s=0, hsv_v=0, scale=0.2))
    from synthetic import COLOURS

    checked = 0
    for n in range(len(ds)):
        image, targets, annotated = ds[n]
        assert image.shape == (3, 96, 96) and annotated.tolist() == [True, True]
        for c, x0, y0, x1, y1 in targets.numpy():
            x0, y0, x1, y1 = np.round([x0, y0, x1, y1]).astype(int)
            inner = image[:, y0 + 1 : y1 - 1, x0 + 1 : x1 - 1].float().mean((1, 2)).numpy()
            if inner.size and (x1 - x0) > 3 and (y1 - y0) > 3:
                assert np.abs(inner - COLOURS[int(c)]).max() < 40, (n, c, inner)
                checked += 1
    assert checked > 20
    images, targets, annotated = collate([ds[0], ds[1]])
    assert images.shape == (2, 3, 96, 96) and targets.shape[1] == 6 and set(targets[:, 0].tolist()) <= {0.0, 1.0}
