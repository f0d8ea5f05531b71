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

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..engine import finish, plan_raster, predict_block
from ..plan import TilePlan, check_georeferenced, zoom_plan
from ..predict import RawBoxes
from ..remote import redact
from ..result import write_result
from ..source import open_source

if TYPE_CHECKING:
    from distributed import Future

    from ..options import DetectOptions
    from ..outputs import OutputTarget
    from ..result import Detections
    from ..summary import SummaryTable


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


@dataclass
class TaskResult:
    """One work unit's answer from a worker: a whole raster's Detections, or a block's raw boxes."""

    raster: str
    block: int | None
    status: str  # ok | error
    detections: Detections | None = None  # the whole raster, merged
    raw: RawBoxes | None = None  # one block, before the merge
    facts: dict | None = None  # the source's facts for the report (a block's)
    error: str = ""
    seconds: float = 0.0
    worker: str = ""


@dataclass
class RasterUnit:
    """One raster of a run, in the client: its output target, plans, blocks (None: one task),
    the tasks submitted for it and the blocks' answers so far."""

    raster: Path
    target: OutputTarget
    plan: TilePlan | None = None
    zoom_plan: TilePlan | None = None  # the zoom pass's plan (DetectOptions.zoom), else None
    tiles: int = 0
    blocks: list[Block] | None = None
    parts: dict[int, TaskResult] = field(default_factory=dict)  # block index -> its answer
    futures: list[Future] = field(default_factory=list)
    failed: str = ""


def split_windows(count: int, block_tiles: int) -> list[Block]:
    """`count` windows in even blocks of at most `block_tiles`, in grid order (row by row, so
    a block is a strip of the raster and its reads stay local)."""
    blocks = max(1, -(-count // block_tiles))
    size = -(-count // blocks)
    return [Block(k, s, min(s + size, count)) for k, s in enumerate(range(0, count, size))]


def plan_units(
    units: list[RasterUnit],
    spec,
    options: DetectOptions,
    block_tiles: int,
    summary: SummaryTable,
    log: Callable[[str], None],
) -> list[RasterUnit]:
    """Plan each raster in the client, as the single-process run plans it (no pixel read):
    its tiles, and its blocks when it has more than `block_tiles`. A raster that cannot be
    planned (unreadable, not georeferenced, an extent outside it) gets its error row now and
    no task. Returns the units to run."""
    kept = []
    for unit in units:
        try:
            unit.plan = plan_raster(unit.raster, spec, options)
            check_georeferenced(unit.plan.info, options)
            unit.zoom_plan = zoom_plan(unit.plan.info, spec, options, unit.plan)
        except (ValueError, RuntimeError, OSError) as error:
            log(f"{unit.raster.name}: error: {redact(error)}")
            summary.record_error(unit.raster, error)
            continue
        plain = len(unit.plan.windows)
        zoomed = len(unit.zoom_plan.windows) if unit.zoom_plan else 0
        unit.tiles = plain + zoomed
        if unit.tiles > block_tiles:
            # the plain pass's blocks, then the zoom pass's: the window order of engine.detect
            unit.blocks = split_windows(plain, block_tiles)
            unit.blocks += [
                Block(len(unit.blocks) + b.index, b.start, b.stop, zoom_pass=True)
                for b in (split_windows(zoomed, block_tiles) if zoomed else [])
            ]
            log(f"{unit.raster.name}: {unit.tiles} tiles in {len(unit.blocks)} blocks")
        kept.append(unit)
    return kept


def detect_block(
    raster: str, runner, options: DetectOptions, plans: tuple[TilePlan, TilePlan | None], block: Block, progress
) -> tuple[RawBoxes, dict]:
    """On a worker: the boxes of `block`'s windows in raster pixels, before any merge, and the
    source's facts for the report (the stretch, computed from the whole raster). `plans`:
    the raster's plan and its zoom pass's plan (None without a zoom pass)."""
    plan = plans[1] if block.zoom_pass else plans[0]
    assert plan is not None, "a zoom-pass block needs the zoom pass's plan"
    with open_source(raster) as source:
        raw = predict_block(source, runner, plan, options, plan.windows[block.start : block.stop], progress)
        return raw, source.describe()


def combine_blocks(unit: RasterUnit, class_names: list[str], options: DetectOptions) -> Detections:
    """In the client: a raster's blocks' boxes, concatenated in block order (the window order
    of a single-process run), merged and clipped by the engine's own `finish`."""
    assert unit.plan is not None
    parts = [unit.parts[k] for k in sorted(unit.parts)]
    raw = RawBoxes.concat(p.raw for p in parts if p.raw is not None)
    facts = dict(parts[0].facts or {})
    if "network" in facts:  # a remote raster: the bytes and requests of every block's worker
        facts["network"] = {k: sum((p.facts or {})["network"][k] for p in parts) for k in facts["network"]}
    return finish(raw, unit.plan, class_names, options, facts, sum(p.seconds for p in parts))


def write_output(unit: RasterUnit, detections: Detections, options: DetectOptions, weights: str | Path) -> None:
    """The engine's write stage, in the process that owns the output folder (atomic)."""
    assert unit.plan is not None
    write_result(unit.target, detections, unit.plan, options, str(weights))
