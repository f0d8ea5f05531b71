"""The runner interface: what the engine needs of a model, whatever runs it.

A runner is opened by `runner.open_runner` (torch or ONNX Runtime), wrapped by `tta.TTARunner`,
or written for a test; the engine, the Dask workers and the output metadata use only this.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from .spec import ModelSpec


class Runner(Protocol):
    """`spec`: classes, bands, input size, GSD; `model_file`: the model file the runner came
    from, as the user named it (the .pt also when its ONNX export runs), None in memory;
    `predict`: per image of a (B, bands, H, W) batch of 8-bit-range pixels, a float32 (k, 6)
    array x1, y1, x2, y2, score, class in input pixels."""

    spec: ModelSpec
    model_file: Path | None

    def predict(
        self,
        batch: np.ndarray,
        conf: float = 0.25,
        iou: float = 0.7,
        max_det: int = 3000,
        classes: list[int] | None = None,
    ) -> list[np.ndarray]:
        """Per image of `batch`, its detections above `conf` after NMS at `iou`."""
        ...
