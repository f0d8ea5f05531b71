"""Distributed data parallel (DDP) helpers: who this process is, its device, the process group.

Why here: the trainer runs the same code in one process or in several started by torchrun;
these are the few places that differ, read from torchrun's environment variables.
"""

from __future__ import annotations

import os

import torch

from ..model import runner as runners


def ddp_env() -> tuple[int, int, int]:
    """(rank, local rank, world size) from torchrun's environment; (0, 0, 1) when not under it."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0")), world


def train_device(requested: str, world: int, local_rank: int) -> torch.device:
    """The torch device of this process: the requested one ('auto', 'cpu', 'cuda', ...),
    with one GPU per local rank under DDP."""
    name = runners.resolve_device(requested)
    if name.startswith("cuda") and world > 1:
        return torch.device("cuda", local_rank)
    return torch.device(name)


def start(device: torch.device, world: int) -> None:
    """Join the process group (nccl on GPUs, gloo on the CPU) when there are several
    processes, and make `device` the current GPU."""
    if world > 1 and not torch.distributed.is_initialized():
        torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if device.type == "cuda":
        torch.cuda.set_device(device)


def barrier(world: int) -> None:
    """Wait for every process (nothing to wait for in a single process)."""
    if world > 1:
        torch.distributed.barrier()
