"""The core package, imported relatively inside the QGIS plugin and absolutely elsewhere.

Inside the plugin both packages live under the plugin's package (`micro_object_detection`);
in the venv and the CLI they are top-level. Either way `training` imports the core, never
the other way round.
"""

try:  # inside the plugin package
    from ..micro_detector import __version__, boxes, engine, georef, raster, tiling  # noqa: F401
    from ..micro_detector.model import head, io as model_io, nms, runner, spec, yolov12  # noqa: F401
except ImportError:  # top-level packages (venv, CLI, tests)
    from micro_detector import __version__, boxes, engine, georef, raster, tiling  # noqa: F401
    from micro_detector.model import head, io as model_io, nms, runner, spec, yolov12  # noqa: F401
