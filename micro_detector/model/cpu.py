"""CPU thread policy shared by the torch and ONNX Runtime runners.

Why: OpenMP and ONNX Runtime worker threads spin while they wait for work by default. On a
machine where anything else runs (QGIS itself, the tile reader thread, another job), those
spinning threads steal the very cores the work needs, and runs were measured 15x slower
(micro-detector detect airbus_0080.tif: 118 s next to one CPU job against 7.9 s with a
passive wait policy). So the runners use one compute thread per physical core, threads that
sleep when idle, and no inter-op parallelism.

OMP_WAIT_POLICY is read once, when the OpenMP runtime loads (with `import torch`), so it is
set by `micro_detector/__init__.py` before anything imports torch; a value the user set wins.
"""

from __future__ import annotations

import contextlib
import os

# The environment the OpenMP runtime (torch's) reads when it loads; the user's values win.
OPENMP_ENV = {"OMP_WAIT_POLICY": "PASSIVE"}


def set_passive_env() -> None:
    """Set OMP_WAIT_POLICY=PASSIVE unless the user chose a policy (effective only before the
    OpenMP runtime loads, that is before the first `import torch`)."""
    for name, value in OPENMP_ENV.items():
        os.environ.setdefault(name, value)


def compute_threads() -> int:
    """Compute threads for inference: the physical cores this process may run on (hyper-threads
    share one core's arithmetic units, so they add contention rather than speed), at most
    OMP_NUM_THREADS when that is set."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count() or 1
    try:
        import psutil

        physical = psutil.cpu_count(logical=False) or usable
    except ImportError:
        logical = os.cpu_count() or usable
        physical = logical // 2 if logical >= 4 else logical  # assume 2-way SMT on larger CPUs
    threads = max(1, min(usable, physical))
    with contextlib.suppress(ValueError):  # a cap the user or a scheduler set (e.g. one thread per Dask worker) wins
        threads = min(threads, max(1, int(os.environ.get("OMP_NUM_THREADS", threads))))
    return threads


def ort_session_options(ort, threads: int | None = None):
    """ONNX Runtime session options: `threads` intra-op threads (default: physical cores),
    one inter-op thread, sequential execution, and worker threads that do not spin."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or compute_threads()
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    return options


def set_torch_threads(torch, threads: int | None = None) -> int:
    """Cap torch's intra-op threads (process-wide) at `threads` (default: physical cores) and
    inter-op at 1 where still allowed. Returns the intra-op count."""
    # never above what the process already chose (torch.set_num_threads by a caller)
    threads = threads or min(compute_threads(), torch.get_num_threads())
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    try:
        if torch.get_num_interop_threads() != 1:
            torch.set_num_interop_threads(1)
    except RuntimeError:  # only settable before the first parallel work; keep what is there
        pass
    return threads
