"""The detection loss (task-aligned assignment, CIoU, DFL, BCE) and the mAP implementation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from micro_detector.model.spec import ModelSpec
from micro_detector.model.yolov12 import build_model
from micro_detector.training.loss import DetectionLoss, TaskAlignedAssigner, box_ciou
from micro_detector.training.metrics import SIZE_BUCKETS, ImageResult, confusion_matrix, evaluate, size_breakdown


def test_ciou_is_one_for_equal_boxes_and_penalises_distance():
    a = torch.tensor([[10.0, 10, 20, 20]])
    assert box_ciou(a, a).item() == pytest.approx(1.0, abs=1e-5)
    near, far = torch.tensor([[12.0, 10, 22, 20]]), torch.tensor([[30.0, 30, 40, 40]])
    assert 0 < box_ciou(a, near).item() < 1
    assert box_ciou(a, far).item() < 0  # no overlap: the centre distance term still counts


def test_assigner_picks_anchors_inside_the_box_best_aligned_first():
    anchors = torch.tensor([[4.0, 4], [12, 4], [4, 12], [12, 12], [28, 28]])
    gt = torch.tensor([[[0.0, 0, 16, 16]]])
    pred = torch.tensor([[[0.0, 0, 16, 16], [2, 2, 14, 14], [0, 0, 4, 4], [8, 8, 16, 16], [0, 0, 16, 16]]])
    scores = torch.full((1, 5, 2), 0.5)
    tb, ts, fg = TaskAlignedAssigner(topk=2)(scores, pred, anchors, torch.tensor([[1]]), gt, torch.tensor([[True]]))
    assert fg[0].tolist() == [True, True, False, False, False]  # anchor 4 is outside the box
    assert ts[0, 0, 1] == pytest.approx(1.0) and ts[0, :, 0].sum() == 0  # best aligned gets the max IoU (1)
    assert torch.equal(tb[0, 0], gt[0, 0])


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return build_model(ModelSpec(scale="n", class_names=["a", "b"], imgsz=64)).train()


def test_loss_is_finite_and_backpropagates_including_empty_images(tiny):
    x = torch.rand(2, 3, 64, 64)
    targets = torch.tensor([[0, 1, 10.0, 10, 20, 18], [0, 0, 30, 30, 38, 40]])  # image 1 has none
    loss, parts = DetectionLoss(tiny)(tiny(x), targets)
    assert torch.isfinite(loss) and (parts > 0).all()
    loss.backward()
    assert tiny.detect.cv2[0][-1].weight.grad.abs().sum() > 0
    tiny.zero_grad()
    empty, parts = DetectionLoss(tiny)(tiny(x), torch.zeros(0, 6))
    assert parts[0] == 0 and parts[2] == 0 and parts[1] > 0  # only "no object here" is taught


def test_unannotated_classes_carry_no_classification_loss(tiny):
    x = torch.rand(1, 3, 64, 64)
    targets = torch.tensor([[0, 0, 10.0, 10, 20, 18]])
    crit = DetectionLoss(tiny)
    raw = tiny(x)
    _, all_parts = crit(raw, targets, torch.tensor([[True, True]]))
    _, only_a = crit(raw, targets, torch.tensor([[True, False]]))
    _, none = crit(raw, targets, torch.tensor([[False, False]]))
    assert none[1] == 0 and 0 < only_a[1] < all_parts[1]
    assert torch.allclose(only_a[[0, 2]], all_parts[[0, 2]])  # boxes are taught either way


def _random_case(seed: int, n_images: int = 12, nc: int = 3):
    rng = np.random.default_rng(seed)
    results = []
    for _ in range(n_images):
        n = int(rng.integers(0, 12))
        xy = rng.uniform(0, 200, (n, 2))
        wh = rng.uniform(4, 40, (n, 2))
        true = np.concatenate([xy, xy + wh], 1)
        tcls = rng.integers(0, nc, n)
        # predictions: jittered copies of some true boxes, plus false alarms, random scores
        keep = rng.random(n) < 0.8
        jitter = rng.normal(0, 3, (int(keep.sum()), 4))
        pred = np.concatenate(
            [true[keep] + jitter, np.concatenate([rng.uniform(0, 200, (4, 2)), rng.uniform(0, 200, (4, 2)) + 20], 1)]
        )
        pred[:, 2:] = np.maximum(pred[:, 2:], pred[:, :2] + 1)
        pcls = np.concatenate(
            [
                np.where(rng.random(int(keep.sum())) < 0.9, tcls[keep], rng.integers(0, nc, int(keep.sum()))),
                rng.integers(0, nc, 4),
            ]
        )
        scores = rng.uniform(0.05, 1, len(pred)).round(2)  # rounded: ties happen, as in real runs
        results.append(ImageResult(pred, scores, pcls, true, tcls))
    return results


def _cocoeval(results, nc: int, area_ranges):
    """pycocotools' precision array (T, R, K, A) for these results and area ranges."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    gt = COCO()
    images, anns, dets = [], [], []
    for i, r in enumerate(results):
        images.append({"id": i, "width": 300, "height": 300})
        for b, c in zip(r.true_boxes, r.true_classes):
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": i,
                    "category_id": int(c),
                    "iscrowd": 0,
                    "bbox": [float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])],
                    "area": float((b[2] - b[0]) * (b[3] - b[1])),
                }
            )
        for b, s, c in zip(r.pred_boxes, r.pred_scores, r.pred_classes):
            dets.append(
                {
                    "image_id": i,
                    "category_id": int(c),
                    "score": float(s),
                    "bbox": [float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])],
                }
            )
    gt.dataset = {"images": images, "annotations": anns, "categories": [{"id": k} for k in range(nc)]}
    gt.createIndex()
    dt = gt.loadRes(dets)
    ev = COCOeval(gt, dt, "bbox")
    ev.params.maxDets = [1000]
    ev.params.areaRng = [list(r) for r in area_ranges]
    ev.params.areaRngLbl = [str(i) for i in range(len(area_ranges))]
    ev.evaluate()
    ev.accumulate()
    return ev.eval["precision"][:, :, :, :, 0]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_map_agrees_with_pycocotools(seed):
    nc = 3
    results = _random_case(seed, nc=nc)
    ours = evaluate(results, ["a", "b", "c"])
    precision = _cocoeval(results, nc, [(0, 1e10)])[..., 0]  # (T, R, K)
    for k in range(nc):
        p = precision[:, :, k]
        if (p < 0).all():
            assert ours.instances[k] == 0
            continue
        assert ours.ap50[k] == pytest.approx(p[0].mean(), abs=1e-3)
        assert ours.ap[k] == pytest.approx(p.mean(), abs=1e-3)
    assert 0.05 < ours.overall()["mAP50"] < 1  # a case with some misses, not a trivial one


