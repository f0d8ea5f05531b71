"""Where the plugin keeps the user's work inside the QGIS profile, and when data is too
small to train a detector from scratch."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

from qgis.core import QgsApplication

# Below these, training from random weights rarely gets off the ground (mAP stays near 0 for
# many epochs); starting from the bundled model gives a usable detector on a few images.
SCRATCH_MIN_IMAGES = 20
SCRATCH_MIN_OBJECTS = 500


def work_folder() -> Path:
    """<profile>/micro_detector: kept with the QGIS profile, unlike Processing's temporary
    outputs, which are deleted when QGIS closes."""
    return Path(QgsApplication.qgisSettingsDirPath()) / "micro_detector"


def stamp(now: _dt.datetime | None = None) -> str:
    return (now or _dt.datetime.now()).strftime("%Y%m%d-%H%M%S")


def default_training_paths(when: str | None = None) -> tuple[Path, Path]:
    """(model file, run folder) for a training started now: models/model-<stamp>.pt and
    runs/<stamp> in the work folder."""
    when = when or stamp()
    return work_folder() / "models" / f"model-{when}.pt", work_folder() / "runs" / when


def too_small_for_scratch(images: int, objects: int) -> bool:
    """True when a dataset is too small to train from random weights."""
    return images < SCRATCH_MIN_IMAGES or objects < SCRATCH_MIN_OBJECTS
