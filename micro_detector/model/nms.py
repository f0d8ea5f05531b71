"""Box IoU and exact, class-aware greedy NMS in torch (no torchvision).

Greedy NMS is sequential by definition; here it is computed from the list of overlapping
pairs by a fixed-point iteration (keep j unless a kept, higher-scored i overlaps it). The
greedy answer is the unique fixed point, every step is vectorised, and memory grows with
the number of overlapping pairs, not with n^2.
"""

from __future__ import annotations

import torch


def box_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pairwise IoU of xyxy boxes: (n, 4) x (m, 4) -> (n, m)."""
    area_a = (a[:, 2] - a[:, 0]).clamp(min=0) * (a[:, 3] - a[:, 1]).clamp(min=0)
    area_b = (b[:, 2] - b[:, 0]).clamp(min=0) * (b[:, 3] - b[:, 1]).clamp(min=0)
    lt = torch.maximum(a[:, None, :2], b[None, :, :2])
    rb = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    return inter / (area_a[:, None] + area_b[None, :] - inter).clamp(min=1e-9)


def greedy_keep(n: int, i: torch.Tensor, j: torch.Tensor, device=None) -> torch.Tensor:
    """Greedy suppression over pairs (i < j in score order, i would suppress j): keep mask."""
    keep = torch.ones(n, dtype=torch.bool, device=device)
    if i.numel() == 0:
        return keep
    for _ in range(n + 1):  # converges in at most the length of the longest suppression chain
        suppressed = torch.zeros(n, dtype=torch.bool, device=device)
        suppressed[j[keep[i]]] = True
        new = ~suppressed
        if torch.equal(new, keep):
            break
        keep = new
    return keep


def batched_nms(
    boxes: torch.Tensor, scores: torch.Tensor, classes: torch.Tensor, iou_threshold: float, chunk: int = 2048
) -> torch.Tensor:
    """Indices of the boxes kept by class-aware greedy NMS, highest score first."""
    n = boxes.shape[0]
    if n == 0:
        return torch.empty(0, dtype=torch.long, device=boxes.device)
    order = scores.argsort(descending=True, stable=True)  # ties by index, as the numpy twin
    b = boxes[order].float()
    # shift each class into its own region so boxes of different classes never overlap
    b = b - b.min()
    b = b + classes[order].to(b.dtype)[:, None] * (b.max() + 1)
    pairs_i, pairs_j = [], []
    cols = torch.arange(n, device=b.device)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        over = box_iou(b[start:stop], b) > iou_threshold
        over &= cols[None, :] > torch.arange(start, stop, device=b.device)[:, None]
        r, c = over.nonzero(as_tuple=True)
        pairs_i.append(r + start)
        pairs_j.append(c)
    keep = greedy_keep(n, torch.cat(pairs_i), torch.cat(pairs_j), device=b.device)
    return order[keep]


def postprocess(
    pred: torch.Tensor,
    conf: float = 0.25,
    iou: float = 0.7,
    max_det: int = 3000,
    max_candidates: int = 30000,
    classes: list[int] | None = None,
) -> list[torch.Tensor]:
    """Decoded head output (B, 4 + nc, A) -> per image (k, 6): x1, y1, x2, y2, score, class."""
    out = []
    for p in pred:
        boxes = p[:4].t()
        score, cls = p[4:].max(0)
        mask = score > conf
        if classes is not None:
            mask &= torch.isin(cls, torch.as_tensor(classes, device=cls.device))
        boxes, score, cls = boxes[mask], score[mask], cls[mask]
        if score.numel() > max_candidates:
            top = score.topk(max_candidates).indices
            boxes, score, cls = boxes[top], score[top], cls[top]
        keep = batched_nms(boxes, score, cls, iou)[:max_det]
        out.append(torch.cat((boxes[keep], score[keep, None], cls[keep, None].to(boxes.dtype)), 1))
    return out
