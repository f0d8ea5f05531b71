"""`micro_detector:evaluate` and `micro_detector:export_onnx`."""

from __future__ import annotations

from pathlib import Path

from qgis.core import (
    QgsFeature,
    QgsFeatureSink,
    QgsField,
    QgsFields,
    QgsProcessing,
    QgsProcessingOutputFile,
    QgsProcessingOutputHtml,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterNumber,
    QgsWkbTypes,
)

from ..qt_compat import FIELD_TYPES
from .base import MicroAlgorithm, processing_error
from .training import LabelsMixin

# the algorithm's outputs for the files training.evaluate writes into the folder (its key -> output)
OUTPUT_FILES = {
    "report": "REPORT",
    "metrics_csv": "METRICS_CSV",
    "metrics_json": "METRICS_JSON",
    "sizes_csv": "SIZES_CSV",
    "confusion_csv": "CONFUSION_CSV",
    "pr_curve": "PR_CURVE",
    "samples": "SAMPLES",
}


class EvaluateAlgorithm(LabelsMixin, MicroAlgorithm):
    NAME = "evaluate"
    DISPLAY = "Evaluate a detection model"
    GROUP = "Training"
    GROUP_ID = "training"
    HELP = (
        "Runs a model over labelled rasters with the same tiled detection as the Detect algorithm and "
        "gives per class and overall: images, instances, precision, recall, mAP at IoU 0.5 and mAP at IoU "
        "0.5:0.95 (COCO 101-point interpolation). A class is scored only on images that annotate it. "
        "Besides the table, everything goes into the evaluation folder, and each file is also an output "
        "of the algorithm: report.html (opens in the results viewer), metrics.csv and metrics.json (the "
        "table), metrics_sizes.csv (AP by object size), metrics_confusion.csv (which class is taken for "
        "which), PR_curve.png (precision-recall curves) and val_images.png (sample images with true "
        "boxes in green and detections in red)."
    )
    MODEL, ONLY_VAL, CONF, OUTPUT, FOLDER = "MODEL", "ONLY_VAL", "CONF", "OUTPUT", "FOLDER"

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS API)
        self.addParameter(
            QgsProcessingParameterFile(
                self.MODEL, self.tr("Model file (.pt or .onnx; empty = the bundled default model)"), optional=True
            )
        )
        self.add_label_parameters()
        self.addParameter(
            QgsProcessingParameterBoolean(
                self.ONLY_VAL, self.tr("Only the validation images of the split"), defaultValue=False
            )
        )
        number = QgsProcessingParameterNumber
        p = number(self.CONF, self.tr("Lowest confidence considered"), number.Double, 0.001, False, 0.0, 1.0)
        p.setFlags(p.flags() | QgsProcessingParameterDefinition.Flag.FlagAdvanced)
        self.addParameter(p)
        self.addParameter(
            QgsProcessingParameterFeatureSink(
                self.OUTPUT, self.tr("Metrics per class"), QgsProcessing.SourceType.TypeVector
            )
        )
        self.addParameter(
            QgsProcessingParameterFolderDestination(
                self.FOLDER, self.tr("Evaluation folder (report, metrics, curves, sample images)")
            )
        )
        self.addOutput(QgsProcessingOutputHtml("REPORT", self.tr("Evaluation report")))
        self.addOutput(QgsProcessingOutputFile("METRICS_CSV", self.tr("Metrics table (CSV)")))
        self.addOutput(QgsProcessingOutputFile("METRICS_JSON", self.tr("Metrics table (JSON)")))
        self.addOutput(QgsProcessingOutputFile("SIZES_CSV", self.tr("AP by object size (CSV)")))
        self.addOutput(QgsProcessingOutputFile("CONFUSION_CSV", self.tr("Class confusions (CSV)")))
        self.addOutput(QgsProcessingOutputFile("PR_CURVE", self.tr("Precision-recall curves (PNG)")))
        self.addOutput(QgsProcessingOutputFile("SAMPLES", self.tr("Sample images with boxes (PNG)")))

    def check_values(self, parameters, context):
        ok, message = self.check_model_file(self.parameterAsFile(parameters, self.MODEL, context))
        return (ok, message) if not ok else self.check_labels(parameters, context)

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API)
        model = self.model_path(self.parameterAsFile(parameters, self.MODEL, context))
        self.require("onnxruntime" if model.lower().endswith(".onnx") else "torch", "numpy")
        labels = self.load_labels(parameters, context, feedback)
        from ...micro_detector.engine import Cancelled
        from ...micro_detector.training.evaluate import EvalOptions, eval_detect_options, evaluate_model_file
        from ...micro_detector.training.labels import split_by_image
        from ..profile import export_cache_folder

        if self.parameterAsBool(parameters, self.ONLY_VAL, context):
            labels = split_by_image(labels, self.parameterAsDouble(parameters, self.VAL_FRACTION, context))[1]
        if not labels.images:
            raise processing_error(self.tr("No image to evaluate on."))
        folder = Path(self.parameterAsString(parameters, self.FOLDER, context))
        folder.mkdir(parents=True, exist_ok=True)
        try:
            metrics = evaluate_model_file(
                model,
                labels,
                folder,
                EvalOptions(eval_detect_options(conf=self.parameterAsDouble(parameters, self.CONF, context))),
                progress=self.progress(feedback),
                log=feedback.pushInfo,
                cache_dir=export_cache_folder(),
            )
        except Cancelled:
            feedback.reportError(self.tr("Cancelled."))
            return {}
        except (ValueError, RuntimeError, OSError) as error:
            raise processing_error(str(error)) from None
        feedback.pushInfo(metrics.table())
        outputs = {self.OUTPUT: self._write_table(metrics, parameters, context), self.FOLDER: str(folder)}
        # the files written (the plots need matplotlib: one not made is left out)
        outputs.update(
            {OUTPUT_FILES[k]: path for k, path in (getattr(metrics, "files", None) or {}).items() if k in OUTPUT_FILES}
        )
        return outputs

    def _write_table(self, metrics, parameters, context) -> str:
        fields = QgsFields()
        for name, kind in (
            ("class", "string"),
            ("images", "int"),
            ("instances", "int"),
            ("precision", "double"),
            ("recall", "double"),
            ("mAP50", "double"),
            ("mAP50_95", "double"),
        ):
            fields.append(QgsField(name, FIELD_TYPES[kind]))
        sink, sink_id = self.parameterAsSink(parameters, self.OUTPUT, context, fields, QgsWkbTypes.Type.NoGeometry)
        for row in metrics.rows():
            feature = QgsFeature(fields)
            feature.setAttributes(
                [
                    row["class"],
                    row["images"],
                    row["instances"],
                    row["precision"],
                    row["recall"],
                    row["mAP50"],
                    row["mAP50-95"],
                ]
            )
            sink.addFeature(feature, QgsFeatureSink.Flag.FastInsert)
        return sink_id


