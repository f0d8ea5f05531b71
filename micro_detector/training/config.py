"""What a training run is asked to do: `TrainConfig` with its parts `AugmentConfig` and
`LossWeights` (every training default, written once: the CLI and the QGIS train algorithm
read their defaults from these fields), its result, and the spec of the model it trains.

Pure data: importing this module imports no torch (building the CLI parser must stay fast)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # the core and the labels import torch and GDAL; this module stays light
    from .labels import LabelSet


@dataclass
class ChipConfig:
    size: int = 320  # chip side in training pixels (= the model's input size)
    overlap: float = 0.2  # fraction of the chip
    min_visibility: float = 0.5  # keep a box cut by the chip edge if this much of its area stays
    negative_ratio: float = 0.25  # empty chips kept, per chip with objects (deterministic choice)
    gsd: float | None = None  # resample rasters to this GSD (m/px); None = native pixels
    bands: int = 3
    seed: int = 0


@dataclass
class AugmentConfig:
    mosaic: float = 0.8  # probability of a 4-chip mosaic (at native scale, no shrinking)
    rot90: bool = True
    flip: float = 0.5  # probability of each of the two flips
    scale: float = 0.25  # zoom factor drawn in [1 - scale, 1 + scale]
    hsv_h: float = 0.015  # hue turn, fraction of a full turn
    hsv_s: float = 0.5
    hsv_v: float = 0.3
    min_visibility: float = 0.5
    # GSD-range training: with probability `gsd_prob`, a chip is shown at a ground sample
    # distance drawn log-uniformly in `gsd_range` (m/px), so one object class appears at many
    # pixel sizes (cars 6-26 px from 0.13 m frames). Shrunk chips are tiled with others of
    # the same annotated classes to fill the input; zoom is limited to [min_zoom, max_zoom].
    gsd_range: tuple[float, float] | None = None
    # Object-size training: with `object_sizes` (MIN, MAX px), a chip holding objects is
    # zoomed so that its median object side becomes a size drawn log-uniformly in the range
    # (with a GSD range as well, half the zooms draw a GSD and half a size). This shows each
    # class at micro sizes whatever its source's GSD: boats of a 0.26 m marina at 8 px, which
    # the GSD range alone would never shrink below 18 px.
    object_sizes: tuple[float, float] | None = None
    gsd_prob: float = 0.8  # probability that a chip is zoomed by the GSD range or object sizes
    min_zoom: float = 0.2
    max_zoom: float = 1.5
    # sensor augmentation (sensor.py): gamma, contrast, haze, blur, grey, noise, JPEG, and
    # the resampling kernel of zooms drawn among bilinear/area/bicubic/nearest
    sensor: bool = False


@dataclass
class LossWeights:
    """Loss weights and the tiny-object options of the box terms."""

    box: float = 7.5
    cls: float = 0.5
    dfl: float = 1.5
    assign: str = "ciou"  # alignment metric of the assigner: ciou | nwd
    nwd: float = 0.0  # share of (1 - NWD) in the box loss, the rest (1 - CIoU); 0 = CIoU only
    nwd_constant: float = 12.8  # NWD's normalising constant, input pixels

    def __post_init__(self):
        if self.assign not in ("ciou", "nwd"):
            raise ValueError(f"assign must be 'ciou' or 'nwd', got {self.assign!r}")
        if not 0 <= self.nwd <= 1:
            raise ValueError(f"nwd share must be in [0, 1], got {self.nwd}")
        if not self.nwd_constant > 0:
            raise ValueError(f"nwd_constant must be > 0, got {self.nwd_constant}")


@dataclass
class TrainConfig:
    scale: str = "n"
    p2: bool = False  # add a stride-4 (P2) level to the neck and head, for objects of a few pixels
    epochs: int = 100
    imgsz: int = 320  # chip and input size
    batch: int = 16
    nbs: int = 64  # nominal batch: gradients accumulate up to it, weight decay scales with it
    device: str = "auto"
    optimizer: str = "auto"  # sgd | adamw | auto (AdamW for short runs, SGD for long ones)
    lr0: float | None = None  # default 0.01 for SGD, 0.002 for AdamW
    lrf: float = 0.01  # final LR as a fraction of lr0
    momentum: float = 0.937
    weight_decay: float = 5e-4
    warmup_epochs: float = 3.0
    warmup_bias_lr: float = 0.1
    warmup_momentum: float = 0.8
    schedule: str = "cosine"  # cosine | linear
    ema: bool = True
    amp: bool = True  # on CUDA
    close_mosaic: int = 10  # last epochs without mosaic
    patience: int = 50  # epochs without a better val mAP50-95 before stopping
    workers: int | None = None  # data loader processes (None: by device and cores)
    seed: int = 0
    val_every: int = 1
    weights: str | None = None  # start from a model file (layers of matching shape)
    chips: ChipConfig = field(default_factory=ChipConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    loss: LossWeights = field(default_factory=LossWeights)
    eval_conf: float = 0.001
    eval_batch: int = 8
    # class-balanced sampling (training/sampling.py): a chip holding a class found in a share
    # f of the chips is shown max(1, sqrt(repeat_threshold / f)) times per epoch; 0 = off
    repeat_threshold: float = 0.0
    # source balance: chips of a source holding a share f of the chips are shown
    # max(1, sqrt(source_balance / f)) times (the larger of this and the class factor); 0 = off
    source_balance: float = 0.0

    def __post_init__(self):
        checks = [
            (self.epochs >= 1, f"epochs must be >= 1, got {self.epochs}"),
            (self.batch >= 1, f"batch must be >= 1, got {self.batch}"),
            (self.nbs >= 1, f"nbs must be >= 1, got {self.nbs}"),
            (self.imgsz > 0 and self.imgsz % 32 == 0, f"imgsz must be a positive multiple of 32, got {self.imgsz}"),
            (self.lr0 is None or self.lr0 > 0, f"lr0 must be > 0, got {self.lr0}"),
            (0 < self.lrf <= 1, f"lrf must be in (0, 1], got {self.lrf}"),
            (self.warmup_epochs >= 0, f"warmup_epochs must be >= 0, got {self.warmup_epochs}"),
            (self.val_every >= 1, f"val_every must be >= 1, got {self.val_every}"),
            (self.patience >= 1, f"patience must be >= 1, got {self.patience}"),
            (self.close_mosaic >= 0, f"close_mosaic must be >= 0, got {self.close_mosaic}"),
            (0 <= self.repeat_threshold <= 1, f"repeat_threshold must be in [0, 1], got {self.repeat_threshold}"),
            (0 <= self.source_balance <= 1, f"source_balance must be in [0, 1], got {self.source_balance}"),
            (
                self.augment.object_sizes is None or 0 < self.augment.object_sizes[0] <= self.augment.object_sizes[1],
                f"object sizes must satisfy 0 < MIN <= MAX pixels, got {self.augment.object_sizes}",
            ),
            (self.schedule in ("cosine", "linear"), f"schedule must be cosine or linear, got {self.schedule!r}"),
            (
                self.optimizer.lower() in ("auto", "sgd", "adamw"),
                f"optimizer must be auto, sgd or adamw, got {self.optimizer!r}",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        """A TrainConfig from its dict form (as saved in a run folder), nested configs included."""
        data = dict(data)
        sub = {"chips": ChipConfig, "augment": AugmentConfig, "loss": LossWeights}
        for key, kind in sub.items():
            if isinstance(data.get(key), dict):
                data[key] = kind(**data[key])
        return cls(**data)


@dataclass
class TrainResult:
    model_path: Path
    metrics: object | None  # Metrics of best.pt on the validation rasters
    history: list[dict]
    run_dir: Path
    stopped_early: bool = False
    seconds: float = 0.0


def model_spec_for(cfg: TrainConfig, train: LabelSet):
    """The spec of the model a run trains: its classes, input, and the GSD it serves.

    A GSD range (GSD-range training) is written as the range; otherwise a fixed `--gsd`, or
    the one native GSD when every training image shares it (within 10%), or none."""
    from ..model import spec as model_spec

    gsd = cfg.chips.gsd
    if gsd is None:
        gsds = [im.gsd for im in train.images if im.gsd]
        if gsds and len(gsds) == len(train.images) and max(gsds) / min(gsds) < 1.1:
            gsd = float(np.median(gsds))  # one native GSD: detection resamples to it
    gsd_range = tuple(cfg.augment.gsd_range) if cfg.augment.gsd_range else None
    if gsd_range is not None:  # the model serves the range it was shown
        gsd = float(np.sqrt(gsd_range[0] * gsd_range[1]))
    return model_spec.ModelSpec(
        scale=cfg.scale,
        class_names=list(train.class_names),
        bands=cfg.chips.bands,
        imgsz=cfg.imgsz,
        p2=cfg.p2,
        gsd=gsd,
        gsd_min=gsd_range[0] if gsd_range else None,
        gsd_max=gsd_range[1] if gsd_range else None,
    )
