"""The zoom pass (`DetectOptions.zoom`, `--zoom`): a second pass over the raster magnified Z
times, merged with the plain pass by the cross-tile merge.

The stand-in model really looks at the pixels and, like a real one, is blind to objects under
a size: it reports bright blobs only from 12 model pixels up. On a scene of 8 px and 20 px
squares the plain pass finds only the large ones; with zoom 2 every square is found once,
its box mapped back to raster pixels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal, osr
from synthetic import components

from micro_detector import engine
from micro_detector.boxes import box_iou
from micro_detector.model.spec import ModelSpec
from micro_detector.options import DetectOptions, OptionsError

MIN_SIDE = 12  # model pixels


class SizeLimitedRunner:
    """Bright blobs of at least MIN_SIDE model pixels on both sides are objects."""

    spec = ModelSpec(scale="n", class_names=["square"], imgsz=128)
    model_file = Path("size-limited")

    def __init__(self):
        self.tiles = []

    def predict(self, batch, conf=0.25, iou=0.7, max_det=3000, classes=None):
        out = []
        for image in batch:
            self.tiles.append(image.shape[1:])
            boxes = [b for b, _ in components(image[0] > 150) if b[2] - b[0] >= MIN_SIDE and b[3] - b[1] >= MIN_SIDE]
            out.append(np.array([(*b, 0.9, 0) for b in boxes], np.float32).reshape(-1, 6))
        return out


@pytest.fixture()
def scene(tmp_path):
    """A 300 x 200 px georeferenced raster (0.5 m, UTM 32N) of 8 px and 20 px bright squares."""
    small = [(20 + 37 * i, 30 + 23 * (i % 3), 8) for i in range(7)]
    large = [(40, 140, 20), (150, 130, 20), (255, 150, 20)]
    image = np.full((3, 200, 300), 30, np.uint8)
    truth = []
    for x, y, side in small + large:
        image[:, y : y + side, x : x + side] = 240
        truth.append((x, y, x + side, y + side))
    path = tmp_path / "squares.tif"
    ds = gdal.GetDriverByName("GTiff").Create(str(path), 300, 200, 3, gdal.GDT_Byte)
    ds.SetGeoTransform((500000.0, 0.5, 0, 5300000.0, 0, -0.5))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32632)
    ds.SetProjection(srs.ExportToWkt())
    ds.WriteRaster(0, 0, 300, 200, image.tobytes())
    ds = None
    return path, np.array(truth, float)


def test_zoom_pass_finds_objects_too_small_for_the_model(scene):
    path, truth = scene
    options = DetectOptions(conf=0.25, overlap=0.25)
    plain = engine.detect(path, None, SizeLimitedRunner(), options=options)
    assert len(plain) == 3  # only the 20 px squares: 8 px is under the model's 12

    runner, seen = SizeLimitedRunner(), []
    zoomed = engine.detect(
        path,
        None,
        runner,
        options=DetectOptions(conf=0.25, overlap=0.25, zoom=2),
        progress=lambda done, total: seen.append((done, total)),
    )
    boxes = np.asarray(zoomed.boxes, float)
    assert len(boxes) == len(truth)  # every square once: the passes' duplicates are merged
    iou = box_iou(truth, boxes)
    assert (iou.max(1) >= 0.8).all(), iou.max(1)  # each box lies on its square, in raster pixels
    # both passes ran and are counted: the zoom pass reads 64 px windows at 128 model px
    plain_tiles = plain.report["tiles"]
    assert zoomed.report["tiles"] > plain_tiles
    assert seen[-1][0] == seen[-1][1] == zoomed.report["tiles"]
    assert all(b - a >= 0 for (a, _), (b, _) in zip(seen, seen[1:]))  # progress never goes back
    assert any("zoom pass" in note and "magnified 2x" in note for note in zoomed.report["notes"])
    assert all(shape == (128, 128) for shape in runner.tiles)

    # the zoom pass gives only objects up to zoom_max_side plain-pass model pixels: with 10,
    # the 20 px squares come from the plain pass alone (fewer boxes before the merge), and
    # every square is still found once
    small_only = engine.detect(
        path, None, SizeLimitedRunner(), options=DetectOptions(conf=0.25, overlap=0.25, zoom=2, zoom_max_side=10)
    )
    assert len(small_only) == len(truth)
    assert small_only.report["boxes_before_merge"] <= zoomed.report["boxes_before_merge"] - 3


def test_zoom_is_checked_up_front():
    for bad in (1, 0.5, 9, float("nan"), "2"):
        with pytest.raises(OptionsError, match="zoom"):
            DetectOptions(zoom=bad)
    with pytest.raises(OptionsError, match="zoom_max_side"):
        DetectOptions(zoom=2, zoom_max_side=0)


def test_zoom_from_the_command_line():
    import argparse

    from micro_detector.cli_args import add_detect_options, detect_options

    p = argparse.ArgumentParser()
    add_detect_options(p)
    assert detect_options(p.parse_args(["--zoom", "2"])).zoom == 2
    with pytest.raises(SystemExit):
        p.parse_args(["--zoom", "1"])


def _coarse_demo(tmp_path, factor: int = 5):
    """The shipped demo frame (0.13 m, cars about 25 px, in the default model's validation
    split) averaged down `factor` times: 0.65 m, cars about 5 px. Returns (path, truth)."""
    import json

    from conftest import ROOT

    demo = ROOT / "resources" / "demo" / "kit_MunichStreet02-MOS93.tif"
    features = json.loads(demo.with_suffix(".geojson").read_text())["features"]
    truth = np.array([[float(v) for v in f["properties"]["bounds_imcoords"].split(",")] for f in features])
    ds = gdal.Open(str(demo))
    path = tmp_path / "demo_coarse.tif"
    gdal.Translate(
        str(path),
        ds,
        width=round(ds.RasterXSize / factor),
        height=round(ds.RasterYSize / factor),
        resampleAlg="average",
    )
    return path, truth / factor


def test_zoom_pass_recovers_cars_of_5_px_with_the_default_model(tmp_path):
    """Real imagery, real model: at 0.65 m the plain pass misses many of the 40 cars (recall
    at IoU 0.5: 0.625 with the YOLOv12s default v4, 0.2 with the n model v3); the zoom pass
    shows them at about 10 px and finds nearly all (0.925; v3 0.78)."""
    from micro_detector.cli import default_model_path
    from micro_detector.model.runner import open_runner

    path, truth = _coarse_demo(tmp_path)
    runner = open_runner(default_model_path())
    recall = {}
    for zoom in (None, 2):
        result = engine.detect(path, None, runner, options=DetectOptions(zoom=zoom))
        cars = result.boxes[result.class_ids == result.class_names.index("vehicle")]
        recall[zoom] = (box_iou(truth, cars) >= 0.5).any(1).mean()
    assert recall[None] <= 0.75 and recall[2] >= 0.85 and recall[2] >= recall[None] + 0.2, recall


def test_qgis_detect_has_the_zoom_pass(plugin, tmp_path):
    """The toolbox's advanced 'Zoom pass' reaches the engine; a zoom of 1 is refused up front."""
    from qgis.core import QgsProcessingException, QgsVectorLayer

    import processing

    path, truth = _coarse_demo(tmp_path)
    counts = {}
    for zoom in (0, 2):
        out = tmp_path / f"zoom{zoom}.gpkg"
        processing.run("micro_detector:detect", {"INPUT": str(path), "ZOOM": zoom, "OUTPUT": str(out)})
        layer = QgsVectorLayer(str(out), "d", "ogr")
        counts[zoom] = sum(1 for f in layer.getFeatures() if f["class_name"] == "vehicle")
    assert counts[2] >= counts[0] + 5, counts
    with pytest.raises(QgsProcessingException, match="magnification above 1"):
        processing.run("micro_detector:detect", {"INPUT": str(path), "ZOOM": 1, "OUTPUT": str(tmp_path / "x.gpkg")})
    assert not (tmp_path / "x.gpkg").exists()


