"""The YOLOv12 network: R-ELAN backbone, PAN neck, anchor-free P3/P4/P5 head (+ P2 optional).

Layer plan (published YOLOv12 configuration, channels before width scaling):
backbone  Conv64/2  Conv128/2  C3k2-256(e=.25)  Conv256/2  C3k2-512(e=.25)  Conv512/2
          A2C2f-512 x4 (area 4)  Conv1024/2  A2C2f-1024 x4 (area 1)
neck      up + P4 -> A2C2f-512   up + P3 -> A2C2f-256 (P3 out)
          Conv256/2 + -> A2C2f-512 (P4 out)   Conv512/2 + P5 -> C3k2-1024 (P5 out)
with spec.p2: up + stride-4 backbone map -> C3k2-128 (P2 out), a fourth head level. It is
appended after P5 (head index 3), so the P3-P5 layers keep their names and shapes and a
P3-P5 model's weights load into a P2 model for fine-tuning.
Large scales (l, x) use the scaled residual in A2C2f and MLP ratio 1.2; n/s/m use no
residual and MLP ratio 2.0; m/l/x use C3k inside C3k2.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .layers import A2C2f, C3k2, Conv
from .head import Detect
from .spec import SCALES, ModelSpec


def make_divisible(x: float, divisor: int = 8) -> int:
    """x rounded up to a multiple of `divisor` (channel widths)."""
    return int(math.ceil(x / divisor) * divisor)


class Normalize(nn.Module):
    """The model's first layer: 0-255 pixels (any dtype) -> (pixel / input_scale - mean) / std.

    Inside the network, so torch, the exported ONNX graph and training all take raw pixels.
    The constants come from the spec (the one place they are stored), so they are buffers
    that are not saved in the state dict: files of format version 1, written before this
    layer existed, load into the same network unchanged.
    """

    def __init__(self, spec: ModelSpec):
        super().__init__()
        std = torch.tensor(spec.std, dtype=torch.float32) * spec.input_scale
        mean = torch.tensor(spec.mean, dtype=torch.float32) * spec.input_scale
        # x * (1 / s) + (-m / s): one fused multiply-add instead of a subtract and a divide
        self.register_buffer("gain", (1.0 / std).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("offset", (-mean / std).view(1, -1, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, bands, H, W) 0-255 pixels of any dtype -> the normalised float tensor the backbone takes."""
        dtype = self.gain.dtype
        return torch.addcmul(self.offset, x.to(dtype), self.gain)


class YOLOv12(nn.Module):
    """Input: (B, bands, H, W) pixels in the 0-255 range (H, W divisible by 32).
    `forward` gives the raw head maps (training and the loss); `forward_decoded` the boxes
    and class probabilities before NMS (inference, ONNX export)."""

    def __init__(self, spec: ModelSpec):
        super().__init__()
        self.spec = spec
        self.norm = Normalize(spec)
        depth, width, cap = SCALES[spec.scale]

        def ch(c: int) -> int:
            return make_divisible(min(c, cap) * width, 8)

        def rep(n: int) -> int:
            return max(round(n * depth), 1) if n > 1 else n

        c3k = spec.scale in "mlx"
        big = dict(residual=True, mlp_ratio=1.2) if spec.scale in "lx" else {}

        self.b0 = Conv(spec.bands, ch(64), 3, 2)
        self.b1 = Conv(ch(64), ch(128), 3, 2)
        self.b2 = C3k2(ch(128), ch(256), rep(2), c3k, 0.25)
        self.b3 = Conv(ch(256), ch(256), 3, 2)
        self.b4 = C3k2(ch(256), ch(512), rep(2), c3k, 0.25)
        self.b5 = Conv(ch(512), ch(512), 3, 2)
        self.b6 = A2C2f(ch(512), ch(512), rep(4), True, 4, **big)
        self.b7 = Conv(ch(512), ch(1024), 3, 2)
        self.b8 = A2C2f(ch(1024), ch(1024), rep(4), True, 1, **big)

        self.n11 = A2C2f(ch(1024) + ch(512), ch(512), rep(2), False, -1)
        self.n14 = A2C2f(ch(512) + ch(512), ch(256), rep(2), False, -1)
        self.n15 = Conv(ch(256), ch(256), 3, 2)
        self.n17 = A2C2f(ch(256) + ch(512), ch(512), rep(2), False, -1)
        self.n18 = Conv(ch(512), ch(512), 3, 2)
        self.n20 = C3k2(ch(512) + ch(1024), ch(1024), rep(2), True)
        levels, strides = [ch(256), ch(512), ch(1024)], [8, 16, 32]
        if spec.p2:
            self.n2 = C3k2(ch(256) + ch(256), ch(128), rep(2), c3k)
            levels.append(ch(128))
            strides.append(4)
        self.detect = Detect(spec.nc, tuple(levels), strides=tuple(strides))
        self.detect.init_bias(spec.imgsz)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """(B, bands, H, W) pixels -> the neck outputs per level [P3, P4, P5(, P2)]; ValueError when H or W is not divisible by 32."""
        if x.shape[-1] % 32 or x.shape[-2] % 32:
            raise ValueError(f"input height and width must be divisible by 32, got {tuple(x.shape[-2:])}")
        p2 = self.b2(self.b1(self.b0(self.norm(x))))
        p3 = self.b4(self.b3(p2))
        p4 = self.b6(self.b5(p3))
        p5 = self.b8(self.b7(p4))
        h11 = self.n11(torch.cat((F.interpolate(p5, scale_factor=2.0, mode="nearest"), p4), 1))
        o3 = self.n14(torch.cat((F.interpolate(h11, scale_factor=2.0, mode="nearest"), p3), 1))
        o4 = self.n17(torch.cat((self.n15(o3), h11), 1))
        o5 = self.n20(torch.cat((self.n18(o4), p5), 1))
        if self.spec.p2:
            o2 = self.n2(torch.cat((F.interpolate(o3, scale_factor=2.0, mode="nearest"), p2), 1))
            return [o3, o4, o5, o2]
        return [o3, o4, o5]

    def forward_raw(self, x: torch.Tensor) -> list[torch.Tensor]:
        """(B, bands, H, W) pixels -> the raw head maps per level (box and class logits)."""
        return self.detect(self.features(x))

    def forward_decoded(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 4 + nc, A): boxes xyxy in input pixels and class probabilities, before NMS."""
        return self.detect.decode(self.forward_raw(x))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Raw head maps, in train and eval mode alike (NMS belongs to the runners)."""
        return self.forward_raw(x)


def build_model(spec: ModelSpec | None = None, **kwargs) -> YOLOv12:
    """Untrained model for `spec` (or a ModelSpec built from keyword arguments)."""
    return YOLOv12(spec if spec is not None else ModelSpec(**kwargs))
