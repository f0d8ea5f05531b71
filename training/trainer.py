"""The trainer: optimiser groups, warmup and LR schedule, EMA, AMP, accumulation, validation,
checkpoints, resume, early stop, best model by validation mAP50-95, single process or DDP.

Outputs in the run folder:
  best.pt                 the best model (EMA weights) in the project's model format
  last_checkpoint.pt      everything needed to resume (model, EMA, optimiser, history)
  results.csv / .png      losses and validation metrics per epoch
  metrics.csv / .json     the final per-class table of best.pt on the validation rasters
  PR_curve.png, val_images.png, report.html, train_config.json, labels_report.json
"""

from __future__ import annotations

import copy
import csv
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ._core import engine, model_io, runner as runners, spec as model_spec, yolov12
from .chips import ChipConfig, build_chips
from .dataset import AugmentConfig, ChipDataset, collate
from .evaluate import EvalOptions, evaluate_labelled, write_html
from .labels import LabelSet
from .loss import DetectionLoss, LossWeights

CHECKPOINT_FORMAT = "micro-detector-checkpoint"


@dataclass
class TrainConfig:
    scale: str = "n"
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

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
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


class ModelEMA:
    """Exponential moving average of the weights, decay ramping up over the first updates."""

    def __init__(self, model: nn.Module, decay: float = 0.9999, tau: float = 2000.0, updates: int = 0):
        self.ema = copy.deepcopy(_unwrap(model)).eval()
        for p in self.ema.parameters():
            p.requires_grad_(False)
        self.decay, self.tau, self.updates = decay, tau, updates

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        self.updates += 1
        d = self.decay * (1 - math.exp(-self.updates / self.tau))
        current = _unwrap(model).state_dict()
        for k, v in self.ema.state_dict().items():
            if v.dtype.is_floating_point:
                v.mul_(d).add_(current[k].detach(), alpha=1 - d)
            else:
                v.copy_(current[k])


def _unwrap(model: nn.Module) -> nn.Module:
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


def _lr_lambda(config: TrainConfig):
    e = max(config.epochs, 1)
    if config.schedule == "linear":
        return lambda x: (1 - x / e) * (1 - config.lrf) + config.lrf
    if config.schedule == "cosine":
        return lambda x: ((1 - math.cos(x * math.pi / e)) / 2) * (config.lrf - 1) + 1
    raise ValueError(f"unknown LR schedule {config.schedule!r}: cosine or linear")


def build_optimizer(model: nn.Module, config: TrainConfig, iterations: int):
    """Three groups: weights with decay, normalisation weights and biases without."""
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


