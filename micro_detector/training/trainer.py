"""The trainer: optimiser groups, warmup and LR schedule, EMA, AMP, accumulation, validation,
checkpoints, resume, early stop, best model by validation mAP50-95, single process or DDP.

`Trainer.fit` reads as its stages: setup (model, chips, loader, optimiser, resume) -> per
epoch: train one epoch -> validate -> checkpoint -> early stop? -> finish (final table,
plots, report). Around it: the run's state and its checkpoint in `run_state.py` (the file
itself in `checkpoint.py`), chips, sampler and loader in `loader.py`, the epoch loop in
`epoch.py`, the run's JSON/CSV files in `run_files.py`, DDP in `ddp.py`; the optimiser
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
import time
from pathlib import Path

import torch
from torch import nn

from ..model import io as model_io
from ..model import runner as runners
from ..model import yolov12
from . import ddp
from .checkpoint import CHECKPOINT_FORMAT, Checkpoint, CheckpointError, read_checkpoint  # noqa: F401
from .config import TrainConfig, TrainResult, model_spec_for
from .epoch import train_epoch
from .evaluate import EvalOptions, eval_detect_options, evaluate_labelled, write_html
from .labels import LabelSet
from .loader import training_loader
from .run_files import copy_to_model_path, model_metadata, write_history, write_run_files
from .run_state import RunState, build_run, restore, to_checkpoint, transfer_weights


class Trainer:
    """One training run in `run_dir`, in this process (one rank of it under DDP)."""

    def __init__(
        self,
        config: TrainConfig,
        run_dir: str | Path,
        log=None,
        progress=None,
        cancel=None,
        cache_dir: str | Path | None = None,
    ):
        """`progress(fraction, text)` is told how far the run is; `cancel()` returning True stops
        it within one batch (engine.Cancelled is raised; the last checkpoint stays)."""
        self.config = config
        self.run_dir = Path(run_dir)
        self.cache_dir = Path(cache_dir) if cache_dir else self.run_dir / "cache"
        self.rank, self.local_rank, self.world = ddp.ddp_env()
        self.main = self.rank == 0
        self._log = log or print
        self.progress = progress or (lambda fraction, text: None)
        self.cancel = cancel or (lambda: False)

    def log(self, message: str) -> None:
        """Log on rank 0 only (one line per run, not per process)."""
        if self.main:
            self._log(message)

    def fit(self, train: LabelSet, val: LabelSet | None, resume: str | Path | None = None) -> TrainResult:
        """Train on `train`, validate on `val`, resume from a checkpoint when given."""
        start_time = time.perf_counter()
        val = val if val is not None and val.images else None
        run = self._setup(train, val, resume)
        stopped_early = False
        for epoch in range(run.start_epoch, run.cfg.epochs):
            record = train_epoch(run, epoch, self.world, self.cancel, self.progress)
            fitness = self._validation(run, epoch, record, val) if self.main else None
            if self.main:
                self._checkpoint(run, epoch, record, fitness, train, val)
            if self._early_stop(run, epoch):
                stopped_early = True
                break
        metrics = self._finish(run, val) if self.main else None
        ddp.barrier(self.world)
        return TrainResult(
            self.run_dir / "best.pt",
            metrics,
            run.history,
            self.run_dir,
            stopped_early,
            time.perf_counter() - start_time,
        )

    # -- setup -------------------------------------------------------------------------------
    def _setup(self, train: LabelSet, val: LabelSet | None, resume) -> RunState:
        device = ddp.train_device(self.config.device, self.world, self.local_rank)
        ddp.start(device, self.world)
        torch.manual_seed(self.config.seed + self.rank)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        checkpoint = read_checkpoint(resume) if resume is not None else None
        if checkpoint is not None:
            self.config = TrainConfig.from_dict(
                {
                    **checkpoint.config,
                    "epochs": self.config.epochs,
                    "device": self.config.device,
                    "workers": self.config.workers,
                }
            )
        cfg = self.config
        cfg.chips.size, cfg.chips.seed = cfg.imgsz, cfg.seed

        spec = model_spec_for(cfg, train)
        model = yolov12.build_model(spec)
        if cfg.weights and checkpoint is None:
            transfer_weights(model, cfg.weights, self.log)
        model.to(device)
        dataset, loader, sampler, workers = training_loader(
            cfg, spec, train, val, device, self.cache_dir, self.rank, self.world, self.log, self.progress
        )
        run = build_run(cfg, device, spec, model, dataset, loader, sampler)
        if checkpoint is not None:
            restore(run, checkpoint)
            self.log(f"resumed from {resume} at epoch {run.start_epoch + 1}/{cfg.epochs}")
        if self.world > 1:
            run.model = nn.parallel.DistributedDataParallel(
                model, device_ids=[device.index] if device.type == "cuda" else None
            )
        if self.main:
            write_run_files(self.run_dir, run, self.world, train, val)
        self.log(
            f"YOLOv12{cfg.scale} on {device}: {cfg.epochs} epochs x {run.nb} batches of {cfg.batch}, "
            f"{run.opt_kind} lr0 {run.lr0}, accumulate {run.accumulate}, warmup {run.warmup_iters} "
            f"iterations, AMP {run.use_amp}, {workers} loader workers, world {self.world}"
        )
        return run

    # -- validation, checkpoint, early stop --------------------------------------------------
    def _validation(self, run: RunState, epoch: int, record: dict, val: LabelSet | None) -> float | None:
        """Validate when due; returns the fitness (val mAP50-95; minus the loss without a
        validation set; None when not validated this epoch)."""
        cfg = run.cfg
        losses = (
            f"epoch {epoch + 1}/{cfg.epochs}: loss box {record['train/box']:.3f} cls "
            f"{record['train/cls']:.3f} dfl {record['train/dfl']:.3f}, {record['images_per_s']} img/s"
        )
        if val is None:
            self.log(losses)
            return -(record["train/box"] + record["train/cls"] + record["train/dfl"])
        if (epoch + 1) % cfg.val_every and epoch + 1 != cfg.epochs:
            self.log(losses)
            return None
        record.update(self._validate(run.eval_model(), val, run.device).overall())
        self.log(
            f"{losses}; val P {record['precision']:.3f} R {record['recall']:.3f} "
            f"mAP50 {record['mAP50']:.3f} mAP50-95 {record['mAP50-95']:.3f}"
        )
        return record["mAP50-95"]

    def _checkpoint(
        self, run: RunState, epoch: int, record: dict, fitness: float | None, train: LabelSet, val: LabelSet | None
    ) -> None:
        """best.pt when the fitness improved, then the resumable checkpoint and results.csv."""
        run.history.append(record)
        if fitness is not None and fitness > run.best_fitness:
            run.best_fitness, run.best_epoch = fitness, epoch
            model_io.save_model(
                run.eval_model(), self.run_dir / "best.pt", metadata=model_metadata(run.cfg, epoch, record, train, val)
            )
        to_checkpoint(run, epoch).save(self.run_dir / "last_checkpoint.pt")
        write_history(self.run_dir, run.history)

    def _early_stop(self, run: RunState, epoch: int) -> bool:
        stop = torch.zeros(1, device=run.device)
        patience = run.cfg.patience
        # counted from the first validation: epochs before it have no fitness to compare
        validated = run.best_epoch >= 0
        if self.main and validated and epoch - run.best_epoch >= patience and epoch + 1 != run.cfg.epochs:
            self.log(
                f"early stop: no better validation mAP50-95 for {patience} epochs (best epoch {run.best_epoch + 1})"
            )
            stop[0] = 1
        if self.world > 1:
            torch.distributed.broadcast(stop, 0)
        return bool(stop.item())

    # -- finish ------------------------------------------------------------------------------
    def _finish(self, run: RunState, val: LabelSet | None):
        """Plots; with validation data, the final table of best.pt, written into the run
        folder and into the model file itself (the model carries its own card)."""
        from . import plots

        plots.results(run.history, self.run_dir / "results.png")
        if val is None or not (self.run_dir / "best.pt").is_file():
            return None
        best = model_io.load_model(self.run_dir / "best.pt")
        # fp32 on any device: the same model is saved again below with the table
        metrics, results = evaluate_labelled(
            runners.TorchRunner(best, device=str(run.device), dtype="fp32"), val, self._eval_options(run.device)
        )
        metrics.save(self.run_dir)
        plots.pr_curves(metrics, self.run_dir / "PR_curve.png")
        plots.sample_images(val, results, run.spec.class_names, self.run_dir / "val_images.png")
        write_html(
            metrics,
            self.run_dir / "report.html",
            title=f"YOLOv12{run.cfg.scale}: best epoch {run.best_epoch + 1} on the validation rasters",
            images=["results.png", "PR_curve.png", "val_images.png"],
        )
        model_io.save_model(best, self.run_dir / "best.pt", metadata={**best.metadata, "val_table": metrics.rows()})
        self.log("validation of best.pt:\n" + metrics.table())
        return metrics

    def _eval_options(self, device: torch.device) -> EvalOptions:
        return EvalOptions(
            eval_detect_options(
                conf=self.config.eval_conf, tile=self.config.imgsz, batch=self.config.eval_batch, device=str(device)
            )
        )

    def _validate(self, model: nn.Module, val: LabelSet, device: torch.device):
        runner = runners.TorchRunner(copy.deepcopy(model), device=str(device), dtype="fp32")
        metrics, _ = evaluate_labelled(runner, val, self._eval_options(device))
        return metrics


def train(
    config: TrainConfig,
    train_labels: LabelSet,
    val_labels: LabelSet | None,
    run_dir: str | Path,
    model_path: str | Path | None = None,
    resume: str | Path | None = None,
    **kwargs,
) -> TrainResult:
    """Train, then copy best.pt to `model_path` when given."""
    result = Trainer(config, run_dir, **kwargs).fit(train_labels, val_labels, resume)
    if model_path is not None and result.model_path.is_file() and Path(model_path) != result.model_path:
        copy_to_model_path(result, model_path)
    return result
