"""Peak RSS of a child process, measured without the parent's memory in it.

Why not wait4's ru_maxrss directly: Linux starts a child as a (v)fork of its parent, and at exec
it records the old address space's high-water mark in the process's `maxrss`. A child spawned
by a big process therefore reports max(parent's peak, its own): measured here, `/bin/true`
spawned by a Python holding 600 MB reported 632 MB. Every benchmark parent that built a 12k
raster or loaded a model first reported that figure for each of its children.

The fix: a small launcher process (this file, run as a script) forks the command from its own
small address space, waits for it with wait4 and writes the command's ru_maxrss (KiB) to a
file. SIGTERM and SIGINT sent to the launcher are passed on; if the launcher is killed, the
kernel kills the command too (PR_SET_PDEATHSIG). The launcher ends as the command ended: the
same exit code, or the same signal, so callers see the command's own wait status.

    proc = launch(cmd, rss_file, env=..., stdout=...)   # a Popen of the launcher
    ... wait for proc as before ...
    peak_rss_mb(rss_file)                               # None if the launcher was SIGKILLed
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from pathlib import Path

PR_SET_PDEATHSIG = 1


def launch(cmd: list[str], rss_file: Path, **popen_kwargs) -> subprocess.Popen:
    """Start `cmd` under the launcher; its peak RSS lands in `rss_file` when it ends."""
    Path(rss_file).unlink(missing_ok=True)
    return subprocess.Popen([sys.executable, os.path.abspath(__file__), str(rss_file), "--", *cmd], **popen_kwargs)


def peak_rss_mb(rss_file: Path) -> float | None:
    """The command's peak RSS in MB, or None when the launcher could not write it."""
    try:
        return int(Path(rss_file).read_text()) / 1024
    except (OSError, ValueError):
        return None


def _die_with_parent() -> None:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        raise SystemExit("usage: peak_rss.py RSS_FILE -- COMMAND ...")
    rss_file, cmd = argv[0], argv[2:]
    child = subprocess.Popen(cmd, preexec_fn=_die_with_parent)  # forked from this small process
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda s, _frame: child.send_signal(s))
    while True:
        try:
            _, status, usage = os.wait4(child.pid, 0)
            break
        except InterruptedError:
            continue
    Path(rss_file).write_text(str(usage.ru_maxrss))
    if os.WIFSIGNALED(status):  # end the way the command ended
        sig = os.WTERMSIG(status)
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
