"""`micro-detector train` / `micro-detector evaluate` (also `python -m training`)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from ..options import field_default
from ..remote import dataset_name
from .start import SCRATCH_MIN_IMAGES, SCRATCH_MIN_OBJECTS, START_CHOICES, choose_start


def add_label_arguments(p: argparse.ArgumentParser) -> None:
    """The label options shared by train and evaluate (xView GeoJSON, a vector layer, or YOLO /
    DOTA / COCO / VOC files through the importers)."""
    g = p.add_argument_group("labels (xView GeoJSON, YOLO, DOTA, COCO or VOC files, or a vector layer over rasters)")
    g.add_argument("--xview", type=Path, help="xView GeoJSON FeatureCollection (bounds_imcoords, type_id, image_id)")
    g.add_argument(
        "--labels",
        type=Path,
        help="YOLO data.yaml (or its folder), folder of DOTA .txt, COCO .json, or folder of VOC .xml files",
    )
    g.add_argument(
        "--labels-format",
        choices=["auto", "yolo", "dota", "coco", "voc"],
        default="auto",
        help="format of --labels (auto: told by the path where unambiguous)",
    )
    g.add_argument(
        "--images",
        type=Path,
        help="folder of the images: the GeoTIFFs named by image_id for --xview; "
        "for --labels, the images of DOTA (needed), COCO and VOC (default: beside the labels)",
    )
    g.add_argument(
        "--class-map",
        type=Path,
        help="--xview: classes.json or {class: [type ids]} (default: "
        "classes.json beside the GeoJSON); --labels: JSON {classes: [...], map: {source name: class "
        "or null}} (default: the bundled one, e.g. small-vehicle -> vehicle, ship -> boat)",
    )
    g.add_argument(
        "--image-gsd",
        type=float,
        metavar="METRES",
        help="GSD (m/px) of --labels images that state none (plain JPEG / PNG)",
    )
    g.add_argument("--all-xview-classes", action="store_true", help="keep the 60 xView classes")
    g.add_argument(
        "--annotations",
        type=Path,
        help="images.json with annotated_groups per image (default: images.json beside the GeoJSON)",
    )
    g.add_argument("--vector", type=Path, help="polygon or point layer of labels (any OGR format)")
    g.add_argument("--layer", help="layer name inside --vector")
    g.add_argument("--class-field", default="class", help="class field of --vector")
    g.add_argument(
        "--rasters", type=dataset_name, nargs="+", help="rasters under --vector (files, URLs or GDAL dataset names)"
    )
    g.add_argument("--point-size", type=float, default=4.0, help="box side in metres for point labels")
    g.add_argument("--val-fraction", type=float, default=0.15, help="per source, the last images by name")
    g.add_argument("--val-list", type=Path, help="text file of validation image names (one per line)")
    g.add_argument(
        "--dataset-config",
        type=Path,
        help="project facts about the data set: classes absent per source (taught as negatives) "
        "and spatial splits of single images (e.g. training/datasets/micro4.json)",
    )


def load_labels(args, log=None):
    """The LabelSet the label options name; raises LabelError with the problem named."""
    from .labels import ClassMap, LabelError, load_vector, load_xview

    given = [f"--{name}" for name in ("xview", "labels", "vector") if getattr(args, name, None)]
    if len(given) > 1:
        raise LabelError(f"give one kind of labels, not {' and '.join(given)}")
    if args.xview:
        if not args.images:
            raise LabelError("--xview needs --images (the folder of the GeoTIFFs)")
        mapping = args.class_map or args.xview.parent / "classes.json"
        if not mapping.is_file():
            raise LabelError(f"no class mapping: give --class-map (looked for {mapping})")
        return load_xview(
            args.xview, args.images, ClassMap.from_file(mapping, args.all_xview_classes), args.annotations, log=log
        )
    if args.labels:
        from .importers import load_imported

        return load_imported(args.labels, args.labels_format, args.images, args.class_map, args.image_gsd, log=log)
    if args.vector:
        if not args.rasters:
            raise LabelError("--vector needs --rasters")
        return load_vector(
            args.vector, args.rasters, args.class_field, layer=args.layer, point_size_m=args.point_size, log=log
        )
    raise LabelError(
        "give labels: --xview GEOJSON --images DIR, --labels PATH [--labels-format F] [--images DIR], "
        "or --vector FILE --rasters R [R ...]"
    )


def split_labels(args, labels, work_dir):
    """Train and validation sets, with the dataset config applied when one is given."""
    from .dataset_config import DatasetConfig, prepare_split

    config = DatasetConfig.from_file(args.dataset_config) if args.dataset_config else None
    return prepare_split(labels, config, Path(work_dir) / "splits", args.val_fraction, _val_names(args), log=_log)


def _range_of(what: str, unit: str):
    """argparse type: 'MIN,MAX' with 0 < MIN <= MAX, as a tuple of floats."""

    def parse(text: str) -> tuple[float, float]:
        try:
            lo, hi = (float(v) for v in text.split(","))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected MIN,MAX in {unit}, got {text!r}") from None
        if not 0 < lo <= hi:
            raise argparse.ArgumentTypeError(f"{what} must satisfy 0 < MIN <= MAX, got {text!r}")
        return lo, hi

    return parse


def _val_names(args):
    if args.val_list is None:
        return None
    return [line.strip() for line in args.val_list.read_text().splitlines() if line.strip()]


def _train(args) -> dict:
    from .chips import ChipConfig
    from .dataset import AugmentConfig
    from .loss import LossWeights
    from .trainer import TrainConfig, read_checkpoint, train

    if args.resume is not None:
        read_checkpoint(args.resume)  # a bad --resume file fails before the labels are read
    labels = load_labels(args, log=_log)
    start = _start_point(args, labels)
    train_set, val_set = split_labels(args, labels, args.cache or args.out / "cache")
    config = TrainConfig(
        scale=start.scale,
        p2=args.p2,
        epochs=args.epochs,
        imgsz=args.imgsz,
        batch=args.batch,
        device=args.device,
        optimizer=args.optimizer,
        lr0=args.lr0,
        patience=args.patience,
        workers=args.workers,
        seed=args.seed,
        close_mosaic=args.close_mosaic,
        val_every=args.val_every,
        weights=start.weights,
        schedule=args.schedule,
        warmup_epochs=args.warmup_epochs,
        nbs=args.nbs,
        repeat_threshold=args.repeat_threshold,
        source_balance=args.source_balance,
        chips=ChipConfig(
            size=args.imgsz,
            overlap=args.chip_overlap,
            min_visibility=args.min_visibility,
            negative_ratio=args.negative_ratio,
            gsd=args.gsd,
        ),
        augment=AugmentConfig(
            mosaic=args.mosaic, gsd_range=args.gsd_range, object_sizes=args.object_sizes, sensor=args.sensor_aug
        ),
        loss=LossWeights(assign=args.assign, nwd=args.nwd_loss),
    )
    result = train(
        config,
        train_set,
        val_set if val_set.images else None,
        args.out,
        model_path=args.model,
        resume=args.resume,
        log=_log,
        progress=TrainProgress(),
        cache_dir=args.cache,
    )
    if int(os.environ.get("RANK", "0")) != 0:
        return None  # under torchrun, rank 0 reports
    out = {
        "model": str(result.model_path),
        "run": str(result.run_dir),
        "epochs_run": len(result.history),
        "stopped_early": result.stopped_early,
        "seconds": round(result.seconds, 1),
        "train_images": len(train_set.images),
        "val_images": len(val_set.images),
    }
    if result.metrics is not None:
        print(result.metrics.table(), file=sys.stderr)
        out["val"] = result.metrics.overall()
    return out


def _evaluate(args) -> dict:
    from .evaluate import EvalOptions, evaluate_model_file

    labels = load_labels(args, log=_log)
    if args.split == "val":
        labels = split_labels(args, labels, args.out or Path(tempfile.mkdtemp(prefix="micro-detector-eval-")))[1]
    elif args.dataset_config:
        from .dataset_config import DatasetConfig, apply_absent_classes

        labels = apply_absent_classes(labels, DatasetConfig.from_file(args.dataset_config))
    if not labels.images:
        raise ValueError("no image to evaluate on")
    options = EvalOptions(_eval_detect_options(args), confusion_conf=args.confusion_conf)
    metrics = evaluate_model_file(args.model, labels, args.out, options, log=_log)
    print(metrics.report(), file=sys.stderr)
    cross = metrics.confusion.cross_class() if metrics.confusion is not None else None
    return {
        "images": len(labels.images),
        **metrics.overall(),
        "cross_class_confusions": cross,
        "out": str(args.out) if args.out else None,
        "files": metrics.files,
    }


def _eval_detect_options(args):
    """The detection options of `evaluate`, as `detect` takes them (options left unset keep
    the engine's defaults, so an engine without one of them still runs)."""
    from .evaluate import eval_detect_options

    try:
        bands = [int(b) for b in args.bands.split(",")] if args.bands else None
    except ValueError:
        raise ValueError(f"--bands takes 1-based band numbers separated by commas, got {args.bands}") from None
    given = {
        "bands": bands,
        "scale": args.scale,
        "gsd": args.gsd,
        "tta": args.tta or None,
        "agnostic": args.agnostic or None,
        "zoom": args.zoom,
    }
    given = {k: v for k, v in given.items() if v is not None}
    return eval_detect_options(
        conf=args.conf,
        tile=args.tile,
        overlap=args.overlap,
        batch=args.batch,
        device=args.device,
        backend=args.backend,
        **given,
    )


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class TrainProgress:
    """How far training is, on stderr: one rewritten line on a terminal; a line every
    `every` seconds in a log file (so a run in the background is never silent for an epoch).
    Called as progress(fraction of the run, "epoch E/N batch B/NB loss L")."""

    def __init__(self, stream=sys.stderr, every: float = 60.0, clock=None):
        import time

        self.stream, self.clock = stream, clock or time.monotonic
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.every = 0.5 if self.tty else every
        self.start = self.clock()
        self.first: float | None = None
        self.first_fraction = 0.0
        self.last = -float("inf")

    def __call__(self, fraction: float, text: str) -> None:
        now = self.clock()
        if fraction <= 0:  # a stage before the first batch (cutting chips): said once
            self.stream.write(text + "\n")
            self.stream.flush()
            return
        if self.first is None:  # the first batch carries start-up costs: rates count from it
            self.first, self.first_fraction = now, fraction
        if now - self.last < self.every and fraction < 1:
            return
        self.last = now
        done = fraction - self.first_fraction
        eta = (now - self.first) / done * (1 - fraction) if done > 0 else None
        line = f"{text} | {fraction:.1%} of the run, {_clock(now - self.start)} so far"
        if eta is not None and fraction < 1:
            line += f", about {_clock(eta)} left"
        self.stream.write(("\r" + line) if self.tty else line + "\n")
        if self.tty and fraction >= 1:
            self.stream.write("\n")
        self.stream.flush()


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _scales() -> list[str]:
    """Model scales, from the core's torch-free spec module (building the parser of
    `micro-detector` must not import torch)."""
    try:
        from ..micro_detector.model.spec import SCALES
    except ImportError:
        from micro_detector.model.spec import SCALES
    return list(SCALES)


def _start_point(args, labels):
    """Where the run starts (--start, --weights): the policy of start.py, told in the log."""
    images, objects = len(labels.images), sum(labels.instances().values())
    start = choose_start(args.start, args.weights, args.scale, images, objects)
    for level, text in start.messages(images, objects):
        _log(f"warning: {text}" if level == "warning" else text)
    return start


def add_commands(sub) -> None:
    """`train` and `evaluate` on the subparsers `sub` (of `micro-detector` or `python -m training`)."""
    _add_train_command(sub)
    _add_evaluate_command(sub)


START_HELP = (
    "without --weights: random weights (scratch), the bundled model (bundled: fine-tuning), or auto: "
    f"the bundled model when the data is too small for random weights (under {SCRATCH_MIN_IMAGES} "
    f"images or {SCRATCH_MIN_OBJECTS} objects), as QGIS does"
)


def _add_train_command(sub) -> None:
    """`train`: labels, then every training option with its default from the config dataclasses."""
    from .config import AugmentConfig, ChipConfig, LossWeights, TrainConfig

    t, c, a, w = (
        lambda name, cls=cls: field_default(cls, name) for cls in (TrainConfig, ChipConfig, AugmentConfig, LossWeights)
    )
    p = sub.add_parser("train", help="train a YOLOv12 model on labelled rasters")
    add_label_arguments(p)
    p.add_argument("--scale", choices=_scales(), default=t("scale"))
    p.add_argument("--epochs", type=int, default=t("epochs"))
    p.add_argument("--imgsz", type=int, default=t("imgsz"), help="chip and input size (multiple of 32)")
    p.add_argument("--batch", type=int, default=t("batch"))
    p.add_argument("--nbs", type=int, default=t("nbs"), help="nominal batch (gradient accumulation)")
    p.add_argument("--device", default=t("device"))
    p.add_argument("--optimizer", choices=["auto", "sgd", "adamw"], default=t("optimizer"))
    p.add_argument("--lr0", type=float, default=t("lr0"))
    p.add_argument("--schedule", choices=["cosine", "linear"], default=t("schedule"))
    p.add_argument("--warmup-epochs", type=float, default=t("warmup_epochs"))
    p.add_argument("--patience", type=int, default=t("patience"))
    p.add_argument("--close-mosaic", type=int, default=t("close_mosaic"))
    p.add_argument("--mosaic", type=float, default=a("mosaic"), help="mosaic probability")
    p.add_argument("--workers", type=int, default=t("workers"))
    p.add_argument("--seed", type=int, default=t("seed"))
    p.add_argument("--val-every", type=int, default=t("val_every"))
    p.add_argument("--gsd", type=float, default=c("gsd"), help="train at this GSD (m/px); default: native pixels")
    p.add_argument(
        "--gsd-range",
        type=_range_of("GSD range", "metres per pixel"),
        metavar="MIN,MAX",
        default=a("gsd_range"),
        help="train over this range of GSDs (m/px): each chip is shown at a random GSD in it, "
        "and the model serves rasters in the range at their own pixels",
    )
    p.add_argument(
        "--object-sizes",
        type=_range_of("object sizes", "pixels"),
        metavar="MIN,MAX",
        default=a("object_sizes"),
        help="also zoom chips so that their objects appear at sizes drawn in MIN..MAX pixels "
        "(e.g. 8,64), whatever the source's GSD; with --gsd-range, half the zooms each",
    )
    p.add_argument(
        "--p2",
        action="store_true",
        default=t("p2"),
        help="add a stride-4 (P2) level to the neck and head (finer grid for objects of a few pixels; "
        "slower: see benchmarks/ablation_tiny.txt)",
    )
    p.add_argument(
        "--assign",
        choices=["ciou", "nwd"],
        default=w("assign"),
        help="alignment metric of the task-aligned assigner (nwd: Gaussian Wasserstein, for tiny objects)",
    )
    p.add_argument(
        "--nwd-loss",
        type=float,
        default=w("nwd"),
        metavar="SHARE",
        help="share of the NWD term in the box loss (0 = CIoU only, 1 = NWD only)",
    )
    p.add_argument(
        "--repeat-threshold",
        type=float,
        default=t("repeat_threshold"),
        metavar="T",
        help="class-balanced sampling: a chip with a class found in a share f of the chips is shown "
        "max(1, sqrt(T/f)) times per epoch (e.g. 0.3; 0 = off)",
    )
    p.add_argument(
        "--source-balance",
        type=float,
        default=t("source_balance"),
        metavar="T",
        help="source-balanced sampling: chips of a source holding a share f of the chips are shown "
        "max(1, sqrt(T/f)) times per epoch (e.g. 0.2; 0 = off); a chip takes the larger of "
        "this and its class factor",
    )
    p.add_argument(
        "--sensor-aug",
        action=argparse.BooleanOptionalAction,
        default=a("sensor"),
        help="sensor augmentation: gamma, contrast, haze, blur, grey, noise, JPEG and random "
        "resampling kernels, for imagery of other sensors",
    )
    p.add_argument("--chip-overlap", type=float, default=c("overlap"))
    p.add_argument("--min-visibility", type=float, default=c("min_visibility"))
    p.add_argument("--negative-ratio", type=float, default=c("negative_ratio"))
    p.add_argument("--weights", type=Path, help="start from this model file (overrides --start)")
    p.add_argument("--start", choices=START_CHOICES, default="scratch", help=START_HELP)
    p.add_argument("--resume", type=Path, help="last_checkpoint.pt of an interrupted run")
    p.add_argument("--cache", type=Path, help="chip cache folder (default: OUT/cache)")
    p.add_argument("--out", type=Path, required=True, help="run folder")
    p.add_argument("-o", "--model", type=Path, help="also copy the best model here")
    p.set_defaults(func=_train)


def _add_evaluate_command(sub) -> None:
    """`evaluate`: a model file, labels, and the detection options of the evaluation run."""
    p = sub.add_parser("evaluate", help="per-class P, R, mAP50, mAP50-95 of a model on labelled rasters")
    p.add_argument("model", type=Path, help="model file (.pt) or exported .onnx")
    add_label_arguments(p)
    p.add_argument("--split", choices=["all", "val"], default="all", help="all labelled images or the val split")
    p.add_argument("--conf", type=float, default=0.001)
    p.add_argument("--tile", type=int)
    p.add_argument("--overlap", type=float, default=0.2)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--device", default="auto")
    p.add_argument(
        "--bands",
        help="comma-separated 1-based band numbers, as for detect (default: R,G,B; a single grey band is repeated)",
    )
    p.add_argument("--scale", type=float, help="source pixels per model pixel (overrides the GSD rule)")
    p.add_argument("--gsd", type=float, help="the rasters' GSD in metres, for rasters without a usable one")
    p.add_argument("--tta", action="store_true", help="test-time augmentation (flips, quarter turns)")
    p.add_argument(
        "--zoom", type=float, metavar="Z", help="also detect on each raster magnified Z times, merged (as for detect)"
    )
    p.add_argument("--agnostic", action="store_true", help="merge boxes of different classes on one object")
    p.add_argument("--backend", choices=["auto", "torch", "onnx"], default="auto")
    p.add_argument(
        "--confusion-conf",
        type=float,
        default=0.25,
        help="score a prediction needs to enter the cross-class confusion counts",
    )
    p.add_argument(
        "--out",
        type=Path,
        help="folder of its own for the report and its files (metrics.csv/json, "
        "size and confusion tables, PR_curve.png, val_images.png, report.html)",
    )
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=_evaluate)


def main(argv: list[str] | None = None) -> int:
    """The training CLI (`python -m micro_detector.training`): train or evaluate; the exit status."""
    from .. import engine
    from ..model import spec
    from .labels import LabelError

    parser = argparse.ArgumentParser(
        prog="python -m micro_detector.training", description="Train and evaluate YOLOv12 detectors."
    )
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        result = args.func(args)
    except (LabelError, spec.ModelFileError, ValueError, FileNotFoundError, PermissionError, RuntimeError) as error:
        print(f"{parser.prog} {args.command}: error: {error}", file=sys.stderr)
        return 2
    except engine.Cancelled:
        print(f"{parser.prog} {args.command}: cancelled", file=sys.stderr)
        return 130
    if result is not None:
        print(json.dumps(result, indent=2))
    return 0
