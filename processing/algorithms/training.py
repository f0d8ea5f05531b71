"""`micro_detector:train`, `micro_detector:evaluate` and `micro_detector:export_onnx`."""

from __future__ import annotations

from pathlib import Path

from qgis.core import (
    QgsFeature,
    QgsFeatureSink,
    QgsField,
    QgsFields,
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterField,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterVectorLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QVariant

from ...micro_detector.model.spec import SCALES
from .base import DEVICES, MicroAlgorithm

SCALE_NAMES = list(SCALES)


class LabelsMixin:
    """Labels as xView GeoJSON + image folder, or a vector layer with a class field over rasters."""

    XVIEW, IMAGES, CLASS_MAP, VECTOR, CLASS_FIELD, RASTERS, VAL_FRACTION = (
        "XVIEW", "IMAGES", "CLASS_MAP", "VECTOR", "CLASS_FIELD", "RASTERS", "VAL_FRACTION")

    def add_label_parameters(self):
        self.addParameter(QgsProcessingParameterFile(
            self.XVIEW, self.tr("xView labels (GeoJSON with bounds_imcoords, type_id, image_id)"), optional=True,
            fileFilter="GeoJSON (*.geojson *.json)"))
        self.addParameter(QgsProcessingParameterFile(
            self.IMAGES, self.tr("Folder of the xView images"), behavior=QgsProcessingParameterFile.Folder,
            optional=True))
        self.addParameter(QgsProcessingParameterFile(
            self.CLASS_MAP, self.tr("Class mapping (classes.json; empty = the one beside the labels)"),
            optional=True, fileFilter="JSON (*.json)"))
        self.addParameter(QgsProcessingParameterVectorLayer(
            self.VECTOR, self.tr("Or: label layer (polygons or points)"),
            [QgsProcessing.TypeVectorPolygon, QgsProcessing.TypeVectorPoint], optional=True))
        self.addParameter(QgsProcessingParameterField(
            self.CLASS_FIELD, self.tr("Class field of the label layer"), parentLayerParameterName=self.VECTOR,
            optional=True))
        self.addParameter(QgsProcessingParameterMultipleLayers(
            self.RASTERS, self.tr("Rasters under the label layer"), QgsProcessing.TypeRaster, optional=True))
        number = QgsProcessingParameterNumber
        self.addParameter(number(self.VAL_FRACTION, self.tr("Validation fraction (by image, per source)"),
                                 number.Double, 0.15, False, 0.0, 0.9))

    def check_labels(self, parameters, context) -> tuple[bool, str]:
        xview = self.parameterAsFile(parameters, self.XVIEW, context)
        vector = self.parameterAsVectorLayer(parameters, self.VECTOR, context)
        if bool(xview) == bool(vector):
            return False, self.tr("Give either xView labels with their image folder, or a label layer with "
                                  "its class field and rasters.")
        if xview:
            if not Path(xview).is_file():
                return False, self.tr("Labels not found: {}").format(xview)
            images = self.parameterAsFile(parameters, self.IMAGES, context)
            if not images or not Path(images).is_dir():
                return False, self.tr("xView labels need the folder of their images.")
            mapping = self.parameterAsFile(parameters, self.CLASS_MAP, context) or str(
                Path(xview).parent / "classes.json")
            if not Path(mapping).is_file():
                return False, self.tr("No class mapping: choose one (looked for {}).").format(mapping)
        else:
            if not self.parameterAsString(parameters, self.CLASS_FIELD, context):
                return False, self.tr("Choose the class field of the label layer.")
            if not self.parameterAsLayerList(parameters, self.RASTERS, context):
                return False, self.tr("Choose the rasters the labels lie on.")
        return True, ""

    def load_labels(self, parameters, context, feedback):
        from ...training.labels import ClassMap, load_vector, load_xview

        xview = self.parameterAsFile(parameters, self.XVIEW, context)
        try:
            if xview:
                mapping = self.parameterAsFile(parameters, self.CLASS_MAP, context) or str(
                    Path(xview).parent / "classes.json")
                return load_xview(xview, self.parameterAsFile(parameters, self.IMAGES, context),
                                  ClassMap.from_file(mapping), log=feedback.pushInfo)
            vector = self.parameterAsVectorLayer(parameters, self.VECTOR, context)
            rasters = [layer.source() for layer in self.parameterAsLayerList(parameters, self.RASTERS, context)]
            return load_vector(vector.source().split("|")[0], rasters,
                               self.parameterAsString(parameters, self.CLASS_FIELD, context),
                               layer=_layer_name(vector.source()), log=feedback.pushInfo)
        except (ValueError, OSError) as error:
            raise QgsProcessingException(str(error)) from None


def _layer_name(source: str) -> str | None:
    for part in source.split("|")[1:]:
        if part.startswith("layername="):
            return part.split("=", 1)[1]
    return None


class TrainAlgorithm(LabelsMixin, MicroAlgorithm):
    NAME = "train"
    DISPLAY = "Train a detection model"
    GROUP = "Training"
    GROUP_ID = "training"
    HELP = ("Trains a YOLOv12 detector on labelled rasters: xView GeoJSON labels with their images, or any "
            "polygon/point layer with a class field over one or more rasters (what you digitised). Rasters are "
            "cut into chips (cached), augmented (mosaic, rotations, flips, scale, colour), split into training "
            "and validation by image, and trained with the YOLO loss; the best model by validation mAP50-95 is "
            "written. The run folder receives the per-epoch metrics (results.csv, results.png), the final "
            "per-class table (metrics.csv), precision-recall curves, sample images and a resumable checkpoint. "
            "On a CPU, keep the scale small (n) and the epochs few; a GPU is much faster.")
    SCALE, EPOCHS, IMGSZ, BATCH, DEVICE, GSD, WEIGHTS, RESUME, OUTPUT, RUN_FOLDER = (
        "SCALE", "EPOCHS", "IMGSZ", "BATCH", "DEVICE", "GSD", "WEIGHTS", "RESUME", "OUTPUT", "RUN_FOLDER")

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS API)
        self.add_label_parameters()
        number = QgsProcessingParameterNumber
        self.addParameter(QgsProcessingParameterEnum(self.SCALE, self.tr("Model scale"), SCALE_NAMES, defaultValue=0))
        self.addParameter(number(self.EPOCHS, self.tr("Epochs"), number.Integer, 50, False, 1, 10000))
        self.addParameter(number(self.IMGSZ, self.tr("Image (chip) size, multiple of 32"), number.Integer, 320,
                                 False, 64, 2048))
        self.addParameter(number(self.BATCH, self.tr("Batch size"), number.Integer, 16, False, 1, 1024))
        self.addParameter(QgsProcessingParameterEnum(self.DEVICE, self.tr("Device"), DEVICES, defaultValue=0))
        advanced = [
            number(self.GSD, self.tr("Train at this ground sample distance in m/px (0 = native pixels)"),
                   number.Double, 0.0, False, 0.0, 100.0),
            QgsProcessingParameterFile(self.WEIGHTS, self.tr("Start from this model file"), optional=True),
            QgsProcessingParameterFile(self.RESUME, self.tr("Resume from this checkpoint (last_checkpoint.pt)"),
                                       optional=True, fileFilter="Checkpoints (*.pt)"),
        ]
        for p in advanced:
            p.setFlags(p.flags() | p.FlagAdvanced)
            self.addParameter(p)
        self.addParameter(QgsProcessingParameterFileDestination(self.OUTPUT, self.tr("Trained model"),
                                                                "Models (*.pt)"))
        self.addParameter(QgsProcessingParameterFolderDestination(
            self.RUN_FOLDER, self.tr("Run folder (plots, metrics, checkpoint)")))
        self.addOutput(QgsProcessingOutputNumber("MAP50", self.tr("Validation mAP50")))
        self.addOutput(QgsProcessingOutputNumber("MAP50_95", self.tr("Validation mAP50-95")))

    def check_values(self, parameters, context):
        if self.parameterAsInt(parameters, self.IMGSZ, context) % 32:
            return False, self.tr("The image size must be a multiple of 32.")
        resume = self.parameterAsFile(parameters, self.RESUME, context)
        if resume and not Path(resume).is_file():
            return False, self.tr("Checkpoint not found: {}").format(resume)
        return self.check_labels(parameters, context)

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API)
        self.require("torch", "numpy")
        labels = self.load_labels(parameters, context, feedback)
        from ...micro_detector.engine import Cancelled
        from ...training.chips import ChipConfig
        from ...training.labels import split_by_image
        from ...training.trainer import TrainConfig, train

        train_set, val_set = split_by_image(labels, self.parameterAsDouble(parameters, self.VAL_FRACTION, context))
        imgsz = self.parameterAsInt(parameters, self.IMGSZ, context)
        gsd = self.parameterAsDouble(parameters, self.GSD, context)
        weights = self.parameterAsFile(parameters, self.WEIGHTS, context)
        config = TrainConfig(
            scale=SCALE_NAMES[self.parameterAsEnum(parameters, self.SCALE, context)],
            epochs=self.parameterAsInt(parameters, self.EPOCHS, context), imgsz=imgsz,
            batch=self.parameterAsInt(parameters, self.BATCH, context),
            device=DEVICES[self.parameterAsEnum(parameters, self.DEVICE, context)],
            weights=weights or None, chips=ChipConfig(size=imgsz, gsd=gsd or None),
            # no loader subprocesses inside QGIS: forking a Qt application can hang
            workers=0)
        feedback.pushInfo(self.tr("{} training and {} validation images; classes {}").format(
            len(train_set.images), len(val_set.images), ", ".join(labels.class_names)))
        output = self.parameterAsFileOutput(parameters, self.OUTPUT, context)
        run_dir = self.parameterAsString(parameters, self.RUN_FOLDER, context)
        resume = self.parameterAsFile(parameters, self.RESUME, context) or None

        def progress(fraction, text):
            feedback.setProgress(100.0 * fraction)
            feedback.setProgressText(text)

        try:
            result = train(config, train_set, val_set if val_set.images else None, run_dir, model_path=output,
                           resume=resume, log=feedback.pushInfo, progress=progress, cancel=feedback.isCanceled)
        except Cancelled:
            feedback.reportError(self.tr("Cancelled: no model was written; the run folder keeps the last "
                                         "checkpoint to resume from."))
            return {}
        except (ValueError, RuntimeError, OSError) as error:
            raise QgsProcessingException(str(error)) from None
        outputs = {self.OUTPUT: str(result.model_path), self.RUN_FOLDER: run_dir}
        if result.metrics is not None:
            feedback.pushInfo(result.metrics.table())
            overall = result.metrics.overall()
            outputs.update({"MAP50": overall["mAP50"], "MAP50_95": overall["mAP50-95"]})
        return outputs


