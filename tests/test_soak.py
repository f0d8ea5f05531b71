"""The short variant of the soak run (scripts/soak.py): detect-folder over a few small rasters
with each fault injected at least once (SIGKILL, SIGTERM, a full disk on a tmpfs when root,
a corrupt raster), rerun until done: every good raster as in a clean run, the corrupt one
failed with a reason, no litter, no traceback, flat memory."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from soak import soak  # noqa: E402


@pytest.mark.slow
def test_short_soak_with_every_fault(tmp_path):
    report = soak(tmp_path, n=10, seed=5, max_rounds=15)
    assert report["rounds"] >= 3
    assert all(report["verdicts"].values()), report
