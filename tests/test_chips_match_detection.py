"""Training chips and detection tiles come from one plan and one reader: same windows, same pixels."""

import numpy as np
from osgeo import gdal
from synthetic import write_raster

from micro_detector.engine import DetectOptions, plan_raster, predict_block
from micro_detector.model.spec import ModelSpec
from micro_detector.training.chips import ChipConfig, build_chips
from micro_detector.training.labels import LabeledImage


class RecordingRunner:
    """Keeps every tile it is given; finds nothing."""

    def __init__(self, spec):
        self.spec, self.model_file, self.tiles = spec, None, []

    def predict(self, batch, conf=0.25, iou=0.7, max_det=3000, classes=None):
        self.tiles.extend(np.array(image) for image in batch)
        return [np.zeros((0, 6), np.float32) for _ in batch]


def test_a_chip_and_the_detection_tile_of_its_window_are_the_same_pixels(tmp_path):
    objects = [(30, 40, 50, 56, 1), (150, 90, 170, 110, 3), (200, 200, 230, 215, 0)]
    raster = write_raster(
        tmp_path / "u16.tif", 256, 256, objects, dtype=gdal.GDT_UInt16, background=300, value=4000
    )  # 0.5 m pixels, 16-bit: stretched
    boxes = np.array([o[:4] for o in objects], np.float32)
    image = LabeledImage(str(raster), 256, 256, boxes, np.array([o[4] for o in objects]), np.ones(4, bool))
    config = ChipConfig(size=64, overlap=0.25, gsd=1.0, negative_ratio=1.0)
    store = build_chips([image], 4, config, tmp_path / "cache")

    spec = ModelSpec(scale="n", imgsz=64, gsd=1.0)  # a model trained at the chips' GSD
    options = DetectOptions(tile=64, overlap=0.25)
    plan = plan_raster(raster, spec, options)
    runner = RecordingRunner(spec)
    predict_block(raster, runner, plan, options)
    tiles = {w.bounds: tile for w, tile in zip(plan.windows, runner.tiles)}

    assert plan.scale == 2.0 and len(store) >= 4
    for k in range(len(store)):
        assert store.origin[k]["scale"] == plan.scale
        tile = tiles[tuple(store.origin[k]["window"])]
        np.testing.assert_array_equal(store.images[k], tile)
    assert sum(int(img.max()) > 200 for img in store.images) >= 3  # chips with objects among them