@pytest.mark.parametrize("gsd, zoom", [(0.5, 2.0), (0.26, 0.26 / 0.15), (0.13, None), (0.17, None)])
def test_zoom_pass_never_reads_finer_than_the_model_serves(tmp_path, gsd, zoom):
    """A model trained at 0.15-0.6 m is not shown the raster finer than 0.15 m: the zoom is
    cut to reach 0.15 m, and the pass is skipped (and said so) when that leaves too little."""
    from dataclasses import replace

    from micro_detector.plan import plan_tiles, zoom_plan
    from micro_detector.raster import read_info

    path = tmp_path / "r.tif"
    ds = gdal.GetDriverByName("GTiff").Create(str(path), 400, 300, 3, gdal.GDT_Byte)
    ds.SetGeoTransform((500000.0, gsd, 0, 5300000.0, 0, -gsd))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32632)
    ds.SetProjection(srs.ExportToWkt())
    ds = None
    spec = replace(SizeLimitedRunner.spec, gsd_min=0.15, gsd_max=0.6)
    options = DetectOptions(zoom=2)
    plan = plan_tiles(read_info(path), spec, options)
    zoomed = zoom_plan(plan.info, spec, options, plan)
    if zoom is None:
        assert zoomed is None
        assert any("zoom pass skipped" in n and "0.15 m" in n for n in plan.notes), plan.notes
    else:
        assert zoomed.scale == pytest.approx(plan.scale / zoom)
        assert zoomed.scale * gsd == pytest.approx(max(gsd / 2, 0.15))  # metres per model pixel
        assert any(f"magnified {zoom:.3g}x" in n for n in plan.notes), plan.notes
    # a model that states no GSD: the zoom as asked
    assert (
        zoom_plan(
            plan.info, SizeLimitedRunner.spec, options, plan_tiles(plan.info, SizeLimitedRunner.spec, options)
        ).scale
        == 0.5
    )
