"""`evaluate`: every image is checked before the first inference; the report files go into a
folder of their own and the API says what it wrote."""

from __future__ import annotations

import json

import numpy as np
import pytest
from osgeo import gdal, osr
from synthetic import make_scene, write_mapping, write_xview

from micro_detector.model.io import save_model
from micro_detector.model.spec import ModelSpec
from micro_detector.model.yolov12 import build_model
from micro_detector.training import evaluate as evaluate_module
from micro_detector.training.evaluate import (
    EvalOptions,
    ImageCheckError,
    check_images,
    eval_detect_options,
    evaluate_model_file,
)
from micro_detector.training.labels import ClassMap, load_xview


@pytest.fixture(autouse=True)
def _no_side_files(monkeypatch, tmp_path):
    monkeypatch.setenv("GDAL_PAM_ENABLED", "NO")
    monkeypatch.setenv("MICRO_DETECTOR_CACHE", str(tmp_path / "model-cache"))  # exports stay in tmp


def _raster(path, bands: int, dtype=gdal.GDT_Byte, size: int = 96):
    ds = gdal.GetDriverByName("GTiff").Create(str(path), size, size, bands, dtype)
    ds.SetGeoTransform((690000.0, 0.5, 0.0, 5335000.0, 0.0, -0.5))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32632)
    ds.SetProjection(srs.ExportToWkt())
    rng = np.random.default_rng(0)
    for b in range(bands):
        ds.GetRasterBand(b + 1).WriteArray(
            rng.integers(0, 4000 if dtype != gdal.GDT_Byte else 255, (size, size)).astype(np.uint16)
        )
    ds = None
    return path


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    """An untrained YOLOv12n for the synthetic classes (the checks need its spec, not its skill)."""
    path = tmp_path_factory.mktemp("model") / "untrained.pt"
    save_model(build_model(ModelSpec(scale="n", class_names=["vehicle", "boat"], imgsz=128)), path)
    return path


@pytest.fixture
def mixed_folder(tmp_path):
    """Two good RGB scenes, a 1-band 16-bit grey image (accepted: the band is repeated) and
    two 2-band images, 8 and 16 bits (refused); all labelled."""
    rows = []
    for i in range(2):
        raster, boxes, classes = make_scene(tmp_path, f"good{i}.tif", size=128, count=6, seed=i)
        rows.append((raster.name, boxes, classes))
    box = (np.array([[10, 10, 20, 20]], np.float32), np.array([0]))
    _raster(tmp_path / "grey16.tif", 1, gdal.GDT_UInt16)
    _raster(tmp_path / "two_bands.tif", 2)
    _raster(tmp_path / "two_bands16.tif", 2, gdal.GDT_UInt16)
    rows += [(name, *box) for name in ("grey16.tif", "two_bands.tif", "two_bands16.tif")]
    return write_xview(tmp_path / "labels.geojson", rows), write_mapping(tmp_path / "map.json")


def test_check_names_every_bad_image_and_accepts_grey(mixed_folder, tmp_path):
    geojson, mapping = mixed_folder
    labels = load_xview(geojson, tmp_path, ClassMap.from_file(mapping))
    spec = ModelSpec(scale="n", class_names=["vehicle", "boat"], imgsz=128)
    logged = []
    with pytest.raises(ImageCheckError) as info:
        check_images(labels, spec, eval_detect_options(), logged.append)
    message = str(info.value)
    assert "two_bands.tif" in message and "two_bands16.tif" in message and "2 band(s)" in message
    assert "2 of 5 images" in message and "good0.tif" not in message and "grey16.tif" not in message
    # the same set without the 2-band images passes, and says the grey image is repeated to RGB
    labels.images = [im for im in labels.images if not im.name.startswith("two_bands")]
    check_images(labels, spec, eval_detect_options(), logged.append)
    assert any("grey16.tif" in line and "grey" in line for line in logged)
    # bands the user names are checked too: band 3 does not exist in the grey image
    with pytest.raises(ImageCheckError, match="grey16.tif"):
        check_images(labels, spec, eval_detect_options(bands=[1, 2, 3]))


def test_cli_fails_before_any_inference_naming_the_bad_images(mixed_folder, tmp_path, model_file, monkeypatch, capsys):
    from micro_detector import cli

    geojson, mapping = mixed_folder
    calls = []
    monkeypatch.setattr(evaluate_module.engine, "detect", lambda *a, **k: calls.append(a) or 1 / 0)
    from micro_detector.model import runner

    monkeypatch.setattr(runner, "open_runner", lambda *a, **k: calls.append(a) or 1 / 0)
    code = cli.main(
        [
            "evaluate",
            str(model_file),
            "--xview",
            str(geojson),
            "--images",
            str(tmp_path),
            "--class-map",
            str(mapping),
            "--device",
            "cpu",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2, err
    assert "two_bands.tif" in err and "two_bands16.tif" in err and "grey16.tif" not in err
    assert "nothing was run" in err and calls == []


def test_report_files_go_into_their_folder_and_are_listed(tmp_path, model_file):
    rows = []
    for i in range(2):
        raster, boxes, classes = make_scene(tmp_path, f"scene{i}.tif", size=128, count=8, seed=i)
        rows.append((raster.name, boxes, classes))
    labels = load_xview(
        write_xview(tmp_path / "labels.geojson", rows),
        tmp_path,
        ClassMap.from_file(write_mapping(tmp_path / "map.json")),
    )
    out = tmp_path / "report_files"
    options = EvalOptions(eval_detect_options(device="cpu", tile=128))
    metrics = evaluate_model_file(model_file, labels, out, options)
    for key in ("metrics_csv", "metrics_json", "sizes_csv", "confusion_csv", "report"):
        assert metrics.files[key].startswith(str(out)), key
    data = json.loads((out / "metrics.json").read_text())
    assert {"rows", "sizes", "confusion"} <= set(data)
    assert metrics.sizes is not None and metrics.confusion is not None
    assert (
        sorted(p.name for p in tmp_path.iterdir() if p.is_file() and p.suffix not in (".tif", ".json", ".geojson"))
        == []
    )
    # a file where the folder should be is refused before any work
    (tmp_path / "taken").write_text("mine")
    with pytest.raises(ValueError, match="is a file"):
        evaluate_model_file(model_file, labels, tmp_path / "taken", options)
    assert (tmp_path / "taken").read_text() == "mine"
