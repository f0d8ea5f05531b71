"""Optimisation pieces of the trainer: parameter groups, LR schedule, EMA of the weights."""

from __future__ import annotations

import copy
import math

import torch
from torch import nn


def unwrap(model: nn.Module) -> nn.Module:
    """The model inside a DistributedDataParallel wrapper, or the model itself."""
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


class ModelEMA:
    """Exponential moving average of the weights, decay ramping up over the first updates."""

    def __init__(self, model: nn.Module, decay: float = 0.9999, tau: float = 2000.0, updates: int = 0):
        self.ema = copy.deepcopy(unwrap(model)).eval()
        for p in self.ema.parameters():
            p.requires_grad_(False)
        self.decay, self.tau, self.updates = decay, tau, updates

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Move the averaged weights one step towards the model's, with the warm-up decay."""
        self.updates += 1
        d = self.decay * (1 - math.exp(-self.updates / self.tau))
        current = unwrap(model).state_dict()
        for k, v in self.ema.state_dict().items():
            if v.dtype.is_floating_point:
                v.mul_(d).add_(current[k].detach(), alpha=1 - d)
            else:
                v.copy_(current[k])


def lr_lambda(epochs: int, schedule: str, lrf: float):
    """LR factor per epoch: cosine or linear from 1 down to `lrf`."""
    e = max(epochs, 1)
    if schedule == "linear":
        return lambda x: (1 - x / e) * (1 - lrf) + lrf
    if schedule == "cosine":
        return lambda x: ((1 - math.cos(x * math.pi / e)) / 2) * (lrf - 1) + 1
    raise ValueError(f"unknown LR schedule {schedule!r}: cosine or linear")


def build_optimizer(model: nn.Module, config, iterations: int):
    """Three groups: weights with decay, normalisation weights and biases without.

    `config` is a TrainConfig. Returns (optimizer, kind used, initial LR)."""
    decay, no_decay, biases = [], [], []
    for module in model.modules():
        for name, p in module.named_parameters(recurse=False):
            if not p.requires_grad:
                continue
            if name == "bias":
                biases.append(p)
            elif isinstance(module, (nn.BatchNorm2d, nn.LayerNorm, nn.GroupNorm)) or name == "gamma":
                no_decay.append(p)
            else:
                decay.append(p)
    kind = config.optimizer.lower()
    if kind == "auto":
        kind = "adamw" if iterations < 10000 else "sgd"
    lr = config.lr0 if config.lr0 is not None else (0.01 if kind == "sgd" else 0.002)
    accumulate = max(round(config.nbs / config.batch), 1)
    wd = config.weight_decay * config.batch * accumulate / config.nbs
    if kind == "sgd":
        opt = torch.optim.SGD(biases, lr=lr, momentum=config.momentum, nesterov=True)
    elif kind == "adamw":
        opt = torch.optim.AdamW(biases, lr=lr, betas=(config.momentum, 0.999), weight_decay=0.0)
    else:
        raise ValueError(f"unknown optimizer {config.optimizer!r}: sgd, adamw or auto")
    opt.add_param_group({"params": decay, "weight_decay": wd})
    opt.add_param_group({"params": no_decay, "weight_decay": 0.0})
    for g in opt.param_groups:
        g["initial_lr"] = lr
    return opt, kind, lr
