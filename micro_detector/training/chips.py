"""Chipping: labelled rasters cut into fixed-size training chips, cached on disk.

Chips are planned by the engine's `plan.plan_tiles` (the one scale rule, band rule and grid)
and read by its read stage (`stream.read_tile` over a GDAL window source, same 16-bit
stretch), so a chip is the detection tile of its window: the model trains on exactly what
it will be fed. A chip
store is one uint8 array file (memory-mapped, shared by loader workers) plus an index of
boxes per chip; its name is a hash of the rasters, the labels and the chip settings, so a
second run (or the next epoch) never re-reads the rasters.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .. import engine, plan, stream
from .. import raster as raster_io
from .. import source as sources
from ..diskio import atomic_file, reserve
from ..model import spec as model_spec
from ..remote import is_remote
from .config import ChipConfig  # noqa: F401  (re-exported: its home before config.py)
from .labels import LabeledImage

CACHE_VERSION = 2  # 2: chips planned by the engine's TilePlan (GSD tolerance, grey bands)


@dataclass
class ChipStore:
    images: np.ndarray  # (N, bands, size, size) uint8, memory-mapped
    boxes: list[np.ndarray]  # per chip (k, 4) float32, chip pixels
    classes: list[np.ndarray]  # per chip (k,) int64
    annotated: np.ndarray  # (N, nc) bool
    origin: list[dict]  # per chip: image name, window in source pixels, scale

    def __len__(self) -> int:
        return len(self.images)


def _cache_key(images: list[LabeledImage], config: ChipConfig, nc: int) -> str:
    h = hashlib.sha1()
    h.update(json.dumps({"v": CACHE_VERSION, "config": asdict(config), "nc": nc}, sort_keys=True).encode())
    for im in images:
        if is_remote(im.path):  # size and date as the server gives them (GDAL's VSI stat)
            from osgeo import gdal

            st = gdal.VSIStatL(im.path)
            h.update(f"{im.path}|{st.size if st else ''}|{st.mtime if st else ''}".encode())
        else:
            st = os.stat(im.path)
            h.update(f"{os.path.abspath(im.path)}|{st.st_size}|{st.st_mtime_ns}".encode())
        h.update(np.ascontiguousarray(im.boxes, np.float32).tobytes())
        h.update(np.ascontiguousarray(im.classes, np.int64).tobytes())
        h.update(np.ascontiguousarray(im.annotated, bool).tobytes())
    return h.hexdigest()[:16]


def chip_plan(image: LabeledImage, config: ChipConfig):
    """The image's tile plan for chips: the detection engine's own plan (one scale rule, one
    band rule, one grid), for a model of `config.size` px trained at `config.gsd`."""
    spec = model_spec.ModelSpec(scale="n", bands=config.bands, imgsz=config.size, gsd=config.gsd)
    options = engine.DetectOptions(
        tile=config.size, overlap=config.overlap, resample=config.gsd is not None, gsd=image.gsd, pixel_coordinates=True
    )
    return plan.plan_tiles(raster_io.read_info(image.path), spec, options)


def chip_boxes(
    boxes: np.ndarray,
    classes: np.ndarray,
    window: tuple[float, float, float, float],
    scale: float,
    min_visibility: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (source pixels) that keep >= min_visibility of their area inside `window`, clipped
    and in window pixels divided by `scale`."""
    if not len(boxes):
        return np.zeros((0, 4), np.float32), np.zeros(0, np.int64)
    x0, y0, x1, y1 = window
    clipped = np.stack(
        [
            np.clip(boxes[:, 0], x0, x1),
            np.clip(boxes[:, 1], y0, y1),
            np.clip(boxes[:, 2], x0, x1),
            np.clip(boxes[:, 3], y0, y1),
        ],
        1,
    )
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    kept_area = (clipped[:, 2] - clipped[:, 0]) * (clipped[:, 3] - clipped[:, 1])
    keep = (kept_area > 0) & (kept_area >= min_visibility * area)
    out = (clipped[keep] - np.array([x0, y0, x0, y0])) / scale
    return out.astype(np.float32), classes[keep].astype(np.int64)


