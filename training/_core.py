"""The core package, as the training package reaches it.

Installed (pip, the venv, the CLI), `training` and `micro_detector` are two top-level
packages of one distribution, and training imports the core by name. Inside the QGIS
plugin both are subpackages of the plugin's package (`micro_object_detection`), which is
never importable under the bare names, so the plugin's own copy is imported relatively.
Either way `training` imports the core, never the other way round.
"""

if __package__.count("."):  # inside the plugin: <plugin>.training
    from ..micro_detector import __version__, boxes, engine, georef, plan, raster, source, stream, tiling  # noqa: F401
    from ..micro_detector.model import head, io as model_io, nms, runner, spec, yolov12  # noqa: F401
else:  # the installed distribution
    from micro_detector import __version__, boxes, engine, georef, plan, raster, source, stream, tiling  # noqa: F401
    from micro_detector.model import head, io as model_io, nms, runner, spec, yolov12  # noqa: F401
