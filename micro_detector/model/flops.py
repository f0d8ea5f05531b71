"""Parameter and FLOP counts of a model (FLOPs counted by torch's flop counter).

`gflops` follows the papers' convention (convolutions, 2 FLOPs per multiply-add), which
reproduces the published YOLOv12 table; the attention matmuls are reported apart.
"""

from __future__ import annotations

import torch
from torch.utils.flop_counter import FlopCounterMode


def count_params(model: torch.nn.Module) -> int:
    """The number of parameters (trainable or not) of `model`."""
    return sum(p.numel() for p in model.parameters())


@torch.no_grad()
def count_flops(model, imgsz: int = 640) -> dict[str, float]:
    """{'gflops': convolution GFLOPs, 'attention_gflops': matmul GFLOPs} for one square image."""
    was_training = model.training
    model.eval()
    x = torch.zeros(1, model.spec.bands, imgsz, imgsz)
    with FlopCounterMode(display=False) as counter:
        model.forward_raw(x)
    model.train(was_training)
    counts = counter.get_flop_counts().get("Global", {})
    conv = sum(v for op, v in counts.items() if "convolution" in str(op))
    total = sum(counts.values())
    return {"gflops": conv / 1e9, "attention_gflops": (total - conv) / 1e9}
