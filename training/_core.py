"""The core package, as the training package reaches it.

Installed (pip, the venv, the CLI), `training` and `micro_detector` are two top-level
packages of one distribution, and training imports the core by name. Inside the QGIS
plugin both are subpackages of the plugin's package (`micro_object_detection`), which is
never importable under the bare names, so the plugin's own copy is imported relatively.
Either way `training` imports the core, never the other way round.

The core modules that import torch are loaded on first use (module __getattr__), so that
evaluating an ONNX model needs onnxruntime alone, like detection.
"""

import importlib

if __package__.count("."):  # inside the plugin: <plugin>.training
    from ..micro_detector import __version__, boxes, engine, georef, plan, raster, source, stream, tiling  # noqa: F401
    from ..micro_detector.model import runner, spec  # noqa: F401
else:  # the installed distribution
    from micro_detector import __version__, boxes, engine, georef, plan, raster, source, stream, tiling  # noqa: F401
    from micro_detector.model import runner, spec  # noqa: F401

_TORCH_MODULES = {"head": "head", "model_io": "io", "nms": "nms", "yolov12": "yolov12"}


def __getattr__(name: str):
    """`from ._core import head` (model_io, nms, yolov12): the torch modules of the core's
    model package, imported now."""
    if name not in _TORCH_MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f"{spec.__package__}.{_TORCH_MODULES[name]}")
    globals()[name] = module
    return module
