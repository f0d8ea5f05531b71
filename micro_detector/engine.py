"""Sliding-tile detection over a georeferenced raster: the Python API behind the CLI and QGIS.

`detect` reads as its stages, each in the module named for it:

    plan     plan.py     options + raster facts + model spec -> TilePlan (scale, tiles, region)
    read     stream.py   windows read by a background thread through a bounded queue
    predict  predict.py  batches through the runner (TTA optional), boxes to raster pixels
    merge    merge.py    one box per object across overlapping tiles
    clip     clip.py     objects whose centre is in the search region
    write    result.py   map polygons, report, and the vector file (writer.py)

Pixels come from a `source.WindowSource` (GDAL here; QGIS layers from processing/). A
distributed run uses the same stages on parts: `plan_raster` on the client, `predict_block`
on workers for subsets of `plan.windows`, then `finish` on the concatenated RawBoxes.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .clip import clip_to_region
from .merge import merge_raw
from .options import DetectOptions, OptionsError, option_default
from .plan import PlanError, TilePlan, plan_tiles, zoom_plan
from .predict import Cancelled, RawBoxes, predict_windows, with_tta
from .remote import display_name
from .result import Detections, make_detections, model_label, run_report, write_result
from .source import WindowSource, open_source

if TYPE_CHECKING:
    from .model.protocol import Runner

__all__ = [
    "detect",
    "DetectOptions",
    "Detections",
    "Cancelled",
    "OptionsError",
    "PlanError",
    "TilePlan",
    "RawBoxes",
    "option_default",
    "open_model",
    "plan_raster",
    "predict_block",
    "finish",
]


def _quiet(message: str) -> None:
    pass


def open_model(model: Runner | str | Path | None, options: DetectOptions | None = None) -> Runner:
    """A runner from `model`: a runner (model/protocol.py) as it is, or a .pt/.onnx file
    opened for `options.backend` and `options.device` (the runner's `model_file`)."""
    options = options or DetectOptions()
    if model is None:
        raise ValueError("give a runner or a model file")
    if isinstance(model, (str, Path)):
        from .model.runner import open_runner

        return open_runner(Path(model), backend=options.backend, device=options.device, precision=options.precision)
    return model


def plan_raster(raster, spec, options: DetectOptions | None = None) -> TilePlan:
    """The tile plan of `raster` (a path or a WindowSource) for a model `spec`: no pixel read."""
    source = open_source(raster)
    try:
        return plan_tiles(source.info, spec, options or DetectOptions())
    finally:
        if source is not raster:
            source.close()


def predict_block(
    raster,
    runner,
    plan: TilePlan,
    options: DetectOptions,
    windows=None,
    progress: Callable[[int, int], bool | None] | None = None,
) -> RawBoxes:
    """Boxes of `windows` (a subset of `plan.windows`, default all) in raster pixels, before
    merge: the read and predict stages alone, for a worker of a distributed run."""
    source = open_source(raster)
    try:
        source.select_bands(plan.bands)
        return predict_windows(source, with_tta(runner, options), plan, options, windows, progress)
    finally:
        if source is not raster:
            source.close()


def predict_passes(
    source,
    runner,
    plans: list[TilePlan],
    options: DetectOptions,
    progress: Callable[[int, int], bool | None] | None = None,
) -> RawBoxes:
    """The boxes of every window of each plan (the plain pass, then the zoom pass), in raster
    pixels and in that order; `progress` counts the tiles of all passes."""
    total, parts, offset = sum(len(p.windows) for p in plans), [], 0
    for plan in plans:
        step = None if progress is None else (lambda done, _n, offset=offset: progress(offset + done, total))
        parts.append(predict_windows(source, runner, plan, options, progress=step))
        offset += len(plan.windows)
    return parts[0] if len(parts) == 1 else RawBoxes.concat(parts)


def finish(
    raw: RawBoxes,
    plan: TilePlan,
    class_names: list[str],
    options: DetectOptions,
    source_facts: dict | None = None,
    seconds: float = 0.0,
) -> Detections:
    """The merge and clip stages and the report: RawBoxes of all of a raster's windows (in
    window order) -> its Detections, exactly as a single-process run gives them."""
    merged = clip_to_region(merge_raw(raw, plan, options), plan)
    detections = make_detections(merged, plan, class_names)
    detections.report = run_report(plan, raw, detections, source_facts or {}, seconds)
    detections.report["boxes_before_merge"] = len(raw)
    return detections


def detect(
    raster: str | Path | WindowSource,
    output=None,
    model: Runner | str | Path | None = None,
    *,
    options: DetectOptions | None = None,
    progress: Callable[[int, int], bool | None] | None = None,
    log: Callable[[str], None] | None = None,
) -> Detections:
    """Detect objects on `raster` (a path GDAL opens, or a WindowSource); write them to
    `output` (a path or outputs.OutputTarget) when given; return the Detections.

    `model` is a runner (model/protocol.py: `.spec`, `.model_file` and `.predict(batch,
    conf, iou, max_det, classes)`) or a model file.
    Every check (options, output, raster, model, classes, GSD, extent) is made before the
    first tile is read. `progress(done_tiles, total_tiles)` is called after each batch;
    returning False raises Cancelled and nothing is written.
    """
    options = options or DetectOptions()
    log = log or _quiet
    start = time.perf_counter()
    if output is not None:
        from .writer import check_writable

        check_writable(output)
    source = open_source(raster)
    try:
        runner = with_tta(open_model(model, options), options)
        plan = plan_tiles(source.info, runner.spec, options)  # not georeferenced: says what else it needs
        zoomed = zoom_plan(source.info, runner.spec, options, plan)
        for line in plan.notes + source.select_bands(plan.bands):
            log(line)
        raw = predict_passes(source, runner, [plan] + ([zoomed] if zoomed else []), options, progress)
        result = finish(raw, plan, runner.spec.class_names, options, source.describe(), time.perf_counter() - start)
    finally:
        if source is not raster:
            source.close()
    for line in result.report["warnings"]:
        log(f"warning: {display_name(plan.info.path)}: {line}")
    if "network" in result.report:
        net = result.report["network"]
        log(f"read {net['bytes_fetched'] / 1e6:.2f} MB in {net['requests']} requests")
    if output is not None:
        write_result(output, result, plan, options, model_label(runner))
        log(f"wrote {len(result)} objects to {output}")
    return result