class EvaluateAlgorithm(LabelsMixin, MicroAlgorithm):
    NAME = "evaluate"
    DISPLAY = "Evaluate a detection model"
    GROUP = "Training"
    GROUP_ID = "training"
    HELP = ("Runs a model over labelled rasters with the same tiled detection as the Detect algorithm and "
            "gives per class and overall: images, instances, precision, recall, mAP at IoU 0.5 and mAP at IoU "
            "0.5:0.95 (COCO 101-point interpolation). A class is scored only on images that annotate it. "
            "Outputs the table and an HTML report with precision-recall curves and sample images.")
    MODEL, ONLY_VAL, CONF, OUTPUT, REPORT = "MODEL", "ONLY_VAL", "CONF", "OUTPUT", "REPORT"

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS API)
        self.addParameter(QgsProcessingParameterFile(
            self.MODEL, self.tr("Model file (.pt or .onnx; empty = the bundled default model)"), optional=True))
        self.add_label_parameters()
        self.addParameter(QgsProcessingParameterBoolean(
            self.ONLY_VAL, self.tr("Only the validation images of the split"), defaultValue=False))
        number = QgsProcessingParameterNumber
        p = number(self.CONF, self.tr("Lowest confidence considered"), number.Double, 0.001, False, 0.0, 1.0)
        p.setFlags(p.flags() | p.FlagAdvanced)
        self.addParameter(p)
        self.addParameter(QgsProcessingParameterFeatureSink(self.OUTPUT, self.tr("Metrics per class"),
                                                            QgsProcessing.TypeVector))
        self.addParameter(QgsProcessingParameterFileDestination(self.REPORT, self.tr("Report"),
                                                                "HTML files (*.html)"))

    def check_values(self, parameters, context):
        ok, message = self.check_model_file(self.parameterAsFile(parameters, self.MODEL, context))
        return (ok, message) if not ok else self.check_labels(parameters, context)

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API)
        model = self.model_path(self.parameterAsFile(parameters, self.MODEL, context))
        self.require("onnxruntime" if model.lower().endswith(".onnx") else "torch", "numpy")
        labels = self.load_labels(parameters, context, feedback)
        from ...micro_detector.engine import Cancelled
        from ...training.evaluate import EvalOptions, evaluate_model_file
        from ...training.labels import split_by_image

        if self.parameterAsBool(parameters, self.ONLY_VAL, context):
            labels = split_by_image(labels, self.parameterAsDouble(parameters, self.VAL_FRACTION, context))[1]
        if not labels.images:
            raise QgsProcessingException(self.tr("No image to evaluate on."))
        report = self.parameterAsFileOutput(parameters, self.REPORT, context)
        out_dir = Path(report).parent
        try:
            metrics = evaluate_model_file(
                model, labels, out_dir, EvalOptions(conf=self.parameterAsDouble(parameters, self.CONF, context)),
                progress=self.progress(feedback), log=feedback.pushInfo)
        except Cancelled:
            feedback.reportError(self.tr("Cancelled."))
            return {}
        except (ValueError, RuntimeError, OSError) as error:
            raise QgsProcessingException(str(error)) from None
        written = out_dir / "report.html"
        if written != Path(report):
            written.replace(report)
        feedback.pushInfo(metrics.table())
        fields = QgsFields()
        for name, kind in (("class", QVariant.String), ("images", QVariant.Int), ("instances", QVariant.Int),
                           ("precision", QVariant.Double), ("recall", QVariant.Double), ("mAP50", QVariant.Double),
                           ("mAP50_95", QVariant.Double)):
            fields.append(QgsField(name, kind))
        sink, sink_id = self.parameterAsSink(parameters, self.OUTPUT, context, fields, QgsWkbTypes.NoGeometry)
        for row in metrics.rows():
            feature = QgsFeature(fields)
            feature.setAttributes([row["class"], row["images"], row["instances"], row["precision"], row["recall"],
                                   row["mAP50"], row["mAP50-95"]])
            sink.addFeature(feature, QgsFeatureSink.FastInsert)
        return {self.OUTPUT: sink_id, self.REPORT: report}