def test_perfect_and_empty_predictions_and_unannotated_images():
    true = np.array([[0, 0, 10, 10], [20, 20, 30, 30]], float)
    perfect = ImageResult(true, np.array([0.9, 0.8]), np.array([0, 1]), true, np.array([0, 1]))
    m = evaluate([perfect], ["a", "b"])
    assert m.ap50 == pytest.approx([1, 1]) and m.ap == pytest.approx([1, 1])
    assert m.precision == pytest.approx([1, 1]) and m.recall == pytest.approx([1, 1])
    missed = ImageResult(np.zeros((0, 4)), np.zeros(0), np.zeros(0, int), true, np.array([0, 1]))
    assert evaluate([missed], ["a", "b"]).ap50.tolist() == [0.0, 0.0]
    # a "b" detection on an image that does not annotate "b" is not a false positive
    extra = ImageResult(
        np.array([[0, 0, 10, 10], [50, 50, 60, 60.0]]),
        np.array([0.85, 0.95]),
        np.array([0, 1]),
        true[:1],
        np.array([0]),
        annotated=np.array([True, False]),
    )
    m = evaluate([perfect, extra], ["a", "b"])
    assert m.ap50 == pytest.approx([1, 1]) and m.instances.tolist() == [2, 1]
    table = m.table()
    assert "mAP50-95" in table.splitlines()[0] and table.splitlines()[1].split()[0] == "all"


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_size_breakdown_agrees_with_pycocotools_area_ranges(seed):
    nc = 3
    results = _random_case(seed, n_images=16, nc=nc)
    ours = size_breakdown(results, ["a", "b", "c"])
    precision = _cocoeval(results, nc, [(lo * lo, hi * hi) for _, lo, hi in SIZE_BUCKETS])  # (T, R, K, A)
    compared = 0
    for a in range(len(SIZE_BUCKETS)):
        for k in range(nc):
            p = precision[:, :, k, a]
            if (p < 0).all():  # no true box of the class in the bucket
                assert ours.instances[a, k] == 0 and np.isnan(ours.ap50[a, k])
                continue
            assert ours.ap50[a, k] == pytest.approx(p[0].mean(), abs=1e-6)
            assert ours.ap[a, k] == pytest.approx(p.mean(), abs=1e-6)
            compared += 1
    assert compared >= 8  # most buckets hold boxes: the case exercises the area rules


