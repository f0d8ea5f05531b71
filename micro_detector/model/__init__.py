"""YOLOv12 detector family (n/s/m/l/x) in plain PyTorch, its file format and runners."""

from .spec import SCALES, ModelFileError, ModelSpec  # noqa: F401  (light: no torch import)
