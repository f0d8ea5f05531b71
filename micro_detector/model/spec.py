"""What a model is: architecture scale, bands, classes, input size, normalisation, GSD.

Pure data (no torch), so the engine, the QGIS layer and the ONNX runner share it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

# scale: (depth multiple, width multiple, channel cap), as published for YOLOv12.
SCALES: dict[str, tuple[float, float, int]] = {
    "n": (0.50, 0.25, 1024),
    "s": (0.50, 0.50, 1024),
    "m": (0.50, 1.00, 512),
    "l": (1.00, 1.00, 512),
    "x": (1.00, 1.50, 512),
}

DEFAULT_CLASSES = ("boat", "building", "plane", "vehicle")


class ModelFileError(ValueError):
    """A model file is missing, corrupt, truncated, of another format or does not match."""


@dataclass
class ModelSpec:
    """Everything needed to build and feed a model, stored in its file."""

    scale: str = "s"
    class_names: list[str] = field(default_factory=lambda: list(DEFAULT_CLASSES))
    bands: int = 3
    imgsz: int = 640
    # an extra stride-4 (P2) level in the neck and head: a finer anchor grid for objects of
    # a few pixels, at the cost of a 4x larger finest map
    p2: bool = False
    # input = (pixel / input_scale - mean) / std, per band
    input_scale: float = 255.0
    mean: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    std: list[float] = field(default_factory=lambda: [1.0, 1.0, 1.0])
    gsd: float | None = None  # metres per pixel of the training imagery
    # A model trained over a range of ground sample distances (random rescale per chip)
    # serves rasters inside [gsd_min, gsd_max] at their own pixels; others are resampled to
    # the nearest end. `gsd`, when also set, is the range's reference (geometric middle).
    gsd_min: float | None = None
    gsd_max: float | None = None

    def __post_init__(self):
        if self.scale not in SCALES:
            raise ValueError(f"unknown scale {self.scale!r}: choose one of {', '.join(SCALES)}")
        if not self.class_names:
            raise ValueError("a model needs at least one class name")
        if len(set(self.class_names)) != len(self.class_names):
            raise ValueError(f"duplicate class names in {self.class_names}")
        if self.bands < 1:
            raise ValueError(f"bands must be >= 1, got {self.bands}")
        if self.imgsz % 32:
            raise ValueError(f"input size must be divisible by 32, got {self.imgsz}")
        if len(self.mean) != self.bands or len(self.std) != self.bands:
            if self.mean == [0.0] * len(self.mean) and self.std == [1.0] * len(self.std):
                self.mean, self.std = [0.0] * self.bands, [1.0] * self.bands
            else:
                raise ValueError(f"mean/std need one value per band ({self.bands})")
        if self.gsd is not None and not self.gsd > 0:
            raise ValueError(f"gsd must be positive metres per pixel, got {self.gsd}")
        if (self.gsd_min is None) != (self.gsd_max is None):
            raise ValueError("a GSD range needs both gsd_min and gsd_max")
        if self.gsd_min is not None and not 0 < self.gsd_min <= self.gsd_max:
            raise ValueError(f"GSD range must satisfy 0 < gsd_min <= gsd_max, got {self.gsd_min}..{self.gsd_max}")

    def gsd_range(self) -> tuple[float, float] | None:
        """The ground sample distances (m/px) the model serves without resampling: its range,
        or its single GSD; None when it states none (rasters are read at their own pixels)."""
        if self.gsd_min is not None and self.gsd_max is not None:  # set together (checked)
            return self.gsd_min, self.gsd_max
        if self.gsd is not None:
            return self.gsd, self.gsd
        return None

    @property
    def nc(self) -> int:
        """The number of classes."""
        return len(self.class_names)

    def to_dict(self) -> dict:
        """The spec as a plain dict (JSON-ready; stored in model files and ONNX metadata).
        `p2` is written only when set, so a model without it stays readable by versions that
        predate the option."""
        data = asdict(self)
        if not data["p2"]:
            del data["p2"]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> ModelSpec:
        """The spec of a dict written by to_dict; ValueError naming unknown fields (invalid values raise as in the constructor)."""
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown model spec fields: {sorted(unknown)}")
        return cls(**data)
