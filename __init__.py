"""Micro Object Detection: QGIS plugin entry point.

The repository root is the plugin folder. QGIS imports this package and calls
`classFactory`; nothing heavy (torch, onnxruntime) is imported here.
"""


def classFactory(iface):  # noqa: N802 (name fixed by QGIS)
    """Return the plugin object QGIS asks for."""
    from .plugin import MicroDetectorPlugin

    return MicroDetectorPlugin(iface)
