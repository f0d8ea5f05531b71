"""detect-folder on Dask distributed: an embedded LocalCluster, or any scheduler address.

Work units are rasters; a raster with more windows than `block_tiles` is split into blocks
of windows (blocks.py) whose boxes this process merges. Workers return boxes, never files:
this process owns the output folder and writes each raster's output atomically as soon as
its boxes arrive, then records its row in summary.csv. So:
- a worker killed mid-task loses nothing: the scheduler runs its task elsewhere, and an
  exception in a task is retried (`retries`);
- this process killed mid-run leaves finished outputs only; a rerun skips them;
- a raster that fails, or runs past `task_timeout`, becomes an error row; the batch goes on.
Dask is imported only here, and only when a cluster is asked for.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .deps import MissingDependencyError

DASK_REQUIREMENT = "dask[distributed]==2026.8.0"


@dataclass
class ClusterOptions:
    """Where and how the tasks run."""

    workers: int | None = None  # LocalCluster of this many processes
    scheduler: str | None = None  # or an existing cluster: tcp://HOST:8786 or a scheduler file
    task_timeout: float | None = None  # seconds per raster or block; None: no limit
    retries: int = 2  # re-runs of a task that raised (a killed worker is rescheduled anyway)
    block_tiles: int = 256  # rasters with more windows than this are split into blocks
    send_model: str = "auto"  # path | bytes | auto (bytes to a remote scheduler)

    def __post_init__(self):
        if self.workers is not None and self.scheduler:
            raise ValueError("give --workers or --scheduler, not both")
        if self.workers is not None and self.workers < 1:
            raise ValueError(f"--workers must be at least 1, got {self.workers}")
        if self.task_timeout is not None and self.task_timeout <= 0:
            raise ValueError(f"--task-timeout must be positive, got {self.task_timeout}")
        if self.block_tiles < 1:
            raise ValueError(f"block_tiles must be at least 1, got {self.block_tiles}")


def require_dask() -> None:
    """Fail with the install command when Dask distributed is missing."""
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ImportError:
        raise MissingDependencyError(
            "--workers and --scheduler run on Dask distributed, which is not installed. "
            f'Install it with: {sys.executable} -m pip install "{DASK_REQUIREMENT}"') from None


@contextmanager
def connect(cluster: ClusterOptions, log: Callable[[str], None]):
    """A Dask client: on an embedded LocalCluster of `workers` processes (one thread each), or
    on the scheduler at `scheduler`. Yields (client, local)."""
    require_dask()
    from distributed import Client, LocalCluster

    if cluster.scheduler:
        target = cluster.scheduler
        kwargs = {"scheduler_file": target} if Path(target).is_file() else {"address": target}
        client = Client(timeout="30s", **kwargs)
        log(f"connected to {client.scheduler.address} "
            f"({len(client.scheduler_info()['workers'])} workers)")
        try:
            yield client, False
        finally:
            client.close()
        return
    bokeh = importlib.util.find_spec("bokeh") is not None
    local = LocalCluster(n_workers=cluster.workers, threads_per_worker=1, processes=True,
                         dashboard_address=":0" if bokeh else None, silence_logs=logging.ERROR)
    client = Client(local)
    if bokeh:
        log(f"Dask dashboard: {client.dashboard_link}")
    else:
        log('Dask dashboard off: it needs bokeh (pip install "bokeh>=3.1")')
    try:
        yield client, True
    finally:
        client.close()
        local.close()


class FolderProgress:
    """One stderr line over the whole run: rasters and tiles done across workers, tiles/s, ETA.
    Workers report absolute tile counts per task, so a retried task never counts twice."""

    def __init__(self, rasters: int, tiles: int, stream=sys.stderr, enabled: bool = True):
        self.rasters, self.tiles = rasters, tiles
        self.done_rasters = 0
        self.done: dict[str, int] = {}
        self.lock = threading.Lock()
        self.start = time.monotonic()
        self.stream, self.enabled = stream, enabled
        self.last_draw = 0.0
        self.last_state = None

    def on_event(self, event) -> None:
        """Handler for the workers' progress topic: event = (timestamp, {key, done, total})."""
        msg = event[1]
        with self.lock:
            self.done[msg["key"]] = max(self.done.get(msg["key"], 0), int(msg["done"]))

    def finish_unit(self, key: str, tiles: int) -> None:
        with self.lock:
            self.done[key] = tiles

    def tiles_done(self) -> int:
        with self.lock:
            return min(sum(self.done.values()), self.tiles)

    def draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not force and now - self.last_draw < 0.5):
            return
        tiles = self.tiles_done()
        state = (tiles, self.done_rasters)
        if not force and state == self.last_state and now - self.last_draw < 10:
            return  # redraw on change, or every 10 s for the rate and ETA
        self.last_draw, self.last_state = now, state
        rate = tiles / max(now - self.start, 1e-9)
        eta = (self.tiles - tiles) / rate if rate > 0 else 0
        bar = "#" * int(24 * tiles / max(self.tiles, 1))
        self.stream.write(f"\r[{bar:<24}] {self.done_rasters}/{self.rasters} rasters "
                          f"{tiles}/{self.tiles} tiles {rate:.2f} tiles/s "
                          f"ETA {int(eta // 60)}:{int(eta % 60):02d}")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.draw(force=True)
            self.stream.write("\n")
            self.stream.flush()


