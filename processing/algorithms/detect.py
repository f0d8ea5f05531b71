"""`micro_detector:detect`: find micro objects on one raster."""

from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingParameterFile,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterVectorDestination,
)
from qgis.PyQt.QtCore import QCoreApplication

from ...micro_detector.deps import MissingDependencyError, require


class DetectAlgorithm(QgsProcessingAlgorithm):
    INPUT = "INPUT"
    MODEL = "MODEL"
    OUTPUT = "OUTPUT"

    def tr(self, text):
        return QCoreApplication.translate("DetectAlgorithm", text)

    def createInstance(self):  # noqa: N802 (QGIS API)
        return DetectAlgorithm()

    def name(self):
        return "detect"

    def displayName(self):  # noqa: N802 (QGIS API)
        return self.tr("Detect micro objects")

    def group(self):
        return self.tr("Detection")

    def groupId(self):  # noqa: N802 (QGIS API)
        return "detection"

    def shortHelpString(self):  # noqa: N802 (QGIS API)
        return self.tr(
            "Finds small objects (boats, buildings, planes, vehicles) on a georeferenced "
            "raster with a YOLOv12 model, tile by tile, and writes one polygon per object "
            "in the raster's CRS."
        )

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS API)
        self.addParameter(QgsProcessingParameterRasterLayer(self.INPUT, self.tr("Raster")))
        self.addParameter(
            QgsProcessingParameterFile(
                self.MODEL, self.tr("Model file"), extension="pt", optional=True
            )
        )
        self.addParameter(
            QgsProcessingParameterVectorDestination(self.OUTPUT, self.tr("Detections"))
        )

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API)
        try:
            require("torch")
        except MissingDependencyError as error:
            raise QgsProcessingException(str(error)) from None
        raise QgsProcessingException(
            self.tr("The detection engine is not part of this build yet.")
        )
