"""Generalisation benchmark: in-distribution validation against the out-of-distribution split.

    .venv/bin/python benchmarks/generalize.py --models resources/models/default.pt runs/x/best.pt
        [--tag TAG] [--id /work/corpus] [--id-config FILE] [--ood /work/corpus_ood]
        [--limit N] [--quicklooks DIR] [--confusion-conf 0.25] [--tile T] [--batch B]
        [--device D] [--backend B] [--work benchmarks/work/generalize] [--out FILE]

In distribution (`ID val`): the validation split of the training data as the trainer splits
it (`prepare_split` with the folder's dataset_config.json, or --id-config: per source the
last 15 % of images by name, spatial splits, absent classes scored as negatives). The
default is the training corpus (/work/corpus); `--id ../shared/data/micro4 --id-config
micro_detector/training/datasets/micro4.json` gives micro4's split. Out of distribution
(`OOD`): every image of the OOD corpus (/work/corpus_ood, whole sources no training run
sees), its absent classes scored as negatives, then each OOD source alone.

Every model runs through the tiled engine with the evaluation's detection options
(`training/evaluate.py`), once per image; the per-source rows are computed from the same
predictions. One table, one row per model and split: images, instances, mAP50, mAP50-95 and
recall over classes; mAP50 / mAP50-95 / recall per class; AP50 per object size (sqrt(w*h)
px in the image's pixels: very tiny < 8, tiny 8-16, small 16-32, medium > 32); cross-class
confusions and background boxes at conf >= --confusion-conf, IoU 0.5. The confusion
matrices follow the table. The first model given is the baseline (today: v4,
resources/models/default.pt).

Output: --out (default benchmarks/generalize_<tag>.txt, and .json beside it). Runs with
--limit (N images per source, both splits) write into the work folder unless --out is given,
so a partial run never replaces a full one. --quicklooks DIR: one PNG per model and OOD image
(true boxes green, predictions at conf >= --confusion-conf red).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from micro_detector.training.dataset_config import DatasetConfig, apply_absent_classes, prepare_split  # noqa: E402
from micro_detector.training.evaluate import EvalOptions, eval_detect_options, predict_labelled  # noqa: E402
from micro_detector.training.labels import ClassMap, LabelSet, load_xview  # noqa: E402
from micro_detector.training.metrics import SIZE_BUCKETS, confusion_matrix, evaluate, size_breakdown  # noqa: E402


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load_folder(folder: Path) -> LabelSet:
    """The labels of a corpus folder in xView form: its one *.geojson, images/, classes.json,
    images.json."""
    geojsons = sorted(folder.glob("*.geojson"))
    if len(geojsons) != 1:
        raise SystemExit(f"{folder}: expected one .geojson, found {[g.name for g in geojsons]}")
    annotations = folder / "images.json"
    return load_xview(
        geojsons[0],
        folder / "images",
        ClassMap.from_file(folder / "classes.json"),
        annotations if annotations.is_file() else None,
        log=log,
    )


def limit_per_source(labels: LabelSet, limit: int | None) -> LabelSet:
    """The first `limit` images (by name) of each source; all when None."""
    if not limit:
        return labels
    keep, seen = [], {}
    for im in sorted(labels.images, key=lambda im: im.name):
        seen[im.source] = seen.get(im.source, 0) + 1
        if seen[im.source] <= limit:
            keep.append(im)
    return LabelSet(labels.class_names, keep, labels.report)


def id_split(args) -> LabelSet:
    """The validation split of the in-distribution data, as the trainer makes it."""
    folder = Path(args.id)
    labels = load_folder(folder)
    config_path = Path(args.id_config) if args.id_config else folder / "dataset_config.json"
    config = DatasetConfig.from_file(config_path) if config_path.is_file() else None
    _, val = prepare_split(labels, config, Path(args.work) / "splits", args.val_fraction, log=log)
    return limit_per_source(val, args.limit)


def ood_set(args) -> LabelSet:
    """Every OOD image, with the classes its source cannot hold scored as negatives."""
    folder = Path(args.ood)
    labels = load_folder(folder)
    config_path = folder / "dataset_config.json"
    if config_path.is_file():
        labels = apply_absent_classes(labels, DatasetConfig.from_file(config_path))
    return limit_per_source(labels, args.limit)


def score(results: list, names: list[str], conf: float) -> dict:
    """One table row's figures from per-image results (model class order)."""
    m = evaluate(results, names)
    sizes = size_breakdown(results, names)
    confusion = confusion_matrix(results, names, conf)
    overall = m.overall()
    row = {
        "images": len(results),
        "instances": int(m.instances.sum()),
        "mAP50": overall["mAP50"],
        "mAP50-95": overall["mAP50-95"],
        "recall": overall["recall"],
        "classes": {},
        "sizes": {},
        "cross_class": confusion.cross_class(),
        "background": int(confusion.matrix[-1, :-1].sum()),
        "confusion": confusion.to_dict(),
    }
    for k, name in enumerate(names):
        if m.instances[k]:
            row["classes"][name] = {
                "instances": int(m.instances[k]),
                "mAP50": float(m.ap50[k]),
                "mAP50-95": float(m.ap[k]),
                "recall": float(m.recall[k]),
            }
    for i, bucket in enumerate(sizes.buckets):  # AP50 of a bucket: mean over the classes it holds
        held = sizes.instances[i] > 0
        if held.any():
            row["sizes"][bucket] = {
                "AP50": float(np.nanmean(sizes.ap50[i][held])),
                "instances": int(sizes.instances[i].sum()),
            }
    return row


