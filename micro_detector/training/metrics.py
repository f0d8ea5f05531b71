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

from .. import boxes as box_ops

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
    info: dict | None = None  # the engine's report of the run (tiles, seconds, scale)


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
    sizes: SizeBreakdown | None = None  # AP per size bucket (evaluate_labelled fills it)
    confusion: Confusion | None = None  # cross-class confusion at IoU 0.5
    files: dict = field(default_factory=dict)  # what was written where: name -> path

    @property
    def scored(self) -> np.ndarray:
        """Classes with at least one labelled instance: the ones averaged."""
        return self.instances > 0

    def overall(self) -> dict[str, float]:
        """Precision, recall, mAP50 and mAP50-95 averaged over the scored classes."""
        s = self.scored
        mean = (lambda v: float(v[s].mean())) if s.any() else (lambda v: 0.0)
        return {
            "precision": mean(self.precision),
            "recall": mean(self.recall),
            "mAP50": mean(self.ap50),
            "mAP50-95": mean(self.ap),
        }

    def rows(self) -> list[dict]:
        """One row for all classes, then one per class, as printed and saved."""
        o = self.overall()
        rows = [
            {
                "class": "all",
                "images": self.n_images,
                "instances": int(self.instances.sum()),
                "precision": o["precision"],
                "recall": o["recall"],
                "mAP50": o["mAP50"],
                "mAP50-95": o["mAP50-95"],
            }
        ]
        for k, name in enumerate(self.class_names):
            if self.instances[k]:
                rows.append(
                    {
                        "class": name,
                        "images": int(self.images[k]),
                        "instances": int(self.instances[k]),
                        "precision": float(self.precision[k]),
                        "recall": float(self.recall[k]),
                        "mAP50": float(self.ap50[k]),
                        "mAP50-95": float(self.ap[k]),
                    }
                )
        return rows

    def table(self) -> str:
        """The YOLO results table."""
        head = f"{'Class':>22}{'Images':>11}{'Instances':>11}{'P':>11}{'R':>11}{'mAP50':>11}{'mAP50-95':>11}"
        lines = [head]
        for r in self.rows():
            lines.append(
                f"{r['class']:>22}{r['images']:>11}{r['instances']:>11}{r['precision']:>11.3f}"
                f"{r['recall']:>11.3f}{r['mAP50']:>11.3f}{r['mAP50-95']:>11.3f}"
            )
        return "\n".join(lines)

    def save(self, folder: str | Path, stem: str = "metrics") -> tuple[Path, Path]:
        """Write the rows as CSV and JSON into folder; the two paths."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        rows = self.rows()
        csv_path, json_path = folder / f"{stem}.csv", folder / f"{stem}.json"
        with open(csv_path, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
        data = {"conf": self.conf, "rows": rows}
        if self.sizes is not None:
            data["sizes"] = self.sizes.rows()
            _write_csv(folder / f"{stem}_sizes.csv", self.sizes.rows())
        if self.confusion is not None:
            data["confusion"] = self.confusion.to_dict()
            _write_csv(folder / f"{stem}_confusion.csv", self.confusion.rows())
        json_path.write_text(json.dumps(data, indent=2))
        return csv_path, json_path

    def report(self) -> str:
        """The YOLO table, then the size breakdown and the confusion counts when computed."""
        parts = [self.table()]
        parts += [x.table() for x in (self.sizes, self.confusion) if x is not None]
        return "\n\n".join(parts)


def _write_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="") as f:
        if rows:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)


def _match(pred: np.ndarray, true: np.ndarray, true_ignore: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """COCO matching of score-sorted predictions to true boxes of one class in one image:
    (matched, ignored), each (n_pred, n_thresholds) bool. A prediction matched to an ignored
    true box (outside the area range) is ignored; as in pycocotools, regular true boxes are
    tried first and ignored ones only when no regular box is free at that threshold."""
    tp = np.zeros((len(pred), len(IOU_THRESHOLDS)), bool)
    ignored = np.zeros_like(tp)
    if not len(pred) or not len(true):
        return tp, ignored
    true_ignore = np.zeros(len(true), bool) if true_ignore is None else np.asarray(true_ignore, bool)
    iou = box_ops.box_iou(pred, true)
    taken = np.zeros((len(IOU_THRESHOLDS), len(true)), bool)
    for d in range(len(pred)):
        row = iou[d]
        if row.max() < IOU_THRESHOLDS[0]:
            continue
        for t, thr in enumerate(IOU_THRESHOLDS):
            m = _best_free(row, taken[t] | true_ignore, thr)
            if m < 0 and true_ignore.any():
                m = _best_free(row, taken[t] | ~true_ignore, thr)
            if m < 0:
                continue  # (a box taken at this threshold may still be free at a higher one)
            taken[t, m] = True
            tp[d, t] = True
            ignored[d, t] = true_ignore[m]
    return tp, ignored


def _best_free(row: np.ndarray, unavailable: np.ndarray, thr: float) -> int:
    """The available true box of highest IoU >= thr (-1 if none); on ties the last one, as
    COCO does."""
    vals = np.where(~unavailable & (row >= min(thr, 1 - 1e-10)), row, -1.0)
    m = len(row) - 1 - int(vals[::-1].argmax())
    return m if vals[m] >= 0 else -1


def _ap(
    tp: np.ndarray, scores: np.ndarray, n_true: int, ignored: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """COCO interpolated AP per threshold; also recall and precision curves at IoU 0.5.
    Ignored predictions count neither as true nor as false positives (they keep their
    place in the ranking, as in pycocotools)."""
    order = np.argsort(-scores, kind="mergesort")
    tp = tp[order]
    counted = np.ones_like(tp) if ignored is None else ~ignored[order]
    tps = np.cumsum(tp & counted, 0, dtype=np.float64)
    fps = np.cumsum(~tp & counted, 0, dtype=np.float64)
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
            tp_all[k].append(_match(pred, true)[0])
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
    return Metrics(
        list(class_names),
        n_images,
        n_true,
        p_curve[:, best],
        r_curve[:, best],
        ap[:, 0],
        ap.mean(1),
        float(grid[best]),
        scored_images,
        curves,
    )


# Size buckets of the object side sqrt(w * h) in the evaluated image's pixels, as in AI-TOD.
# A bucket is a COCO area range [lo^2, hi^2] with pycocotools' semantics: true boxes outside
# it are ignored, so are predictions matched to them and unmatched predictions outside it;
# both bounds are inclusive (an object exactly 16 px wide counts in "tiny" and in "small").
SIZE_BUCKETS = (("very tiny", 0.0, 8.0), ("tiny", 8.0, 16.0), ("small", 16.0, 32.0), ("medium", 32.0, 1e5))


@dataclass
class SizeBreakdown:
    """AP per size bucket and class; NaN where a bucket holds no true box of the class."""

    class_names: list[str]
    buckets: list[str]
    ranges: list[tuple[float, float]]  # object side in pixels
    instances: np.ndarray  # (buckets, nc)
    ap50: np.ndarray  # (buckets, nc)
    ap: np.ndarray  # (buckets, nc), mAP@0.5:0.95

    def rows(self) -> list[dict]:
        """One row per size bucket and class that has instances."""
        return [
            {
                "size": b,
                "min_px": lo,
                "max_px": hi,
                "class": name,
                "instances": int(self.instances[i, k]),
                "AP50": _num(self.ap50[i, k]),
                "AP50-95": _num(self.ap[i, k]),
            }
            for i, (b, (lo, hi)) in enumerate(zip(self.buckets, self.ranges))
            for k, name in enumerate(self.class_names)
            if self.instances[i, k]
        ]

    def table(self) -> str:
        """AP50 per class (rows) and size bucket (columns), with the instance counts."""
        head = f"{'AP50 by size':>22}" + "".join(f"{b:>18}" for b in self.buckets)
        lines = [head]
        for k, name in enumerate(self.class_names):
            if not self.instances[:, k].any():
                continue
            cells = [
                f"{self.ap50[i, k]:.3f} ({self.instances[i, k]})" if self.instances[i, k] else "-"
                for i in range(len(self.buckets))
            ]
            lines.append(f"{name:>22}" + "".join(f"{c:>18}" for c in cells))
        return "\n".join(lines)


def _num(v: float) -> float | None:
    return None if np.isnan(v) else float(v)


def size_breakdown(results: list[ImageResult], class_names: list[str], buckets=SIZE_BUCKETS) -> SizeBreakdown:
    """COCO/AI-TOD AP per size bucket and class (pycocotools' area-range rules, see SIZE_BUCKETS)."""
    nc, nb = len(class_names), len(buckets)
    instances = np.zeros((nb, nc), int)
    ap50 = np.full((nb, nc), np.nan)
    ap = np.full((nb, nc), np.nan)
    for i, (_, lo, hi) in enumerate(buckets):
        tps, igs, scores = [[] for _ in range(nc)], [[] for _ in range(nc)], [[] for _ in range(nc)]
        for r in results:
            ann = np.ones(nc, bool) if r.annotated is None else np.asarray(r.annotated, bool)
            for k in np.flatnonzero(ann):
                true = r.true_boxes[r.true_classes == k]
                outside_true = _outside(true, lo, hi)
                sel = r.pred_classes == k
                order = np.argsort(-r.pred_scores[sel], kind="mergesort")
                pred, score = r.pred_boxes[sel][order], r.pred_scores[sel][order]
                tp, ig = _match(pred, true, outside_true)
                ig |= ~tp & _outside(pred, lo, hi)[:, None]
                tps[k].append(tp)
                igs[k].append(ig)
                scores[k].append(score)
                instances[i, k] += int((~outside_true).sum())
        for k in range(nc):
            if instances[i, k]:
                per_t = _ap(np.concatenate(tps[k]), np.concatenate(scores[k]), instances[i, k], np.concatenate(igs[k]))[
                    0
                ]
                ap50[i, k], ap[i, k] = per_t[0], per_t.mean()
    return SizeBreakdown(
        list(class_names), [b[0] for b in buckets], [(b[1], b[2]) for b in buckets], instances, ap50, ap
    )


def _outside(boxes: np.ndarray, lo: float, hi: float) -> np.ndarray:
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]) if len(boxes) else np.zeros(0)
    return (area < lo * lo) | (area > hi * hi)


