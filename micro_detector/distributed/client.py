"""detect-folder on Dask distributed: an embedded LocalCluster, or any scheduler address.

Work units are rasters; a raster with more windows than `block_tiles` is split into blocks
of windows (blocks.py) whose boxes this process merges. Workers return boxes, never files:
this process owns the output folder and writes each raster's output atomically as soon as
its boxes arrive, then records its row in summary.csv. So:
- a worker killed mid-task loses nothing: the scheduler runs its task elsewhere, and an
  exception in a task is retried (`retries`);
- this process killed mid-run leaves finished outputs only; a rerun skips them;
- a raster that fails, or runs past `task_timeout`, becomes an error row; the batch goes on.
Dask is imported only by this subpackage, and only when a cluster is asked for. Imports
point one way: client -> worker -> blocks -> engine (cluster.py: the client's connection).
"""

from __future__ import annotations

import sys
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, TextIO

from ..batch import plan_outputs, prepare_output_folder, warn_if_all_nodata
from ..catalog import list_items
from ..model.files import read_spec
from ..options import DetectOptions
from ..outputs import DEFAULT_LAYER, is_done
from ..predict import Cancelled
from ..remote import gdal_config, redact
from ..result import Detections
from ..summary import SummaryTable
from .blocks import Block, RasterUnit, combine_blocks, plan_units, write_output
from .cluster import ClusterOptions, connect, require_dask
from .worker import PROGRESS_TOPIC, ModelRef, detect_task, model_loads

if TYPE_CHECKING:
    from distributed import Client, Future


