"""Where the plugin keeps the user's work inside the QGIS profile, and when data is too
small to train a detector from scratch."""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path

from qgis.core import QgsApplication


def work_folder() -> Path:
    """<profile>/micro_detector: kept with the QGIS profile, unlike Processing's temporary
    outputs, which are deleted when QGIS closes."""
    return Path(QgsApplication.qgisSettingsDirPath()) / "micro_detector"


def export_cache_folder() -> Path:
    """Where QGIS runs keep the ONNX exports of .pt models (micro_detector/model/cache.py):
    <profile>/micro_detector/onnx-cache, with the user's other work of this profile rather than
    in ~/.cache. MICRO_DETECTOR_CACHE, when set, still wins, as it does for the CLI."""
    from ..micro_detector.model.cache import CACHE_ENV

    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    return work_folder() / "onnx-cache"


def stamp(now: _dt.datetime | None = None) -> str:
    return (now or _dt.datetime.now()).strftime("%Y%m%d-%H%M%S")


def default_training_paths(when: str | None = None) -> tuple[Path, Path]:
    """(model file, run folder) for a training started now: models/model-<stamp>.pt and
    runs/<stamp> in the work folder."""
    when = when or stamp()
    return work_folder() / "models" / f"model-{when}.pt", work_folder() / "runs" / when