@dataclass
class Confusion:
    """Cross-class confusion counts at one IoU and confidence.

    `matrix[t, p]` for t, p < nc: predictions of class p whose best-IoU true box (of any
    class) is of class t, with IoU >= `iou` (several predictions may hit one true box: each
    counts). Last row: predictions of a class annotated in their image that hit no true box
    (background false positives). Last column: true boxes that no prediction of any class
    hits (missed)."""

    class_names: list[str]
    conf: float
    iou: float
    matrix: np.ndarray  # (nc + 1, nc + 1) int

    def cross_class(self) -> int:
        """Predictions that landed on an object of another class."""
        core = self.matrix[:-1, :-1]
        return int(core.sum() - np.trace(core))

    def rows(self) -> list[dict]:
        """One row per true class (background last): counts per predicted class, 'missed' for none."""
        names = [*self.class_names, "background"]
        return [
            {
                "true": t,
                **{f"pred {p}" if p != "background" else "missed": int(self.matrix[i, j]) for j, p in enumerate(names)},
            }
            for i, t in enumerate(names)
        ]

    def to_dict(self) -> dict:
        """The matrix, its rows and the cross-class count, ready for JSON."""
        return {
            "conf": self.conf,
            "iou": self.iou,
            "classes": self.class_names,
            "cross_class": self.cross_class(),
            "matrix": self.matrix.tolist(),
            "rows": self.rows(),
        }

    def table(self) -> str:
        """The matrix as a fixed-width text table."""
        names = [*self.class_names, "background"]
        corner = "true \\ predicted"
        head = f"{corner:>22}" + "".join(f"{n if n != 'background' else 'missed':>12}" for n in names)
        lines = [f"Confusion at IoU {self.iou:g}, conf >= {self.conf:g}: {self.cross_class()} cross-class", head]
        for i, t in enumerate(names):
            lines.append(f"{t:>22}" + "".join(f"{int(v):>12}" for v in self.matrix[i]))
        return "\n".join(lines)


