"""Training data for a run: chips cut into the cache, the chip dataset, the sampler, the loader.

Under DDP rank 0 cuts the chips and the other ranks then read the same cache, so the chips
are cut once. The sampler is the class-balanced one (`sampling.py`) when
`repeat_threshold` is set, a DistributedSampler under DDP, else none (plain shuffling).
"""

from __future__ import annotations

import os

import numpy as np
import torch

from .chips import build_chips
from .config import TrainConfig
from .dataset import ChipDataset, collate
from .labels import LabelSet
from .sampling import RepeatFactorSampler, chip_repeat_factors, class_repeat_factors, source_repeat_factors


def default_workers(device: torch.device) -> int:
    """Loader processes when the config leaves it open: by device and CPU cores."""
    cores = os.cpu_count() or 1
    if device.type == "cuda":
        return min(8, max(cores - 1, 0))
    # on the CPU the loader competes with the model for cores; augmentation is light
    return min(2, cores // 2)


def cut_chips(cfg: TrainConfig, nc: int, train: LabelSet, cache_dir, rank: int, world: int, log, progress):
    """The ChipStore of the training images: rank 0 cuts them into `cache_dir`, the other
    ranks wait for it, then read the cache."""
    main = rank == 0
    if main:
        progress(0.0, "cutting training chips")
        store = build_chips(train.images, nc, cfg.chips, cache_dir, log=log)
    if world > 1:
        torch.distributed.barrier()
        if not main:
            store = build_chips(train.images, nc, cfg.chips, cache_dir)
    return store


def chip_dataset(cfg: TrainConfig, store, train: LabelSet) -> ChipDataset:
    """The augmented dataset of the chips, each chip knowing its GSD (its image's GSD times
    the chip's scale); ValueError when GSD-range training has no GSD to work from."""
    image_gsd = {im.name: im.gsd for im in train.images}
    chip_gsd = np.array([(image_gsd.get(o["image"]) or 0.0) * o["scale"] for o in store.origin])
    if cfg.augment.gsd_range and not (chip_gsd > 0).any():
        raise ValueError("GSD-range training needs rasters with a known GSD; none of the training images has one")
    return ChipDataset(store, augment_config=cfg.augment, seed=cfg.seed, chip_gsd=chip_gsd)


def make_sampler(
    cfg: TrainConfig, store, dataset: ChipDataset, spec, rank: int, world: int, log, train: LabelSet | None = None
):
    """The balanced RepeatFactorSampler when `cfg.repeat_threshold` (classes) or
    `cfg.source_balance` (sources) is > 0, logging the repeat factors; each chip takes the
    larger of its two factors. A DistributedSampler under DDP, else None."""
    if cfg.repeat_threshold > 0 or cfg.source_balance > 0:
        factors, lines = np.ones(len(store), np.float64), []
        if cfg.repeat_threshold > 0:
            per_class = class_repeat_factors(store.classes, spec.nc, cfg.repeat_threshold)
            factors = chip_repeat_factors(store.classes, per_class)
            lines.append(
                "class-balanced sampling: repeat "
                + ", ".join(f"{name} x{r:.2f}" for name, r in zip(spec.class_names, per_class))
            )
        if cfg.source_balance > 0:
            source_of = {im.name: im.source for im in (train.images if train else [])}
            sources = [source_of.get(o["image"], "") for o in store.origin]
            by_source = source_repeat_factors(sources, cfg.source_balance)
            lines.append(
                "source-balanced sampling: repeat "
                + ", ".join(f"{s or '?'} x{r:.2f}" for s, r in sorted(dict(zip(sources, by_source)).items()))
            )
            factors = np.maximum(factors, by_source)
        lines[-1] += f"; {len(store)} chips -> {int(round(factors.sum()))} per epoch"
        for line in lines:
            log(line)
        return RepeatFactorSampler(factors, seed=cfg.seed, rank=rank, world=world)
    if world > 1:
        return torch.utils.data.distributed.DistributedSampler(dataset, shuffle=True, seed=cfg.seed)
    return None


def training_loader(
    cfg: TrainConfig,
    spec,
    train: LabelSet,
    val: LabelSet | None,
    device: torch.device,
    cache_dir,
    rank: int,
    world: int,
    log,
    progress,
):
    """(dataset, loader, sampler, workers) for training `spec` on `train`; `val` only for the
    log line. ValueError when there is not one batch of chips."""
    store = cut_chips(cfg, spec.nc, train, cache_dir, rank, world, log, progress)
    n_pos = sum(1 for b in store.boxes if len(b))
    log(
        f"train: {len(train.images)} images -> {len(store)} chips ({n_pos} with objects), "
        f"{sum(len(b) for b in store.boxes)} boxes; val: {len(val.images) if val else 0} images"
    )
    dataset = chip_dataset(cfg, store, train)
    gsd, sizes = cfg.augment.gsd_range, cfg.augment.object_sizes
    zooms = ([f"GSD {gsd[0]:g}-{gsd[1]:g} m"] if gsd else []) + (
        [f"objects at {sizes[0]:g}-{sizes[1]:g} px"] if sizes else []
    )
    if zooms:
        log(f"zoom: {cfg.augment.gsd_prob:.0%} of the chips shown at " + " or ".join(zooms))
    sampler = make_sampler(cfg, store, dataset, spec, rank, world, log, train)
    local_batch = max(cfg.batch // world, 1)
    workers = cfg.workers if cfg.workers is not None else default_workers(device)
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=local_batch,
        shuffle=sampler is None,
        sampler=sampler,
        num_workers=workers,
        collate_fn=collate,
        pin_memory=device.type == "cuda",
        drop_last=len(dataset) >= 2 * local_batch,
        generator=torch.Generator().manual_seed(cfg.seed),
    )
    if len(loader) == 0:
        raise ValueError("no training batch: too few chips for the batch size")
    return dataset, loader, sampler, workers
