"""One training epoch: warmup, forward under AMP, loss, accumulated optimiser steps, EMA.

Why apart from the trainer: this is the hot loop; the trainer around it decides when to
validate, checkpoint and stop.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn

from .. import engine
from .run_state import RunState


def warmup(run: RunState, ni: int, epoch: int) -> None:
    """Set accumulation, learning rates and momentum for iteration `ni` of the warmup."""
    cfg = run.cfg
    run.accumulate = max(1, round(np.interp(ni, [0, run.warmup_iters], [1, cfg.nbs / cfg.batch])))
    for j, g in enumerate(run.optimizer.param_groups):
        # SGD biases start high and come down; everything else ramps up
        start = cfg.warmup_bias_lr if j == 0 and run.opt_kind == "sgd" else 0.0
        g["lr"] = float(np.interp(ni, [0, run.warmup_iters], [start, g["initial_lr"] * run.lf(epoch)]))
        if "momentum" in g:
            g["momentum"] = float(np.interp(ni, [0, run.warmup_iters], [cfg.warmup_momentum, cfg.momentum]))


def optimiser_step(run: RunState, ni: int) -> None:
    """An optimiser step once `accumulate` batches of gradients are in."""
    if ni - run.last_step < run.accumulate:
        return
    run.scaler.unscale_(run.optimizer)
    nn.utils.clip_grad_norm_(run.model.parameters(), max_norm=10.0)
    run.scaler.step(run.optimizer)
    run.scaler.update()
    run.optimizer.zero_grad(set_to_none=True)
    if run.ema is not None:
        run.ema.update(run.model)
    run.last_step = ni


def _start_epoch(run: RunState, epoch: int) -> None:
    """Train mode, the epoch's augmentation seed and mosaic switch, the sampler's epoch."""
    run.model.train()
    run.dataset.set_epoch(epoch)
    run.dataset.mosaic_enabled = epoch < run.cfg.epochs - run.cfg.close_mosaic
    if run.sampler is not None:
        run.sampler.set_epoch(epoch)
    if epoch == run.start_epoch:
        run.optimizer.zero_grad(set_to_none=True)


def train_epoch(run: RunState, epoch: int, world: int, cancel, progress) -> dict:
    """One pass over the loader; returns the epoch's record (mean losses, LR, speed).
    `cancel()` returning True raises engine.Cancelled within one batch; FloatingPointError
    when the loss stops being finite."""
    cfg, device, nb = run.cfg, run.device, run.nb
    epoch_start = time.perf_counter()
    _start_epoch(run, epoch)
    sums, seen, i = torch.zeros(3, device=device), 0, 0
    for i, (images, targets, annotated) in enumerate(run.loader):
        ni = i + nb * epoch
        if run.warmup_iters and ni <= run.warmup_iters:
            warmup(run, ni, epoch)
        x = images.to(device, non_blocking=True).float()  # 0-255: the model normalises
        with torch.autocast(device.type, dtype=torch.float16, enabled=run.use_amp):
            raw = run.model(x)
        loss, parts = run.criterion(raw, targets.to(device), annotated.to(device))
        if not torch.isfinite(loss):
            raise FloatingPointError(
                f"the loss became {loss.item()} at epoch {epoch + 1}, batch {i + 1}; lower the learning rate"
            )
        run.scaler.scale(loss).backward()
        optimiser_step(run, ni)
        sums += parts
        seen += len(images)
        if cancel():
            raise engine.Cancelled()
        progress(
            (ni + 1) / (nb * cfg.epochs),
            f"epoch {epoch + 1}/{cfg.epochs} batch {i + 1}/{nb} loss {float(parts.sum()):.3f}",
        )
    run.scheduler.step()
    train_s = time.perf_counter() - epoch_start
    means = (sums / max(i + 1, 1)).tolist()
    return {
        "epoch": epoch + 1,
        "train/box": means[0],
        "train/cls": means[1],
        "train/dfl": means[2],
        "lr": run.optimizer.param_groups[1]["lr"],
        "train_seconds": round(train_s, 2),
        "images_per_s": round(seen * world / train_s, 2),
    }
