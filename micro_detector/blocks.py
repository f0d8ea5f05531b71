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


@dataclass(frozen=True)
class Block:
    """Windows [start, stop) of a raster's tile grid (`plan.windows`, in the plan's order), or
    of its zoom pass's grid (`zoom_pass`; see engine.predict_passes)."""

    index: int
    start: int
    stop: int
    zoom_pass: bool = False

    def __len__(self) -> int:
        return self.stop - self.start


def split_windows(count: int, block_tiles: int) -> list[Block]:
    """`count` windows in even blocks of at most `block_tiles`, in grid order (row by row, so
    a block is a strip of the raster and its reads stay local)."""
    blocks = max(1, -(-count // block_tiles))
    size = -(-count // blocks)
    return [Block(k, s, min(s + size, count)) for k, s in enumerate(range(0, count, size))]


def plan_units(units: list, spec, options, block_tiles: int, summary, log: Callable[[str], None]) -> list:
    """Plan each raster in the client, as the single-process run plans it (no pixel read):
    its tiles, and its blocks when it has more than `block_tiles`. A raster that cannot be
    planned (unreadable, not georeferenced, an extent outside it) gets its error row now and
    no task. Returns the units to run."""
    from .distributed import error_row
    from .engine import plan_raster
    from .plan import check_georeferenced, zoom_plan

    kept = []
    for unit in units:
        try:
            unit.plan = plan_raster(unit.raster, spec, options)
            check_georeferenced(unit.plan.info, options)
            unit.zoom_plan = zoom_plan(unit.plan.info, spec, options, unit.plan)
        except (ValueError, RuntimeError, OSError) as error:
            log(f"{unit.raster.name}: error: {error}")
            summary.record(error_row(unit.raster, error, summary.fields))
            continue
        plain = len(unit.plan.windows)
        zoomed = len(unit.zoom_plan.windows) if unit.zoom_plan else 0
        unit.tiles = plain + zoomed
        if unit.tiles > block_tiles:
            # the plain pass's blocks, then the zoom pass's: the window order of engine.detect
            unit.blocks = split_windows(plain, block_tiles)
            unit.blocks += [Block(len(unit.blocks) + b.index, b.start, b.stop, zoom_pass=True)
                            for b in (split_windows(zoomed, block_tiles) if zoomed else [])]
            log(f"{unit.raster.name}: {unit.tiles} tiles in {len(unit.blocks)} blocks")
        kept.append(unit)
    return kept


def detect_block(raster: str, runner, options, plans, block: Block, progress) -> tuple:
    """On a worker: the boxes of `block`'s windows in raster pixels, before any merge, and the
    source's facts for the report (the stretch, computed from the whole raster). `plans`:
    the raster's plan and its zoom pass's plan (None without a zoom pass)."""
    from .engine import predict_block
    from .source import open_source

    plan = plans[1] if block.zoom_pass else plans[0]
    with open_source(raster) as source:
        raw = predict_block(source, runner, plan, options, plan.windows[block.start:block.stop], progress)
        return raw, source.describe()


def combine_blocks(unit, class_names: list[str], options):
    """In the client: a raster's blocks' boxes, concatenated in block order (the window order
    of a single-process run), merged and clipped by the engine's own `finish`."""
    from .engine import finish
    from .predict import RawBoxes

    parts = [unit.parts[k] for k in sorted(unit.parts)]
    raw = RawBoxes.concat(p.raw for p in parts)
    return finish(raw, unit.plan, class_names, options, parts[0].facts, sum(p.seconds for p in parts))


def write_output(unit, detections, options, weights) -> None:
    """The engine's write stage, in the process that owns the output folder (atomic)."""
    from .result import write_result

    write_result(unit.target, detections, unit.plan, options, str(weights))
