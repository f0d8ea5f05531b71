"""Test-time augmentation: every view's boxes map back exactly, and fusion averages views."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from synthetic import components

from micro_detector.model.spec import ModelSpec
from micro_detector.tta import DEFAULT_VIEWS, VIEWS, TTARunner, fuse, invert_boxes, transform


class BrightObjectRunner:
    """A stand-in model that really looks at the pixels: every bright blob is an object,
    class 0 when wider than tall and class 1 otherwise (so it depends on orientation)."""

    spec = ModelSpec(scale="n", class_names=["wide", "tall"], imgsz=128)
    model_file = Path("bright-objects")

    def __init__(self):
        self.calls = 0

    def predict(self, batch, conf=0.25, iou=0.7, max_det=3000, classes=None):
        self.calls += 1
        out = []
        for image in batch:
            boxes = [box for box, _ in components(image[0] > 200)]
            out.append(
                np.array([(*b, 0.9, 0 if b[2] - b[0] > b[3] - b[1] else 1) for b in boxes], np.float32).reshape(-1, 6)
            )
        return out


def _scene(h=96, w=128):
    """Bright bars on a dark tile; returns the (1, 3, h, w) batch and the true boxes."""
    image = np.full((1, 3, h, w), 40, np.uint8)
    truth = [(5, 7, 21, 13), (40, 50, 46, 80), (100, 3, 127, 9), (60, 20, 63, 30), (0, 88, 9, 96)]
    for x1, y1, x2, y2 in truth:
        image[:, :, y1:y2, x1:x2] = 250
    return image, np.array(truth, float)


@pytest.mark.parametrize("view", VIEWS)
def test_every_view_maps_boxes_back_exactly(view):
    batch, truth = _scene()
    seen = BrightObjectRunner().predict(np.ascontiguousarray(transform(batch, view)))[0]
    back = invert_boxes(seen[:, :4], view, *batch.shape[2:])
    order = lambda b: b[np.lexsort(b.T[::-1])]  # noqa: E731
    assert np.array_equal(order(back), order(truth))


def test_tta_runner_returns_the_drawn_boxes_with_their_classes():
    batch, truth = _scene()
    inner = BrightObjectRunner()
    runner = TTARunner(inner)
    dets = runner.predict(batch)[0]
    assert inner.calls == len(DEFAULT_VIEWS)
    assert runner.spec is inner.spec and runner.model_file == Path("bright-objects")
    order = np.lexsort(dets[:, :4].T[::-1])
    assert np.allclose(dets[order, :4], truth[np.lexsort(truth.T[::-1])])
    # the class comes from the original orientation: fusion never mixes classes
    wide = (truth[:, 2] - truth[:, 0]) > (truth[:, 3] - truth[:, 1])
    assert sorted(dets[:, 5].tolist()) == sorted(np.where(wide, 0, 1).tolist())


def test_fusion_averages_scores_over_views_and_boxes_by_score():
    a = np.array([[10, 10, 20, 20, 0.8, 1]], np.float32)
    b = np.array([[11, 10, 21, 20, 0.4, 1]], np.float32)
    only_once = np.array([[50, 50, 60, 60, 0.9, 0]], np.float32)
    empty = np.zeros((0, 6), np.float32)
    out = fuse([np.vstack([a, only_once]), b, empty, empty])
    assert len(out) == 2
    seen_twice = out[out[:, 5] == 1][0]
    assert seen_twice[4] == pytest.approx((0.8 + 0.4) / 4)
    assert seen_twice[0] == pytest.approx((10 * 0.8 + 11 * 0.4) / 1.2)
    assert out[out[:, 5] == 0][0, 4] == pytest.approx(0.9 / 4)


def test_unknown_view_is_refused():
    with pytest.raises(ValueError, match="unknown TTA view"):
        TTARunner(BrightObjectRunner(), views=("identity", "mirror"))
