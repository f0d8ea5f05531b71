"""Merging detections across overlapping tiles: class-aware greedy NMS or NMM, IoU or IoS.

Scales to millions of boxes: boxes are bucketed on a grid whose cell is at least the size of
(almost) every box, so two overlapping boxes always sit in the same or adjacent cells; only
those pairs are compared. Boxes larger than a cell are compared with all boxes.

A box cut by an inner tile edge is a partial view: it is ranked after whole boxes and matched
by intersection over the smaller box, so the neighbouring tile's whole box replaces it.
"""

from __future__ import annotations

import numpy as np

from .boxes import box_area, greedy_keep


def _pair_overlap(b: np.ndarray, i: np.ndarray, j: np.ndarray, cut: np.ndarray, metric: str):
    x1 = np.maximum(b[i, 0], b[j, 0])
    y1 = np.maximum(b[i, 1], b[j, 1])
    x2 = np.minimum(b[i, 2], b[j, 2])
    y2 = np.minimum(b[i, 3], b[j, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = box_area(b)
    iou = inter / np.maximum(area[i] + area[j] - inter, 1e-9)
    ios = inter / np.maximum(np.minimum(area[i], area[j]), 1e-9)
    use_ios = (cut[i] | cut[j]) if metric == "iou" else np.ones(len(i), bool)
    return np.where(use_ios, ios, iou)


def _ragged_pairs(starts: np.ndarray, counts: np.ndarray, owners: np.ndarray):
    """For each owner k, pairs (owners[k], starts[k] + 0..counts[k]-1)."""
    total = int(counts.sum())
    if total == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    i = np.repeat(owners, counts)
    offsets = np.repeat(np.cumsum(counts) - counts, counts)
    j = np.repeat(starts, counts) + (np.arange(total) - offsets)
    return i, j


def candidate_pairs(b: np.ndarray, classes: np.ndarray, chunk: int = 200_000):
    """Yield chunks of (i, j), i < j, same class, boxes possibly overlapping (sorted order)."""
    n = len(b)
    side = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
    cell = float(max(np.percentile(side, 99) if n else 1.0, 1.0))
    big = np.nonzero(side > cell)[0]
    cx = np.floor((b[:, 0] + b[:, 2]) / 2 / cell).astype(np.int64)
    cy = np.floor((b[:, 1] + b[:, 3]) / 2 / cell).astype(np.int64)
    cx -= cx.min(initial=0)
    cy -= cy.min(initial=0)
    ncols = int(cx.max(initial=0)) + 3
    nclass = int(classes.max(initial=0)) + 1
    key = (cy * ncols + cx) * nclass + classes  # cell and class together
    order = np.argsort(key, kind="stable")
    skey = key[order]
    for start in range(0, n, chunk):
        own = order[start : start + chunk]
        for dy, dx in ((0, 0), (0, 1), (1, -1), (1, 0), (1, 1)):  # forward neighbours
            nkey = ((cy[own] + dy) * ncols + cx[own] + dx) * nclass + classes[own]
            lo = np.searchsorted(skey, nkey, "left")
            hi = np.searchsorted(skey, nkey, "right")
            i, jpos = _ragged_pairs(lo, hi - lo, own)
            j = order[jpos]
            if (dy, dx) == (0, 0):
                keep = i < j
                i, j = i[keep], j[keep]
            yield np.minimum(i, j), np.maximum(i, j)
    if len(big):  # rare oversized boxes: against everything of their class
        for k in big:
            j = np.nonzero((classes == classes[k]) & (np.arange(n) != k))[0]
            j = j[~np.isin(j, big) | (j > k)]  # big-big pairs once
            yield np.minimum(k, j), np.maximum(k, j)


def merge_detections(
    boxes: np.ndarray,
    scores: np.ndarray,
    classes: np.ndarray,
    cut: np.ndarray | None = None,
    method: str = "nms",
    metric: str = "iou",
    threshold: float = 0.5,
    agnostic: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Merge boxes from overlapping tiles.

    Returns (indices of the surviving boxes, their boxes in float64): with NMS the boxes are unchanged;
    with NMM each survivor grows to the union of the boxes it absorbed (greedy, as SAHI).
    Boxes of different classes never suppress each other unless `agnostic`: then the best
    box on an object wins whatever its class (a survivor keeps its own class).
    """
    if method not in ("nms", "nmm") or metric not in ("iou", "ios"):
        raise ValueError(f"merge method must be nms|nmm and match iou|ios, got {method}/{metric}")
    n = len(boxes)
    if n == 0:
        return np.empty(0, np.int64), np.empty((0, 4), np.float64)
    if agnostic:
        classes = np.zeros(n, np.int64)
    cut = np.zeros(n, bool) if cut is None else cut
    # rank: whole boxes before cut ones, then by score; rank r means r-th in greedy order
    order = np.lexsort((-scores, cut))
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n)
    b = boxes.astype(np.float64)
    pi, pj = [], []
    for i, j in candidate_pairs(b, classes.astype(np.int64)):
        if len(i) == 0:
            continue
        hit = _pair_overlap(b, i, j, cut, metric) > threshold
        ri, rj = rank[i[hit]], rank[j[hit]]
        pi.append(np.minimum(ri, rj))
        pj.append(np.maximum(ri, rj))
    lo = np.concatenate(pi) if pi else np.empty(0, np.int64)  # ranks of each overlapping pair
    hi = np.concatenate(pj) if pj else np.empty(0, np.int64)
    keep_rank = greedy_keep(n, lo, hi)
    kept = order[keep_rank]
    # float64: in float32 a box at x = 100000 px moves by up to 0.004 px (found by the
    # property tests: merging one tile's boxes was not a no-op)
    merged = boxes[kept].astype(np.float64)
    if method == "nmm" and len(lo):
        # each absorbed box joins the first (best-ranked) kept box that matched it
        absorbed = keep_rank[lo] & ~keep_rank[hi]
        src, dst = lo[absorbed], hi[absorbed]
        first = np.full(n, n, np.int64)
        np.minimum.at(first, dst, src)
        victims = np.nonzero(first < n)[0]
        slot = np.full(n, -1, np.int64)
        slot[np.nonzero(keep_rank)[0]] = np.arange(len(kept))
        target = slot[first[victims]]
        vb = boxes[order[victims]]
        np.minimum.at(merged[:, 0], target, vb[:, 0])
        np.minimum.at(merged[:, 1], target, vb[:, 1])
        np.maximum.at(merged[:, 2], target, vb[:, 2])
        np.maximum.at(merged[:, 3], target, vb[:, 3])
    return kept, merged


def edge_cut(
    boxes: np.ndarray, window_bounds: np.ndarray, raster_size: tuple[int, int], margin: float = 2.0
) -> np.ndarray:
    """Boxes touching an edge of their window that is not the raster's edge (cut objects)."""
    x0, y0, x1, y1 = (window_bounds[:, k] for k in range(4))
    w, h = raster_size
    return (
        ((boxes[:, 0] <= x0 + margin) & (x0 > 0))
        | ((boxes[:, 1] <= y0 + margin) & (y0 > 0))
        | ((boxes[:, 2] >= x1 - margin) & (x1 < w))
        | ((boxes[:, 3] >= y1 - margin) & (y1 < h))
    )


def merge_raw(raw, plan, options):
    """The merge stage: RawBoxes of a raster's windows -> RawBoxes of distinct objects.

    Boxes cut by an inner tile edge are ranked after whole ones and matched by IoS, so a
    neighbouring tile's whole view replaces them (see the module docstring)."""
    info = plan.info
    cut = edge_cut(raw.boxes, raw.windows[:, 2:6], (info.width, info.height))
    kept, merged = merge_detections(
        raw.boxes, raw.scores, raw.classes, cut, options.merge, options.match, options.iou, agnostic=options.agnostic
    )
    out = raw.subset(kept)
    out.boxes = merged
    return out
