"""Micro benchmark: models scored on a resolution ladder of the micro4 validation split.

    .venv/bin/python benchmarks/micro_ladder.py MODEL [MODEL ...] [--rungs native,24,16,11]
        [--limit N] [--scale S] [--gsd G] [--variants plain,tta,agnostic,zoom2] [--tile T] [--batch B]
        [--device D] [--backend B] [--data ../shared/data/micro4]
        [--config micro_detector/training/datasets/micro4.json] [--work benchmarks/work/ladder]
        [--out benchmarks/micro_ladder.txt] [--build-only]

The validation split is the trainer's (`prepare_split` with the project's dataset config:
per source the last 15 % of images by name, the boat image's held-out band, and the classes
each source cannot contain scored as negatives). Every validation image is put on each rung:
`native`, and resampled by area averaging so that each class's median object side is about
24, 16 and 11 px (see ladder_rungs.py for the rule). Each rung is a folder that
`micro-detector evaluate MODEL --xview RUNG/labels.geojson --images RUNG/images` scores the
same way. Every model runs through the tiled engine on every rung, with the detection
flags given here; a model that states a GSD is resampled to it by the engine, a model that
states none (the old default) runs at the file's own pixels. Sizes in the breakdown
(very tiny < 8, tiny 8-16, small 16-32, medium > 32 px; sqrt(w * h)) are in the rung
file's pixels.

Output: one table (rows model x rung: mAP50 per class, mAP50 and mAP50-95 over classes,
cross-class confusions at IoU 0.5, ms per tile), a detailed table (P, R, mAP50, mAP50-95
and AP50 per size bucket per class) and the confusion matrices, in --out (.txt and .json).
Runs with --limit write into the work folder unless --out is given, so a partial run never
replaces the table of a full one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import ladder_rungs  # noqa: E402

from micro_detector.training.dataset_config import DatasetConfig, prepare_split  # noqa: E402
from micro_detector.training.evaluate import EvalOptions, eval_detect_options, evaluate_labelled  # noqa: E402
from micro_detector.training.labels import ClassMap, load_xview  # noqa: E402
from micro_detector.training.metrics import SIZE_BUCKETS  # noqa: E402


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build_ladder(args) -> tuple[list[tuple[str, Path]], dict]:
    """The rung folders (built or reused) and facts about the ladder."""
    data = Path(args.data)
    classes_json = json.loads((data / "classes.json").read_text())
    labels = load_xview(
        data / "micro4_dev.geojson",
        data / "images",
        ClassMap.from_file(data / "classes.json"),
        data / "images.json",
        log=log,
    )
    config = DatasetConfig.from_file(args.config) if args.config else None
    _, val = prepare_split(labels, config, Path(args.work) / "splits", args.val_fraction, log=log)
    medians = ladder_rungs.class_medians(val)
    images = ladder_rungs.pick_images(val, args.limit)
    type_ids = ladder_rungs.representative_type_ids(data / "micro4_dev.geojson", classes_json)
    rungs = []
    for rung in args.rungs.split(","):
        target = None if rung == "native" else float(rung)
        name = "native" if target is None else f"{rung}px"
        plan = ladder_rungs.plan_rung(images, val.class_names, medians, target)
        manifest = {
            "rung": name,
            "target_px": target,
            "data": str(data.resolve()),
            "config": str(Path(args.config).resolve()) if args.config else None,
            "class_medians_px": {k: round(v, 3) for k, v in medians.items()},
            "images": [{"image": p["image"].name, "class": p["class"], "factor": p["factor"]} for p in plan],
        }
        folder = ladder_rungs.write_rung(
            Path(args.work) / name, name, plan, val.class_names, type_ids, classes_json, manifest
        )
        rungs.append((name, folder))
        log(f"rung {name}: {len(plan)} images in {folder}")
    return rungs, {"val_images": len(val.images), "images": [im.name for im in images], "class_medians_px": medians}


def load_rung(folder: Path):
    """The rung's labels, read exactly as `micro-detector evaluate` reads them."""
    return load_xview(
        folder / "labels.geojson",
        folder / "images",
        ClassMap.from_file(folder / "classes.json"),
        folder / "images.json",
    )


