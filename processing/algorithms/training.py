"""`micro_detector:train`, and the label parameters train and evaluate share."""

from __future__ import annotations

from pathlib import Path

from qgis.core import (
    QgsProcessing,
    QgsProcessingOutputNumber,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterField,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRange,
    QgsProcessingParameterVectorLayer,
)

from ...micro_detector.model.spec import SCALES
from ...micro_detector.options import field_default
from ...micro_detector.training.config import AugmentConfig, TrainConfig
from ...micro_detector.training.start import SCRATCH_MIN_IMAGES, SCRATCH_MIN_OBJECTS, START_CHOICES, choose_start
from ..profile import default_training_paths
from .base import DEVICES, MicroAlgorithm, default_model, processing_error
from .detect_options import device_labels

SCALE_NAMES = list(SCALES)


def train_default(name: str):
    """A TrainConfig default: every training default is written once, in micro_detector/training/config.py."""
    return field_default(TrainConfig, name)


class LabelsMixin:
    """Labels as xView GeoJSON + image folder, YOLO / DOTA / COCO / VOC files (the importers), or a
    vector layer with a class field over rasters."""

    XVIEW, IMAGES, CLASS_MAP, VECTOR, CLASS_FIELD, RASTERS, VAL_FRACTION = (
        "XVIEW",
        "IMAGES",
        "CLASS_MAP",
        "VECTOR",
        "CLASS_FIELD",
        "RASTERS",
        "VAL_FRACTION",
    )
    LABELS, LABELS_FORMAT, IMAGE_GSD = "LABELS", "LABELS_FORMAT", "IMAGE_GSD"
    LABEL_FORMATS = ["auto", "yolo", "dota", "coco", "voc"]

    def add_label_parameters(self):
        self.addParameter(
            QgsProcessingParameterFile(
                self.XVIEW,
                self.tr("xView labels (GeoJSON with bounds_imcoords, type_id, image_id)"),
                optional=True,
                fileFilter="GeoJSON (*.geojson *.json)",
            )
        )
        self.addParameter(
            QgsProcessingParameterFile(
                self.LABELS,
                self.tr("Or: YOLO data.yaml, COCO .json, or a DOTA .txt / VOC .xml file (its whole folder is read)"),
                optional=True,
                fileFilter="All files (*)",
            )
        )
        self.addParameter(
            QgsProcessingParameterEnum(
                self.LABELS_FORMAT, self.tr("Format of those labels"), self.LABEL_FORMATS, defaultValue=0
            )
        )
        self.addParameter(
            QgsProcessingParameterFile(
                self.IMAGES,
                self.tr("Folder of the images (xView; DOTA; COCO and VOC when not beside the labels)"),
                behavior=QgsProcessingParameterFile.Behavior.Folder,
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterFile(
                self.CLASS_MAP,
                self.tr(
                    "Class mapping (xView: classes.json, empty = the one beside the labels; "
                    "YOLO/DOTA/COCO/VOC: source name -> class JSON, empty = the bundled one)"
                ),
                optional=True,
                fileFilter="JSON (*.json)",
            )
        )
        number = QgsProcessingParameterNumber
        gsd = number(
            self.IMAGE_GSD,
            self.tr("GSD (m/px) of label images that state none (JPEG / PNG)"),
            number.Double,
            None,
            True,
            0.0,
        )
        gsd.setFlags(gsd.flags() | QgsProcessingParameterDefinition.Flag.FlagAdvanced)
        self.addParameter(gsd)
        self.addParameter(
            QgsProcessingParameterVectorLayer(
                self.VECTOR,
                self.tr("Or: label layer (polygons or points)"),
                [QgsProcessing.SourceType.TypeVectorPolygon, QgsProcessing.SourceType.TypeVectorPoint],
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterField(
                self.CLASS_FIELD,
                self.tr("Class field of the label layer"),
                parentLayerParameterName=self.VECTOR,
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterMultipleLayers(
                self.RASTERS,
                self.tr("Rasters under the label layer"),
                QgsProcessing.SourceType.TypeRaster,
                optional=True,
            )
        )
        number = QgsProcessingParameterNumber
        self.addParameter(
            number(
                self.VAL_FRACTION,
                self.tr("Validation fraction (by image, per source)"),
                number.Double,
                0.15,
                False,
                0.0,
                0.9,
            )
        )

    def check_labels(self, parameters, context) -> tuple[bool, str]:
        xview = self.parameterAsFile(parameters, self.XVIEW, context)
        vector = self.parameterAsVectorLayer(parameters, self.VECTOR, context)
        labels = self.parameterAsFile(parameters, self.LABELS, context)
        if sum(map(bool, (xview, vector, labels))) != 1:
            return False, self.tr(
                "Give one kind of labels: xView labels with their image folder, YOLO / DOTA / "
                "COCO / VOC labels, or a label layer with its class field and rasters."
            )
        if labels:
            return (True, "") if Path(labels).exists() else (False, self.tr("Labels not found: {}").format(labels))
        if xview:
            if not Path(xview).is_file():
                return False, self.tr("Labels not found: {}").format(xview)
            images = self.parameterAsFile(parameters, self.IMAGES, context)
            if not images or not Path(images).is_dir():
                return False, self.tr("xView labels need the folder of their images.")
            mapping = self.parameterAsFile(parameters, self.CLASS_MAP, context) or str(
                Path(xview).parent / "classes.json"
            )
            if not Path(mapping).is_file():
                return False, self.tr("No class mapping: choose one (looked for {}).").format(mapping)
        else:
            if not self.parameterAsString(parameters, self.CLASS_FIELD, context):
                return False, self.tr("Choose the class field of the label layer.")
            if not self.parameterAsLayerList(parameters, self.RASTERS, context):
                return False, self.tr("Choose the rasters the labels lie on.")
        return True, ""

    def load_labels(self, parameters, context, feedback):
        from ...micro_detector.training.labels import ClassMap, load_vector, load_xview

        xview = self.parameterAsFile(parameters, self.XVIEW, context)
        labels = self.parameterAsFile(parameters, self.LABELS, context)
        try:
            if labels:
                return self.load_imported_labels(labels, parameters, context, feedback)
            if xview:
                mapping = self.parameterAsFile(parameters, self.CLASS_MAP, context) or str(
                    Path(xview).parent / "classes.json"
                )
                return load_xview(
                    xview,
                    self.parameterAsFile(parameters, self.IMAGES, context),
                    ClassMap.from_file(mapping),
                    log=feedback.pushInfo,
                )
            vector = self.parameterAsVectorLayer(parameters, self.VECTOR, context)
            rasters = [layer.source() for layer in self.parameterAsLayerList(parameters, self.RASTERS, context)]
            return load_vector(
                vector.source().split("|")[0],
                rasters,
                self.parameterAsString(parameters, self.CLASS_FIELD, context),
                layer=_layer_name(vector.source()),
                log=feedback.pushInfo,
            )
        except (ValueError, OSError) as error:
            raise processing_error(str(error)) from None

    def load_imported_labels(self, labels: str, parameters, context, feedback):
        """The LabelSet of YOLO / DOTA / COCO / VOC labels (training/importers/load.py)."""
        from ...micro_detector.training.importers import load_imported

        fmt = self.LABEL_FORMATS[self.parameterAsEnum(parameters, self.LABELS_FORMAT, context)]
        if Path(labels).suffix.lower() in (".txt", ".xml"):  # a file picked in the dialog stands for its folder
            labels = str(Path(labels).parent)
        gsd = parameters.get(self.IMAGE_GSD)
        gsd = self.parameterAsDouble(parameters, self.IMAGE_GSD, context) if gsd not in (None, "") else None
        return load_imported(
            labels,
            fmt,
            self.parameterAsFile(parameters, self.IMAGES, context) or None,
            self.parameterAsFile(parameters, self.CLASS_MAP, context) or None,
            gsd or None,
            log=feedback.pushInfo,
        )


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
    HELP = (
        "Trains a YOLOv12 detector on labelled rasters: xView GeoJSON labels with their images; YOLO (data.yaml), "
        "DOTA, COCO or Pascal VOC labels, their class names mapped onto the model's classes by a class "
        "mapping (unmapped names are skipped and counted in the log); or any polygon/point layer with a class field over one or more rasters (what you digitised). Rasters are "
        "cut into chips (cached), augmented (mosaic, rotations, flips, scale, colour), split into training "
        "and validation by image, and trained with the YOLO loss; the best model by validation mAP50-95 is "
        "written. By default the model and the run folder go into micro_detector/models and "
        "micro_detector/runs in your QGIS profile folder, where they stay after QGIS closes. The run "
        "folder receives the per-epoch metrics (results.csv, results.png), the final per-class table "
        "(metrics.csv), precision-recall curves, sample images and a resumable checkpoint. Start from: "
        "the bundled model (fine-tuning) learns from a few images; random weights need much more data "
        "(at least 20 images and 500 labelled objects), else the mAP stays near 0. Automatic picks the "
        "bundled model below that size. On a CPU, keep the scale small (n) and the epochs few; a GPU "
        "is much faster. Advanced: the repeat threshold shows chips of rare classes more often (with "
        "0.3, chips of a class found in 1% of the chips 5.5 times per epoch); a range of ground sample distances shows each chip at a random "
        "GSD in it, and the model then serves rasters in that range at their own pixels (others are "
        "resampled to it); object sizes also zoom chips so that their objects appear at sizes drawn in "
        "that range, whatever the source's GSD (half the zooms each when both are set)."
    )
    START_AUTO, START_BUNDLED, START_SCRATCH = 0, 1, 2
    SCALE, EPOCHS, IMGSZ, BATCH, DEVICE, GSD, START, WEIGHTS, RESUME, OUTPUT, RUN_FOLDER = (
        "SCALE",
        "EPOCHS",
        "IMGSZ",
        "BATCH",
        "DEVICE",
        "GSD",
        "START",
        "WEIGHTS",
        "RESUME",
        "OUTPUT",
        "RUN_FOLDER",
    )
    REPEAT, GSD_RANGE, OBJECT_SIZES = "REPEAT_THRESHOLD", "GSD_RANGE", "OBJECT_SIZES"

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS API)
        self.add_label_parameters()
        number = QgsProcessingParameterNumber
        self.addParameter(
            QgsProcessingParameterEnum(
                self.SCALE, self.tr("Model scale"), SCALE_NAMES, defaultValue=SCALE_NAMES.index(train_default("scale"))
            )
        )
        self.addParameter(
            number(self.EPOCHS, self.tr("Epochs"), number.Integer, train_default("epochs"), False, 1, 10000)
        )
        self.addParameter(
            number(
                self.IMGSZ,
                self.tr("Image (chip) size, multiple of 32"),
                number.Integer,
                train_default("imgsz"),
                False,
                64,
                2048,
            )
        )
        self.addParameter(
            number(self.BATCH, self.tr("Batch size"), number.Integer, train_default("batch"), False, 1, 1024)
        )
        self.addParameter(
            QgsProcessingParameterEnum(self.DEVICE, self.tr("Device"), device_labels(self.tr), defaultValue=0)
        )
        self.addParameter(
            QgsProcessingParameterEnum(
                self.START,
                self.tr("Start from"),
                [
                    self.tr("Automatic: the bundled model for small data, else random weights"),
                    self.tr("The bundled model (fine-tuning)"),
                    self.tr("Random weights (from scratch)"),
                ],
                defaultValue=self.START_AUTO,
            )
        )
        advanced = [
            number(
                self.GSD,
                self.tr("Train at this ground sample distance in m/px (0 = native pixels)"),
                number.Double,
                0.0,
                False,
                0.0,
                100.0,
            ),
            number(
                self.REPEAT,
                self.tr("Balance rare classes: repeat threshold (0 = off; e.g. 0.3)"),
                number.Double,
                train_default("repeat_threshold"),
                False,
                0.0,
                1.0,
            ),
            QgsProcessingParameterRange(
                self.GSD_RANGE,
                self.tr("Range of ground sample distances to train over, m/px (empty = off)"),
                number.Double,
                None,
                True,
            ),
            QgsProcessingParameterRange(
                self.OBJECT_SIZES,
                self.tr("Object sizes to also train at, pixels (empty = off; e.g. 8 to 64)"),
                number.Double,
                None,
                True,
            ),
            QgsProcessingParameterFile(
                self.WEIGHTS, self.tr("Start from this model file (instead of the choice above)"), optional=True
            ),
            QgsProcessingParameterFile(
                self.RESUME,
                self.tr("Resume from this checkpoint (last_checkpoint.pt)"),
                optional=True,
                fileFilter="Checkpoints (*.pt)",
            ),
        ]
        for p in advanced:
            p.setFlags(p.flags() | QgsProcessingParameterDefinition.Flag.FlagAdvanced)
            self.addParameter(p)
        # defaults in the profile, stamped when the dialog opens: temporary outputs die with QGIS
        model, run = default_training_paths()
        self.addParameter(
            QgsProcessingParameterFileDestination(self.OUTPUT, self.tr("Trained model"), "Models (*.pt)", str(model))
        )
        self.addParameter(
            QgsProcessingParameterFolderDestination(
                self.RUN_FOLDER, self.tr("Run folder (plots, metrics, checkpoint)"), str(run)
            )
        )
        self.addOutput(QgsProcessingOutputNumber("MAP50", self.tr("Validation mAP50")))
        self.addOutput(QgsProcessingOutputNumber("MAP50_95", self.tr("Validation mAP50-95")))

    def check_values(self, parameters, context):
        if self.parameterAsInt(parameters, self.IMGSZ, context) % 32:
            return False, self.tr("The image size must be a multiple of 32.")
        resume = self.parameterAsFile(parameters, self.RESUME, context)
        if resume and not Path(resume).is_file():
            return False, self.tr("Checkpoint not found: {}").format(resume)
        weights = self.parameterAsFile(parameters, self.WEIGHTS, context)
        if weights and not Path(weights).is_file():
            return False, self.tr("Model file not found: {}").format(weights)
        for name, what in [(self.GSD_RANGE, self.tr("GSD range")), (self.OBJECT_SIZES, self.tr("Object sizes"))]:
            if self.range_value(parameters, name, context) is False:
                return False, self.tr("{}: give a minimum and a maximum with 0 < minimum <= maximum.").format(what)
        if self.range_value(parameters, self.GSD_RANGE, context) and self.parameterAsDouble(
            parameters, self.GSD, context
        ):
            return False, self.tr("Give either one training GSD or a GSD range, not both.")
        if (
            self.parameterAsEnum(parameters, self.START, context) == self.START_BUNDLED
            and not weights
            and default_model() is None
        ):
            return False, self.tr("No bundled model to start from: choose a model file or random weights.")
        return self.check_labels(parameters, context)

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API)
        self.require("torch", "numpy")
        labels = self.load_labels(parameters, context, feedback)
        from ...micro_detector.engine import Cancelled
        from ...micro_detector.training.chips import ChipConfig
        from ...micro_detector.training.labels import split_by_image
        from ...micro_detector.training.trainer import TrainConfig, train

        train_set, val_set = split_by_image(labels, self.parameterAsDouble(parameters, self.VAL_FRACTION, context))
        imgsz = self.parameterAsInt(parameters, self.IMGSZ, context)
        gsd = self.parameterAsDouble(parameters, self.GSD, context)
        weights, scale = self.start_weights(parameters, context, labels, feedback)
        config = TrainConfig(
            scale=scale,
            epochs=self.parameterAsInt(parameters, self.EPOCHS, context),
            imgsz=imgsz,
            batch=self.parameterAsInt(parameters, self.BATCH, context),
            device=DEVICES[self.parameterAsEnum(parameters, self.DEVICE, context)],
            weights=weights or None,
            chips=ChipConfig(size=imgsz, gsd=gsd or None),
            repeat_threshold=self.parameterAsDouble(parameters, self.REPEAT, context),
            augment=AugmentConfig(
                gsd_range=self.range_value(parameters, self.GSD_RANGE, context),
                object_sizes=self.range_value(parameters, self.OBJECT_SIZES, context),
            ),
            # no loader subprocesses inside QGIS: forking a Qt application can hang
            workers=0,
        )
        feedback.pushInfo(
            self.tr("{} training and {} validation images; classes {}").format(
                len(train_set.images), len(val_set.images), ", ".join(labels.class_names)
            )
        )
        output = self.parameterAsFileOutput(parameters, self.OUTPUT, context)
        run_dir = self.parameterAsString(parameters, self.RUN_FOLDER, context)
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        resume = self.parameterAsFile(parameters, self.RESUME, context) or None

        def progress(fraction, text):
            feedback.setProgress(100.0 * fraction)
            feedback.setProgressText(text)

        try:
            result = train(
                config,
                train_set,
                val_set if val_set.images else None,
                run_dir,
                model_path=output,
                resume=resume,
                log=feedback.pushInfo,
                progress=progress,
                cancel=feedback.isCanceled,
            )
        except Cancelled:
            feedback.reportError(
                self.tr("Cancelled: no model was written; the run folder keeps the last checkpoint to resume from.")
            )
            return {}
        except (ValueError, RuntimeError, OSError) as error:
            raise processing_error(str(error)) from None
        outputs = {self.OUTPUT: str(result.model_path), self.RUN_FOLDER: run_dir}
        if result.metrics is not None:
            feedback.pushInfo(result.metrics.table())
            overall = result.metrics.overall()
            outputs.update({"MAP50": overall["mAP50"], "MAP50_95": overall["mAP50-95"]})
        return outputs

    def range_value(self, parameters, name, context):
        """(min, max) of an optional range parameter; None when empty, False when not a
        valid range (text that is not two numbers, min > max, or not positive)."""
        raw = parameters.get(name)
        # left empty, the dialog and processing.run give None, '' or 'None,None' (QGIS 3.22)
        if (
            raw is None
            or raw == []
            or (isinstance(raw, str) and all(v.strip() in ("", "None") for v in raw.split(",")))
        ):
            return None
        lo, hi = self.parameterAsRange(parameters, name, context)
        if not (0 < lo <= hi):  # also False for NaN, what QGIS gives for text it cannot read
            return False
        return float(lo), float(hi)

    def start_weights(self, parameters, context, labels, feedback) -> tuple[str | None, str]:
        """(model file to start from or None, scale): the user's file, the bundled model or
        random weights, by the policy of training/start.py (the CLI's `train --start`), with a
        warning when the data is too small for random weights."""
        scale = SCALE_NAMES[self.parameterAsEnum(parameters, self.SCALE, context)]
        images, objects = len(labels.images), sum(labels.instances().values())
        try:
            start = choose_start(
                START_CHOICES[self.parameterAsEnum(parameters, self.START, context)],
                self.parameterAsFile(parameters, self.WEIGHTS, context) or None,
                scale,
                images,
                objects,
                default_model(),
            )
        except (ValueError, OSError) as error:
            raise processing_error(str(error)) from None
        if start.asked_scale is not None:  # weights transfer only between networks of one scale
            message = self.tr("The bundled model is scale {}: training at scale {}, not {}.").format(
                start.scale, start.scale, scale
            )
            # a scale left at its default is no choice of the user's: said, not warned
            chosen = parameters.get(self.SCALE) is not None and scale != train_default("scale")
            (feedback.pushWarning if chosen else feedback.pushInfo)(message)
        if start.bundled:
            feedback.pushInfo(self.tr("Starting from the bundled model (fine-tuning): {}").format(start.weights))
        if start.too_small:
            feedback.pushWarning(
                self.tr(
                    "Only {} images and {} labelled objects: too few to train from random weights (at least {} "
                    "images and {} objects); the mAP will likely stay near 0. Start from the bundled model "
                    "instead."
                ).format(images, objects, SCRATCH_MIN_IMAGES, SCRATCH_MIN_OBJECTS)
            )
        return start.weights, start.scale
