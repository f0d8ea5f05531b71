"""Detection loss of the YOLOv8/v11/v12 family: task-aligned assignment, CIoU + DFL + BCE.

Class targets only count where the image annotates the class (`annotated` mask), so a
chip from a source that labels only aircraft never teaches "vehicle = background".
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..model import head
from .config import LossWeights  # noqa: F401  (re-exported: its home before config.py)


def box_ciou(a: torch.Tensor, b: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    """Complete IoU of matching xyxy boxes (broadcasting over leading dims)."""
    ax1, ay1, ax2, ay2 = a.unbind(-1)
    bx1, by1, bx2, by2 = b.unbind(-1)
    w1, h1 = ax2 - ax1, (ay2 - ay1).clamp(min=eps)
    w2, h2 = bx2 - bx1, (by2 - by1).clamp(min=eps)
    inter = (torch.minimum(ax2, bx2) - torch.maximum(ax1, bx1)).clamp(min=0) * (
        torch.minimum(ay2, by2) - torch.maximum(ay1, by1)
    ).clamp(min=0)
    union = w1 * h1 + w2 * h2 - inter + eps
    iou = inter / union
    cw = torch.maximum(ax2, bx2) - torch.minimum(ax1, bx1)
    ch = torch.maximum(ay2, by2) - torch.minimum(ay1, by1)
    c2 = cw**2 + ch**2 + eps
    rho2 = ((bx1 + bx2 - ax1 - ax2) ** 2 + (by1 + by2 - ay1 - ay2) ** 2) / 4
    v = (4 / math.pi**2) * (torch.atan(w2 / h2) - torch.atan(w1 / h1)) ** 2
    with torch.no_grad():
        alpha = v / (v - iou + (1 + eps))
    return iou - (rho2 / c2 + v * alpha)


def box_nwd(a: torch.Tensor, b: torch.Tensor, constant: float = 12.8) -> torch.Tensor:
    """Normalized Gaussian Wasserstein distance of matching xyxy boxes (Wang et al. 2021,
    arXiv 2110.13389), broadcasting over leading dims.

    Each box is the Gaussian N((cx, cy), diag(w^2/4, h^2/4)); between two such Gaussians
    W2^2 = (cx1-cx2)^2 + (cy1-cy2)^2 + ((w1-w2)/2)^2 + ((h1-h2)/2)^2, and
    NWD = exp(-sqrt(W2^2) / constant). Unlike IoU it stays smooth and non-zero for tiny boxes
    that do not overlap, which is where a few pixels of offset decide everything. `constant`
    is in the boxes' units (the paper's 12.8 px is about the mean object size of AI-TOD)."""
    ax1, ay1, ax2, ay2 = a.unbind(-1)
    bx1, by1, bx2, by2 = b.unbind(-1)
    w2 = (
        (((ax1 + ax2) - (bx1 + bx2)) / 2) ** 2
        + (((ay1 + ay2) - (by1 + by2)) / 2) ** 2
        + (((ax2 - ax1) - (bx2 - bx1)) / 2) ** 2
        + (((ay2 - ay1) - (by2 - by1)) / 2) ** 2
    )
    return torch.exp(-torch.sqrt(w2.clamp(min=0) + 1e-12) / constant)


class TaskAlignedAssigner:
    """For each true box, the `topk` anchors inside it with the best alignment
    score**alpha * iou**beta become positives; an anchor claimed by several boxes keeps the
    one it overlaps most. Soft targets: the class one-hot scaled by the normalised alignment."""

    def __init__(
        self,
        topk: int = 10,
        alpha: float = 0.5,
        beta: float = 6.0,
        eps: float = 1e-9,
        metric: str = "ciou",
        nwd_constant: float = 12.8,
    ):
        if metric not in ("ciou", "nwd"):
            raise ValueError(f"assigner metric must be 'ciou' or 'nwd', got {metric!r}")
        self.topk, self.alpha, self.beta, self.eps = topk, alpha, beta, eps
        self.metric, self.nwd_constant = metric, nwd_constant

    @torch.no_grad()
    def __call__(self, pd_scores, pd_boxes, anchors, gt_labels, gt_boxes, gt_mask, strides=None):
        """pd_scores (B, A, C) probabilities, pd_boxes (B, A, 4) and anchors (A, 2) in pixels,
        gt_labels (B, M) long, gt_boxes (B, M, 4), gt_mask (B, M) bool, strides (A, 1) pixels.
        Returns target boxes (B, A, 4), target scores (B, A, C), foreground mask (B, A)."""
        b, a, c = pd_scores.shape
        m = gt_boxes.shape[1]
        if m == 0:
            return (
                torch.zeros_like(pd_boxes),
                torch.zeros_like(pd_scores),
                torch.zeros(b, a, dtype=torch.bool, device=pd_scores.device),
            )
        # anchors whose centre lies strictly inside the box; a box smaller than an anchor's
        # cell counts as one cell wide there, or an object under 8 px between two stride-8
        # centres would get no candidate at all and never be learned
        boxes = gt_boxes.unsqueeze(2)  # (B, M, 1, 4)
        if strides is not None:
            half = strides.view(1, 1, a, 1) / 2 + 0.5  # + 0.5 px: a centre midway between two cells gets both
            centre = (boxes[..., :2] + boxes[..., 2:]) / 2
            size_half = torch.maximum((boxes[..., 2:] - boxes[..., :2]) / 2, half)
            lo, hi = centre - size_half, centre + size_half
        else:
            lo, hi = boxes[..., :2], boxes[..., 2:]
        pts = anchors.view(1, 1, a, 2)
        inside = torch.cat((pts - lo, hi - pts), -1).amin(-1) > self.eps  # (B, M, A)
        candidates = inside & gt_mask.unsqueeze(-1)

        scores = pd_scores.gather(2, gt_labels.clamp(0, c - 1).unsqueeze(1).expand(b, a, m))  # (B, A, M)
        scores = scores.permute(0, 2, 1)
        if self.metric == "nwd":
            overlaps = box_nwd(gt_boxes.unsqueeze(2), pd_boxes.unsqueeze(1), self.nwd_constant)
        else:
            overlaps = box_ciou(gt_boxes.unsqueeze(2), pd_boxes.unsqueeze(1)).clamp_(min=0)  # (B, M, A)
        overlaps = overlaps * candidates
        align = scores.pow(self.alpha) * overlaps.pow(self.beta) * candidates

        k = min(self.topk, a)
        top_idx = align.topk(k, dim=-1).indices  # (B, M, k)
        top = torch.zeros_like(candidates).scatter_(-1, top_idx, True)
        pos = top & candidates  # (B, M, A)

        # an anchor claimed by several boxes keeps the box it overlaps most
        multi = pos.sum(1, keepdim=True) > 1
        if multi.any():
            best = overlaps.argmax(1, keepdim=True)  # (B, 1, A)
            only_best = torch.zeros_like(pos).scatter_(1, best, True)
            pos = torch.where(multi, only_best & candidates, pos)
        fg = pos.any(1)  # (B, A)
        gt_idx = pos.float().argmax(1)  # (B, A)

        batch = torch.arange(b, device=gt_boxes.device).unsqueeze(1)
        target_labels = gt_labels[batch, gt_idx]  # (B, A)
        target_boxes = gt_boxes[batch, gt_idx]  # (B, A, 4)
        target_scores = F.one_hot(target_labels.clamp(0, c - 1), c).to(pd_scores.dtype)
        target_scores = target_scores * fg.unsqueeze(-1)

        align = align * pos
        max_align = align.amax(-1, keepdim=True)  # (B, M, 1)
        max_overlap = (overlaps * pos).amax(-1, keepdim=True)
        norm = (align * max_overlap / (max_align + self.eps)).amax(1)  # (B, A)
        return target_boxes, target_scores * norm.unsqueeze(-1), fg


class DetectionLoss:
    """Loss of a YOLOv12 model's raw outputs against targets (N, 6) [image, class, x1, y1, x2,
    y2] in input pixels. Returns (total scaled by batch size, detached [box, cls, dfl])."""

    def __init__(
        self, model, weights: LossWeights | None = None, topk: int = 10, alpha: float = 0.5, beta: float = 6.0
    ):
        det = model.detect
        self.nc, self.reg_max, self.strides = det.nc, det.reg_max, det.strides
        self.w = weights or LossWeights()
        self.assigner = TaskAlignedAssigner(topk, alpha, beta, metric=self.w.assign, nwd_constant=self.w.nwd_constant)

    def _gt(self, targets: torch.Tensor, batch: int):
        counts = (
            torch.bincount(targets[:, 0].long(), minlength=batch)
            if len(targets)
            else torch.zeros(batch, dtype=torch.long, device=targets.device)
        )
        m = int(counts.max()) if len(targets) else 0
        labels = torch.zeros(batch, m, dtype=torch.long, device=targets.device)
        boxes = torch.zeros(batch, m, 4, device=targets.device)
        mask = torch.zeros(batch, m, dtype=torch.bool, device=targets.device)
        if m:
            order = targets[:, 0].long().argsort(stable=True)
            t = targets[order]
            img = t[:, 0].long()
            start = torch.cumsum(counts, 0) - counts
            slot = torch.arange(len(t), device=t.device) - start[img]
            labels[img, slot] = t[:, 1].long()
            boxes[img, slot] = t[:, 2:6]
            mask[img, slot] = True
        return labels, boxes, mask

    def __call__(self, raw: list[torch.Tensor], targets: torch.Tensor, annotated: torch.Tensor | None = None):
        b = raw[0].shape[0]
        x = torch.cat([r.flatten(2) for r in raw], 2).permute(0, 2, 1).float()  # (B, A, no)
        pred_dist, pred_logits = x.split((4 * self.reg_max, self.nc), -1)
        anchors, strides = head.make_anchors([r.shape[2:] for r in raw], self.strides, x.device, x.dtype)
        a = anchors.shape[0]
        proj = torch.arange(self.reg_max, device=x.device, dtype=x.dtype)
        dist = pred_dist.view(b, a, 4, self.reg_max).softmax(-1) @ proj
        pred_boxes = head.dist2bbox(dist, anchors)  # (B, A, 4) in grid units

        labels, gt_boxes, gt_mask = self._gt(targets.to(x.device).float(), b)
        target_boxes, target_scores, fg = self.assigner(
            pred_logits.detach().sigmoid(),
            (pred_boxes.detach() * strides).to(gt_boxes.dtype),
            anchors * strides,
            labels,
            gt_boxes,
            gt_mask,
            strides,
        )
        score_sum = target_scores.sum().clamp(min=1)

        bce = F.binary_cross_entropy_with_logits(pred_logits, target_scores, reduction="none")
        if annotated is not None:
            bce = bce * annotated.to(x.device, bce.dtype).unsqueeze(1)
        loss_cls = bce.sum() / score_sum

        loss_box = loss_dfl = x.new_zeros(())
        if fg.any():
            weight = target_scores.sum(-1)[fg]
            tb = target_boxes / strides  # grid units
            ciou = box_ciou(pred_boxes[fg], tb[fg])
            box_term = 1 - ciou
            if self.w.nwd > 0:  # NWD in pixels, where its constant is defined
                s_fg = strides.expand(b, a, 1)[fg]
                nwd = box_nwd(pred_boxes[fg] * s_fg, tb[fg] * s_fg, self.w.nwd_constant)
                box_term = (1 - self.w.nwd) * box_term + self.w.nwd * (1 - nwd)
            loss_box = (box_term * weight).sum() / score_sum
            target_dist = head.bbox2dist(anchors.expand(b, a, 2)[fg], tb[fg], self.reg_max)
            loss_dfl = (
                self._dfl(pred_dist[fg].view(-1, self.reg_max), target_dist.reshape(-1)).view(-1, 4).mean(-1) * weight
            ).sum() / score_sum
        parts = torch.stack([loss_box * self.w.box, loss_cls * self.w.cls, loss_dfl * self.w.dfl])
        return parts.sum() * b, parts.detach()

    @staticmethod
    def _dfl(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Distribution focal loss: cross-entropy on the two bins around the target distance,
        weighted by closeness."""
        left = target.long()
        right = left + 1
        wl = right.float() - target
        wr = 1 - wl
        return (
            F.cross_entropy(logits, left, reduction="none") * wl + F.cross_entropy(logits, right, reduction="none") * wr
        )
