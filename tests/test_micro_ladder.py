"""The micro ladder's rungs: images resampled by area averaging to a target median object
side, labels scaled with them, the GSD in the file, readable by `evaluate`'s label reader."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal
from synthetic import make_scene, write_mapping, write_xview

from micro_detector.raster import read_info
from micro_detector.training.labels import ClassMap, load_xview

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import ladder_rungs  # noqa: E402


@pytest.fixture(autouse=True)
def _no_side_files(monkeypatch):
    monkeypatch.setenv("GDAL_PAM_ENABLED", "NO")


@pytest.fixture
def scenes(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    rows = []
    for i in range(2):
        raster, boxes, classes = make_scene(src, f"scene{i}.tif", size=192, count=12, seed=i, gsd=0.25)
        rows.append((raster.name, boxes, classes))
    mapping = write_mapping(src / "map.json")
    labels = load_xview(write_xview(src / "labels.geojson", rows), src, ClassMap.from_file(mapping))
    return labels, json.loads(mapping.read_text())


def _rung(labels, classes_json, tmp_path, target):
    medians = ladder_rungs.class_medians(labels)
    plan = ladder_rungs.plan_rung(ladder_rungs.pick_images(labels, None), labels.class_names, medians, target)
    folder = tmp_path / f"rung{target}"
    manifest = {"target": target, "images": [(p["image"].name, p["factor"]) for p in plan]}
    type_ids = {"vehicle": 18, "boat": 40}
    ladder_rungs.write_rung(folder, str(target), plan, labels.class_names, type_ids, classes_json, manifest)
    return folder, plan, medians, (plan, type_ids, manifest)


def test_rung_scales_image_labels_and_gsd_together(scenes, tmp_path):
    labels, classes_json = scenes
    folder, plan, medians, _ = _rung(labels, classes_json, tmp_path, 4.0)
    assert not (tmp_path / "rung4.0.partial").exists()
    rung = load_xview(
        folder / "labels.geojson",
        folder / "images",
        ClassMap.from_file(folder / "classes.json"),
        folder / "images.json",
    )
    assert len(rung.images) == len(labels.images) and rung.class_names == labels.class_names
    records = {r["image_id"]: r for r in json.loads((folder / "images.json").read_text())}
    for src, im, item in zip(labels.images, rung.images, plan):
        f = item["factor"]
        assert f == pytest.approx(medians[item["class"]] / 4.0, rel=1e-3) and f > 1.1
        assert im.width == round(src.width / f) and im.height == round(src.height / f)
        # the labels follow the image, and the GSD in the file grows by the same factor
        assert np.allclose(
            im.boxes, src.boxes * np.array([im.width / src.width, im.height / src.height] * 2), atol=0.01
        )
        assert read_info(im.path).pixel_size_m == pytest.approx(0.25 * src.width / im.width, rel=1e-6)
        assert records[im.name]["gsd_m"] == pytest.approx(read_info(im.path).pixel_size_m, rel=1e-5)
        # area averaging: the mean brightness is kept
        a = gdal.Open(src.path).ReadAsArray().astype(float).mean()
        b = gdal.Open(im.path).ReadAsArray().astype(float).mean()
        assert abs(a - b) < 1.5
    # each class's median side is at the target over the images it leads (an image takes the
    # factor of its majority class)
    for k, name in enumerate(rung.class_names):
        led = [im for im, item in zip(rung.images, plan) if item["class"] == name]
        if led:
            s = np.concatenate([ladder_rungs.sides(im.boxes[im.classes == k]) for im in led])
            native = np.concatenate(
                [
                    ladder_rungs.sides(im.boxes[im.classes == k])
                    for im, item in zip(labels.images, plan)
                    if item["class"] == name
                ]
            )
            assert np.median(s) == pytest.approx(
                np.median(native) / plan[0]["factor"] if len(led) == 1 else 4.0, rel=0.1
            ), name


def test_native_rung_is_exact_and_a_built_rung_is_reused(scenes, tmp_path):
    labels, classes_json = scenes
    folder, plan, _, _ = _rung(labels, classes_json, tmp_path, None)
    assert all(p["factor"] == 1.0 for p in plan)
    rung = load_xview(folder / "labels.geojson", folder / "images", ClassMap.from_file(folder / "classes.json"))
    for src, im in zip(labels.images, rung.images):
        assert im.path.endswith(".vrt")
        assert np.array_equal(gdal.Open(src.path).ReadAsArray(), gdal.Open(im.path).ReadAsArray())
        assert np.allclose(im.boxes, src.boxes)
    stamp = (folder / "labels.geojson").stat().st_mtime_ns
    _rung(labels, classes_json, tmp_path, None)  # same manifest: kept as is
    assert (folder / "labels.geojson").stat().st_mtime_ns == stamp


def test_a_class_already_smaller_than_the_target_leaves_the_rung(scenes):
    labels, _ = scenes
    medians = ladder_rungs.class_medians(labels)
    big = max(medians.values()) * 2
    assert ladder_rungs.plan_rung(labels.images, labels.class_names, medians, big) == []
    # limit: taken in turn from each majority class
    picked = ladder_rungs.pick_images(labels, 1)
    assert len(picked) == 1
