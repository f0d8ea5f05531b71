"""The `micro_detector` Processing provider."""

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QIcon

from ..micro_detector import resources
from .algorithms.detect import DetectAlgorithm, DetectFolderAlgorithm
from .algorithms.evaluate import EvaluateAlgorithm, ExportOnnxAlgorithm
from .algorithms.training import TrainAlgorithm

ICON = resources.icon("icon.svg")


class MicroDetectorProvider(QgsProcessingProvider):
    """Provider id `micro_detector`: algorithm ids are fixed so scripts and models can rely on them."""

    def id(self):
        return "micro_detector"

    def name(self):
        return QCoreApplication.translate("MicroDetector", "Micro Object Detection")

    def longName(self):  # noqa: N802 (QGIS API)
        return self.name()

    def icon(self):
        return QIcon(str(ICON))

    def svgIconPath(self):  # noqa: N802 (QGIS API)
        return str(ICON)

    def loadAlgorithms(self):  # noqa: N802 (QGIS API)
        for algorithm in (
            DetectAlgorithm(),
            DetectFolderAlgorithm(),
            TrainAlgorithm(),
            EvaluateAlgorithm(),
            ExportOnnxAlgorithm(),
        ):
            self.addAlgorithm(algorithm)
