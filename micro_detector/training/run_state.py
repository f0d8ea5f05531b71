"""The state of a training run in progress, and how it is built, saved and restored.

`RunState` is shared by the trainer's stages (setup, epoch, validation, checkpoint, finish);
it is built from the model and the loader by `build_run`, written into a `Checkpoint` by
`to_checkpoint` and filled back from one by `restore`, so those three agree on its fields.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from ..model import io as model_io
from ..model import spec as model_spec
from .checkpoint import Checkpoint
from .config import TrainConfig
from .dataset import ChipDataset
from .loss import DetectionLoss
from .optim import ModelEMA, build_optimizer, lr_lambda, unwrap


@dataclass
class RunState:
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
        """Batches per epoch."""
        return len(self.loader)

    def eval_model(self) -> nn.Module:
        """The model to validate and save: the EMA copy when there is one."""
        return self.ema.ema if self.ema is not None else unwrap(self.model)


def transfer_weights(model: nn.Module, path: str, log) -> None:
    """Load into `model` every tensor of the model file `path` whose name and shape match
    (pretrained weights for another class count keep all but the class outputs)."""
    payload = model_io.read_model_file(path)
    own = model.state_dict()
    state = {
        k: v.float() if v.is_floating_point() else v
        for k, v in payload["state_dict"].items()
        if k in own and own[k].shape == v.shape
    }
    model.load_state_dict(state, strict=False)
    log(f"weights: {len(state)}/{len(own)} tensors taken from {path}")


def build_run(
    cfg: TrainConfig,
    device: torch.device,
    spec: model_spec.ModelSpec,
    model: nn.Module,
    dataset: ChipDataset,
    loader,
    sampler,
) -> RunState:
    """A fresh RunState: optimiser, LR schedule, AMP scaler, loss, EMA, warmup and accumulation
    for `model` trained over `loader`."""
    nb = len(loader)
    optimizer, opt_kind, lr0 = build_optimizer(model, cfg, nb * cfg.epochs)
    lf = lr_lambda(cfg.epochs, cfg.schedule, cfg.lrf)
    use_amp = cfg.amp and device.type == "cuda"
    warmup_iters = 0
    if cfg.warmup_epochs > 0:
        warmup_iters = min(max(round(cfg.warmup_epochs * nb), 100), nb * cfg.epochs // 2)
    return RunState(
        cfg=cfg,
        device=device,
        spec=spec,
        model=model,
        dataset=dataset,
        loader=loader,
        sampler=sampler,
        optimizer=optimizer,
        opt_kind=opt_kind,
        lr0=lr0,
        scheduler=torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda=lf),
        lf=lf,
        scaler=torch.amp.GradScaler("cuda", enabled=use_amp),
        use_amp=use_amp,
        criterion=DetectionLoss(model, cfg.loss),
        ema=ModelEMA(model) if cfg.ema else None,
        warmup_iters=warmup_iters,
        accumulate=max(round(cfg.nbs / cfg.batch), 1),
    )


def restore(run: RunState, ck: Checkpoint) -> None:
    """Put the checkpoint's weights, optimiser, EMA, scaler and history into `run`; the
    run then continues at the epoch after the checkpoint's."""
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


def to_checkpoint(run: RunState, epoch: int) -> Checkpoint:
    """The Checkpoint of `run` after `epoch` (0-based): everything `restore` needs."""
    return Checkpoint(
        config=asdict(run.cfg),
        epoch=epoch,
        model=unwrap(run.model).state_dict(),
        optimizer=run.optimizer.state_dict(),
        ema=run.ema.ema.state_dict() if run.ema is not None else None,
        ema_updates=run.ema.updates if run.ema is not None else 0,
        scaler=run.scaler.state_dict() if run.use_amp else None,
        best_fitness=run.best_fitness,
        best_epoch=run.best_epoch,
        history=run.history,
    )