def run_model(model: str, splits: dict[str, LabelSet], args) -> tuple[list[dict], dict]:
    """The rows of one model (ID val, OOD, each OOD source) and its OOD results for quicklooks."""
    from micro_detector.model import runner as runners

    detect = eval_detect_options(
        **{
            k: v
            for k, v in (("tile", args.tile), ("batch", args.batch), ("device", args.device), ("backend", args.backend))
            if v is not None
        }
    )
    runner = runners.open_runner(model, backend=detect.backend, device=detect.device)
    names = list(runner.spec.class_names)
    rows, kept = [], {}
    for split, labels in splits.items():
        start = time.perf_counter()
        results = predict_labelled(runner, labels, EvalOptions(detect, breakdown=False))
        seconds = time.perf_counter() - start
        row = {
            "model": model,
            "split": split,
            **score(results, names, args.confusion_conf),
            "seconds_per_image": seconds / max(len(results), 1),
        }
        rows.append(row)
        log(f"{Path(model).name} {split}: mAP50 {row['mAP50']:.3f}, {len(results)} images, {seconds:.0f} s")
        if split == "OOD":
            kept = {"labels": labels, "results": results, "names": names}
            by_source: dict[str, list[int]] = {}
            for i, im in enumerate(labels.images):
                by_source.setdefault(im.source, []).append(i)
            for source, idx in sorted(by_source.items()):
                rows.append(
                    {
                        "model": model,
                        "split": f"OOD {source}",
                        **score([results[i] for i in idx], names, args.confusion_conf),
                    }
                )
    return rows, kept


def _cell(figures: dict | None) -> str:
    if not figures:
        return "-"
    return f"{figures['mAP50']:.2f}/{figures['mAP50-95']:.2f}/{figures['recall']:.2f}"


