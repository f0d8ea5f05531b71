"""Anchor-free detection head for P3/P4/P5 (and optionally P2) with Distribution Focal Loss
bins (reg_max 16)."""

from __future__ import annotations

import math

import torch
from torch import nn

from .layers import Conv, DWConv

REG_MAX = 16


def make_anchors(
    shapes: list[tuple[int, int]], strides: list[int], device, dtype, offset: float = 0.5
) -> tuple[torch.Tensor, torch.Tensor]:
    """Anchor points (cell centres, in feature-cell units) and their strides, level by level."""
    points, stride_list = [], []
    for (h, w), s in zip(shapes, strides):
        sx = torch.arange(w, device=device, dtype=dtype) + offset
        sy = torch.arange(h, device=device, dtype=dtype) + offset
        yy, xx = torch.meshgrid(sy, sx, indexing="ij")
        points.append(torch.stack((xx, yy), -1).view(-1, 2))
        stride_list.append(torch.full((h * w, 1), float(s), device=device, dtype=dtype))
    return torch.cat(points), torch.cat(stride_list)


def dist2bbox(distance: torch.Tensor, anchors: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """(left, top, right, bottom) distances from anchor points -> xyxy boxes."""
    lt, rb = distance.chunk(2, dim)
    return torch.cat((anchors - lt, anchors + rb), dim)


def bbox2dist(anchors: torch.Tensor, boxes: torch.Tensor, reg_max: int) -> torch.Tensor:
    """xyxy boxes -> (l, t, r, b) distances from anchor points, clamped to the DFL range."""
    x1y1, x2y2 = boxes.chunk(2, -1)
    return torch.cat((anchors - x1y1, x2y2 - anchors), -1).clamp_(0, reg_max - 1 - 0.01)


class DFL(nn.Module):
    """Expected value of the softmax over the reg_max distance bins."""

    def __init__(self, reg_max: int = REG_MAX):
        super().__init__()
        self.reg_max = reg_max
        self.register_buffer("proj", torch.arange(reg_max, dtype=torch.float32), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 4*reg_max, A) bin logits -> (B, 4, A) expected distances in stride units."""
        b, _, a = x.shape  # (B, 4*reg_max, A)
        probs = x.view(b, 4, self.reg_max, a).softmax(2)
        return (probs * self.proj.to(probs.dtype).view(1, 1, -1, 1)).sum(2)


class Detect(nn.Module):
    """Per level: a box branch (4*reg_max logits) and a class branch (nc logits).

    The branch widths come from the first level (P3), whatever levels follow, so adding a
    P2 level leaves the P3-P5 branches the shape they have in a model without it."""

    def __init__(self, nc: int, ch: tuple[int, ...], strides=(8, 16, 32)):
        super().__init__()
        self.nc = nc
        self.nl = len(ch)
        self.reg_max = REG_MAX
        self.no = nc + 4 * REG_MAX
        self.strides = list(strides)
        c2 = max(16, ch[0] // 4, REG_MAX * 4)
        c3 = max(ch[0], min(nc, 100))
        self.cv2 = nn.ModuleList(
            nn.Sequential(Conv(x, c2, 3), Conv(c2, c2, 3), nn.Conv2d(c2, 4 * REG_MAX, 1)) for x in ch
        )
        self.cv3 = nn.ModuleList(
            nn.Sequential(
                nn.Sequential(DWConv(x, x, 3), Conv(x, c3, 1)),
                nn.Sequential(DWConv(c3, c3, 3), Conv(c3, c3, 1)),
                nn.Conv2d(c3, nc, 1),
            )
            for x in ch
        )
        self.dfl = DFL(REG_MAX)

    def init_bias(self, imgsz: int = 640):
        """Prior biases: boxes about two cells wide, class logits at ~5 objects per 640 image
        per level.

        Flat box logits would start every box 15 cells (120 px at P3) wide: against objects of
        a few pixels their IoU is ~0, so task-aligned assignment gives no training signal.
        Bin logits falling by 0.7 per bin put the expected distance near one cell instead.
        """
        bins = torch.arange(self.reg_max, dtype=torch.float32)
        for box, cls, s in zip(self.cv2, self.cv3, self.strides):
            box[-1].bias.data.view(4, self.reg_max)[:] = -0.7 * bins
            cls[-1].bias.data[: self.nc] = math.log(5 / self.nc / (imgsz / s) ** 2)

    def forward(self, feats: list[torch.Tensor]) -> list[torch.Tensor]:
        """Raw maps, one (B, 4*reg_max + nc, H, W) per level."""
        return [torch.cat((self.cv2[i](f), self.cv3[i](f)), 1) for i, f in enumerate(feats)]

    def decode(self, raw: list[torch.Tensor]) -> torch.Tensor:
        """Raw maps -> (B, 4 + nc, A): xyxy boxes in input pixels and class probabilities."""
        b = raw[0].shape[0]
        x = torch.cat([r.flatten(2) for r in raw], 2)
        box, cls = x.split((4 * self.reg_max, self.nc), 1)
        anchors, strides = make_anchors([r.shape[2:] for r in raw], self.strides, x.device, x.dtype)
        boxes = dist2bbox(self.dfl(box), anchors.t().unsqueeze(0), dim=1) * strides.t().unsqueeze(0)
        return torch.cat((boxes, cls.sigmoid()), 1).view(b, 4 + self.nc, -1)
