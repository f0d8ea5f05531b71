"""micro_detector: the core of Micro Object Detection (no QGIS imports).

YOLOv12 models, tiled georeferenced inference, merging, vector output and the CLI.
Heavy dependencies (torch, onnxruntime, GDAL) are imported by the submodules that use
them, never here, so importing this package is cheap.
"""

__version__ = "0.1.0"
