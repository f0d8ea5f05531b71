"""The files a training run writes beside its models: train_config.json, labels_report.json,
results.csv, the metadata stored in best.pt, and the copies next to a requested model path.

Every file is written whole or replaced by rename, so a crash never leaves half of one.
"""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import asdict
from pathlib import Path

from .config import TrainConfig, TrainResult
from .labels import LabelSet
from .run_state import RunState


def write_run_files(run_dir: Path, run: RunState, world: int, train: LabelSet, val: LabelSet | None) -> None:
    """train_config.json (the config and what the run chose: optimiser, LR, device, classes,
    GSD) and labels_report.json (label counts and rejects) in `run_dir`."""
    (run_dir / "train_config.json").write_text(
        json.dumps(
            {
                **asdict(run.cfg),
                "optimizer_used": run.opt_kind,
                "lr0_used": run.lr0,
                "device_used": str(run.device),
                "world_size": world,
                "classes": run.spec.class_names,
                "gsd": run.spec.gsd,
                "gsd_range": run.spec.gsd_range(),
            },
            indent=2,
        )
    )
    (run_dir / "labels_report.json").write_text(
        json.dumps(
            {
                "train": train.report,
                "train_instances": train.instances(),
                "val_instances": val.instances() if val else {},
            },
            indent=2,
        )
    )


def write_history(run_dir: Path, history: list[dict]) -> None:
    """results.csv: one row per epoch, the columns being every key seen in any record."""
    keys = []
    for h in history:
        keys.extend(k for k in h if k not in keys)
    tmp = run_dir / "results.csv.part"
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        w.writerows(history)
    tmp.replace(run_dir / "results.csv")


def model_metadata(cfg: TrainConfig, epoch: int, record: dict, train: LabelSet, val: LabelSet | None) -> dict:
    """The training metadata stored in best.pt: epoch, config essentials, images, val metrics."""
    from .. import __version__

    return {
        "trained": True,
        "epoch": epoch + 1,
        "epochs": cfg.epochs,
        "scale": cfg.scale,
        "imgsz": cfg.imgsz,
        "train_images": [im.name for im in train.images],
        "val_images": [im.name for im in val.images] if val else [],
        "val": {k: record[k] for k in ("precision", "recall", "mAP50", "mAP50-95") if k in record},
        "micro_detector_version": __version__,
    }


def copy_to_model_path(result: TrainResult, model_path: str | Path) -> None:
    """Copy best.pt to `model_path` (via a .part file) and point `result` at it; the plots
    and tables go next to it, named after it."""
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
