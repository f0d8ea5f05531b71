"""Detection options: every value checked when built, one table of defaults."""

import dataclasses

import numpy as np
import pytest

from micro_detector.merge import merge_detections
from micro_detector.options import DetectOptions, OptionsError, field_default, option_default


@pytest.mark.parametrize(
    "kw, word",
    [
        (dict(tile=-64), "tile"),
        (dict(tile=0), "tile"),
        (dict(tile=100), "multiple of 32"),
        (dict(overlap=-0.1), "overlap"),
        (dict(tile=64, overlap=64), "smaller than the tile"),
        (dict(conf=2), "conf"),
        (dict(conf=-0.1), "conf"),
        (dict(iou=0), "iou"),
        (dict(iou=1.5), "iou"),
        (dict(batch=0), "batch"),
        (dict(batch=2.5), "batch"),
        (dict(scale=0), "scale"),
        (dict(scale=-1.0), "scale"),
        (dict(gsd=0), "gsd"),
        (dict(merge="wbf"), "nms or nmm"),
        (dict(match="giou"), "iou or ios"),
        (dict(device="gpu"), "device"),
        (dict(backend="tf"), "backend"),
        (dict(extent=(10, 0, 5, 1)), "xmin < xmax"),
        (dict(extent=(0, 5, 1, 5)), "ymin < ymax"),
        (dict(extent=(1, 2, 3)), "four numbers"),
        (dict(extent_crs="EPSG:999999"), "extent_crs"),
        (dict(bands=[0, 1, 2]), "bands"),
        (dict(conf="high"), "number"),
        (dict(max_det=0), "max_det"),
    ],
)
def test_out_of_range_options_are_refused_when_built(kw, word):
    with pytest.raises(OptionsError, match=word) as error:
        DetectOptions(**kw)
    assert isinstance(error.value, ValueError)
    assert next(iter(kw)) in str(error.value)  # the message names the option


def test_valid_options_and_one_table_of_defaults():
    o = DetectOptions(
        tile=640,
        overlap=64,
        conf=0,
        iou=1,
        batch=1,
        scale=0.5,
        device="cuda:1",
        extent=(0, 0, 1, 1),
        extent_crs="EPSG:4326",
        agnostic=True,
        gsd=0.3,
        tta=True,
    )
    assert o.extent == (0.0, 0.0, 1.0, 1.0)
    defaults = {f.name: f.default for f in dataclasses.fields(DetectOptions)}
    assert option_default("conf") == defaults["conf"] == 0.25
    assert option_default("batch") is None and option_default("tile") is None
    with pytest.raises(KeyError):
        option_default("colour")
    # any dataclass's field, a factory's value included (the training defaults QGIS reads)
    from micro_detector.training.config import ChipConfig, TrainConfig

    assert field_default(TrainConfig, "chips") == ChipConfig() and field_default(TrainConfig, "scale") == "n"


def test_batch_by_device_when_not_given():
    """1 tile per pass on a CPU (batching gains nothing there and multiplies activation
    memory), 8 on a GPU; a batch the user gives always wins."""
    from types import SimpleNamespace

    from micro_detector.predict import batch_size

    cpu, gpu = SimpleNamespace(device="cpu"), SimpleNamespace(device="cuda:0")
    assert batch_size(DetectOptions(), cpu) == 1 and batch_size(DetectOptions(), gpu) == 8
    assert batch_size(DetectOptions(batch=4), cpu) == 4 and batch_size(DetectOptions(batch=2), gpu) == 2
    assert batch_size(DetectOptions(), SimpleNamespace()) == 1  # a runner that states no device


def test_agnostic_merge_suppresses_boxes_of_other_classes_on_the_same_object():
    boxes = np.array([[0, 0, 10, 10], [0.5, 0, 10, 10.5], [30, 30, 40, 40]], float)
    scores = np.array([0.9, 0.8, 0.7])
    classes = np.array([0, 1, 1])
    kept, _ = merge_detections(boxes, scores, classes, threshold=0.5)
    assert sorted(kept.tolist()) == [0, 1, 2]
    kept, _ = merge_detections(boxes, scores, classes, threshold=0.5, agnostic=True)
    assert sorted(kept.tolist()) == [0, 2]
