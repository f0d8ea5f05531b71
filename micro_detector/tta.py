"""Test-time augmentation: a runner that also looks at each tile flipped and turned.

Overhead imagery has no "up": a car seen rotated by 90 degrees is still a car, so the model's
views of a tile under flips and quarter turns are equally valid, and their disagreement is
noise. `TTARunner` wraps any runner (torch or ONNX), runs every view of the batch, maps each
view's boxes back to the tile exactly, and fuses them:

1. the boxes of all views go through the engine's own merge (class-aware greedy NMS);
2. each surviving box takes, from every view, the best box of its class overlapping it
   (IoU >= `iou`): its coordinates become the score-weighted mean of those boxes, and its
   score the mean over the views (a view that missed the object counts 0), so an object
   seen in one view only is damped and an object seen in all keeps its score.

Cost: one forward pass per view (4 by default).
"""

from __future__ import annotations

import numpy as np

from .boxes import box_iou
from .merge import merge_detections

# name -> (transform of a (B, C, H, W) batch, inverse of xyxy boxes given the ORIGINAL (H, W))
VIEWS = ("identity", "flip_lr", "flip_ud", "rot90", "rot180", "rot270", "transpose", "anti_transpose")
DEFAULT_VIEWS = ("identity", "flip_lr", "flip_ud", "rot90")


def transform(batch: np.ndarray, view: str) -> np.ndarray:
    """The batch as the view sees it. Rotations turn counter-clockwise (as np.rot90)."""
    if view == "identity":
        return batch
    if view == "flip_lr":
        return batch[..., ::-1]
    if view == "flip_ud":
        return batch[..., ::-1, :]
    if view in ("rot90", "rot180", "rot270"):
        return np.rot90(batch, {"rot90": 1, "rot180": 2, "rot270": 3}[view], axes=(2, 3))
    if view == "transpose":
        return batch.swapaxes(2, 3)
    if view == "anti_transpose":
        return np.rot90(batch, 2, axes=(2, 3)).swapaxes(2, 3)
    raise ValueError(f"unknown TTA view {view!r}; choose from {', '.join(VIEWS)}")


def invert_boxes(boxes: np.ndarray, view: str, height: int, width: int) -> np.ndarray:
    """xyxy boxes (pixel edges) found in the view -> the same boxes in the original tile of
    `height` x `width`."""
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    x1, y1, x2, y2 = b.T
    h, w = height, width
    if view == "identity":
        out = (x1, y1, x2, y2)
    elif view == "flip_lr":
        out = (w - x2, y1, w - x1, y2)
    elif view == "flip_ud":
        out = (x1, h - y2, x2, h - y1)
    elif view == "rot90":  # original (x, y) is at (y, w - x) in the view
        out = (w - y2, x1, w - y1, x2)
    elif view == "rot180":
        out = (w - x2, h - y2, w - x1, h - y1)
    elif view == "rot270":  # original (x, y) is at (h - y, x) in the view
        out = (y1, h - x2, y2, h - x1)
    elif view == "transpose":
        out = (y1, x1, y2, x2)
    elif view == "anti_transpose":  # original (x, y) is at (h - y, w - x) in the view
        out = (w - y2, h - x2, w - y1, h - x1)
    else:
        raise ValueError(f"unknown TTA view {view!r}; choose from {', '.join(VIEWS)}")
    return np.stack(out, 1)


def fuse(per_view: list[np.ndarray], iou: float = 0.55) -> np.ndarray:
    """Fuse (k, 6) [x1, y1, x2, y2, score, class] detections of the views of one tile."""
    n_views = len(per_view)
    dets = np.concatenate([d.reshape(-1, 6) for d in per_view]) if per_view else np.zeros((0, 6))
    if len(dets) == 0:
        return np.zeros((0, 6), np.float32)
    view_of = np.concatenate([np.full(len(d), k) for k, d in enumerate(per_view)])
    keep, _ = merge_detections(dets[:, :4], dets[:, 4], dets[:, 5].astype(np.int64), None, "nms", "iou", iou)
    kept = dets[keep]
    overlap = box_iou(kept[:, :4].astype(np.float64), dets[:, :4].astype(np.float64))
    same = (overlap >= iou) & (kept[:, 5:6] == dets[None, :, 5])
    out = np.zeros((len(kept), 6), np.float64)
    for r in range(len(kept)):
        members = []
        for v in range(n_views):  # the best box of each view that agrees with this one
            idx = np.flatnonzero(same[r] & (view_of == v))
            if len(idx):
                members.append(idx[np.argmax(dets[idx, 4])])
        m = dets[members]
        weights = m[:, 4:5]
        out[r, :4] = (m[:, :4] * weights).sum(0) / weights.sum()
        out[r, 4] = m[:, 4].sum() / n_views
        out[r, 5] = kept[r, 5]
    return out[np.argsort(-out[:, 4], kind="stable")].astype(np.float32)


class TTARunner:
    """A runner that predicts on every view of the batch and fuses the views' boxes.

    It has the runner interface (model/protocol.py: `spec`, `model_file`, `predict`), so the engine uses it as any
    runner; the cross-tile merge then works on the fused boxes as usual."""

    def __init__(self, runner, views: tuple[str, ...] = DEFAULT_VIEWS, iou: float = 0.55):
        unknown = [v for v in views if v not in VIEWS]
        if unknown or not views:
            raise ValueError(f"unknown TTA view(s) {unknown}; choose from {', '.join(VIEWS)}")
        self.runner, self.views, self.iou = runner, tuple(views), iou
        self.spec = runner.spec
        self.model_file = runner.model_file

    def __getattr__(self, name):  # backend, device, reasons: those of the wrapped runner
        return getattr(self.runner, name)

    def predict(
        self,
        batch: np.ndarray,
        conf: float = 0.25,
        iou: float = 0.7,
        max_det: int = 3000,
        classes: list[int] | None = None,
    ) -> list[np.ndarray]:
        """Per image of `batch` (B, C, H, W), the fused (k, 6) detections in its own pixels.

        Each view runs at a lower threshold (conf / 2), since a fused score averages views."""
        h, w = batch.shape[2:]
        views = []
        for view in self.views:
            dets = self.runner.predict(
                np.ascontiguousarray(transform(batch, view)), conf=conf / 2, iou=iou, max_det=max_det, classes=classes
            )
            views.append([np.concatenate([invert_boxes(d[:, :4], view, h, w), d[:, 4:6]], 1) for d in dets])
        out = []
        for i in range(len(batch)):
            fused = fuse([v[i] for v in views], self.iou)
            out.append(fused[fused[:, 4] >= conf][:max_det])
        return out
