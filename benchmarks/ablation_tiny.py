"""Ablation of the tiny-object training options on synthetic scenes of 6-10 px objects.

    .venv/bin/python benchmarks/ablation_tiny.py [--epochs 60] [--seeds 0,1] [--out benchmarks/ablation_tiny.txt]

Each variant trains a YOLOv12n from scratch on the same two synthetic scenes (objects of
6x6 and 6x10 px drawn on a textured background, 40 per scene) and is scored on a third
scene it never saw, through the tiled engine: recall and precision at conf 0.25 / IoU 0.5,
and mAP50 / mAP50-95 (COCO). Variants: the assigner's alignment metric (CIoU or NWD), the
NWD share of the box loss, and the P2 (stride-4) level. Cost: CPU ms per 256 px tile of the
model's forward pass (median of 30, torch, 2 threads), measured in the same run. The real-data ablation of test-time augmentation is in
micro_ladder.py (--variants plain,tta). One run prints one table; figures are means over
the seeds.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

VARIANTS = {  # name: (loss weights, P2 level)
    "ciou (default)": ({"assign": "ciou", "nwd": 0.0}, False),
    "nwd assigner": ({"assign": "nwd", "nwd": 0.0}, False),
    "ciou + 0.5 nwd loss": ({"assign": "ciou", "nwd": 0.5}, False),
    "nwd assigner + 0.5 nwd loss": ({"assign": "nwd", "nwd": 0.5}, False),
    "p2 level": ({"assign": "ciou", "nwd": 0.0}, True),
    "p2 level + nwd assigner": ({"assign": "nwd", "nwd": 0.0}, True),
}


def scenes(folder: Path, seed: int):
    import synthetic
    from synthetic import make_scene, write_mapping, write_xview

    from micro_detector.training.labels import ClassMap, load_xview, split_by_image

    synthetic.SIZES = {0: (6, 6), 1: (6, 10)}
    rows = []
    for i in range(3):
        raster, boxes, classes = make_scene(folder, f"s{i}.tif", size=256, count=40, seed=100 * seed + i)
        rows.append((raster.name, boxes, classes))
    labels = load_xview(
        write_xview(folder / "labels.geojson", rows), folder, ClassMap.from_file(write_mapping(folder / "map.json"))
    )
    train, val = split_by_image(labels, val_names=["s2.tif"])
    return train, val, rows[2]


def tile_ms(p2: bool, imgsz: int = 256, repeats: int = 30) -> float:
    """Median CPU milliseconds of one forward pass (decoded boxes, batch 1) of an untrained
    YOLOv12n with or without the P2 level: the per-tile cost of the option."""
    import torch

    from micro_detector.model.spec import ModelSpec
    from micro_detector.model.yolov12 import build_model

    torch.set_num_threads(2)
    model = build_model(ModelSpec(scale="n", imgsz=imgsz, p2=p2)).eval()
    x = torch.randint(0, 256, (1, 3, imgsz, imgsz)).float()
    times = []
    with torch.inference_mode():
        for i in range(repeats + 3):
            start = time.perf_counter()
            model.forward_decoded(x)
            if i >= 3:  # warm-up passes are not counted
                times.append(1000 * (time.perf_counter() - start))
    return float(np.median(times))


def run_variant(name: str, loss_kw: dict, p2: bool, seed: int, epochs: int) -> dict:
    import torch

    from micro_detector import engine
    from micro_detector.boxes import box_iou
    from micro_detector.model.io import load_model
    from micro_detector.model.runner import TorchRunner
    from micro_detector.training.chips import ChipConfig
    from micro_detector.training.dataset import AugmentConfig
    from micro_detector.training.evaluate import EvalOptions, eval_detect_options, evaluate_labelled
    from micro_detector.training.loss import LossWeights
    from micro_detector.training.trainer import TrainConfig, train

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        train_set, val_set, (_, true_boxes, true_classes) = scenes(folder, seed)
        torch.manual_seed(seed)
        config = TrainConfig(
            scale="n",
            epochs=epochs,
            imgsz=128,
            batch=8,
            nbs=8,
            warmup_epochs=0,
            close_mosaic=2,
            lr0=0.004,
            workers=0,
            seed=seed,
            val_every=epochs,
            p2=p2,
            chips=ChipConfig(size=128, overlap=0.25),
            augment=AugmentConfig(scale=0.1),
            loss=LossWeights(**loss_kw),
        )
        start = time.perf_counter()
        train(config, train_set, val_set, folder / "run", model_path=folder / "model.pt", log=lambda m: None)
        seconds = time.perf_counter() - start
        runner = TorchRunner(load_model(folder / "model.pt"))
        det = engine.detect(
            folder / "s2.tif", None, runner, options=engine.DetectOptions(conf=0.25, pixel_coordinates=True)
        )
        hit = (box_iou(true_boxes.astype(float), det.boxes) >= 0.5) & (true_classes[:, None] == det.class_ids[None])
        metrics, _ = evaluate_labelled(runner, val_set, EvalOptions(eval_detect_options(conf=0.001)))
        overall = metrics.overall()
        return {
            "recall": float(hit.any(1).mean()),
            "precision": float(hit.any(0).mean()) if len(det) else 0.0,
            "mAP50": overall["mAP50"],
            "mAP50-95": overall["mAP50-95"],
            "train_s": seconds,
        }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--seeds", default="0,1")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "ablation_tiny.txt")
    args = p.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = []
    cost = {p2: tile_ms(p2) for p2 in (False, True)}
    for name, (kw, p2) in VARIANTS.items():
        runs = [run_variant(name, kw, p2, seed, args.epochs) for seed in seeds]
        mean = {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}
        mean["sd"] = float(np.std([r["mAP50-95"] for r in runs]))
        mean["ms"] = cost[p2]
        rows.append((name, mean))
        print(f"{name}: {mean}", file=sys.stderr, flush=True)
    base = rows[0][1]["mAP50-95"]
    lines = [
        f"Tiny-object ablation: synthetic 6-10 px objects, YOLOv12n from scratch, {args.epochs} epochs, "
        f"seeds {seeds}, one run",
        "",
        f"{'variant':30s} {'recall':>7s} {'prec':>7s} {'mAP50':>7s} {'mAP50-95':>9s} {'sd':>6s} "
        f"{'vs base':>8s} {'train s':>8s} {'ms/tile':>8s}",
    ]
    for name, m in rows:
        lines.append(
            f"{name:30s} {m['recall']:7.3f} {m['precision']:7.3f} {m['mAP50']:7.3f} {m['mAP50-95']:9.3f} "
            f"{m['sd']:6.3f} {m['mAP50-95'] - base:+8.3f} {m['train_s']:8.1f} {m['ms']:8.1f}"
        )
    lines.append("")
    lines.append(
        "means over the seeds; sd: standard deviation of mAP50-95 over the seeds; ms/tile: YOLOv12n "
        "forward pass on a 256 px tile, CPU, torch, 2 threads"
    )
    text = "\n".join(lines)
    print(text)
    args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
