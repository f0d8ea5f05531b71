"""Work units of a distributed run: a whole raster, or blocks of the windows of a huge one.

A block is a run of consecutive windows of the raster's one tile grid (the grid of the
single-process run, in its order). A worker predicts a block's windows and returns their
boxes in raster pixels, before any merge. The client concatenates the blocks' boxes in
block order, which is the order the single-process run produces them, and runs the
raster's own merge and clip on them: objects across block borders are merged exactly as
objects across tile borders, and the output equals the single-process run's. Block borders
are tile borders: the tiles on either side overlap as every tile of the grid does, so no
tile is computed twice and none is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Block:
    """Consecutive windows [start, stop) of a raster's tile grid."""

    index: int
    start: int
    stop: int
    windows: tuple

    def __len__(self) -> int:
        return self.stop - self.start


def split_windows(windows: list, block_tiles: int) -> list[Block]:
    """The grid's windows in blocks of at most `block_tiles`, in grid order (row by row,
    so a block is a strip of the raster and its reads stay local)."""
    count = -(-len(windows) // block_tiles)
    size = -(-len(windows) // max(count, 1))  # even blocks: no small last one
    return [Block(k, s, min(s + size, len(windows)), tuple(windows[s:s + size]))
            for k, s in enumerate(range(0, len(windows), size))]


def plan_units(units: list, spec, options, block_tiles: int, summary, log: Callable[[str], None]) -> list:
    """Plan each raster in the client: its tile count, and its blocks when it has more than
    `block_tiles` windows. A raster that cannot be planned (unreadable, not georeferenced,
    an extent outside it) gets its error row now and no task. Returns the units to run."""
    from .distributed import error_row

    kept = []
    for unit in units:
        try:
            windows = engine_windows(unit.raster, spec, options)
        except (ValueError, RuntimeError, OSError) as error:
            log(f"{unit.raster.name}: error: {error}")
            summary.record(error_row(unit.raster, f"{type(error).__name__}: {error}", summary.fields))
            continue
        unit.tiles = len(windows)
        if len(windows) > block_tiles:
            unit.blocks = split_windows(windows, block_tiles)
            log(f"{unit.raster.name}: {len(windows)} tiles in {len(unit.blocks)} blocks")
        kept.append(unit)
    return kept


# --- the engine's stages used here (TEMPORARY stand-ins until engine.py exposes them) ---

def engine_windows(raster, spec, options) -> list:
    """The raster's tile grid for this model and these options, as the engine plans it."""
    from .raster import open_dataset, read_info
    from .tiling import make_grid, overlap_pixels

    info = read_info(raster, open_dataset(raster))
    tile = options.tile or spec.imgsz
    return make_grid(info.width, info.height, tile, overlap_pixels(tile, options.overlap))


def detect_block(raster: str, runner, options, block: Block, progress) -> object:
    """On a worker: the boxes of `block`'s windows in raster pixels, before any merge."""
    raise NotImplementedError


def combine_blocks(unit, options):
    """In the client: a raster's blocks' boxes, in block order, merged and clipped as the
    single-process run does it; returns its Detections."""
    raise NotImplementedError


def write_output(target, detections, weights, options) -> None:
    """Write a raster's detections to its target, atomically, as the engine writes them."""
    import datetime as _dt
    from dataclasses import asdict

    from . import __version__
    from .writer import write_detections

    meta = {"model": str(weights), "model_classes": ",".join(detections.class_names), "run_date":
            _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "micro_detector_version": __version__,
            **{f"option_{k}": v for k, v in asdict(options).items() if v is not None},
            "tiles": detections.report["tiles"], "scale": detections.report["scale"]}
    write_detections(target, detections.rings, detections.records(detections.report["raster"]),
                     detections.crs_wkt, meta)
