"""The predict stage: tiles in batches through a runner, boxes back in raster pixels.

`predict_windows` runs any subset of a plan's windows and returns `RawBoxes`: every box in
raster pixels with the window it came from, before any cross-tile merge. A single-process
run predicts all windows; a distributed run predicts blocks of windows on workers,
concatenates their RawBoxes in window order (`RawBoxes.concat`) and merges once.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .boxes import box_area
from .options import DetectOptions
from .plan import TilePlan
from .source import WindowSource
from .stream import tile_stream
from .tiling import Window

__all__ = ["Cancelled", "RawBoxes", "predict_windows", "to_raster_pixels", "with_tta"]


class Cancelled(Exception):
    """The run was cancelled through the progress callback; nothing was written."""


@dataclass
class RawBoxes:
    """Boxes of some windows in raster pixels, before merge, with their windows' facts."""

    boxes: np.ndarray  # (n, 4) float64 xyxy raster pixels
    scores: np.ndarray  # (n,) float32
    classes: np.ndarray  # (n,) int64
    windows: np.ndarray  # (n, 6) int64: tile row, tile col, x0, y0, x1, y1 of the source window
    tiles: int = 0  # windows visited
    skipped: int = 0  # windows with no valid pixel (nodata): not run
    forward_s: float = 0.0  # seconds spent in the runner

    def __len__(self) -> int:
        return len(self.boxes)

    def subset(self, keep) -> RawBoxes:
        """The boxes picked by `keep` (a mask or indices), with the same counters."""
        return RawBoxes(
            self.boxes[keep],
            self.scores[keep],
            self.classes[keep],
            self.windows[keep],
            self.tiles,
            self.skipped,
            self.forward_s,
        )

    @classmethod
    def concat(cls, parts: Iterable[RawBoxes]) -> RawBoxes:
        """Parts joined in the given order (give them in window order for the same merge)."""
        parts = list(parts)
        out = cls(np.zeros((0, 4)), np.zeros(0, np.float32), np.zeros(0, np.int64), np.zeros((0, 6), np.int64))
        if not parts:
            return out
        out.boxes = np.concatenate([out.boxes] + [p.boxes for p in parts])
        out.scores = np.concatenate([out.scores] + [p.scores for p in parts]).astype(np.float32)
        out.classes = np.concatenate([out.classes] + [p.classes for p in parts]).astype(np.int64)
        out.windows = np.concatenate([out.windows] + [p.windows for p in parts]).astype(np.int64)
        out.tiles = sum(p.tiles for p in parts)
        out.skipped = sum(p.skipped for p in parts)
        out.forward_s = sum(p.forward_s for p in parts)
        return out


def with_tta(runner, options: DetectOptions):
    """The runner, wrapped for test-time augmentation when `options.tta` asks for it."""
    if not options.tta:
        return runner
    from .tta import TTARunner

    return runner if isinstance(runner, TTARunner) else TTARunner(runner)


def to_raster_pixels(dets: np.ndarray, window: Window, image_shape: tuple[int, int]) -> np.ndarray:
    """(k, 6) detections in the (unpadded) tile image's pixels -> (k', 4) float64 boxes in
    raster pixels; boxes starting in the padding are dropped (the caller keeps `keep`)."""
    h_img, w_img = image_shape
    b = dets[:, :4].astype(np.float64)
    b[:, [0, 2]] = np.clip(b[:, [0, 2]], 0, w_img) * (window.w / w_img) + window.x0
    b[:, [1, 3]] = np.clip(b[:, [1, 3]], 0, h_img) * (window.h / h_img) + window.y0
    return b


