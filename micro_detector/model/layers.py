"""YOLOv12 building blocks: Conv, C3k2/C3k, area attention (AAttn), ABlock, A2C2f.

Written from the YOLOv12 paper (Tian, Ye, Doermann 2025, arXiv 2502.12524) and the
published configuration. Module and attribute names follow that configuration's layout
so parameter counts can be compared block by block.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def autopad(k: int, p: int | None = None) -> int:
    """Padding that keeps the size of a stride-1 convolution of kernel k: k // 2 unless p is given."""
    return k // 2 if p is None else p


class Conv(nn.Module):
    """Convolution + BatchNorm + SiLU (no conv bias: BN has one)."""

    def __init__(self, c1, c2, k=1, s=1, p=None, g=1, act=True):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, autopad(k, p), groups=g, bias=False)
        self.bn = nn.BatchNorm2d(c2, eps=1e-3, momentum=0.03)
        self.act = nn.SiLU(inplace=True) if act else nn.Identity()

    def forward(self, x):
        """(B, c1, H, W) -> (B, c2, H/s, W/s): convolution, BatchNorm, SiLU."""
        return self.act(self.bn(self.conv(x)))


class DWConv(Conv):
    """Depthwise convolution (groups = gcd of the channel counts)."""

    def __init__(self, c1, c2, k=1, s=1, act=True):
        super().__init__(c1, c2, k, s, g=math.gcd(c1, c2), act=act)


class Bottleneck(nn.Module):
    def __init__(self, c1, c2, shortcut=True, g=1, k=(3, 3), e=0.5):
        super().__init__()
        c_ = int(c2 * e)
        self.cv1 = Conv(c1, c_, k[0], 1)
        self.cv2 = Conv(c_, c2, k[1], 1, g=g)
        self.add = shortcut and c1 == c2

    def forward(self, x):
        """(B, c1, H, W) -> (B, c2, H, W): two convolutions, plus the input when shapes allow."""
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class C3k(nn.Module):
    """CSP block with two 1x1 branches and `n` k x k bottlenecks."""

    def __init__(self, c1, c2, n=1, shortcut=True, g=1, e=0.5, k=3):
        super().__init__()
        c_ = int(c2 * e)
        self.cv1 = Conv(c1, c_, 1, 1)
        self.cv2 = Conv(c1, c_, 1, 1)
        self.cv3 = Conv(2 * c_, c2, 1)
        self.m = nn.Sequential(*(Bottleneck(c_, c_, shortcut, g, k=(k, k), e=1.0) for _ in range(n)))

    def forward(self, x):
        """(B, c1, H, W) -> (B, c2, H, W): bottleneck branch and 1x1 branch, concatenated and fused."""
        return self.cv3(torch.cat((self.m(self.cv1(x)), self.cv2(x)), 1))


class C3k2(nn.Module):
    """C2f-style block (split, chain of `n` inner blocks, concat all) with C3k or Bottleneck inside."""

    def __init__(self, c1, c2, n=1, c3k=False, e=0.5, g=1, shortcut=True):
        super().__init__()
        self.c = int(c2 * e)
        self.cv1 = Conv(c1, 2 * self.c, 1, 1)
        self.cv2 = Conv((2 + n) * self.c, c2, 1)
        self.m = nn.ModuleList(
            C3k(self.c, self.c, 2, shortcut, g) if c3k else Bottleneck(self.c, self.c, shortcut, g) for _ in range(n)
        )

    def forward(self, x):
        """(B, c1, H, W) -> (B, c2, H, W): split in two, chain the inner blocks, concatenate every stage, fuse."""
        y = list(self.cv1(x).chunk(2, 1))
        for m in self.m:
            y.append(m(y[-1]))
        return self.cv2(torch.cat(y, 1))


class AAttn(nn.Module):
    """Area attention: the flattened map is cut into `area` equal stripes, each attends to itself.

    Attention goes through `scaled_dot_product_attention`, so flash / memory-efficient
    kernels run where the device has them and the N x N matrix is never built by us.
    A 7x7 depthwise convolution on V is the position perceiver.
    """

    def __init__(self, dim, num_heads, area=1):
        super().__init__()
        self.area = area
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        all_head_dim = self.head_dim * num_heads
        self.qkv = Conv(dim, all_head_dim * 3, 1, act=False)
        self.proj = Conv(all_head_dim, dim, 1, act=False)
        self.pe = Conv(all_head_dim, dim, 7, 1, 3, g=dim, act=False)

    def forward(self, x):
        """(B, C, H, W) -> (B, C, H, W): attention within each area, plus the position perceiver on V."""
        B, C, H, W = x.shape
        N = H * W
        area = self.area if self.area > 1 and N % self.area == 0 else 1
        qkv = self.qkv(x).flatten(2).transpose(1, 2)  # B, N, 3C
        qkv = qkv.reshape(B * area, N // area, self.num_heads, 3 * self.head_dim).transpose(1, 2)
        q, k, v = qkv.split(self.head_dim, dim=-1)  # each (B*area, heads, N/area, head_dim)
        out = F.scaled_dot_product_attention(q, k, v)
        # back to (B, C, H, W); channel order is head-major, as in the reference layout
        out = out.transpose(1, 2).reshape(B, N, C).transpose(1, 2).reshape(B, C, H, W)
        v = v.transpose(1, 2).reshape(B, N, C).transpose(1, 2).reshape(B, C, H, W)
        return self.proj(out + self.pe(v))


class ABlock(nn.Module):
    """Area-attention block: x + attn(x), then x + MLP(x) (1x1 convs, hidden = mlp_ratio * dim)."""

    def __init__(self, dim, num_heads, mlp_ratio=1.2, area=1):
        super().__init__()
        self.attn = AAttn(dim, num_heads=num_heads, area=area)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(Conv(dim, hidden, 1), Conv(hidden, dim, 1, act=False))
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(m):
        if isinstance(m, nn.Conv2d):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.constant_(m.bias, 0)

    def forward(self, x):
        """(B, dim, H, W) -> (B, dim, H, W): residual attention, then residual MLP."""
        x = x + self.attn(x)
        return x + self.mlp(x)


class A2C2f(nn.Module):
    """R-ELAN block: 1x1 transition, a chain of ABlock pairs (or C3k when a2=False),
    concatenation of every stage, 1x1 fusion, and (large scales) a residual scaled by a
    learned per-channel gamma initialised at 0.01."""

    def __init__(self, c1, c2, n=1, a2=True, area=1, residual=False, mlp_ratio=2.0, e=0.5, g=1, shortcut=True):
        super().__init__()
        c_ = int(c2 * e)
        if c_ % 32:
            raise ValueError(f"A2C2f hidden width {c_} must be a multiple of 32 (32-channel heads)")
        self.cv1 = Conv(c1, c_, 1, 1)
        self.cv2 = Conv((1 + n) * c_, c2, 1)
        self.gamma = nn.Parameter(0.01 * torch.ones(c2)) if a2 and residual else None
        self.m = nn.ModuleList(
            nn.Sequential(*(ABlock(c_, c_ // 32, mlp_ratio, area) for _ in range(2)))
            if a2
            else C3k(c_, c_, 2, shortcut, g)
            for _ in range(n)
        )

    def forward(self, x):
        """(B, c1, H, W) -> (B, c2, H, W); with gamma (large scales) the input is added back, scaled."""
        y = [self.cv1(x)]
        for m in self.m:
            y.append(m(y[-1]))
        y = self.cv2(torch.cat(y, 1))
        if self.gamma is not None:
            return x + self.gamma.view(1, -1, 1, 1) * y
        return y