def table(rows: list[dict], class_names: list[str]) -> str:
    """The one table: a row per model and split."""
    buckets = [b[0] for b in SIZE_BUCKETS]
    head = (
        ["model", "split", "imgs", "inst", "mAP50", "mAP50-95", "R"]
        + [f"{c} 50/50-95/R" for c in class_names]
        + [f"AP50 {b}" for b in buckets]
        + ["cross-cls", "bg boxes"]
    )
    lines = [head]
    for r in rows:
        sizes = [
            f"{r['sizes'][b]['AP50']:.2f} ({r['sizes'][b]['instances']})" if b in r["sizes"] else "-" for b in buckets
        ]
        lines.append(
            [
                Path(r["model"]).parent.name + "/" + Path(r["model"]).name,
                r["split"],
                str(r["images"]),
                str(r["instances"]),
                f"{r['mAP50']:.3f}",
                f"{r['mAP50-95']:.3f}",
                f"{r['recall']:.3f}",
            ]
            + [_cell(r["classes"].get(c)) for c in class_names]
            + sizes
            + [str(r["cross_class"]), str(r["background"])]
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    return "\n".join(
        "  ".join(v.rjust(w) if i > 1 else v.ljust(w) for i, (v, w) in enumerate(zip(line, widths))) for line in lines
    )


def confusions(rows: list[dict]) -> str:
    """The confusion matrices of the ID and OOD rows."""
    from micro_detector.training.metrics import Confusion

    parts = []
    for r in rows:
        if r["split"] in ("ID val", "OOD"):
            c = r["confusion"]
            matrix = Confusion(c["classes"], c["conf"], c["iou"], np.array(c["matrix"]))
            parts.append(f"{r['model']} - {r['split']}\n{matrix.table()}")
    return "\n\n".join(parts)


def quicklooks(kept: dict, model: str, folder: Path, conf: float, size: int = 1024) -> int:
    """One PNG per OOD image: true boxes green, predictions at conf >= `conf` red (class
    initial beside each); the number written."""
    from osgeo import gdal
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    tag = Path(model).stem if Path(model).stem not in ("best", "last") else Path(model).parent.name
    for im, res in zip(kept["labels"].images, kept["results"]):
        ds = gdal.Open(im.path)
        bands = [min(b, ds.RasterCount) for b in (1, 2, 3)]
        f = min(1.0, size / max(ds.RasterXSize, ds.RasterYSize))
        w, h = max(1, round(ds.RasterXSize * f)), max(1, round(ds.RasterYSize * f))
        rgb = np.stack([ds.GetRasterBand(b).ReadAsArray(buf_xsize=w, buf_ysize=h) for b in bands], -1)
        picture = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))
        draw = ImageDraw.Draw(picture)
        names = kept["names"]
        for box in res.true_boxes:
            draw.rectangle([float(v) * f for v in box], outline=(0, 255, 0))
        for box, s, k in zip(res.pred_boxes, res.pred_scores, res.pred_classes):
            if s >= conf:
                x0, y0, x1, y1 = (float(v) * f for v in box)
                draw.rectangle([x0, y0, x1, y1], outline=(255, 0, 0))
                draw.text((x0, max(0, y0 - 10)), names[int(k)][0], fill=(255, 0, 0))
        picture.save(folder / f"{tag}_{Path(im.name).stem}.png")
    return len(kept["results"])


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", nargs="+", required=True, help="model files; the first is the baseline row")
    p.add_argument("--tag", help="name of the report: benchmarks/generalize_<tag>.txt (default: the last model)")
    p.add_argument("--id", default="/work/corpus", help="in-distribution data (xView form: *.geojson, images/)")
    p.add_argument("--id-config", help="its dataset config (default: dataset_config.json in --id)")
    p.add_argument("--val-fraction", type=float, default=0.15)
    p.add_argument("--ood", default="/work/corpus_ood", help="the OOD split (xView form)")
    p.add_argument("--limit", type=int, help="at most N images per source in each split (a quick check)")
    p.add_argument("--quicklooks", type=Path, help="folder for PNGs of the OOD images with true and predicted boxes")
    p.add_argument("--confusion-conf", type=float, default=0.25)
    p.add_argument("--tile", type=int)
    p.add_argument("--batch", type=int)
    p.add_argument("--device")
    p.add_argument("--backend", choices=["auto", "torch", "onnx"])
    p.add_argument("--work", default=str(ROOT / "benchmarks" / "work" / "generalize"))
    p.add_argument("--out", type=Path, help="report file (.txt; a .json is written beside it)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    missing = [m for m in args.models if not Path(m).is_file()]
    if missing:
        raise SystemExit(f"model file(s) not found: {missing}")
    tag = args.tag or (
        Path(args.models[-1]).parent.name
        if Path(args.models[-1]).stem in ("best", "last")
        else Path(args.models[-1]).stem
    )
    out = args.out or (Path(args.work) if args.limit else ROOT / "benchmarks") / f"generalize_{tag}.txt"
    splits = {"ID val": id_split(args), "OOD": ood_set(args)}
    log(
        f"ID val: {len(splits['ID val'].images)} images from {args.id}; OOD: {len(splits['OOD'].images)} "
        f"images from {args.ood}" + (f" (limit {args.limit} per source)" if args.limit else "")
    )
    rows, class_names = [], []
    for model in args.models:
        model_rows, kept = run_model(model, splits, args)
        rows += model_rows
        class_names = class_names or kept["names"]
        if args.quicklooks:
            n = quicklooks(kept, model, args.quicklooks, args.confusion_conf)
            log(f"quicklooks: {n} PNGs of {Path(model).name} in {args.quicklooks}")
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    header = (
        f"Generalisation benchmark ({when}): ID val = validation split of {args.id} as the trainer splits it; "
        f"OOD = {args.ood} (whole sources no training run sees)"
        + (f"; limit {args.limit} images per source" if args.limit else "")
        + f".\nCells per class: mAP50/mAP50-95/recall. AP50 by size: mean over classes (instances). cross-cls: "
        f"predictions on an object of another class, bg boxes: on no object (conf >= {args.confusion_conf:g}, "
        f"IoU 0.5). First model = baseline.\n"
    )
    text = header + "\n" + table(rows, class_names) + "\n\n" + confusions(rows) + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    out.with_suffix(".json").write_text(
        json.dumps({"when": when, "id": args.id, "ood": args.ood, "limit": args.limit, "rows": rows}, indent=1)
    )
    print(text)
    log(f"wrote {out} and {out.with_suffix('.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
