"""Where a distributed detect-folder runs: the cluster options, the Dask check with its
install command, and the client on an embedded LocalCluster or an existing scheduler."""

from __future__ import annotations

import importlib.util
import logging
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..deps import MissingDependencyError

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
        if self.send_model not in ("auto", "path", "bytes"):
            raise ValueError(f"send_model is auto, path or bytes, got {self.send_model!r}")
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
            f'Install it with: {sys.executable} -m pip install "{DASK_REQUIREMENT}"'
        ) from None


@contextmanager
def connect(cluster: ClusterOptions, log: Callable[[str], None]):
    """A Dask client: on an embedded LocalCluster of `workers` processes (one thread each), or
    on the scheduler at `scheduler`. Yields (client, local)."""
    require_dask()
    from distributed import Client, LocalCluster

    if cluster.scheduler:
        target = cluster.scheduler
        kwargs = {"scheduler_file": target} if Path(target).is_file() else {"address": target}
        try:
            client = Client(timeout="30s", **kwargs)
        except (OSError, ValueError) as error:  # refused, timed out, or not an address at all
            raise ValueError(f"cannot reach the Dask scheduler {target}: {error}") from None
        log(f"connected to {client.scheduler.address} ({len(client.scheduler_info()['workers'])} workers)")
        try:
            yield client, False
        finally:
            client.close()
        return
    _python_for_workers()
    bokeh = importlib.util.find_spec("bokeh") is not None
    try:
        local = LocalCluster(
            n_workers=cluster.workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0" if bokeh else None,
            silence_logs=logging.CRITICAL,
        )
    except RuntimeError as error:  # "Nanny failed to start.": a worker process died while starting
        raise RuntimeError(
            f"the local Dask cluster of {cluster.workers} worker processes did not start ({error}): "
            "a worker process died while starting (killed, or out of memory?); nothing was run, run again"
        ) from None
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


def _python_for_workers() -> None:
    """Local workers are spawned from sys.executable. In an embedded Python (QGIS desktop,
    qgis_process) that is QGIS itself, or whatever `python3` came first on PATH: point
    multiprocessing at the interpreter of this very installation instead."""
    import multiprocessing

    exe = Path(sys.executable)
    prefixes = {Path(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    if exe.name.lower().startswith("python") and any(p in exe.parents for p in prefixes):
        return
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    base = Path(sys.exec_prefix)
    for candidate in (base / "bin" / f"python{version}", base / "bin" / "python3", base / "python.exe"):
        if candidate.is_file():
            multiprocessing.set_executable(str(candidate))
            return