class ExportOnnxAlgorithm(MicroAlgorithm):
    NAME = "export_onnx"
    DISPLAY = "Export a model to ONNX"
    GROUP = "Models"
    GROUP_ID = "models"
    HELP = (
        "Exports a model file to ONNX with the box decoding inside the graph and the model description "
        "(classes, bands, input size, GSD) in its metadata. The ONNX file runs with ONNX Runtime alone, "
        "without PyTorch, in Detect and elsewhere. Batch, height and width stay dynamic unless a fixed "
        "size is asked for."
    )
    MODEL, STATIC, OUTPUT = "MODEL", "STATIC", "OUTPUT"

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS API)
        self.addParameter(
            QgsProcessingParameterFile(
                self.MODEL, self.tr("Model file (.pt; empty = the bundled default model)"), optional=True
            )
        )
        self.addParameter(
            QgsProcessingParameterBoolean(self.STATIC, self.tr("Fixed height and width"), defaultValue=False)
        )
        self.addParameter(QgsProcessingParameterFileDestination(self.OUTPUT, self.tr("ONNX file"), "ONNX (*.onnx)"))

    def check_values(self, parameters, context):
        model = self.parameterAsFile(parameters, self.MODEL, context)
        if model and model.lower().endswith(".onnx"):
            return False, self.tr("This model is already an ONNX file.")
        return self.check_model_file(model)

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API)
        model = self.model_path(self.parameterAsFile(parameters, self.MODEL, context))
        self.require("torch", "onnx")
        from ...micro_detector.model.io import load_model
        from ...micro_detector.model.onnx_io import export_onnx

        output = self.parameterAsFileOutput(parameters, self.OUTPUT, context)
        try:
            export_onnx(
                load_model(model), output, dynamic_spatial=not self.parameterAsBool(parameters, self.STATIC, context)
            )
        except (ValueError, RuntimeError, OSError) as error:
            raise processing_error(str(error)) from None
        feedback.setProgress(100)
        return {self.OUTPUT: output}