@dataclass
class _Unit:
    """One raster of the run: its output target, its blocks (None: one task) and what came back."""

    raster: Path
    target: object
    tiles: int
    blocks: list | None
    parts: dict
    failed: str = ""


def detect_folder_dask(folder: str | Path, output: str | Path, weights: str | Path, *, options=None,
                       cluster: ClusterOptions | None = None, pattern: str = "*.tif", fmt: str = "gpkg",
                       overwrite: bool = False, layer: str | None = None, progress: bool = True,
                       log: Callable[[str], None] | None = None,
                       cancelled: Callable[[], bool] | None = None) -> tuple[list[dict], Path]:
    """Like batch.detect_folder, on Dask: same outputs, same summary.csv, same resume.
    Returns (rows, summary path). engine.Cancelled (from `cancelled`) and KeyboardInterrupt
    cancel the pending tasks and propagate; finished outputs stay, nothing half-written does."""
    from .batch import list_rasters, plan_outputs, prepare_output_folder, SummaryTable
    from .blocks import plan_units
    from .engine import DetectOptions
    from .outputs import DEFAULT_LAYER, is_done

    cluster = cluster or ClusterOptions(workers=2)
    options = options or DetectOptions()
    log = log or (lambda message: None)
    require_dask()
    rasters = list_rasters(folder, pattern)
    targets = plan_outputs(rasters, output, fmt, layer or DEFAULT_LAYER, overwrite)
    output = prepare_output_folder(output)
    spec = model_spec(weights)
    summary = SummaryTable(output / "summary.csv", list(spec.class_names))
    units = []
    for raster, target in zip(rasters, targets):
        if not overwrite and is_done(target):
            log(f"{raster.name}: done before, skipped")
            summary.rows.setdefault(raster.name, {"raster": raster.name, "status": "ok",
                                                  "output": target.path.name})
            continue
        units.append(_Unit(raster, target, 0, None, {}))
    units = plan_units(units, spec, options, cluster.block_tiles, summary, log)
    bar = FolderProgress(len(units), sum(u.tiles for u in units), enabled=progress)
    if units:
        with connect(cluster, log) as (client, local):
            _run(client, local, units, weights, options, cluster, summary, bar, log, cancelled)
    bar.close()
    rows = summary.rows
    return [rows[r.name] for r in rasters if r.name in rows], summary.path


def model_spec(weights: str | Path):
    """The model's description (class names, input size), read without building the network."""
    if Path(weights).suffix.lower() == ".onnx":
        from .model.onnx_io import read_onnx_spec

        return read_onnx_spec(weights)
    from .model.io import read_model_file

    return read_model_file(weights)["spec"]


def _submit(client, local, units, weights, options, cluster):
    """Submit every unit's tasks; the model goes by path to a local cluster, else as bytes
    scattered once to all workers. Returns {future: (unit, block)}."""
    from .dask_tasks import ModelRef, detect_task

    ref = ModelRef.of(weights, options.backend, options.device)
    data = None
    if cluster.send_model == "bytes" or (cluster.send_model == "auto" and not local):
        data = client.scatter(Path(weights).read_bytes(), broadcast=True, hash=False)
    futures = {}
    for unit in units:
        for block in unit.blocks or [None]:
            key = f"detect-{unit.raster.name}-{'all' if block is None else block.index}-{ref.sha256[:8]}"
            future = client.submit(detect_task, str(unit.raster), ref, options, block,
                                   cluster.task_timeout, data, key=f"{key}-{time.time_ns()}",
                                   retries=cluster.retries, pure=False)
            futures[future] = (unit, block)
    return futures