def read_chip(source, window, scale: float, size: int) -> np.ndarray:
    """A chip: the detection tile of `window` (same read, same pixels), nodata shown as the
    padding grey (114), padded (or, past a rounding pixel, cropped) to size x size."""
    data, valid = stream.read_tile(source, window, scale)
    data = data[:, :size, :size]
    valid = valid[:size, :size]
    data[:, ~valid] = 114
    chip = np.full((data.shape[0], size, size), 114, np.uint8)
    chip[:, : data.shape[1], : data.shape[2]] = data
    return chip


def build_chips(
    images: list[LabeledImage], nc: int, config: ChipConfig, cache_dir: str | Path, log=None, progress=None
) -> ChipStore:
    """Cut (or load from the cache) the chips of `images`."""
    log = log or (lambda message: None)
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    key = _cache_key(images, config, nc)
    array_path, index_path = cache_dir / f"chips-{key}.npy", cache_dir / f"chips-{key}.json"
    if array_path.is_file() and index_path.is_file():
        log(f"chips: cached {array_path.name}")
        return _load(array_path, index_path)

    size = config.size
    chosen = []  # (image index, window, scale, boxes, classes)
    rng = np.random.default_rng(config.seed)
    for i, im in enumerate(images):
        tiles = chip_plan(im, config)
        positives, negatives = [], []
        for w in tiles.windows:
            b, c = chip_boxes(im.boxes, im.classes, w.bounds, tiles.scale, config.min_visibility)
            (positives if len(b) else negatives).append((i, w, tiles.scale, b, c))
        n_neg = min(len(negatives), int(np.ceil(config.negative_ratio * max(len(positives), 1))))
        picked = rng.choice(len(negatives), n_neg, replace=False) if n_neg else []
        chosen.extend(positives + [negatives[k] for k in sorted(picked)])
    if not chosen:
        raise ValueError("no chip could be cut from the labelled images")

    _write_chips(images, chosen, config, array_path, index_path, progress)
    log(f"chips: cut {len(chosen)} chips of {size} px from {len(images)} images -> {array_path.name}")
    return _load(array_path, index_path)


def _write_chips(images, chosen, config: ChipConfig, array_path: Path, index_path: Path, progress) -> None:
    """The chip array and its index, each built under a temporary name and renamed in when
    both are whole. The array's space is reserved before any chip is written through the
    memory map (a full disk there would kill the process): a full disk is a DiskFullError
    naming the cache file, and leaves no part file behind."""
    size = config.size
    with (
        atomic_file(index_path, ".part", "caching the training chips") as tmp_index,
        atomic_file(array_path, ".part.npy", "caching the training chips") as tmp,
    ):  # array first
        arr = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(len(chosen), config.bands, size, size))
        reserve(tmp, os.path.getsize(tmp))
        index = {"boxes": [], "classes": [], "annotated": [], "origin": []}
        source, source_of = None, None
        for n, (i, w, scale, b, c) in enumerate(chosen):
            if source_of != i:  # one open raster at a time, set up as detection sets it up
                source = sources.GdalSource(images[i].path)
                source.select_bands(raster_io.choose_bands(source.info, config.bands))
                source_of = i
            arr[n] = read_chip(source, w, scale, size)
            index["boxes"].append(np.round(b, 3).tolist())
            index["classes"].append(c.tolist())
            index["annotated"].append(images[i].annotated.astype(int).tolist())
            index["origin"].append({"image": images[i].name, "window": list(w.bounds), "scale": scale})
            if progress is not None and n % 50 == 0:
                progress(n, len(chosen))
        arr.flush()
        del arr
        tmp_index.write_text(json.dumps(index))


def _load(array_path: Path, index_path: Path) -> ChipStore:
    index = json.loads(index_path.read_text())
    return ChipStore(
        images=np.load(array_path, mmap_mode="r"),
        boxes=[np.array(b, np.float32).reshape(-1, 4) for b in index["boxes"]],
        classes=[np.array(c, np.int64) for c in index["classes"]],
        annotated=np.array(index["annotated"], bool),
        origin=index["origin"],
    )