def evaluate_rung(runner, folder: Path, options: EvalOptions, save_to: Path) -> dict:
    """Metrics of one model on one rung, as a plain dict."""
    labels = load_rung(folder)
    metrics, results = evaluate_labelled(runner, labels, options)
    metrics.save(save_to)
    tiles = sum(r.info.get("tiles", 0) for r in results)
    seconds = sum(r.info.get("seconds", 0.0) for r in results)
    forward = sum(r.info.get("forward_seconds", 0.0) for r in results)
    scales = sorted({round(float(r.info.get("scale", 1.0)), 3) for r in results})
    names = list(runner.spec.class_names)
    classes = {}
    for k, name in enumerate(names):
        if not metrics.instances[k]:
            continue
        s = np.concatenate([ladder_rungs.sides(r.true_boxes[r.true_classes == k]) for r in results])
        classes[name] = {
            "instances": int(metrics.instances[k]),
            "median_px": float(np.median(s)),
            "precision": float(metrics.precision[k]),
            "recall": float(metrics.recall[k]),
            "mAP50": float(metrics.ap50[k]),
            "mAP50-95": float(metrics.ap[k]),
            "AP50_by_size": {
                b: (None if np.isnan(v) else float(v)) for b, v in zip(metrics.sizes.buckets, metrics.sizes.ap50[:, k])
            },
        }
    return {
        "images": len(labels.images),
        "classes": classes,
        "all": metrics.overall(),
        "cross_class": metrics.confusion.cross_class(),
        "confusion": metrics.confusion.to_dict(),
        "confusion_table": metrics.confusion.table(),
        "tiles": tiles,
        "ms_per_tile": 1000 * seconds / tiles if tiles else None,
        "forward_ms_per_tile": 1000 * forward / tiles if tiles else None,
        "engine_scales": scales,
    }


def model_facts(path: Path, runner) -> dict:
    spec = runner.spec
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    served = spec.gsd_range() if hasattr(spec, "gsd_range") else None
    return {
        "path": str(path),
        "sha256_12": digest,
        "scale": spec.scale,
        "imgsz": spec.imgsz,
        "classes": list(spec.class_names),
        "gsd_served": list(served) if served else None,
        "backend": getattr(runner, "backend", None),
    }


def _cell(v) -> str:
    return "-" if v is None else f"{v:.3f}"