def _run(client, local, units, weights, options, cluster, summary, bar, log, cancelled) -> None:
    """Collect results as they arrive and write each finished raster; cancel on request."""
    from distributed import wait

    from .dask_tasks import PROGRESS_TOPIC
    from .engine import Cancelled

    client.subscribe_topic(PROGRESS_TOPIC, bar.on_event)
    futures = _submit(client, local, units, weights, options, cluster)
    pending = set(futures)
    try:
        while pending:
            if cancelled is not None and cancelled():
                raise Cancelled("cancelled: pending rasters were not started; finished outputs are kept")
            try:
                done, pending = wait(pending, timeout=0.5, return_when="FIRST_COMPLETED")
            except TimeoutError:  # nothing finished in this half second
                done = set()
            for future in done:
                unit, block = futures.pop(future)
                _collect(unit, block, future, options, weights, summary, bar, log)
            bar.draw()
    except BaseException:
        client.cancel(list(pending))
        raise
    finally:
        client.unsubscribe_topic(PROGRESS_TOPIC)
    from .dask_tasks import model_loads

    loads = client.run(model_loads)  # each worker should have opened the model once
    log(f"model loads per worker: {', '.join(str(len(v)) for v in loads.values())}")


def _collect(unit, block, future, options, weights, summary, bar, log) -> None:
    """Take one finished task: keep a block's boxes until its raster is complete; write a
    complete raster; record an error row for a failed one."""
    from .blocks import combine_blocks

    try:
        result = future.result()
        status, error = result.status, result.error
    except Exception as exc:  # raised after every retry, or the worker died too often
        result, status, error = None, "error", f"{type(exc).__name__}: {exc}"
    key = str(unit.raster) if block is None else f"{unit.raster}#{block.index}"
    bar.finish_unit(key, unit.tiles if block is None else len(block.windows))
    if unit.failed:
        return
    if status != "ok":
        unit.failed = error
        bar.done_rasters += 1
        log(f"{unit.raster.name}: error: {error}")
        summary.record(error_row(unit.raster, error, summary.fields))
        return
    if block is None:
        detections = result.detections
    else:
        unit.parts[block.index] = result.raw
        if len(unit.parts) < len(unit.blocks):
            return
        detections = combine_blocks(unit, options)
    _write(unit, detections, weights, options, summary, bar, log)


def _write(unit, detections, weights, options, summary, bar, log) -> None:
    from .batch import warn_if_all_nodata
    from .blocks import write_output

    try:
        write_output(unit.target, detections, weights, options)
    except (ValueError, OSError) as error:
        summary.record(error_row(unit.raster, str(error), summary.fields))
        log(f"{unit.raster.name}: error: {error}")
    else:
        warn_if_all_nodata(detections.report, unit.raster, log)
        summary.record({"raster": unit.raster.name, "status": "ok", "output": unit.target.path.name,
                        "objects": len(detections), "seconds": detections.report.get("seconds", ""),
                        "tiles": detections.report.get("tiles", 0),
                        **{f"n_{k}": v for k, v in detections.counts().items()}, "error": "",
                        "written_now": True})
    bar.done_rasters += 1


def error_row(raster: Path, error: str, fields: list[str]) -> dict:
    """A summary row for a raster that failed, with its error on one line."""
    row = {name: "" for name in fields}
    row.update(raster=raster.name, status="error", error=" ".join(str(error).split()))
    return row


def run_from_cli(args, options, log: Callable[[str], None]) -> tuple[list[dict], Path]:
    """`detect-folder ... --workers N | --scheduler ADDR [--task-timeout S]`."""
    cluster = ClusterOptions(workers=args.workers, scheduler=args.scheduler, task_timeout=args.task_timeout)
    require_dask()
    return detect_folder_dask(args.folder, args.output, args.weights, options=options, cluster=cluster,
                              pattern=args.pattern, fmt=args.format, overwrite=args.overwrite,
                              layer=args.layer, progress=not args.quiet, log=log)
