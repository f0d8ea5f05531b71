"""Detection metrics: per class precision, recall, mAP@0.5 and mAP@0.5:0.95.

AP follows COCO exactly (greedy matching by score, each detection to the unmatched true box
of highest IoU at or above the threshold; 101-point interpolated precision), so it agrees
with pycocotools on the same boxes. A class is scored only on images that annotate it.
Precision and recall are reported at IoU 0.5 at the confidence that maximises the mean F1
over classes, as in the YOLO results table.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._core import boxes as box_ops

IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)
RECALL_POINTS = np.linspace(0.0, 1.0, 101)


@dataclass
class ImageResult:
    """Predictions and truth of one image, boxes xyxy in the same pixel frame."""

    pred_boxes: np.ndarray
    pred_scores: np.ndarray
    pred_classes: np.ndarray
    true_boxes: np.ndarray
    true_classes: np.ndarray
    annotated: np.ndarray | None = None  # (nc,) bool; None = all classes


@dataclass
class Metrics:
    class_names: list[str]
    images: np.ndarray  # per class: images with >= 1 instance
    instances: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    ap50: np.ndarray
    ap: np.ndarray  # mAP@0.5:0.95 per class
    conf: float  # the confidence P and R are given at
    n_images: int
    curves: dict = field(default_factory=dict)  # per class recall/precision at IoU 0.5

    @property
    def scored(self) -> np.ndarray:
        return self.instances > 0

    def overall(self) -> dict[str, float]:
        s = self.scored
        mean = (lambda v: float(v[s].mean())) if s.any() else (lambda v: 0.0)
        return {"precision": mean(self.precision), "recall": mean(self.recall),
                "mAP50": mean(self.ap50), "mAP50-95": mean(self.ap)}

    def rows(self) -> list[dict]:
        o = self.overall()
        rows = [{"class": "all", "images": self.n_images, "instances": int(self.instances.sum()),
                 "precision": o["precision"], "recall": o["recall"], "mAP50": o["mAP50"],
                 "mAP50-95": o["mAP50-95"]}]
        for k, name in enumerate(self.class_names):
            if self.instances[k]:
                rows.append({"class": name, "images": int(self.images[k]), "instances": int(self.instances[k]),
                             "precision": float(self.precision[k]), "recall": float(self.recall[k]),
                             "mAP50": float(self.ap50[k]), "mAP50-95": float(self.ap[k])})
        return rows

    def table(self) -> str:
        """The YOLO results table."""
        head = f"{'Class':>22}{'Images':>11}{'Instances':>11}{'P':>11}{'R':>11}{'mAP50':>11}{'mAP50-95':>11}"
        lines = [head]
        for r in self.rows():
            lines.append(f"{r['class']:>22}{r['images']:>11}{r['instances']:>11}{r['precision']:>11.3f}"
                         f"{r['recall']:>11.3f}{r['mAP50']:>11.3f}{r['mAP50-95']:>11.3f}")
        return "\n".join(lines)

    def save(self, folder: str | Path, stem: str = "metrics") -> tuple[Path, Path]:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        rows = self.rows()
        csv_path, json_path = folder / f"{stem}.csv", folder / f"{stem}.json"
        with open(csv_path, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
        json_path.write_text(json.dumps({"conf": self.conf, "rows": rows}, indent=2))
        return csv_path, json_path


def _match(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """COCO matching of score-sorted predictions to true boxes of one class in one image:
    (n_pred, n_thresholds) bool, True where the prediction matches at that threshold."""
    tp = np.zeros((len(pred), len(IOU_THRESHOLDS)), bool)
    if not len(pred) or not len(true):
        return tp
    iou = box_ops.box_iou(pred, true)
    taken = np.zeros((len(IOU_THRESHOLDS), len(true)), bool)
    last = len(true) - 1
    for d in range(len(pred)):
        row = iou[d]
        if row.max() < IOU_THRESHOLDS[0]:
            continue
        for t, thr in enumerate(IOU_THRESHOLDS):
            # the free true box of highest IoU >= thr; on ties the last one, as COCO does
            vals = np.where(~taken[t] & (row >= min(thr, 1 - 1e-10)), row, -1.0)
            m = last - int(vals[::-1].argmax())
            if vals[m] < 0:
                continue  # (a box taken at this threshold may still be free at a higher one)
            taken[t, m] = True
            tp[d, t] = True
    return tp


def _ap(tp: np.ndarray, scores: np.ndarray, n_true: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """COCO interpolated AP per threshold; also recall and precision curves at IoU 0.5."""
    order = np.argsort(-scores, kind="mergesort")
    tp = tp[order]
    tps = np.cumsum(tp, 0, dtype=np.float64)
    fps = np.cumsum(~tp, 0, dtype=np.float64)
    ap = np.zeros(tp.shape[1])
    recall = tps / n_true
    precision = tps / (tps + fps + np.spacing(1))
    for t in range(tp.shape[1]):
        rc, pr = recall[:, t], precision[:, t].copy()
        for i in range(len(pr) - 1, 0, -1):  # precision envelope
            pr[i - 1] = max(pr[i - 1], pr[i])
        idx = np.searchsorted(rc, RECALL_POINTS, side="left")
        q = np.zeros(len(RECALL_POINTS))
        valid = idx < len(pr)
        q[valid] = pr[idx[valid]]
        ap[t] = q.mean()
    return ap, recall[:, 0], precision[:, 0]


def evaluate(results: list[ImageResult], class_names: list[str]) -> Metrics:
    """Per class metrics over all images (COCO AP, YOLO-style P and R)."""
    nc = len(class_names)
    tp_all = [[] for _ in range(nc)]
    score_all = [[] for _ in range(nc)]
    n_true = np.zeros(nc, int)
    n_images = np.zeros(nc, int)
    scored_images = 0
    for r in results:
        ann = np.ones(nc, bool) if r.annotated is None else np.asarray(r.annotated, bool)
        scored_images += 1
        for k in np.flatnonzero(ann):
            true = r.true_boxes[r.true_classes == k]
            sel = r.pred_classes == k
            pred, scores = r.pred_boxes[sel], r.pred_scores[sel]
            order = np.argsort(-scores, kind="mergesort")
            pred, scores = pred[order], scores[order]
            tp_all[k].append(_match(pred, true))
            score_all[k].append(scores)
            n_true[k] += len(true)
            n_images[k] += bool(len(true))

    ap = np.zeros((nc, len(IOU_THRESHOLDS)))
    grid = np.linspace(0, 1, 1000)
    p_curve = np.zeros((nc, len(grid)))
    r_curve = np.zeros((nc, len(grid)))
    curves = {}
    for k in range(nc):
        if not n_true[k]:
            continue
        tp = np.concatenate(tp_all[k]) if tp_all[k] else np.zeros((0, len(IOU_THRESHOLDS)), bool)
        scores = np.concatenate(score_all[k]) if score_all[k] else np.zeros(0)
        if not len(tp):
            continue
        ap[k], rc, pr = _ap(tp, scores, n_true[k])
        s = np.sort(scores)[::-1]
        # P and R as functions of the confidence threshold (scores descending -> x ascending)
        r_curve[k] = np.interp(-grid, -s, rc, left=0)
        p_curve[k] = np.interp(-grid, -s, pr, left=1)
        curves[class_names[k]] = {"recall": rc.tolist(), "precision": pr.tolist()}
    scored = n_true > 0
    f1 = 2 * p_curve * r_curve / (p_curve + r_curve + 1e-16)
    best = int(f1[scored].mean(0).argmax()) if scored.any() else 0
    return Metrics(list(class_names), n_images, n_true, p_curve[:, best], r_curve[:, best],
                   ap[:, 0], ap.mean(1), float(grid[best]), scored_images, curves)