class FolderProgress:
    """One stderr line over the whole run: rasters and tiles done across workers, tiles/s, ETA.
    Workers report absolute tile counts per task, so a retried task never counts twice."""

    def __init__(
        self,
        rasters: int,
        tiles: int,
        stream: TextIO = sys.stderr,
        enabled: bool = True,
        report: Callable[[int, int], object] | None = None,
    ):
        self.rasters, self.tiles = rasters, tiles
        self.report = report  # (tiles done, tiles) on each change, e.g. QGIS's feedback
        self.done_rasters = 0
        self.done: dict[str, int] = {}
        self.lock = threading.Lock()
        self.start = time.monotonic()
        self.stream, self.enabled = stream, enabled
        self.last_draw = 0.0
        self.last_state: tuple[int, int] | None = None
        self.started: dict[str, float] = {}  # task key -> when its current attempt began

    def on_event(self, event: tuple[float, dict]) -> None:
        """Handler for the workers' progress topic: event = (timestamp, {key, done, total})."""
        msg = event[1]
        with self.lock:
            self.done[msg["key"]] = max(self.done.get(msg["key"], 0), int(msg["done"]))
            if msg.get("start"):  # an attempt began (a retry starts the clock again)
                self.started[msg["key"]] = time.monotonic()

    def interrupt(self) -> None:
        """End the bar's line so that a log message starts on its own."""
        if self.enabled and self.last_state is not None:
            self.stream.write("\n")
            self.last_state = None

    def finish_unit(self, key: str, tiles: int) -> None:
        """Record task `key` (a raster or block) as done with all its `tiles`."""
        with self.lock:
            self.done[key] = tiles

    def tiles_done(self) -> int:
        """Tiles done across every task so far (at most the total)."""
        with self.lock:
            return min(sum(self.done.values()), self.tiles)

    def draw(self, force: bool = False) -> None:
        """Redraw the line and tell `report`: on change at most twice a second, else every 10 s (always when `force`)."""
        now = time.monotonic()
        if not (self.enabled or self.report) or (not force and now - self.last_draw < 0.5):
            return
        tiles = self.tiles_done()
        state = (tiles, self.done_rasters)
        if not force and state == self.last_state and now - self.last_draw < 10:
            return  # redraw on change, or every 10 s for the rate and ETA
        self.last_draw, self.last_state = now, state
        if self.report is not None:
            self.report(tiles, self.tiles)
        if not self.enabled:
            return
        rate = tiles / max(now - self.start, 1e-9)
        eta = (self.tiles - tiles) / rate if rate > 0 else 0
        bar = "#" * int(24 * tiles / max(self.tiles, 1))
        self.stream.write(
            f"\r[{bar:<24}] {self.done_rasters}/{self.rasters} rasters "
            f"{tiles}/{self.tiles} tiles {rate:.2f} tiles/s "
            f"ETA {int(eta // 60)}:{int(eta % 60):02d}"
        )
        self.stream.flush()

    def close(self) -> None:
        """Draw the final state and end the line."""
        self.draw(force=True)
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def detect_folder_dask(
    folder: str | Path,
    output: str | Path,
    weights: str | Path,
    *,
    options: DetectOptions | None = None,
    cluster: ClusterOptions | None = None,
    pattern: str = "*.tif",
    fmt: str = "gpkg",
    overwrite: bool = False,
    layer: str | None = None,
    asset: str | None = None,
    progress: bool | Callable[[int, int], object] = True,
    log: Callable[[str], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> tuple[list[dict], Path]:
    """Like batch.detect_folder, on Dask: same outputs, same summary.csv, same resume, and
    the same inputs (a folder, a STAC catalogue with `asset`, a URL list: catalog.py); a
    remote raster is read by the workers themselves, with this process's GDAL config.
    `progress`: True for a bar on stderr, or a callable (tiles done, tiles) (e.g. QGIS's
    feedback), or False. Returns (rows, summary path). engine.Cancelled (from `cancelled`) and KeyboardInterrupt
    cancel the pending tasks and propagate; finished outputs stay, nothing half-written does."""
    cluster = cluster or ClusterOptions(workers=2)
    options = options or DetectOptions()
    log = log or (lambda message: None)
    require_dask()
    rasters = list_items(folder, pattern, asset)
    targets = plan_outputs(rasters, output, fmt, layer or DEFAULT_LAYER, overwrite)
    spec = read_spec(weights)
    todo = [overwrite or not is_done(target) for target in targets]
    # the cluster first: an unreachable scheduler fails before anything is written
    with connect(cluster, log) if any(todo) else nullcontext((None, True)) as (client, local):
        output = prepare_output_folder(output)
        summary = SummaryTable(output / "summary.csv", list(spec.class_names))
        units: list[RasterUnit] = []
        for raster, target, run_it in zip(rasters, targets, todo):
            if run_it:
                units.append(RasterUnit(raster, target))
                continue
            log(f"{raster.name}: done before, skipped")
            summary.record_done_before(raster, target)
        units = plan_units(units, spec, options, cluster.block_tiles, summary, log)
        bar = FolderProgress(
            len(units),
            sum(u.tiles for u in units),
            enabled=progress is True,
            report=progress if callable(progress) else None,
        )
        if units:
            assert client is not None  # units are rasters to run: the cluster was connected
            run = _Run(
                client,
                options,
                Path(weights),
                list(spec.class_names),
                summary,
                bar,
                _log_beside(bar, log),
                cluster.task_timeout,
            )
            run.submit(
                units, cluster, send_bytes=cluster.send_model == "bytes" or (cluster.send_model == "auto" and not local)
            )
            run.collect(cancelled)
        bar.close()
    rows = summary.rows
    return [rows[r.name] for r in rasters if r.name in rows], summary.path


@dataclass
class _Run:
    """The client's side of a run: submits the tasks, takes results as they arrive, writes."""

    client: Client
    options: DetectOptions
    weights: Path
    class_names: list[str]
    summary: SummaryTable
    bar: FolderProgress
    log: Callable[[str], None]
    task_timeout: float | None = None
    futures: dict[Future, tuple[RasterUnit, Block | None]] = field(default_factory=dict)

    def submit(self, units: list[RasterUnit], cluster: ClusterOptions, send_bytes: bool) -> None:
        """One task per raster or block. The model goes by path, or as bytes scattered once
        to every worker; a split raster's plans (plain and zoom pass) are scattered once for its blocks."""
        ref = ModelRef.of(self.weights, self.options.backend, self.options.device, self.options.precision)
        config = gdal_config()  # GDAL/cloud settings and credentials: workers read as this process does
        data = None
        if send_bytes:
            data = self.client.scatter(Path(self.weights).read_bytes(), broadcast=True, hash=False)
        for unit in units:
            plan = self.client.scatter((unit.plan, unit.zoom_plan), hash=False) if unit.blocks else None
            blocks: list[Block | None] = list(unit.blocks) if unit.blocks else [None]
            for block in blocks:
                part = "all" if block is None else f"block{block.index}"
                future = self.client.submit(
                    detect_task,
                    str(unit.raster),
                    ref,
                    self.options,
                    block,
                    plan,
                    cluster.task_timeout,
                    data,
                    config,
                    key=f"detect-{unit.raster.name}-{part}-{time.time_ns()}",
                    retries=cluster.retries,
                    pure=False,
                )
                self.futures[future] = (unit, block)
                unit.futures.append(future)

    def collect(self, cancelled: Callable[[], bool] | None) -> None:
        """Take results as they arrive until none is pending; cancel on request or Ctrl-C."""
        from distributed import as_completed

        self.client.subscribe_topic(PROGRESS_TOPIC, self.bar.on_event)
        arrivals = as_completed(list(self.futures))
        try:
            while self.futures:
                if cancelled is not None and cancelled():
                    raise Cancelled("cancelled: the pending rasters were not run; finished outputs are kept")
                done = arrivals.next_batch(block=False) if arrivals.has_ready() else ()
                for future in done:
                    if future in self.futures:  # not a block cancelled with its failed raster
                        self.take(future, *self.futures.pop(future))
                self.fail_stuck()
                self.bar.draw()
                if not done:
                    time.sleep(0.2)
        except BaseException:
            self.client.cancel(list(self.futures))
            raise
        finally:
            self.client.unsubscribe_topic(PROGRESS_TOPIC)
        self.log(f"model loads per worker: {self.model_loads()}")

    def model_loads(self) -> str:
        """Model loads per worker, e.g. "1, 1": each should have opened the model once. Only a
        diagnostic, asked for after every output is written: a worker gone meanwhile (killed,
        or restarting) shows as "?" and must not fail the run."""
        try:
            loads = self.client.run(model_loads, on_error="return")
        except (OSError, TimeoutError) as error:  # the scheduler itself could not be asked
            return f"unknown ({type(error).__name__}: {error})"
        said = ", ".join("?" if isinstance(v, BaseException) else str(len(v)) for v in loads.values())
        return said or "none (no worker is running)"

    def take(self, future: Future, unit: RasterUnit, block: Block | None) -> None:
        """One finished task: keep a block until its raster is complete; write a complete
        raster; record a failed one (and cancel the rest of its blocks)."""
        try:
            result = future.result()
            status, error = result.status, result.error
        except Exception as exc:  # raised after every retry, or its workers died too often
            status, error = "error", task_error(exc, block)
        self.bar.finish_unit(_task_key(unit, block), unit.tiles if block is None else len(block))
        if status != "ok":
            self.fail(unit, error)
            return
        if block is None:
            assert result.detections is not None
            self.write(unit, result.detections)
            return
        assert unit.blocks is not None
        unit.parts[block.index] = result
        if len(unit.parts) == len(unit.blocks):
            self.write(unit, combine_blocks(unit, self.class_names, self.options))

    def fail_stuck(self) -> None:
        """A task past its timeout that has not answered (a hung read never reaches the
        worker's own check between batches) fails here, after a grace period."""
        if self.task_timeout is None:
            return
        limit = self.task_timeout + max(30.0, self.task_timeout / 2)
        now = time.monotonic()
        for future, (unit, block) in list(self.futures.items()):
            started = self.bar.started.get(_task_key(unit, block))
            if future in self.futures and started is not None and now - started > limit:
                self.fail(
                    unit,
                    f"no answer {limit:g} s after it started (--task-timeout "
                    f"{self.task_timeout:g}): stuck, e.g. on a read",
                )

    def fail(self, unit: RasterUnit, error: str) -> None:
        """Record `unit` as failed with `error` and cancel its tasks still pending."""
        unit.failed = error
        rest = [f for f in unit.futures if f in self.futures]
        for f in rest:
            del self.futures[f]
        self.client.cancel(rest)
        self.log(f"{unit.raster.name}: error: {redact(error)}")
        self.summary.record_error(unit.raster, error)
        self.bar.done_rasters += 1

    def write(self, unit: RasterUnit, detections: Detections) -> None:
        """The raster's output, atomically, then its summary row."""
        try:
            write_output(unit, detections, self.options, self.weights)
        except (ValueError, OSError) as error:
            self.fail(unit, f"{type(error).__name__}: {error}")
            return
        warn_if_all_nodata(detections.report, unit.raster, self.log)
        self.summary.record_ok(unit.raster, unit.target, detections)
        self.bar.done_rasters += 1


def task_error(exc: Exception, block: Block | None) -> str:
    """The error row of a task that raised. Dask gives up on a task once the worker processes
    running it have died `distributed.scheduler.allowed-failures` + 1 times (KilledWorker,
    whose own text names task keys and worker addresses): said here in the user's terms."""
    if type(exc).__name__ != "KilledWorker":
        return f"{type(exc).__name__}: {exc}"
    import dask

    tries = int(dask.config.get("distributed.scheduler.allowed-failures", 3)) + 1
    part = f"it (block {block.index + 1})" if block is not None else "it"
    return (
        f"the worker process running {part} died {tries} times (killed, or out of memory); "
        "Dask gave up on it. If it ran out of memory, use fewer --workers; run again to retry"
    )


def _task_key(unit: RasterUnit, block: Block | None) -> str:
    """The key a task reports its progress under (as worker.detect_task names it)."""
    return str(unit.raster) if block is None else f"{unit.raster}#{block.index}"


def _log_beside(bar: FolderProgress, log: Callable[[str], None]) -> Callable[[str], None]:
    def say(message: str) -> None:
        bar.interrupt()
        log(message)

    return say


def run_from_cli(args, options, log: Callable[[str], None]) -> tuple[list[dict], Path]:
    """`detect-folder ... --workers N | --scheduler ADDR [--task-timeout S]`."""
    cluster = ClusterOptions(workers=args.workers, scheduler=args.scheduler, task_timeout=args.task_timeout)
    require_dask()
    return detect_folder_dask(
        args.folder,
        args.output,
        args.weights,
        options=options,
        cluster=cluster,
        pattern=args.pattern,
        fmt=args.format,
        overwrite=args.overwrite,
        layer=args.layer,
        asset=args.asset,
        progress=not args.quiet,
        log=log,
    )
