"""The training checkpoint: written and read in this one place.

A checkpoint is a plain dict of tensors and numbers (loaded weights-only, so nothing pickled
ever runs), tagged with CHECKPOINT_FORMAT. `Checkpoint` is its typed view.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from pathlib import Path

import torch

from ..model.io import load_weights_only

CHECKPOINT_FORMAT = "micro-detector-checkpoint"


class CheckpointError(ValueError):
    """A --resume file that is missing, damaged, refused or not one of our checkpoints."""


def save_atomic(obj, path: Path) -> None:
    """torch.save under a temporary name, flushed to the disk, then renamed: the last good
    checkpoint is replaced only by a complete new one; a full disk is a DiskFullError."""
    from ..diskio import atomic_file

    with atomic_file(path, what="saving the checkpoint") as tmp:
        torch.save(obj, tmp)


@dataclass
class Checkpoint:
    """Everything needed to resume a run after `epoch` (0-based) finished."""

    config: dict  # TrainConfig as a dict
    epoch: int
    model: dict  # state dicts
    optimizer: dict
    ema: dict | None = None
    ema_updates: int = 0
    scaler: dict | None = None
    best_fitness: float = -math.inf
    best_epoch: int = -1
    history: list = field(default_factory=list)

    def save(self, path: str | Path) -> None:
        """Write atomically (no deep copy of the tensors)."""
        save_atomic({"format": CHECKPOINT_FORMAT, **{f.name: getattr(self, f.name) for f in fields(self)}}, Path(path))

    @classmethod
    def read(cls, path: str | Path) -> Checkpoint:
        """Load weights-only; CheckpointError naming the problem for anything else."""
        data = load_weights_only(path, "training checkpoint", CheckpointError)
        if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
            raise CheckpointError(f"{path} is not a training checkpoint of micro-detector")
        names = {f.name for f in fields(cls)}
        missing = sorted(n for n in ("config", "epoch", "model", "optimizer") if n not in data)
        if missing:
            raise CheckpointError(f"{path} is a damaged checkpoint: it lacks {', '.join(missing)}")
        return cls(**{k: v for k, v in data.items() if k in names})


def read_checkpoint(path: str | Path) -> Checkpoint:
    """Checkpoint.read, as a function (the CLI checks --resume before reading labels)."""
    return Checkpoint.read(path)
