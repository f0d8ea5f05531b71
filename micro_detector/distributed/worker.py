"""What runs on a Dask worker: the model cache and the detection tasks.

A task gets a raster path, the detection options, a `ModelRef` and, on a cluster without a
shared file system, the model's bytes (scattered once to every worker, never pickled per
task). Each worker process opens the model once and keeps it (`_RUNNERS`), with torch and
ONNX Runtime capped to one thread: N workers on N cores must not oversubscribe.

Workers return boxes, never files: the process that owns the output folder writes them.
Expected failures (a bad raster, an option the raster refuses, a timeout) come back as an
error result, so Dask does not retry them; anything else raises and is retried by Dask.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..engine import Cancelled, detect
from ..model.runner import open_runner
from ..options import DetectOptions
from ..plan import TilePlan
from ..remote import apply_gdal_config, redact
from .blocks import Block, TaskResult, detect_block

if TYPE_CHECKING:
    from distributed import Worker

PROGRESS_TOPIC = "micro-detector-progress"
_RUNNERS: dict[tuple[str, str, str, str], object] = {}  # (sha256, backend, device, precision) -> runner
_LOADS: list[str] = []  # model loads in this process (the tests check: once per worker)
_LOCK = threading.Lock()


@dataclass(frozen=True)
class ModelRef:
    """A model file by path and content hash: small to send, and a cache key on workers."""

    path: str
    sha256: str
    backend: str = "auto"
    device: str = "cpu"
    precision: str = "auto"

    @classmethod
    def of(cls, path: str | Path, backend: str = "auto", device: str = "cpu", precision: str = "auto") -> ModelRef:
        """The reference of the model file at `path`: its resolved path and SHA-256 of its bytes."""
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
        return cls(str(Path(path).resolve()), digest.hexdigest(), backend, device, precision)


def cap_threads(threads: int = 1) -> None:
    """One compute thread per task: the worker's processes, not its threads, give parallelism.
    The runner gets `threads` too; torch, when this process has it, is capped here as well
    (but not imported for that: an ONNX Runtime worker never needs it)."""
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = str(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


def _model_file(ref: ModelRef, data: bytes | None) -> Path:
    """The model on this machine: the client's path when it is there with the same content,
    else the scattered bytes written once to a local cache file."""
    path = Path(ref.path)
    if data is None:
        if not path.is_file():
            raise FileNotFoundError(
                f"model file {ref.path} is not on worker {_worker_name()}: "
                "use a shared file system, or let the client send the model"
            )
        return path
    folder = Path(tempfile.gettempdir()) / "micro-detector-models"
    folder.mkdir(exist_ok=True)
    local = folder / f"{ref.sha256}{path.suffix}"
    if not local.is_file():
        tmp = local.with_name(f"{local.name}.{os.getpid()}.part")
        tmp.write_bytes(data)
        os.replace(tmp, local)  # atomic: another process may be writing the same file
    return local


def worker_runner(ref: ModelRef, data: bytes | None = None):
    """This process's runner for `ref`, opened on first use and kept."""
    key = (ref.sha256, ref.backend, ref.device, ref.precision)
    with _LOCK:
        runner = _RUNNERS.get(key)
        if runner is None:
            cap_threads(1)
            path = _model_file(ref, data)
            runner = open_runner(path, backend=ref.backend, device=ref.device, threads=1, precision=ref.precision)
            cap_threads(1)  # again: opening a .pt may have imported torch just now
            _RUNNERS[key] = runner
            _LOADS.append(ref.sha256)
    return runner


def warm(ref: ModelRef, data: bytes | None = None) -> str:
    """Open the model on this worker now (for `client.run`); returns the backend that runs it."""
    runner = worker_runner(ref, data)
    return str(getattr(runner, "backend", type(runner).__name__))


def model_loads() -> list[str]:
    """Hashes of the models this process has opened (for `client.run`)."""
    return list(_LOADS)


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return f"pid {os.getpid()}"


class TaskProgress:
    """Progress callback for the engine: reports tiles done to the client through the
    scheduler's event log (throttled; absolute counts, so a retried task never counts twice)
    and stops the run when the task's time is up."""

    def __init__(self, key: str, timeout: float | None, every: float = 0.5):
        self.key, self.timeout, self.every = key, timeout, every
        self.start = self.last = time.monotonic()
        self.timed_out = False
        self.worker: Worker | None = None  # None outside a worker (tests, serial use)
        try:
            from distributed import get_worker

            self.worker = get_worker()
        except (ImportError, ValueError):
            pass
        if self.worker is not None:  # the client times a stuck task from here
            self.worker.log_event(PROGRESS_TOPIC, {"key": key, "done": 0, "start": True})

    def __call__(self, done: int, total: int) -> bool:
        now = time.monotonic()
        if self.worker is not None and (now - self.last >= self.every or done >= total):
            self.worker.log_event(PROGRESS_TOPIC, {"key": self.key, "done": done, "total": total})
            self.last = now
        if self.timeout is not None and now - self.start > self.timeout:
            self.timed_out = True
            return False
        return True


def detect_task(
    raster: str,
    ref: ModelRef,
    options: DetectOptions,
    block: Block | None = None,
    plan: tuple[TilePlan, TilePlan | None] | None = None,
    timeout: float | None = None,
    model_data: bytes | None = None,
    gdal_config: dict[str, str] | None = None,
) -> TaskResult:
    """A work unit on a worker: the whole raster (merged detections), or one block of its
    plans' windows (raw boxes, merged by the client with the other blocks); `plan` is then
    the raster's (plan, zoom pass plan or None). `gdal_config`: the client's GDAL and cloud
    settings (remote.gdal_config), set here first so a remote raster is read as the client would."""
    start = time.monotonic()
    result = TaskResult(raster, None if block is None else block.index, "ok", worker=_worker_name())
    if gdal_config:
        apply_gdal_config(gdal_config)
    try:
        runner = worker_runner(ref, model_data)
        progress = TaskProgress(raster if block is None else f"{raster}#{block.index}", timeout)
        if block is None:
            result.detections = detect(raster, None, runner, options=options, progress=progress)
        else:
            assert plan is not None, "a block task needs its raster's plans"
            result.raw, result.facts = detect_block(raster, runner, options, plan, block, progress)
    except Cancelled:
        if not progress.timed_out:
            raise
        result.status, result.error = "error", f"timed out after {timeout:g} s (--task-timeout)"
    except (ValueError, RuntimeError, OSError) as error:  # the raster's fault: no retry
        result.status, result.error = "error", f"{type(error).__name__}: {redact(error)}"
    result.seconds = round(time.monotonic() - start, 3)
    return result