def _padded_shape(image: np.ndarray) -> tuple[int, int]:
    """Height and width rounded up to a multiple of 32 (tiles at a small raster's edge)."""
    h, w = (max(-(-s // 32) * 32, 32) for s in image.shape[1:])
    return h, w


def _pad(image: np.ndarray) -> np.ndarray:
    th, tw = _padded_shape(image)
    if (th, tw) == image.shape[1:]:
        return image
    out = np.zeros((image.shape[0], th, tw), image.dtype)
    out[:, : image.shape[1], : image.shape[2]] = image
    return out


def _same_shape_groups(batch):
    groups: dict[tuple[int, int], list] = {}
    for w, img in batch:
        groups.setdefault(_padded_shape(img), []).append((w, img))
    return list(groups.values())


class _Collector:
    """Accumulates one batch's detections as RawBoxes parts."""

    def __init__(self):
        self.boxes, self.scores, self.classes, self.windows = [], [], [], []

    def add(self, window: Window, image: np.ndarray, dets: np.ndarray) -> None:
        """One tile's detections (tile pixels) added in raster pixels."""
        h_img, w_img = image.shape[1:]
        dets = dets[(dets[:, 0] < w_img) & (dets[:, 1] < h_img)]  # ignore the padding
        self.boxes.append(to_raster_pixels(dets, window, (h_img, w_img)))
        self.scores.append(dets[:, 4])
        self.classes.append(dets[:, 5].astype(np.int64))
        self.windows.append(np.repeat([[window.row, window.col, *window.bounds]], len(dets), 0))

    def result(self, tiles: int, skipped: int, forward_s: float) -> RawBoxes:
        """Everything added so far as one RawBoxes."""
        raw = RawBoxes.concat([])
        if self.boxes:
            raw = RawBoxes(
                np.concatenate(self.boxes),
                np.concatenate(self.scores).astype(np.float32),
                np.concatenate(self.classes),
                np.concatenate(self.windows).astype(np.int64),
            )
        raw.tiles, raw.skipped, raw.forward_s = tiles, skipped, forward_s
        return raw


def _run_batch(runner, batch, options: DetectOptions, classes, out: _Collector) -> None:
    for group in _same_shape_groups(batch):
        arr = np.stack([_pad(img) for _, img in group])
        dets = runner.predict(arr, conf=options.conf, iou=options.model_iou, max_det=options.max_det, classes=classes)
        for (w, img), d in zip(group, dets):
            out.add(w, img, d)


def batch_size(options: DetectOptions, runner) -> int:
    """Tiles per forward pass: `options.batch`, else by the runner's device: 1 on a CPU,
    where batching gains no speed and multiplies activation memory (YOLOv12s at 640 px:
    peak RSS 0.35 GB with 1, 1.0 GB with 8, and batch 1 was the fastest), 8 on a GPU (CUDA or
    an Intel GPU through OpenVINO)."""
    if options.batch:
        return options.batch
    return 8 if str(getattr(runner, "device", "cpu")).startswith(("cuda", "intel:gpu")) else 1


def predict_windows(
    source: WindowSource,
    runner,
    plan: TilePlan,
    options: DetectOptions,
    windows: Sequence[Window] | None = None,
    progress: Callable[[int, int], bool | None] | None = None,
) -> RawBoxes:
    """Read and predict `windows` (default: all of the plan's) in batches of `options.batch`.

    `source` must have had `select_bands(plan.bands)`. `progress(done, total)` is called after
    each batch; returning False raises Cancelled. Returns RawBoxes in raster pixels."""
    windows = plan.windows if windows is None else windows
    total = len(windows)
    size = batch_size(options, runner)
    depth = options.queue_tiles or 2 * size
    out, done, skipped, forward_s = _Collector(), 0, 0, 0.0
    stream = tile_stream(source, plan, windows, depth)
    try:
        finished = False
        while not finished:
            batch: list = []
            while len(batch) < size:
                item = next(stream, None)
                if item is None:
                    finished = True
                    break
                if item[1] is None:  # nodata tile: counted, not run
                    skipped += 1
                    done += 1
                    continue
                batch.append(item)
            if batch:
                t0 = time.perf_counter()
                _run_batch(runner, batch, options, plan.classes, out)
                forward_s += time.perf_counter() - t0
                done += len(batch)
            if progress is not None and progress(done, total) is False:
                raise Cancelled(f"cancelled after {done} of {total} tiles; nothing was written")
    finally:
        stream.close()
    raw = out.result(total, skipped, forward_s)
    if plan.max_side is not None:  # a zoom pass: its small objects only
        raw = raw.subset(np.sqrt(box_area(raw.boxes)) <= plan.max_side)
    return raw