def test_size_bucket_ignores_out_of_range_matches_and_counts_inside_ones():
    # one 6 px object (very tiny) found, one 20 px object (small) found, a 20 px false alarm
    true = np.array([[0, 0, 6, 6], [50, 50, 70, 70]], float)
    pred = np.array([[0, 0, 6, 6], [50, 50, 70, 70], [100, 100, 120, 120]], float)
    r = ImageResult(pred, np.array([0.9, 0.8, 0.95]), np.zeros(3, int), true, np.zeros(2, int))
    s = size_breakdown([r], ["a"])
    very_tiny, small = s.buckets.index("very tiny"), s.buckets.index("small")
    assert s.instances[:, 0].tolist() == [1, 0, 1, 0]
    # very tiny: the 20 px prediction matched to the (ignored) 20 px object and the 20 px false
    # alarm are both outside the bucket: ignored, so the only counted prediction is right
    assert s.ap50[very_tiny, 0] == pytest.approx(1.0)
    # small: the false alarm ranks first, so precision at full recall is 1/2
    assert s.ap50[small, 0] == pytest.approx(0.5, abs=0.01)
    assert "very tiny" in s.table() and s.rows()[0]["size"] == "very tiny"


def test_confusion_matrix_counts_cross_class_background_and_missed():
    # classes a, b, c; c is not annotated in the image
    true = np.array([[0, 0, 10, 10], [20, 20, 30, 30], [40, 40, 50, 50]], float)
    tcls = np.array([0, 0, 1])
    pred = np.array(
        [
            [0, 0, 10, 10],  # a on a: right
            [0, 0, 10, 9],  # b on the same a: cross-class
            [20, 20, 30, 30],  # c on a (c unannotated): still a confusion
            [60, 60, 70, 70],  # b on nothing: background false positive
            [80, 80, 90, 90],  # c on nothing, c unannotated: not counted
            [40, 40, 50, 50],
        ],
        float,
    )  # below conf: ignored, so the b object is missed
    r = ImageResult(
        pred,
        np.array([0.9, 0.8, 0.7, 0.6, 0.6, 0.1]),
        np.array([0, 1, 2, 1, 2, 1]),
        true,
        tcls,
        annotated=np.array([True, True, False]),
    )
    c = confusion_matrix([r], ["a", "b", "c"], conf=0.25)
    m = c.matrix
    assert m[0].tolist() == [1, 1, 1, 0]  # a: found as a, as b, as c; none missed
    assert m[1].tolist() == [0, 0, 0, 1]  # b: missed
    assert m[3].tolist() == [0, 1, 0, 0]  # background: one b false alarm
    assert c.cross_class() == 2
    assert "2 cross-class" in c.table() and c.to_dict()["cross_class"] == 2
