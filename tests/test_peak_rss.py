"""benchmarks/peak_rss.py: a child's peak RSS without its parent's memory in it. A process
that spawns a child while holding memory makes wait4 report that memory for the child (Linux
keeps the pre-exec high-water mark); the launcher must report the child's own figure, end as
the child ended, and take the child down with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from peak_rss import launch, peak_rss_mb  # noqa: E402

HOLD_MB = 400


def allocating(mb: int) -> list[str]:
    return [sys.executable, "-c", f"b = bytearray({mb} * 1024 * 1024); import sys; sys.exit(3)"]


def test_the_childs_own_peak_not_the_parents(tmp_path):
    held = np.ones(HOLD_MB * 1024 * 1024 // 8)  # this process now holds 400 MB
    assert held.sum() > 0
    plain = subprocess.Popen([sys.executable, "-c", "pass"])
    _, _, usage = os.wait4(plain.pid, 0)
    assert usage.ru_maxrss / 1024 > HOLD_MB  # what a plain wait4 says of a tiny child
    proc = launch(allocating(150), tmp_path / "rss")
    assert proc.wait(timeout=60) == 3  # the child's exit code, passed on
    peak = peak_rss_mb(tmp_path / "rss")
    assert peak is not None and 150 < peak < 150 + 60


def test_a_signal_reaches_the_child_and_a_kill_takes_it_down(tmp_path):
    marker = f"{time.time_ns()}"
    cmd = [sys.executable, "-c", "import time; time.sleep(60)", marker]
    for sig, written in ((signal.SIGTERM, True), (signal.SIGKILL, False)):
        proc = launch(cmd, tmp_path / "rss")
        deadline = time.monotonic() + 20
        while not children_with(marker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert children_with(marker)
        proc.send_signal(sig)
        assert proc.wait(timeout=20) == -sig  # the launcher ends the way its child did
        deadline = time.monotonic() + 5
        while children_with(marker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not children_with(marker)
        assert (peak_rss_mb(tmp_path / "rss") is not None) is written


def children_with(marker: str) -> list[int]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if marker.encode() in args and b"--" not in args:  # the command, not its launcher
            found.append(int(pid))
    return found


@pytest.mark.parametrize("argv", [["rss"], ["rss", "sleep", "1"]])
def test_a_bad_command_line_is_refused(tmp_path, argv):
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve().parents[1] / "benchmarks" / "peak_rss.py"), *argv],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode != 0 and "usage: peak_rss.py" in done.stderr