class ExportOnnxAlgorithm(MicroAlgorithm):
    NAME = "export_onnx"
    DISPLAY = "Export a model to ONNX"
    GROUP = "Models"
    GROUP_ID = "models"
    HELP = ("Exports a model file to ONNX with the box decoding inside the graph and the model description "
            "(classes, bands, input size, GSD) in its metadata. The ONNX file runs with ONNX Runtime alone, "
            "without PyTorch, in Detect and elsewhere. Batch, height and width stay dynamic unless a fixed "
            "size is asked for.")
    MODEL, STATIC, OUTPUT = "MODEL", "STATIC", "OUTPUT"

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS API)
        self.addParameter(QgsProcessingParameterFile(
            self.MODEL, self.tr("Model file (.pt; empty = the bundled default model)"), optional=True))
        self.addParameter(QgsProcessingParameterBoolean(self.STATIC, self.tr("Fixed height and width"),
                                                        defaultValue=False))
        self.addParameter(QgsProcessingParameterFileDestination(self.OUTPUT, self.tr("ONNX file"),
                                                                "ONNX (*.onnx)"))

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
            export_onnx(load_model(model), output,
                        dynamic_spatial=not self.parameterAsBool(parameters, self.STATIC, context))
        except (ValueError, RuntimeError, OSError) as error:
            raise QgsProcessingException(str(error)) from None
        feedback.setProgress(100)
        return {self.OUTPUT: output}
