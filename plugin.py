"""The plugin object: registers the Processing provider and removes it on unload."""

from qgis.core import QgsApplication

from .processing.provider import MicroDetectorProvider


class MicroDetectorPlugin:
    """QGIS plugin holding the `micro_detector` Processing provider."""

    def __init__(self, iface):
        self.iface = iface
        self.provider = None

    def initProcessing(self):  # noqa: N802 (QGIS API)
        """Register the provider; QGIS calls this alone for qgis_process (hasProcessingProvider)."""
        if self.provider is None:
            self.provider = MicroDetectorProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):  # noqa: N802 (QGIS API)
        self.initProcessing()

    def unload(self):
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