def summary_table(rows: list[dict], class_names: list[str]) -> str:
    """One line per model x rung: mAP50 per class, overall mAP50 / mAP50-95, confusions, speed."""
    head = (
        f"{'model':<24}{'rung':<8}"
        + "".join(f"{n:>10}" for n in class_names)
        + f"{'mAP50':>9}{'50-95':>8}{'cross':>7}{'ms/tile':>9}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        cells = [_cell(r["classes"].get(n, {}).get("mAP50")) for n in class_names]
        ms = "-" if r["ms_per_tile"] is None else f"{r['ms_per_tile']:.0f}"
        lines.append(
            f"{r['model_name'][:23]:<24}{r['rung']:<8}"
            + "".join(f"{c:>10}" for c in cells)
            + f"{r['all']['mAP50']:>9.3f}{r['all']['mAP50-95']:>8.3f}{r['cross_class']:>7}{ms:>9}"
        )
    return "\n".join(lines)


def detail_table(rows: list[dict]) -> str:
    """Per model, rung and class: instances, median side, P, R, mAP50, mAP50-95, AP50 by size."""
    buckets = [b[0] for b in SIZE_BUCKETS]
    head = (
        f"{'model':<24}{'rung':<8}{'class':<10}{'n':>6}{'med px':>8}{'P':>7}{'R':>7}{'mAP50':>7}{'50-95':>7}"
        + "".join(f"{b:>11}" for b in buckets)
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        for name, c in r["classes"].items():
            sizes = [_cell(c["AP50_by_size"].get(b)) for b in buckets]
            lines.append(
                f"{r['model_name'][:23]:<24}{r['rung']:<8}{name:<10}{c['instances']:>6}"
                f"{c['median_px']:>8.1f}{c['precision']:>7.3f}{c['recall']:>7.3f}{c['mAP50']:>7.3f}"
                f"{c['mAP50-95']:>7.3f}" + "".join(f"{s:>11}" for s in sizes)
            )
    return "\n".join(lines)


def _names(models: list[Path]) -> list[str]:
    names = [m.name for m in models]
    return names if len(set(names)) == len(names) else [str(m) for m in models]


def run(args) -> dict:
    from micro_detector.model.runner import open_runner

    rungs, ladder = build_ladder(args)
    if args.build_only:
        return {"ladder": ladder, "rungs": {n: str(f) for n, f in rungs}}
    flags = {k: v for k, v in {"scale": args.scale, "gsd": args.gsd, "tile": args.tile}.items() if v is not None}
    rows, models = [], []
    for path, name in zip(args.models, _names(args.models)):
        runner = open_runner(path, backend=args.backend, device=args.device, precision=args.precision)
        models.append({"name": name, **model_facts(path, runner)})
        for variant in args.variants:
            switches = variant_options(variant)
            options = EvalOptions(
                eval_detect_options(batch=args.batch, device=args.device, backend=args.backend, **flags, **switches),
                confusion_conf=args.confusion_conf,
            )
            label = name if variant == "plain" else f"{name} +{variant}"
            for rung, folder in rungs:
                start = time.perf_counter()
                row = evaluate_rung(runner, folder, options, Path(args.work) / "eval" / name / variant / rung)
                rows.append({"model_name": label, "model": name, "variant": variant, "rung": rung, **row})
                log(f"{label} on {rung}: mAP50 {row['all']['mAP50']:.3f} ({time.perf_counter() - start:.0f} s)")
    class_names = [n for n in models[0]["classes"] if any(n in r["classes"] for r in rows)]
    return {
        "ladder": ladder,
        "models": models,
        "flags": flags,
        "variants": args.variants,
        "rows": rows,
        "class_names": class_names,
    }


def ablation_table(rows: list[dict]) -> str:
    """One line per model and variant: mAP50 over classes on each rung, mAP50-95 and the
    cross-class confusions at native resolution, and ms per tile over all rungs."""
    rungs = list(dict.fromkeys(r["rung"] for r in rows))
    head = (
        f"{'model':<34}"
        + "".join(f"{'mAP50 ' + g:>14}" for g in rungs)
        + f"{'50-95 native':>14}{'cross native':>14}{'ms/tile':>9}"
    )
    lines = [head, "-" * len(head)]
    for label in dict.fromkeys(r["model_name"] for r in rows):
        mine = {r["rung"]: r for r in rows if r["model_name"] == label}
        native = mine.get("native")
        tiles = sum(r["tiles"] for r in mine.values())
        ms = sum((r["ms_per_tile"] or 0) * r["tiles"] for r in mine.values()) / tiles if tiles else None
        lines.append(
            f"{label[:33]:<34}"
            + "".join(f"{_cell(mine[g]['all']['mAP50'] if g in mine else None):>14}" for g in rungs)
            + f"{_cell(native['all']['mAP50-95'] if native else None):>14}"
            + f"{native['cross_class'] if native else '-':>14}"
            + f"{'-' if ms is None else f'{ms:.0f}':>9}"
        )
    return "\n".join(lines)


def report_text(result: dict, args) -> str:
    lad = result["ladder"]
    medians = ", ".join(f"{k} {v:.1f}" for k, v in lad["class_medians_px"].items())
    header = [
        f"Micro ladder, {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"command: {' '.join(sys.argv)}",
        f"data: {args.data}; config: {args.config}; validation images: {lad['val_images']}, "
        f"used: {len(lad['images'])}{' (--limit ' + str(args.limit) + ')' if args.limit else ''}",
        f"native median object side per class (px): {medians}",
        f"detection flags: {result['flags'] or 'engine defaults'}; variants {result['variants']}; "
        f"conf 0.001 for AP; confusions at "
        f"IoU 0.5, conf >= {args.confusion_conf}",
    ]
    for m in result["models"]:
        header.append(
            f"model {m['name']}: {m['path']} sha256 {m['sha256_12']} YOLOv12{m['scale']} imgsz "
            f"{m['imgsz']}, GSD served {m['gsd_served'] or 'none stated (native pixels)'}"
        )
    confusions = [f"{r['model_name']} on {r['rung']}:\n{r['confusion_table']}" for r in result["rows"]]
    return (
        "\n".join(header)
        + "\n\nAblation: mAP50 over classes per rung\n"
        + ablation_table(result["rows"])
        + "\n\nmAP50 per class, rows model x rung\n"
        + summary_table(result["rows"], result["class_names"])
        + "\n\nPer class: P and R at the best mean-F1 confidence, AP50 per size bucket (px, rung pixels)\n"
        + detail_table(result["rows"])
        + "\n\nCross-class confusion counts\n"
        + "\n\n".join(confusions)
        + "\n"
    )


def variant_options(variant: str) -> dict:
    """DetectOptions fields of a variant: 'plain', or '+'-joined tta, agnostic, zoomZ (a zoom
    pass at magnification Z, e.g. zoom2)."""
    out = {}
    for part in variant.split("+"):
        if part in ("tta", "agnostic"):
            out[part] = True
        elif re.fullmatch(r"zoom\d+(\.\d+)?", part) and float(part[4:]) > 1:
            out["zoom"] = float(part[4:])
        elif part != "plain":
            raise ValueError(f"unknown variant part {part!r}: use plain, tta, agnostic or zoomZ (e.g. zoom2)")
    return out


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("models", type=Path, nargs="*", help="model files (.pt or .onnx)")
    p.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "micro4"))
    p.add_argument(
        "--config",
        default=str(ROOT / "micro_detector" / "training" / "datasets" / "micro4.json"),
        help="dataset config (absent classes, spatial splits); '' for none",
    )
    p.add_argument("--val-fraction", type=float, default=0.15)
    p.add_argument("--rungs", default="native,24,16,11", help="'native' and/or target median sides in px")
    p.add_argument("--limit", type=int, help="at most N validation images, taken in turn from each class")
    p.add_argument("--work", default=str(ROOT / "benchmarks" / "work" / "ladder"))
    p.add_argument(
        "--out",
        type=Path,
        help="table (.txt; the .json beside it); default benchmarks/micro_ladder.txt, or the work folder with --limit",
    )
    p.add_argument("--build-only", action="store_true", help="only build the rung folders")
    p.add_argument("--scale", type=float, help="engine --scale: source px per model px on every rung")
    p.add_argument(
        "--gsd",
        type=float,
        help="engine --gsd: overrides the GSD written in every rung file "
        "(for checks only; the rungs carry their true GSD)",
    )
    p.add_argument(
        "--variants",
        default="plain",
        help="comma-separated detection variants run for every "
        "model: plain, tta, agnostic, zoomZ (a zoom pass, e.g. zoom2), joined by + (an ablation "
        "of the engine options)",
    )
    p.add_argument("--tile", type=int)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--device", default="cpu")
    p.add_argument("--backend", default="auto", choices=["auto", "torch", "onnx", "openvino"])
    p.add_argument("--precision", default="auto", help="auto | fp32 | bf16 | fp16 | int8 (see precision_ladder.py)")
    p.add_argument("--confusion-conf", type=float, default=0.25)
    args = p.parse_args(argv)
    if not args.models and not args.build_only:
        p.error("give one or more model files, or --build-only")
    for rung in args.rungs.split(","):
        if rung != "native" and not rung.replace(".", "", 1).isdigit():
            p.error(f"--rungs takes 'native' and numbers of pixels, got {rung!r}")
    args.config = args.config or None
    args.variants = args.variants.split(",")
    for v in args.variants:
        try:
            variant_options(v)
        except ValueError as error:
            p.error(f"--variants: {error}")
    if args.out is None:
        args.out = (
            Path(args.work) / "micro_ladder_subset.txt" if args.limit else ROOT / "benchmarks" / "micro_ladder.txt"
        )
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    result = run(args)
    if args.build_only:
        print(json.dumps(result, indent=2))
        return 0
    text = report_text(result, args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=1))
    args.out.write_text(text)
    print(text)
    log(f"wrote {args.out} and {args.out.with_suffix('.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
