"""`micro_detector:detect`: find micro objects on one raster."""

from pathlib import Path

from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterVectorDestination,
    QgsProcessingUtils,
)
from qgis.PyQt.QtCore import QCoreApplication

from ...micro_detector.deps import MissingDependencyError, require


class DetectAlgorithm(QgsProcessingAlgorithm):
    INPUT = "INPUT"
    MODEL = "MODEL"
    CONF = "CONF"
    IOU = "IOU"
    MERGE = "MERGE"
    TILE = "TILE"
    OVERLAP = "OVERLAP"
    BATCH = "BATCH"
    OUTPUT = "OUTPUT"
    MERGES = ["nms", "nmm"]

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
            QgsProcessingParameterFile(self.MODEL, self.tr("Model file (.pt or .onnx)"))
        )
        number = QgsProcessingParameterNumber
        self.addParameter(number(self.CONF, self.tr("Minimum confidence"), number.Double, 0.25, False, 0.0, 1.0))
        self.addParameter(number(self.IOU, self.tr("Cross-tile merge threshold"), number.Double, 0.5, False, 0.0, 1.0))
        self.addParameter(QgsProcessingParameterEnum(self.MERGE, self.tr("Merge method"), self.MERGES, defaultValue=0))
        self.addParameter(number(self.TILE, self.tr("Tile size (model pixels, 0 = the model's)"), number.Integer, 0, False, 0, 8192))
        self.addParameter(number(self.OVERLAP, self.tr("Tile overlap (fraction)"), number.Double, 0.2, False, 0.0, 0.9))
        self.addParameter(number(self.BATCH, self.tr("Batch size"), number.Integer, 4, False, 1, 256))
        self.addParameter(
            QgsProcessingParameterVectorDestination(self.OUTPUT, self.tr("Detections"))
        )

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API)
        model = self.parameterAsFile(parameters, self.MODEL, context)
        try:
            require("onnxruntime" if model.lower().endswith(".onnx") else "torch")
            from ...micro_detector.engine import Cancelled, DetectOptions, detect
            from ...micro_detector.model.runner import open_runner
        except MissingDependencyError as error:
            raise QgsProcessingException(str(error)) from None
        layer = self.parameterAsRasterLayer(parameters, self.INPUT, context)
        if layer is None or not Path(layer.source()).exists():
            raise QgsProcessingException(self.tr("The raster must be a file GDAL can open."))
        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        if not Path(output).suffix or output.startswith("memory:"):
            output = QgsProcessingUtils.generateTempFilename("detections.gpkg")
        tile = self.parameterAsInt(parameters, self.TILE, context)
        options = DetectOptions(
            tile=tile or None, overlap=self.parameterAsDouble(parameters, self.OVERLAP, context),
            conf=self.parameterAsDouble(parameters, self.CONF, context),
            iou=self.parameterAsDouble(parameters, self.IOU, context),
            merge=self.MERGES[self.parameterAsEnum(parameters, self.MERGE, context)],
            batch=self.parameterAsInt(parameters, self.BATCH, context))

        def progress(done, total):
            feedback.setProgress(100.0 * done / max(total, 1))
            return not feedback.isCanceled()

        try:
            runner = open_runner(model, backend=options.backend, device=options.device)
            result = detect(layer.source(), output, runner=runner, weights=model, options=options,
                            progress=progress, log=feedback.pushInfo)
        except Cancelled:
            feedback.reportError(self.tr("Cancelled: nothing was written."))
            return {}
        except (ValueError, RuntimeError, OSError) as error:
            raise QgsProcessingException(str(error)) from None
        feedback.pushInfo(self.tr("{} objects found").format(len(result)))
        return {self.OUTPUT: output}
