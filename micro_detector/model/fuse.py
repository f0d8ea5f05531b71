"""BatchNorm folded into the convolution before it, for inference.

In eval mode a BatchNorm is a fixed per-channel affine map, so conv -> BN equals one
convolution with scaled weights and a bias. Folding removes one full pass over every
feature map (and its memory traffic) per Conv block: the torch CPU path gets faster, the
outputs stay the same to float rounding. A folded model is for inference only: it cannot be
trained or saved as a model file (save_model refuses it).
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from .layers import Conv


def fold_conv_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    """One Conv2d equal to `bn(conv(x))` with `bn` in eval mode (running statistics)."""
    fused = nn.Conv2d(
        conv.in_channels,
        conv.out_channels,
        conv.kernel_size,
        conv.stride,
        conv.padding,
        conv.dilation,
        conv.groups,
        bias=True,
        padding_mode=conv.padding_mode,
    ).to(conv.weight.device, conv.weight.dtype)
    with torch.no_grad():  # in float64, so the folded weights are the closest float32 values
        scale = bn.weight.double() / torch.sqrt(bn.running_var.double() + bn.eps)
        weight = conv.weight.double() * scale.view(-1, 1, 1, 1)
        bias = conv.bias.double() if conv.bias is not None else torch.zeros_like(scale)
        fused.weight.copy_(weight)
        fused.bias.copy_((bias - bn.running_mean.double()) * scale + bn.bias.double())
    fused.requires_grad_(False)
    return fused


def fuse_model(model: nn.Module, inplace: bool = False) -> nn.Module:
    """`model` (or a copy, unless `inplace`) in eval mode with every Conv block's BatchNorm
    folded into its convolution; marks it `fused`. Returns it."""
    if not inplace:
        model = copy.deepcopy(model)
    model.eval()
    count = 0
    for module in model.modules():
        if isinstance(module, Conv) and isinstance(module.bn, nn.BatchNorm2d):
            module.conv = fold_conv_bn(module.conv, module.bn)
            module.bn = nn.Identity()
            count += 1
    model.fused = True
    model.fused_blocks = count
    return model