def _ddp() -> tuple[int, int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0")), world


def _default_workers(device: torch.device) -> int:
    cores = os.cpu_count() or 1
    if device.type == "cuda":
        return min(8, max(cores - 1, 0))
    # on the CPU the loader competes with the model for cores; augmentation is light
    return min(2, cores // 2)


class CheckpointError(ValueError):
    """A --resume file that is missing, damaged, refused or not one of our checkpoints."""


def read_checkpoint(path: str | Path) -> dict:
    """A training checkpoint, loaded weights-only (nothing pickled runs); CheckpointError
    naming the problem for anything else."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    import zipfile

    if not zipfile.is_zipfile(path):
        raise CheckpointError(f"{path} is not a training checkpoint (not a torch archive: corrupt, "
                              "truncated or another kind of file)")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for foreign or damaged files
        first = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
        refused = "weights only load failed" in str(error).lower()
        raise CheckpointError(f"{path} cannot be resumed from: " + (
            "it holds Python objects that a weights-only load refuses to run" if refused else
            f"not a readable torch checkpoint (corrupt, truncated or another kind of file): {first}")) from None
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} is not a training checkpoint of micro-detector")
    return checkpoint


def _save_atomic(obj, path: Path) -> None:
    tmp = path.with_name(path.name + ".part")
    torch.save(obj, tmp)
    tmp.replace(path)


def _transfer(model: nn.Module, path: str, log) -> None:
    payload = model_io.read_model_file(path)
    own = model.state_dict()
    state = {k: v.float() if v.is_floating_point() else v for k, v in payload["state_dict"].items()
             if k in own and own[k].shape == v.shape}
    model.load_state_dict(state, strict=False)
    log(f"weights: {len(state)}/{len(own)} tensors taken from {path}")


class Trainer:
    def __init__(self, config: TrainConfig, run_dir: str | Path, log=None, progress=None, cancel=None,
                 cache_dir: str | Path | None = None):
        """`progress(fraction, text)` is told how far the run is; `cancel()` returning True stops
        it within one batch (engine.Cancelled is raised; the last checkpoint stays)."""
        self.config = config
        self.run_dir = Path(run_dir)
        self.cache_dir = Path(cache_dir) if cache_dir else self.run_dir / "cache"
        self.rank, self.local_rank, self.world = _ddp()
        self.main = self.rank == 0
        self._log = log or print
        self.progress = progress or (lambda fraction, text: None)
        self.cancel = cancel or (lambda: False)

    def log(self, message: str) -> None:
        if self.main:
            self._log(message)

    def _device(self) -> torch.device:
        name = runners.resolve_device(self.config.device)
        if name.startswith("cuda") and self.world > 1:
            return torch.device("cuda", self.local_rank)
        return torch.device(name)

    def fit(self, train: LabelSet, val: LabelSet | None, resume: str | Path | None = None) -> TrainResult:
        start_time = time.perf_counter()
        cfg = self.config
        device = self._device()
        if self.world > 1 and not torch.distributed.is_initialized():
            torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")
        if device.type == "cuda":
            torch.cuda.set_device(device)
        torch.manual_seed(cfg.seed + self.rank)
        self.run_dir.mkdir(parents=True, exist_ok=True)

        checkpoint = None
        if resume is not None:
            checkpoint = read_checkpoint(resume)
            cfg = self.config = TrainConfig.from_dict({**checkpoint["config"], "epochs": cfg.epochs,
                                                       "device": cfg.device, "workers": cfg.workers})
        cfg.chips.size, cfg.chips.seed = cfg.imgsz, cfg.seed

        gsd = cfg.chips.gsd
        if gsd is None:
            gsds = [im.gsd for im in train.images if im.gsd]
            if gsds and len(gsds) == len(train.images) and max(gsds) / min(gsds) < 1.1:
                gsd = float(np.median(gsds))  # one native GSD: detection resamples to it
        gsd_range = tuple(cfg.augment.gsd_range) if cfg.augment.gsd_range else None
        if gsd_range is not None:  # the model serves the range it was shown
            gsd = float(np.sqrt(gsd_range[0] * gsd_range[1]))
        spec = model_spec.ModelSpec(scale=cfg.scale, class_names=list(train.class_names), bands=cfg.chips.bands,
                                    imgsz=cfg.imgsz, gsd=gsd,
                                    gsd_min=gsd_range[0] if gsd_range else None,
                                    gsd_max=gsd_range[1] if gsd_range else None)
        model = yolov12.build_model(spec)
        if cfg.weights and checkpoint is None:
            _transfer(model, cfg.weights, self.log)
        model.to(device)

        # chips: rank 0 cuts them into the cache, the other ranks then read the cache
        if self.main:
            self.progress(0.0, "cutting training chips")
            store = build_chips(train.images, spec.nc, cfg.chips, self.cache_dir, log=self.log)
        if self.world > 1:
            torch.distributed.barrier()
            if not self.main:
                store = build_chips(train.images, spec.nc, cfg.chips, self.cache_dir)
        n_pos = sum(1 for b in store.boxes if len(b))
        self.log(f"train: {len(train.images)} images -> {len(store)} chips ({n_pos} with objects), "
                 f"{sum(len(b) for b in store.boxes)} boxes; val: {len(val.images) if val else 0} images")

        image_gsd = {im.name: im.gsd for im in train.images}
        chip_gsd = np.array([(image_gsd.get(o["image"]) or 0.0) * o["scale"] for o in store.origin])
        if gsd_range is not None and not (chip_gsd > 0).any():
            raise ValueError("GSD-range training needs rasters with a known GSD; none of the training images has one")
        dataset = ChipDataset(store, augment_config=cfg.augment, seed=cfg.seed, chip_gsd=chip_gsd)
        sampler = None
        if self.world > 1:
            sampler = torch.utils.data.distributed.DistributedSampler(dataset, shuffle=True, seed=cfg.seed)
        local_batch = max(cfg.batch // self.world, 1)
        workers = cfg.workers if cfg.workers is not None else _default_workers(device)
        generator = torch.Generator().manual_seed(cfg.seed)
        loader = torch.utils.data.DataLoader(
            dataset, batch_size=local_batch, shuffle=sampler is None, sampler=sampler, num_workers=workers,
            collate_fn=collate, pin_memory=device.type == "cuda", drop_last=len(dataset) >= 2 * local_batch,
            generator=generator)
        nb = len(loader)
        if nb == 0:
            raise ValueError("no training batch: too few chips for the batch size")

        optimizer, opt_kind, lr0 = build_optimizer(model, cfg, nb * cfg.epochs)
        lf = _lr_lambda(cfg)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda=lf)
        use_amp = cfg.amp and device.type == "cuda"
        scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
        criterion = DetectionLoss(model, cfg.loss)
        accumulate = max(round(cfg.nbs / cfg.batch), 1)
        warmup_iters = 0
        if cfg.warmup_epochs > 0:
            warmup_iters = min(max(round(cfg.warmup_epochs * nb), 100), nb * cfg.epochs // 2)

        history: list[dict] = []
        start_epoch, best_fitness, best_epoch = 0, -math.inf, -1
        ema = ModelEMA(model) if cfg.ema else None
        if checkpoint is not None:
            model.load_state_dict(checkpoint["model"])
            optimizer.load_state_dict(checkpoint["optimizer"])
            if ema is not None and checkpoint.get("ema") is not None:
                ema.ema.load_state_dict(checkpoint["ema"])
                ema.updates = checkpoint["ema_updates"]
            if checkpoint.get("scaler"):
                scaler.load_state_dict(checkpoint["scaler"])
            start_epoch = checkpoint["epoch"] + 1
            best_fitness, best_epoch = checkpoint["best_fitness"], checkpoint["best_epoch"]
            history = checkpoint["history"]
            scheduler.last_epoch = start_epoch
            self.log(f"resumed from {resume} at epoch {start_epoch + 1}/{cfg.epochs}")
        if self.world > 1:
            model = nn.parallel.DistributedDataParallel(
                model, device_ids=[device.index] if device.type == "cuda" else None)

        if self.main:
            (self.run_dir / "train_config.json").write_text(json.dumps(
                {**asdict(cfg), "optimizer_used": opt_kind, "lr0_used": lr0, "device_used": str(device),
                 "world_size": self.world, "classes": spec.class_names, "gsd": gsd}, indent=2))
            (self.run_dir / "labels_report.json").write_text(json.dumps(
                {"train": train.report, "train_instances": train.instances(),
                 "val_instances": val.instances() if val else {}}, indent=2))
        self.log(f"YOLOv12{cfg.scale} on {device}: {cfg.epochs} epochs x {nb} batches of {cfg.batch}, "
                 f"{opt_kind} lr0 {lr0}, accumulate {accumulate}, warmup {warmup_iters} iterations, "
                 f"AMP {use_amp}, {workers} loader workers, world {self.world}")

        norm_scale = torch.tensor(spec.std, device=device).view(1, -1, 1, 1) * spec.input_scale
        norm_shift = torch.tensor(spec.mean, device=device).view(1, -1, 1, 1) * spec.input_scale
        stopped_early = False
        last_step = -1
        total_iters = nb * cfg.epochs
        optimizer.zero_grad(set_to_none=True)
        for epoch in range(start_epoch, cfg.epochs):
            epoch_start = time.perf_counter()
            model.train()
            dataset.set_epoch(epoch)
            dataset.mosaic_enabled = epoch < cfg.epochs - cfg.close_mosaic
            if sampler is not None:
                sampler.set_epoch(epoch)
            sums = torch.zeros(3, device=device)
            seen = 0
            for i, (images, targets, annotated) in enumerate(loader):
                ni = i + nb * epoch
                if ni <= warmup_iters and warmup_iters:
                    accumulate = max(1, round(np.interp(ni, [0, warmup_iters], [1, cfg.nbs / cfg.batch])))
                    for j, g in enumerate(optimizer.param_groups):
                        # SGD biases start high and come down; everything else ramps up
                        start = cfg.warmup_bias_lr if j == 0 and opt_kind == "sgd" else 0.0
                        g["lr"] = float(np.interp(ni, [0, warmup_iters], [start, g["initial_lr"] * lf(epoch)]))
                        if "momentum" in g:
                            g["momentum"] = float(np.interp(ni, [0, warmup_iters], [cfg.warmup_momentum, cfg.momentum]))
                x = images.to(device, non_blocking=True).float()
                x = (x - norm_shift) / norm_scale
                with torch.autocast(device.type, dtype=torch.float16, enabled=use_amp):
                    raw = model(x)
                loss, parts = criterion(raw, targets.to(device), annotated.to(device))
                if not torch.isfinite(loss):
                    raise FloatingPointError(f"the loss became {loss.item()} at epoch {epoch + 1}, batch {i + 1}; "
                                             "lower the learning rate")
                scaler.scale(loss).backward()
                if ni - last_step >= accumulate:
                    scaler.unscale_(optimizer)
                    nn.utils.clip_grad_norm_(model.parameters(), max_norm=10.0)
                    scaler.step(optimizer)
                    scaler.update()
                    optimizer.zero_grad(set_to_none=True)
                    if ema is not None:
                        ema.update(model)
                    last_step = ni
                sums += parts
                seen += len(images)
                if self.cancel():
                    raise engine.Cancelled()
                self.progress((ni + 1) / total_iters,
                              f"epoch {epoch + 1}/{cfg.epochs} batch {i + 1}/{nb} "
                              f"loss {float(parts.sum()):.3f}")
            scheduler.step()
            train_s = time.perf_counter() - epoch_start
            means = (sums / max(i + 1, 1)).tolist()
            record = {"epoch": epoch + 1, "train/box": means[0], "train/cls": means[1], "train/dfl": means[2],
                      "lr": optimizer.param_groups[1]["lr"], "train_seconds": round(train_s, 2),
                      "images_per_s": round(seen * self.world / train_s, 2)}

            final = epoch + 1 == cfg.epochs
            stop = torch.zeros(1, device=device)
            if self.main:
                eval_model = ema.ema if ema is not None else _unwrap(model)
                if val is not None and val.images and ((epoch + 1) % cfg.val_every == 0 or final):
                    metrics = self._validate(eval_model, val, device)
                    record.update(metrics.overall())
                    fitness = record["mAP50-95"]
                    self.log(f"epoch {epoch + 1}/{cfg.epochs}: loss box {means[0]:.3f} cls {means[1]:.3f} "
                             f"dfl {means[2]:.3f}, {record['images_per_s']} img/s; val P {record['precision']:.3f} "
                             f"R {record['recall']:.3f} mAP50 {record['mAP50']:.3f} "
                             f"mAP50-95 {record['mAP50-95']:.3f}")
                else:
                    fitness = -sum(means) if val is None or not val.images else None
                    self.log(f"epoch {epoch + 1}/{cfg.epochs}: loss box {means[0]:.3f} cls {means[1]:.3f} "
                             f"dfl {means[2]:.3f}, {record['images_per_s']} img/s")
                history.append(record)
                if fitness is not None and fitness > best_fitness:
                    best_fitness, best_epoch = fitness, epoch
                    model_io.save_model(eval_model, self.run_dir / "best.pt", metadata=self._metadata(
                        cfg, epoch, record, train, val))
                ckpt = {"format": CHECKPOINT_FORMAT, "config": asdict(cfg), "epoch": epoch,
                        "model": _unwrap(model).state_dict(), "optimizer": optimizer.state_dict(),
                        "ema": ema.ema.state_dict() if ema is not None else None,
                        "ema_updates": ema.updates if ema is not None else 0,
                        "scaler": scaler.state_dict() if use_amp else None, "best_fitness": best_fitness,
                        "best_epoch": best_epoch, "history": history}
                _save_atomic(ckpt, self.run_dir / "last_checkpoint.pt")
                self._write_history(history)
                if epoch - best_epoch >= cfg.patience and not final:
                    self.log(f"early stop: no better validation mAP50-95 for {cfg.patience} epochs "
                             f"(best epoch {best_epoch + 1})")
                    stop[0] = 1
            if self.world > 1:
                torch.distributed.broadcast(stop, 0)
            if stop.item():
                stopped_early = True
                break

        result_metrics = None
        if self.main:
            from . import plots

            plots.results(history, self.run_dir / "results.png")
            if val is not None and val.images and (self.run_dir / "best.pt").is_file():
                best = model_io.load_model(self.run_dir / "best.pt")
                # fp32 on any device: the same model is saved again below with the table
                result_metrics, results = evaluate_labelled(
                    runners.TorchRunner(best, device=str(device), dtype="fp32"), val, self._eval_options(device))
                result_metrics.save(self.run_dir)
                plots.pr_curves(result_metrics, self.run_dir / "PR_curve.png")
                plots.sample_images(val, results, spec.class_names, self.run_dir / "val_images.png")
                write_html(result_metrics, self.run_dir / "report.html",
                           title=f"YOLOv12{cfg.scale}: best epoch {best_epoch + 1} on the validation rasters",
                           images=["results.png", "PR_curve.png", "val_images.png"])
                # the table goes into the model file too, so the model carries its own card
                model_io.save_model(best, self.run_dir / "best.pt",
                                    metadata={**best.metadata, "val_table": result_metrics.rows()})
                self.log("validation of best.pt:\n" + result_metrics.table())
        if self.world > 1:
            torch.distributed.barrier()
        return TrainResult(self.run_dir / "best.pt", result_metrics, history, self.run_dir, stopped_early,
                           time.perf_counter() - start_time)

    def _eval_options(self, device: torch.device) -> EvalOptions:
        return EvalOptions(conf=self.config.eval_conf, tile=self.config.imgsz, batch=self.config.eval_batch,
                           device=str(device))

    def _validate(self, model: nn.Module, val: LabelSet, device: torch.device):
        runner = runners.TorchRunner(copy.deepcopy(model), device=str(device), dtype="fp32")
        metrics, _ = evaluate_labelled(runner, val, self._eval_options(device))
        return metrics

    def _metadata(self, cfg: TrainConfig, epoch: int, record: dict, train: LabelSet, val: LabelSet | None) -> dict:
        from ._core import __version__

        return {"trained": True, "epoch": epoch + 1, "epochs": cfg.epochs, "scale": cfg.scale,
                "imgsz": cfg.imgsz, "train_images": [im.name for im in train.images],
                "val_images": [im.name for im in val.images] if val else [],
                "val": {k: record[k] for k in ("precision", "recall", "mAP50", "mAP50-95") if k in record},
                "micro_detector_version": __version__}

    def _write_history(self, history: list[dict]) -> None:
        keys = []
        for h in history:
            keys.extend(k for k in h if k not in keys)
        tmp = self.run_dir / "results.csv.part"
        with open(tmp, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=keys)
            w.writeheader()
            w.writerows(history)
        tmp.replace(self.run_dir / "results.csv")


def train(config: TrainConfig, train_labels: LabelSet, val_labels: LabelSet | None, run_dir: str | Path,
          model_path: str | Path | None = None, resume: str | Path | None = None, **kwargs) -> TrainResult:
    """Train, then copy best.pt to `model_path` when given."""
    result = Trainer(config, run_dir, **kwargs).fit(train_labels, val_labels, resume)
    if model_path is not None and result.model_path.is_file() and Path(model_path) != result.model_path:
        import shutil

        Path(model_path).parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(str(model_path) + ".part")
        shutil.copyfile(result.model_path, tmp)
        tmp.replace(model_path)
        result.model_path = Path(model_path)
        # the plots and the metrics table go next to the model too, named after it
        stem = Path(model_path).with_suffix("")
        for name in ("metrics.csv", "results.csv", "results.png", "PR_curve.png", "report.html"):
            if (result.run_dir / name).is_file() and result.run_dir != Path(model_path).parent:
                shutil.copyfile(result.run_dir / name, f"{stem}_{name}")
    return result