def confusion_matrix(
    results: list[ImageResult], class_names: list[str], conf: float = 0.25, iou: float = 0.5
) -> Confusion:
    """Count (true class, predicted class) pairs of predictions at or above `conf` (see Confusion)."""
    nc = len(class_names)
    matrix = np.zeros((nc + 1, nc + 1), int)
    for r in results:
        ann = np.ones(nc, bool) if r.annotated is None else np.asarray(r.annotated, bool)
        keep = r.pred_scores >= conf
        pred, pcls = r.pred_boxes[keep], np.asarray(r.pred_classes[keep], int)
        ious = (
            box_ops.box_iou(pred, r.true_boxes)
            if len(pred) and len(r.true_boxes)
            else np.zeros((len(pred), len(r.true_boxes)))
        )
        best = ious.argmax(1) if ious.shape[1] else np.zeros(len(pred), int)
        hit = ious[np.arange(len(pred)), best] >= iou if ious.shape[1] else np.zeros(len(pred), bool)
        np.add.at(matrix, (np.asarray(r.true_classes, int)[best[hit]], pcls[hit]), 1)
        background = ~hit & ann[pcls] if len(pcls) else hit  # unannotated classes: unknown, not counted
        np.add.at(matrix[nc], pcls[background], 1)
        missed = ~(ious >= iou).any(0) if len(pred) else np.ones(len(r.true_boxes), bool)
        np.add.at(matrix[:, nc], np.asarray(r.true_classes, int)[missed], 1)
    return Confusion(list(class_names), float(conf), float(iou), matrix)
