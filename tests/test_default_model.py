"""The shipped default model on the shipped demo raster: it finds the labelled vehicles.

The demo frame is in the validation split of the default model (never trained on). The
thresholds are below what the model reaches (recall 1.0, precision 0.74 at IoU 0.5 on this
frame for the v3 model), so a regression in the model, the engine or the georeferencing
shows.
"""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
from conftest import ROOT

from micro_detector.boxes import box_iou
from micro_detector.cli import default_model_path
from micro_detector.engine import detect
from micro_detector.model.io import read_model_file
from micro_detector.model.runner import open_runner

DEMO = ROOT / "resources" / "demo" / "kit_MunichStreet02-MOS93.tif"
LABELS = DEMO.with_suffix(".geojson")


def _labels() -> np.ndarray:
    features = json.loads(LABELS.read_text())["features"]
    return np.array([[float(v) for v in f["properties"]["bounds_imcoords"].split(",")] for f in features])


def test_default_model_is_shipped_with_its_description():
    path = default_model_path()
    assert path == ROOT / "resources" / "models" / "default.pt"
    payload = read_model_file(path)
    assert payload["spec"].class_names == ["boat", "building", "plane", "vehicle"]
    assert payload["metadata"]["trained"] is True
    assert "kit_MunichStreet02-MOS93.tif" in payload["metadata"]["val_images"]
    assert payload["metadata"]["val_table"][0]["class"] == "all"


def test_default_model_finds_the_labelled_vehicles_of_the_demo():
    truth = _labels()
    assert len(truth) == 40
    result = detect(DEMO, None, open_runner(default_model_path()))
    vehicles = result.class_ids == result.class_names.index("vehicle")
    iou = box_iou(truth, result.boxes[vehicles])
    recall = (iou >= 0.5).any(1).mean()
    # detections on unlabelled cars cut by the border are not errors: score inside the image
    inner = (result.boxes[vehicles][:, 0] > 5) & (result.boxes[vehicles][:, 2] < 1279)
    precision = (iou >= 0.5).any(0)[inner].mean()
    # precision is a floor, not the model's figure: among the "false" boxes of this one frame are
    # real but unlabelled cars; the v3 model adds two low-score boxes on white roof skylights
    # (0.74 here, v2 0.76) while its vehicle mAP50 over the 7 KIT validation frames is 0.992
    # (v2 0.989, benchmarks/micro_ladder_stage3.txt)
    assert recall >= 0.9 and precision >= 0.7, (recall, precision)
    # map positions: the polygons lie on the raster's ground (EPSG:32632, 0.13 m pixels)
    gt = (result.rings[:, :, 0].min(), result.rings[:, :, 1].max())
    from osgeo import gdal

    g = gdal.Open(str(DEMO)).GetGeoTransform()
    assert g[0] <= gt[0] <= g[0] + 1284 * g[1] and g[3] + 377 * g[5] <= gt[1] <= g[3]


@pytest.mark.slow
def test_make_demo_writes_the_geopackage_and_the_quicklook(tmp_path):
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), str(ROOT / "scripts" / "demo.py"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "detections.gpkg").is_file()
    from qgis.PyQt.QtGui import QImage

    image = QImage(str(tmp_path / "quicklook.png"))
    assert image.width() == 1600 and image.height() > 400
    assert "vehicle" in done.stdout
