"""Box geometry and class-aware greedy NMS in numpy (no torch).

Used where torch may be absent or the work is on the CPU anyway: the ONNX Runtime runner
and the cross-tile merge. Same algorithm as `model.nms` (pairs + fixed-point greedy).
"""

from __future__ import annotations

import numpy as np


def box_area(b: np.ndarray) -> np.ndarray:
    """Areas of (n, 4) xyxy boxes (0 for inverted ones)."""
    return np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)


def box_inter(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise intersection areas of xyxy boxes: (n, 4) x (m, 4) -> (n, m)."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    return np.clip(rb - lt, 0, None).prod(-1)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise intersection over union: (n, 4) x (m, 4) -> (n, m)."""
    inter = box_inter(a, b)
    return inter / np.maximum(box_area(a)[:, None] + box_area(b)[None, :] - inter, 1e-9)


def box_ios(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over the smaller of the two boxes (matches a cut box to the whole one)."""
    inter = box_inter(a, b)
    return inter / np.maximum(np.minimum(box_area(a)[:, None], box_area(b)[None, :]), 1e-9)


def greedy_keep(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Greedy suppression from pairs (i before j in score order, i would suppress j)."""
    keep = np.ones(n, dtype=bool)
    for _ in range(n + 1):
        suppressed = np.zeros(n, dtype=bool)
        suppressed[j[keep[i]]] = True
        new = ~suppressed
        if np.array_equal(new, keep):
            break
        keep = new
    return keep


def overlapping_pairs(
    boxes: np.ndarray, classes: np.ndarray, threshold: float, metric: str = "iou", chunk: int = 2048
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i, j), i < j, of same-class boxes whose IoU (or IoS) exceeds `threshold`."""
    fn = box_iou if metric == "iou" else box_ios
    n = len(boxes)
    out_i, out_j = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        over = fn(boxes[start:stop], boxes) > threshold
        over &= classes[start:stop, None] == classes[None, :]
        over &= np.arange(n)[None, :] > np.arange(start, stop)[:, None]
        r, c = np.nonzero(over)
        out_i.append(r + start)
        out_j.append(c)
    return np.concatenate(out_i), np.concatenate(out_j)


def batched_nms(
    boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray, threshold: float, metric: str = "iou"
) -> np.ndarray:
    """Indices kept by class-aware greedy NMS, highest score first."""
    if len(boxes) == 0:
        return np.empty(0, dtype=np.int64)
    order = np.argsort(-scores, kind="stable")
    i, j = overlapping_pairs(boxes[order], classes[order], threshold, metric)
    return order[greedy_keep(len(order), i, j)]


def postprocess(
    pred: np.ndarray,
    conf: float = 0.25,
    iou: float = 0.7,
    max_det: int = 3000,
    max_candidates: int = 30000,
    classes: list[int] | None = None,
) -> list[np.ndarray]:
    """Decoded head output (B, 4 + nc, A) -> per image (k, 6): x1, y1, x2, y2, score, class."""
    out = []
    for p in pred:
        scores_all = p[4:]
        cls = scores_all.argmax(0)
        score = scores_all[cls, np.arange(scores_all.shape[1])]
        mask = score > conf
        if classes is not None:
            mask &= np.isin(cls, classes)
        boxes, score, cls = p[:4].T[mask], score[mask], cls[mask]
        if len(score) > max_candidates:
            top = np.argpartition(-score, max_candidates)[:max_candidates]
            boxes, score, cls = boxes[top], score[top], cls[top]
        keep = batched_nms(boxes, score, cls, iou)[:max_det]
        out.append(np.concatenate([boxes[keep], score[keep, None], cls[keep, None]], 1).astype(np.float32))
    return out
