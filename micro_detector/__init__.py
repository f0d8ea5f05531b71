"""micro_detector: the core of Micro Object Detection (no QGIS imports).

YOLOv12 models, tiled georeferenced inference, merging, vector output and the CLI.
Heavy dependencies (torch, onnxruntime, GDAL) are imported by the submodules that use
them, never here, so importing this package is cheap.
"""

import os as _os

__version__ = "0.2.0"

# torch's OpenMP threads spin while they wait, and then fight the tile reader thread and
# anything else on the machine (runs 15x slower next to one other CPU job). The runtime reads
# its wait policy once, when torch loads, so it is set here, before any submodule imports
# torch. A policy the user set wins. See model/cpu.py.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
