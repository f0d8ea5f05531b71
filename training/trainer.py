"""The trainer: optimiser groups, warmup and LR schedule, EMA, AMP, accumulation, validation,
checkpoints, resume, early stop, best model by validation mAP50-95, single process or DDP.

`Trainer.fit` reads as its stages: setup (model, chips, loader, optimiser, resume) -> per
epoch: train one epoch -> validate -> checkpoint -> early stop? -> finish (final table,
plots, report). The checkpoint is written and read in `checkpoint.py`; the optimiser
groups, LR schedule and EMA live in `optim.py`.

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
from .checkpoint import CHECKPOINT_FORMAT, Checkpoint, CheckpointError, read_checkpoint  # noqa: F401
from .chips import build_chips
from .config import TrainConfig, TrainResult, model_spec_for
from .dataset import ChipDataset, collate
from .evaluate import EvalOptions, evaluate_labelled, write_html
from .labels import LabelSet
from .loss import DetectionLoss
from .sampling import RepeatFactorSampler, chip_repeat_factors, class_repeat_factors
from .optim import ModelEMA, build_optimizer, lr_lambda, unwrap


def _ddp() -> tuple[int, int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0")), world


def _default_workers(device: torch.device) -> int:
    cores = os.cpu_count() or 1
    if device.type == "cuda":
        return min(8, max(cores - 1, 0))
    # on the CPU the loader competes with the model for cores; augmentation is light
    return min(2, cores // 2)


def _transfer(model: nn.Module, path: str, log) -> None:
    payload = model_io.read_model_file(path)
    own = model.state_dict()
    state = {k: v.float() if v.is_floating_point() else v for k, v in payload["state_dict"].items()
             if k in own and own[k].shape == v.shape}
    model.load_state_dict(state, strict=False)
    log(f"weights: {len(state)}/{len(own)} tensors taken from {path}")


@dataclass
class _Run:
    """The state of a run in progress, shared by the stages of `Trainer.fit`."""

    cfg: TrainConfig
    device: torch.device
    spec: model_spec.ModelSpec
    model: nn.Module
    dataset: ChipDataset
    loader: torch.utils.data.DataLoader
    sampler: object | None
    optimizer: torch.optim.Optimizer
    opt_kind: str
    lr0: float
    scheduler: object
    lf: object
    scaler: object
    use_amp: bool
    criterion: DetectionLoss
    ema: ModelEMA | None
    warmup_iters: int
    accumulate: int
    history: list = field(default_factory=list)
    start_epoch: int = 0
    best_fitness: float = -math.inf
    best_epoch: int = -1
    last_step: int = -1

    @property
    def nb(self) -> int:
        return len(self.loader)

    def eval_model(self) -> nn.Module:
        return self.ema.ema if self.ema is not None else unwrap(self.model)


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
        """Train on `train`, validate on `val`, resume from a checkpoint when given."""
        start_time = time.perf_counter()
        val = val if val is not None and val.images else None
        run = self._setup(train, val, resume)
        stopped_early = False
        for epoch in range(run.start_epoch, run.cfg.epochs):
            record = self._train_epoch(run, epoch)
            fitness = self._validation(run, epoch, record, val) if self.main else None
            if self.main:
                self._checkpoint(run, epoch, record, fitness, train, val)
            if self._early_stop(run, epoch):
                stopped_early = True
                break
        metrics = self._finish(run, val) if self.main else None
        if self.world > 1:
            torch.distributed.barrier()
        return TrainResult(self.run_dir / "best.pt", metrics, run.history, self.run_dir, stopped_early,
                           time.perf_counter() - start_time)

    # -- setup -------------------------------------------------------------------------------
    def _setup(self, train: LabelSet, val: LabelSet | None, resume) -> _Run:
        device = self._device()
        if self.world > 1 and not torch.distributed.is_initialized():
            torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")
        if device.type == "cuda":
            torch.cuda.set_device(device)
        torch.manual_seed(self.config.seed + self.rank)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        checkpoint = read_checkpoint(resume) if resume is not None else None
        if checkpoint is not None:
            self.config = TrainConfig.from_dict({**checkpoint.config, "epochs": self.config.epochs,
                                                 "device": self.config.device, "workers": self.config.workers})
        cfg = self.config
        cfg.chips.size, cfg.chips.seed = cfg.imgsz, cfg.seed

        spec = model_spec_for(cfg, train)
        model = yolov12.build_model(spec)
        if cfg.weights and checkpoint is None:
            _transfer(model, cfg.weights, self.log)
        model.to(device)
        dataset, loader, sampler, workers = self._data(cfg, spec, train, val, device)
        run = self._optimisation(cfg, device, spec, model, dataset, loader, sampler)
        if checkpoint is not None:
            self._restore(run, checkpoint)
            self.log(f"resumed from {resume} at epoch {run.start_epoch + 1}/{cfg.epochs}")
        if self.world > 1:
            run.model = nn.parallel.DistributedDataParallel(
                model, device_ids=[device.index] if device.type == "cuda" else None)
        if self.main:
            self._write_run_files(run, train, val)
        self.log(f"YOLOv12{cfg.scale} on {device}: {cfg.epochs} epochs x {run.nb} batches of {cfg.batch}, "
                 f"{run.opt_kind} lr0 {run.lr0}, accumulate {run.accumulate}, warmup {run.warmup_iters} "
                 f"iterations, AMP {run.use_amp}, {workers} loader workers, world {self.world}")
        return run

    def _data(self, cfg, spec, train: LabelSet, val: LabelSet | None, device):
        """Chips (rank 0 cuts them into the cache, the other ranks then read it) and the loader."""
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
        if cfg.augment.gsd_range and not (chip_gsd > 0).any():
            raise ValueError("GSD-range training needs rasters with a known GSD; none of the training images has one")
        dataset = ChipDataset(store, augment_config=cfg.augment, seed=cfg.seed, chip_gsd=chip_gsd)
        sampler = None
        if cfg.repeat_threshold > 0:
            factors = chip_repeat_factors(store.classes, spec.nc, cfg.repeat_threshold)
            per_class = class_repeat_factors(store.classes, spec.nc, cfg.repeat_threshold)
            self.log("class-balanced sampling: repeat " + ", ".join(
                f"{name} x{r:.2f}" for name, r in zip(spec.class_names, per_class))
                + f"; {len(store)} chips -> {int(round(factors.sum()))} per epoch")
            sampler = RepeatFactorSampler(factors, seed=cfg.seed, rank=self.rank, world=self.world)
        elif self.world > 1:
            sampler = torch.utils.data.distributed.DistributedSampler(dataset, shuffle=True, seed=cfg.seed)
        local_batch = max(cfg.batch // self.world, 1)
        workers = cfg.workers if cfg.workers is not None else _default_workers(device)
        loader = torch.utils.data.DataLoader(
            dataset, batch_size=local_batch, shuffle=sampler is None, sampler=sampler, num_workers=workers,
            collate_fn=collate, pin_memory=device.type == "cuda", drop_last=len(dataset) >= 2 * local_batch,
            generator=torch.Generator().manual_seed(cfg.seed))
        if len(loader) == 0:
            raise ValueError("no training batch: too few chips for the batch size")
        return dataset, loader, sampler, workers

    def _optimisation(self, cfg, device, spec, model, dataset, loader, sampler) -> _Run:
        nb = len(loader)
        optimizer, opt_kind, lr0 = build_optimizer(model, cfg, nb * cfg.epochs)
        lf = lr_lambda(cfg.epochs, cfg.schedule, cfg.lrf)
        use_amp = cfg.amp and device.type == "cuda"
        warmup_iters = 0
        if cfg.warmup_epochs > 0:
            warmup_iters = min(max(round(cfg.warmup_epochs * nb), 100), nb * cfg.epochs // 2)
        return _Run(cfg=cfg, device=device, spec=spec, model=model, dataset=dataset, loader=loader,
                    sampler=sampler, optimizer=optimizer, opt_kind=opt_kind, lr0=lr0,
                    scheduler=torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda=lf), lf=lf,
                    scaler=torch.amp.GradScaler("cuda", enabled=use_amp), use_amp=use_amp,
                    criterion=DetectionLoss(model, cfg.loss), ema=ModelEMA(model) if cfg.ema else None,
                    warmup_iters=warmup_iters, accumulate=max(round(cfg.nbs / cfg.batch), 1))

    def _restore(self, run: _Run, ck: Checkpoint) -> None:
        run.model.load_state_dict(ck.model)
        run.optimizer.load_state_dict(ck.optimizer)
        if run.ema is not None and ck.ema is not None:
            run.ema.ema.load_state_dict(ck.ema)
            run.ema.updates = ck.ema_updates
        if ck.scaler:
            run.scaler.load_state_dict(ck.scaler)
        run.start_epoch = ck.epoch + 1
        run.best_fitness, run.best_epoch, run.history = ck.best_fitness, ck.best_epoch, ck.history
        run.scheduler.last_epoch = run.start_epoch

    def _write_run_files(self, run: _Run, train: LabelSet, val: LabelSet | None) -> None:
        (self.run_dir / "train_config.json").write_text(json.dumps(
            {**asdict(run.cfg), "optimizer_used": run.opt_kind, "lr0_used": run.lr0, "device_used": str(run.device),
             "world_size": self.world, "classes": run.spec.class_names, "gsd": run.spec.gsd,
             "gsd_range": run.spec.gsd_range()}, indent=2))
        (self.run_dir / "labels_report.json").write_text(json.dumps(
            {"train": train.report, "train_instances": train.instances(),
             "val_instances": val.instances() if val else {}}, indent=2))

    # -- one epoch ---------------------------------------------------------------------------
    def _warmup(self, run: _Run, ni: int, epoch: int) -> None:
        cfg = run.cfg
        run.accumulate = max(1, round(np.interp(ni, [0, run.warmup_iters], [1, cfg.nbs / cfg.batch])))
        for j, g in enumerate(run.optimizer.param_groups):
            # SGD biases start high and come down; everything else ramps up
            start = cfg.warmup_bias_lr if j == 0 and run.opt_kind == "sgd" else 0.0
            g["lr"] = float(np.interp(ni, [0, run.warmup_iters], [start, g["initial_lr"] * run.lf(epoch)]))
            if "momentum" in g:
                g["momentum"] = float(np.interp(ni, [0, run.warmup_iters], [cfg.warmup_momentum, cfg.momentum]))

    def _step(self, run: _Run, ni: int) -> None:
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

    def _train_epoch(self, run: _Run, epoch: int) -> dict:
        """One pass over the loader; returns the epoch's record (mean losses, LR, speed)."""
        cfg, device, nb = run.cfg, run.device, run.nb
        epoch_start = time.perf_counter()
        run.model.train()
        run.dataset.set_epoch(epoch)
        run.dataset.mosaic_enabled = epoch < cfg.epochs - cfg.close_mosaic
        if run.sampler is not None:
            run.sampler.set_epoch(epoch)
        if epoch == run.start_epoch:
            run.optimizer.zero_grad(set_to_none=True)
        sums, seen, i = torch.zeros(3, device=device), 0, 0
        for i, (images, targets, annotated) in enumerate(run.loader):
            ni = i + nb * epoch
            if run.warmup_iters and ni <= run.warmup_iters:
                self._warmup(run, ni, epoch)
            x = images.to(device, non_blocking=True).float()  # 0-255: the model normalises
            with torch.autocast(device.type, dtype=torch.float16, enabled=run.use_amp):
                raw = run.model(x)
            loss, parts = run.criterion(raw, targets.to(device), annotated.to(device))
            if not torch.isfinite(loss):
                raise FloatingPointError(f"the loss became {loss.item()} at epoch {epoch + 1}, batch {i + 1}; "
                                         "lower the learning rate")
            run.scaler.scale(loss).backward()
            self._step(run, ni)
            sums += parts
            seen += len(images)
            if self.cancel():
                raise engine.Cancelled()
            self.progress((ni + 1) / (nb * cfg.epochs),
                          f"epoch {epoch + 1}/{cfg.epochs} batch {i + 1}/{nb} loss {float(parts.sum()):.3f}")
        run.scheduler.step()
        train_s = time.perf_counter() - epoch_start
        means = (sums / max(i + 1, 1)).tolist()
        return {"epoch": epoch + 1, "train/box": means[0], "train/cls": means[1], "train/dfl": means[2],
                "lr": run.optimizer.param_groups[1]["lr"], "train_seconds": round(train_s, 2),
                "images_per_s": round(seen * self.world / train_s, 2)}

    # -- validation, checkpoint, early stop --------------------------------------------------
    def _validation(self, run: _Run, epoch: int, record: dict, val: LabelSet | None) -> float | None:
        """Validate when due; returns the fitness (val mAP50-95; minus the loss without a
        validation set; None when not validated this epoch)."""
        cfg = run.cfg
        losses = (f"epoch {epoch + 1}/{cfg.epochs}: loss box {record['train/box']:.3f} cls "
                  f"{record['train/cls']:.3f} dfl {record['train/dfl']:.3f}, {record['images_per_s']} img/s")
        if val is None:
            self.log(losses)
            return -(record["train/box"] + record["train/cls"] + record["train/dfl"])
        if (epoch + 1) % cfg.val_every and epoch + 1 != cfg.epochs:
            self.log(losses)
            return None
        record.update(self._validate(run.eval_model(), val, run.device).overall())
        self.log(f"{losses}; val P {record['precision']:.3f} R {record['recall']:.3f} "
                 f"mAP50 {record['mAP50']:.3f} mAP50-95 {record['mAP50-95']:.3f}")
        return record["mAP50-95"]

    def _checkpoint(self, run: _Run, epoch: int, record: dict, fitness: float | None,
                    train: LabelSet, val: LabelSet | None) -> None:
        """best.pt when the fitness improved, then the resumable checkpoint and results.csv."""
        run.history.append(record)
        if fitness is not None and fitness > run.best_fitness:
            run.best_fitness, run.best_epoch = fitness, epoch
            model_io.save_model(run.eval_model(), self.run_dir / "best.pt",
                                metadata=self._metadata(run.cfg, epoch, record, train, val))
        Checkpoint(config=asdict(run.cfg), epoch=epoch, model=unwrap(run.model).state_dict(),
                   optimizer=run.optimizer.state_dict(),
                   ema=run.ema.ema.state_dict() if run.ema is not None else None,
                   ema_updates=run.ema.updates if run.ema is not None else 0,
                   scaler=run.scaler.state_dict() if run.use_amp else None, best_fitness=run.best_fitness,
                   best_epoch=run.best_epoch, history=run.history).save(self.run_dir / "last_checkpoint.pt")
        self._write_history(run.history)

    def _early_stop(self, run: _Run, epoch: int) -> bool:
        stop = torch.zeros(1, device=run.device)
        patience = run.cfg.patience
        # counted from the first validation: epochs before it have no fitness to compare
        validated = run.best_epoch >= 0
        if self.main and validated and epoch - run.best_epoch >= patience and epoch + 1 != run.cfg.epochs:
            self.log(f"early stop: no better validation mAP50-95 for {patience} epochs "
                     f"(best epoch {run.best_epoch + 1})")
            stop[0] = 1
        if self.world > 1:
            torch.distributed.broadcast(stop, 0)
        return bool(stop.item())

    # -- finish ------------------------------------------------------------------------------
    def _finish(self, run: _Run, val: LabelSet | None):
        """Plots; with validation data, the final table of best.pt, written into the run
        folder and into the model file itself (the model carries its own card)."""
        from . import plots

        plots.results(run.history, self.run_dir / "results.png")
        if val is None or not (self.run_dir / "best.pt").is_file():
            return None
        best = model_io.load_model(self.run_dir / "best.pt")
        # fp32 on any device: the same model is saved again below with the table
        metrics, results = evaluate_labelled(
            runners.TorchRunner(best, device=str(run.device), dtype="fp32"), val, self._eval_options(run.device))
        metrics.save(self.run_dir)
        plots.pr_curves(metrics, self.run_dir / "PR_curve.png")
        plots.sample_images(val, results, run.spec.class_names, self.run_dir / "val_images.png")
        write_html(metrics, self.run_dir / "report.html",
                   title=f"YOLOv12{run.cfg.scale}: best epoch {run.best_epoch + 1} on the validation rasters",
                   images=["results.png", "PR_curve.png", "val_images.png"])
        model_io.save_model(best, self.run_dir / "best.pt", metadata={**best.metadata, "val_table": metrics.rows()})
        self.log("validation of best.pt:\n" + metrics.table())
        return metrics

    def _eval_options(self, device: torch.device) -> EvalOptions:
        return EvalOptions(conf=self.config.eval_conf, tile=self.config.imgsz, batch=self.config.eval_batch,
                           device=str(device))

    def _validate(self, model: nn.Module, val: LabelSet, device: torch.device):
        runner = runners.TorchRunner(copy.deepcopy(model), device=str(device), dtype="fp32")
        metrics, _ = evaluate_labelled(runner, val, self._eval_options(device))
        return metrics

    def _metadata(self, cfg: TrainConfig, epoch: int, record: dict, train: LabelSet,
                  val: LabelSet | None) -> dict:
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
