"""Evaluation of a model on labelled rasters, through the same tiled engine users run."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np

from .. import engine, raster
from ..model.files import read_spec
from ..plan import plan_tiles
from .labels import LabelSet
from .metrics import ImageResult, Metrics, confusion_matrix, evaluate, size_breakdown

# what an evaluation writes into its folder: output name -> file name
EVALUATION_FILES = {
    "metrics_csv": "metrics.csv",
    "metrics_json": "metrics.json",
    "sizes_csv": "metrics_sizes.csv",
    "confusion_csv": "metrics_confusion.csv",
    "pr_curve": "PR_curve.png",
    "samples": "val_images.png",
    "report": "report.html",
}


def eval_detect_options(**overrides) -> engine.DetectOptions:
    """Detection options for an evaluation: a low score threshold (AP integrates over all
    confidences), at most 300 boxes per tile before the cross-tile merge, and rasters without
    georeferencing allowed (truth and predictions are compared in pixels). `overrides` are
    DetectOptions fields (bands, scale, gsd, tta, agnostic, tile, batch, device...)."""
    known = {f.name for f in fields(engine.DetectOptions)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"this version of the engine has no detection option(s) {unknown}")
    return engine.DetectOptions(**{"conf": 0.001, "max_det": 300, "pixel_coordinates": True, **overrides})


@dataclass
class EvalOptions:
    """How to evaluate: the detection options the engine runs with (`eval_detect_options`),
    and what is scored."""

    detect: engine.DetectOptions = field(default_factory=eval_detect_options)
    max_per_image: int = 2000  # highest scores kept per raster (COCO keeps 100; micro scenes hold more)
    breakdown: bool = True  # AP per size bucket and the cross-class confusion counts
    confusion_conf: float = 0.25  # the score a prediction needs to enter the confusion counts


class ImageCheckError(ValueError):
    """Images of an evaluation that the model cannot run on; names every one of them."""


def check_images(labels: LabelSet, spec, options: engine.DetectOptions, log=None) -> None:
    """Before any inference: every image opens, and its bands (and GSD, when the model
    states one) fit the model under `options`, exactly as detection will decide. Raises one
    ImageCheckError naming all the images that do not; logs how grey images are read."""
    problems, grey = [], []
    for im in labels.images:
        try:
            info = raster.read_info(im.path)
            bands = plan_tiles(info, spec, image_options(options, im)).bands
        except (ValueError, RuntimeError, OSError) as error:  # RasterError, PlanError, OptionsError, GDAL
            problems.append(f"{im.name}: {error}")
            continue
        if spec.bands > 1 and len(set(bands)) == 1 and not options.bands:
            grey.append(im.name)
    if problems:
        raise ImageCheckError(
            f"{len(problems)} of {len(labels.images)} images cannot be evaluated with this "
            f"model ({spec.bands} band(s)); nothing was run:\n  " + "\n  ".join(problems)
        )
    if grey and log:
        log(
            f"{len(grey)} single-band image(s) read as grey, the band repeated to the model's "
            f"{spec.bands} bands: {', '.join(grey[:5])}{' ...' if len(grey) > 5 else ''}"
        )


def image_options(options: engine.DetectOptions, image) -> engine.DetectOptions:
    """The detection options for one labelled image: its own GSD (a DOTA header's, or the one
    given for plain JPEG / PNG sets) where the options set none and the raster states none."""
    if options.gsd is not None or not image.gsd or raster.read_info(image.path).pixel_size_m:
        return options
    return replace(options, gsd=float(image.gsd))


def _class_index(model_names: list[str], label_names: list[str]) -> np.ndarray:
    """Label class index -> model class index (-1 where the model lacks the class)."""
    return np.array([model_names.index(n) if n in model_names else -1 for n in label_names], np.int64)


def predict_labelled(
    runner, labels: LabelSet, options: EvalOptions | None = None, progress=None, log=None
) -> list[ImageResult]:
    """Run tiled detection on every labelled raster; pair the detections with the truth, both
    in the model's class indices and source pixels. Every image is checked first
    (`check_images`). `progress(done, total)` returning False cancels (engine.Cancelled)."""
    options = options or EvalOptions()
    names = list(runner.spec.class_names)
    to_model = _class_index(names, labels.class_names)
    if (to_model < 0).all():
        raise ValueError(f"the model's classes {names} share none with the labels' {labels.class_names}")
    check_images(labels, runner.spec, options.detect, log)
    results = []
    for n, im in enumerate(labels.images):
        det = engine.detect(im.path, None, runner, options=image_options(options.detect, im))
        top = np.argsort(-det.scores, kind="stable")[: options.max_per_image]
        keep = to_model[im.classes] >= 0
        annotated = np.zeros(len(names), bool)
        annotated[to_model[to_model >= 0]] = im.annotated[to_model >= 0]
        results.append(
            ImageResult(
                det.boxes[top],
                det.scores[top],
                det.class_ids[top],
                im.boxes[keep],
                to_model[im.classes[keep]],
                annotated,
                dict(det.report),
            )
        )
        if log:
            log(f"{im.name}: {len(det)} detections, {int(keep.sum())} labelled objects")
        if progress is not None and progress(n + 1, len(labels.images)) is False:
            raise engine.Cancelled()
    return results


def evaluate_labelled(
    runner, labels: LabelSet, options: EvalOptions | None = None, progress=None, log=None
) -> tuple[Metrics, list[ImageResult]]:
    """Metrics of `runner` on `labels` (with the size and confusion breakdowns unless
    `options.breakdown` is off) and the per-image results."""
    options = options or EvalOptions()
    results = predict_labelled(runner, labels, options, progress, log)
    names = list(runner.spec.class_names)
    metrics = evaluate(results, names)
    if options.breakdown:
        metrics.sizes = size_breakdown(results, names)
        metrics.confusion = confusion_matrix(results, names, options.confusion_conf)
    return metrics, results


def side_files_dir(report: str | Path) -> Path:
    """The folder for the side files of a report file: `<stem>_files` beside it."""
    report = Path(report)
    return report.with_name(f"{report.stem}_files")


def evaluate_model_file(
    model: str | Path,
    labels: LabelSet,
    out_dir: str | Path | None = None,
    options: EvalOptions | None = None,
    progress=None,
    log=None,
    cache_dir: str | Path | None = None,
) -> Metrics:
    """Evaluate a model file (.pt or .onnx); `cache_dir`: where an ONNX export of a .pt is
    kept (the runner's default when None; QGIS passes its profile folder). With `out_dir` (a folder of its own, made if
    needed), write there the metrics CSV/JSON, the size and confusion tables, the
    precision-recall plot, sample images and an HTML report; `metrics.files` says what was
    written where (plots are left out without matplotlib)."""
    from ..model import runner as runners

    options = options or EvalOptions()
    out = Path(out_dir) if out_dir is not None else None
    if out is not None and out.exists() and not out.is_dir():
        raise ValueError(f"the evaluation folder {out} is a file; give a folder for the report and its files")
    spec = read_spec(model)
    check_images(labels, spec, options.detect)  # before the model is even opened (notes come later)
    runner = runners.open_runner(
        model, backend=options.detect.backend, device=options.detect.device, cache_dir=cache_dir
    )
    metrics, results = evaluate_labelled(runner, labels, options, progress, log)
    if out is not None:
        metrics.files = write_outputs(
            metrics, results, labels, list(runner.spec.class_names), out, f"Evaluation of {Path(model).name}"
        )
    return metrics


def write_outputs(
    metrics: Metrics, results, labels: LabelSet, class_names: list[str], out: Path, title: str
) -> dict[str, str]:
    """Write the evaluation files into `out`; returns {output name: path} of those written."""
    from . import plots

    out.mkdir(parents=True, exist_ok=True)
    for name in EVALUATION_FILES.values():  # a plot of an earlier run must not pass for this one's
        (out / name).unlink(missing_ok=True)
    metrics.save(out)
    plots.pr_curves(metrics, out / EVALUATION_FILES["pr_curve"])
    plots.sample_images(labels, results, class_names, out / EVALUATION_FILES["samples"])
    images = [EVALUATION_FILES[k] for k in ("pr_curve", "samples") if (out / EVALUATION_FILES[k]).is_file()]
    write_html(metrics, out / EVALUATION_FILES["report"], title=title, images=images)
    return {k: str(out / name) for k, name in EVALUATION_FILES.items() if (out / name).is_file()}


def write_html(metrics: Metrics, path: str | Path, title: str, images: list[str] = ()) -> Path:
    """An HTML page with the metrics table, the size and confusion tables, and the figures."""
    import html

    rows = metrics.rows()
    head = "".join(f"<th>{html.escape(k)}</th>" for k in rows[0])
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{v:.3f}</td>" if isinstance(v, float) else f"<td>{html.escape(str(v))}</td>" for v in r.values()
        )
        + "</tr>"
        for r in rows
    )
    extra = "".join(f"<pre>{html.escape(x.table())}</pre>" for x in (metrics.sizes, metrics.confusion) if x is not None)
    figures = "".join(f'<p><img src="{html.escape(i)}" style="max-width:100%"></p>' for i in images)
    path = Path(path)
    path.write_text(
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif}td,th{padding:2px 10px;text-align:right}"
        "table{border-collapse:collapse}tr:nth-child(even){background:#eee}</style></head>"
        f"<body><h1>{html.escape(title)}</h1><p>Precision and recall at IoU 0.5 and confidence "
        f"{metrics.conf:.3f} (best mean F1); mAP as COCO (101-point).</p>"
        f"<table><tr>{head}</tr>{body}</table>{extra}{figures}</body></html>"
    )
    return path
