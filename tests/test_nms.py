"""Vectorised class-aware NMS (torch and numpy) against a brute-force greedy reference."""

import numpy as np
import pytest
import torch

from micro_detector import boxes as npboxes
from micro_detector.model import nms as tnms


def brute_force_nms(boxes, scores, classes, thr, metric="iou"):
    order = sorted(range(len(boxes)), key=lambda k: -scores[k])
    kept = []
    for k in order:
        ok = True
        for m in kept:
            if classes[m] != classes[k]:
                continue
            x1, y1 = max(boxes[m][0], boxes[k][0]), max(boxes[m][1], boxes[k][1])
            x2, y2 = min(boxes[m][2], boxes[k][2]), min(boxes[m][3], boxes[k][3])
            inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
            am = (boxes[m][2] - boxes[m][0]) * (boxes[m][3] - boxes[m][1])
            ak = (boxes[k][2] - boxes[k][0]) * (boxes[k][3] - boxes[k][1])
            denom = am + ak - inter if metric == "iou" else min(am, ak)
            if inter / denom > thr:
                ok = False
                break
        if ok:
            kept.append(k)
    return kept


def random_boxes(rng, n, extent=200.0, nc=3):
    xy = rng.uniform(0, extent, (n, 2))
    wh = rng.uniform(5, 40, (n, 2))
    boxes = np.concatenate([xy, xy + wh], 1).astype(np.float32)
    # unique scores: greedy NMS is only defined up to ties
    scores = rng.permutation(n).astype(np.float32) / n
    return boxes, scores, rng.integers(0, nc, n)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("thr", [0.3, 0.5, 0.7])
def test_torch_nms_equals_brute_force(seed, thr):
    rng = np.random.default_rng(seed)
    boxes, scores, classes = random_boxes(rng, 300)
    expected = brute_force_nms(boxes, scores, classes, thr)
    got = tnms.batched_nms(torch.from_numpy(boxes), torch.from_numpy(scores), torch.from_numpy(classes), thr, chunk=64)
    assert got.tolist() == expected


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("metric", ["iou", "ios"])
def test_numpy_nms_equals_brute_force(seed, metric):
    rng = np.random.default_rng(seed)
    boxes, scores, classes = random_boxes(rng, 300)
    expected = brute_force_nms(boxes, scores, classes, 0.5, metric)
    got = npboxes.batched_nms(boxes, scores, classes, 0.5, metric)
    assert got.tolist() == expected


def test_nms_keeps_overlapping_boxes_of_other_classes():
    boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 10.0]])
    keep = tnms.batched_nms(boxes, torch.tensor([0.9, 0.8, 0.7]), torch.tensor([0, 0, 1]), 0.5)
    assert keep.tolist() == [0, 2]


def test_chain_suppression_is_greedy_not_fast_nms():
    # b suppresses c only if b is kept; a suppresses b, so c must survive (Fast-NMS would drop it)
    boxes = torch.tensor([[0, 0, 10, 10], [4, 0, 14, 10], [8, 0, 18, 10.0]])
    keep = tnms.batched_nms(boxes, torch.tensor([0.9, 0.8, 0.7]), torch.zeros(3), 0.3)
    assert keep.tolist() == [0, 2]


def test_empty_input():
    assert tnms.batched_nms(torch.zeros(0, 4), torch.zeros(0), torch.zeros(0), 0.5).numel() == 0
    assert npboxes.batched_nms(np.zeros((0, 4)), np.zeros(0), np.zeros(0), 0.5).size == 0
