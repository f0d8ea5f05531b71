"""Evaluation of a model on labelled rasters, through the same tiled engine users run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._core import engine
from .labels import LabelSet
from .metrics import ImageResult, Metrics, evaluate


@dataclass
class EvalOptions:
    conf: float = 0.001  # low: AP integrates over all confidences
    tile: int | None = None
    overlap: float = 0.2
    batch: int = 8
    device: str = "auto"
    max_det: int = 300  # per tile, before the cross-tile merge
    max_per_image: int = 2000  # highest scores kept per raster (COCO keeps 100; micro scenes hold more)


def _class_index(model_names: list[str], label_names: list[str]) -> np.ndarray:
    """Label class index -> model class index (-1 where the model lacks the class)."""
    return np.array([model_names.index(n) if n in model_names else -1 for n in label_names], np.int64)


def predict_labelled(runner, labels: LabelSet, options: EvalOptions | None = None,
                     progress=None, log=None) -> list[ImageResult]:
    """Run tiled detection on every labelled raster; pair the detections with the truth, both
    in the model's class indices and source pixels. `progress(done, total)` returning False
    cancels (engine.Cancelled)."""
    options = options or EvalOptions()
    names = list(runner.spec.class_names)
    to_model = _class_index(names, labels.class_names)
    if (to_model < 0).all():
        raise ValueError(f"the model's classes {names} share none with the labels' {labels.class_names}")
    detect_options = engine.DetectOptions(tile=options.tile, overlap=options.overlap, conf=options.conf,
                                          batch=options.batch, device=options.device, pixel_coordinates=True,
                                          max_det=options.max_det)
    results = []
    for n, im in enumerate(labels.images):
        det = engine.detect(im.path, None, runner=runner, options=detect_options)
        top = np.argsort(-det.scores, kind="stable")[:options.max_per_image]
        keep = to_model[im.classes] >= 0
        annotated = np.zeros(len(names), bool)
        annotated[to_model[to_model >= 0]] = im.annotated[to_model >= 0]
        results.append(ImageResult(det.boxes[top], det.scores[top], det.class_ids[top], im.boxes[keep],
                                   to_model[im.classes[keep]], annotated))
        if log:
            log(f"{im.name}: {len(det)} detections, {int(keep.sum())} labelled objects")
        if progress is not None and progress(n + 1, len(labels.images)) is False:
            raise engine.Cancelled()
    return results


def evaluate_labelled(runner, labels: LabelSet, options: EvalOptions | None = None,
                      progress=None, log=None) -> tuple[Metrics, list[ImageResult]]:
    results = predict_labelled(runner, labels, options, progress, log)
    return evaluate(results, list(runner.spec.class_names)), results


def evaluate_model_file(model: str | Path, labels: LabelSet, out_dir: str | Path | None = None,
                        options: EvalOptions | None = None, progress=None, log=None) -> Metrics:
    """Evaluate a model file (.pt or .onnx); with `out_dir`, write metrics CSV/JSON, the
    precision-recall plot, sample images and an HTML report there."""
    from ._core import runner as runners

    options = options or EvalOptions()
    runner = runners.open_runner(model, device=options.device)
    metrics, results = evaluate_labelled(runner, labels, options, progress, log)
    if out_dir is not None:
        from . import plots

        out_dir = Path(out_dir)
        metrics.save(out_dir)
        plots.pr_curves(metrics, out_dir / "PR_curve.png")
        plots.sample_images(labels, results, list(runner.spec.class_names), out_dir / "val_images.png")
        write_html(metrics, out_dir / "report.html", title=f"Evaluation of {Path(model).name}",
                   images=["PR_curve.png", "val_images.png"])
    return metrics


def write_html(metrics: Metrics, path: str | Path, title: str, images: list[str] = ()) -> Path:
    import html

    rows = metrics.rows()
    head = "".join(f"<th>{html.escape(k)}</th>" for k in rows[0])
    body = "".join("<tr>" + "".join(
        f"<td>{v:.3f}</td>" if isinstance(v, float) else f"<td>{html.escape(str(v))}</td>" for v in r.values())
        + "</tr>" for r in rows)
    figures = "".join(f'<p><img src="{html.escape(i)}" style="max-width:100%"></p>' for i in images)
    path = Path(path)
    path.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
                    "<style>body{font-family:sans-serif}td,th{padding:2px 10px;text-align:right}"
                    "table{border-collapse:collapse}tr:nth-child(even){background:#eee}</style></head>"
                    f"<body><h1>{html.escape(title)}</h1><p>Precision and recall at IoU 0.5 and confidence "
                    f"{metrics.conf:.3f} (best mean F1); mAP as COCO (101-point).</p>"
                    f"<table><tr>{head}</tr>{body}</table>{figures}</body></html>")
    return path

