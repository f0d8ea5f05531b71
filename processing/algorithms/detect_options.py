"""The detection parameters `detect` and `detect_folder` share, and their translation to
the engine's DetectOptions."""

from __future__ import annotations

from qgis.core import (
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from ...micro_detector.model.spec import DEFAULT_CLASSES
from ...micro_detector.options import PRECISIONS
from ...micro_detector.options import option_default as default  # every default written once
from .base import DEVICES, processing_error

MERGES = ["nms", "nmm"]
MATCHES = ["iou", "ios"]
# detection only (training stays on torch devices); appended, so saved indexes keep their meaning
DETECT_DEVICES = DEVICES + ["intel:gpu", "intel:npu"]


class DetectOptionsMixin:
    """The parameters detect and detect_folder share, and their translation to DetectOptions."""

    MODEL, CONF, IOU, MERGE, MATCH, TILE, OVERLAP, BATCH, DEVICE = (
        "MODEL", "CONF", "IOU", "MERGE", "MATCH", "TILE", "OVERLAP", "BATCH", "DEVICE")
    CLASSES, OTHER_CLASSES, RESAMPLE, SCALE, BANDS = "CLASSES", "OTHER_CLASSES", "RESAMPLE", "SCALE", "BANDS"
    AGNOSTIC, ZOOM, PRECISION = "AGNOSTIC", "ZOOM", "PRECISION"

    def add_detect_parameters(self):
        number = QgsProcessingParameterNumber
        self.addParameter(QgsProcessingParameterFile(
            self.MODEL, self.tr("Model file (.pt or .onnx; empty = the bundled default model)"),
            optional=True))
        self.addParameter(number(self.CONF, self.tr("Minimum confidence"), number.Double, default("conf"), False, 0.0, 1.0))
        self.addParameter(number(self.IOU, self.tr("Cross-tile merge threshold (IoU or IoS)"), number.Double, default("iou"),
                                 False, 0.0, 1.0))
        self.addParameter(QgsProcessingParameterEnum(self.MERGE, self.tr("Merge method"), MERGES,
                                                     defaultValue=MERGES.index(default("merge"))))
        self.addParameter(number(self.TILE, self.tr("Tile size in model pixels (0 = the model's)"), number.Integer,
                                 0, False, 0, 8192))
        self.addParameter(number(self.OVERLAP, self.tr("Tile overlap (fraction of the tile)"), number.Double, default("overlap"),
                                 False, 0.0, 0.9))
        # 0: by device (1 tile on a CPU, 8 on a GPU), as DetectOptions' None
        self.addParameter(number(self.BATCH, self.tr("Batch size (tiles per forward pass)"),
                                 number.Integer, default("batch") or 0, False, 0, 256))
        self.addParameter(QgsProcessingParameterEnum(self.DEVICE, self.tr("Device"), DETECT_DEVICES, defaultValue=0))
        self.addParameter(QgsProcessingParameterEnum(
            self.CLASSES, self.tr("Classes to keep (none = all)"), list(DEFAULT_CLASSES), allowMultiple=True,
            optional=True))
        advanced = [
            QgsProcessingParameterString(self.OTHER_CLASSES, self.tr(
                "Classes to keep, by name, for models with other classes (comma-separated)"), optional=True),
            QgsProcessingParameterEnum(self.PRECISION, self.tr(
                "Precision (auto = fp32 unless a reduced one was measured for the model; "
                "bf16/fp16/int8 need OpenVINO)"), list(PRECISIONS), defaultValue=PRECISIONS.index(default("precision"))),
            QgsProcessingParameterEnum(self.MATCH, self.tr("Merge overlap measure"), MATCHES,
                                       defaultValue=MATCHES.index(default("match"))),
            QgsProcessingParameterBoolean(self.AGNOSTIC, self.tr(
                "Class-agnostic merge: one box per object even when two classes overlap"), defaultValue=default("agnostic")),
            QgsProcessingParameterBoolean(self.RESAMPLE, self.tr("Resample to the model's ground sample distance"),
                                          defaultValue=default("resample")),
            number(self.SCALE, self.tr("Source pixels per model pixel (0 = from the GSD)"), number.Double, 0.0,
                   False, 0.0, 100.0),
            QgsProcessingParameterString(self.BANDS, self.tr("Bands to use, 1-based, comma-separated "
                                                             "(empty = red, green, blue)"), optional=True),
            number(self.ZOOM, self.tr("Zoom pass for small objects: magnification (0 = off; e.g. 2)"),
                   number.Double, 0.0, False, 0.0, 8.0),
        ]
        for p in advanced:
            p.setFlags(p.flags() | p.FlagAdvanced)
            self.addParameter(p)

    def check_detect_parameters(self, parameters, context) -> tuple[bool, str]:
        ok, message = self.check_model_file(self.parameterAsFile(parameters, self.MODEL, context))
        if not ok:
            return ok, message
        zoom = self.parameterAsDouble(parameters, self.ZOOM, context)
        if zoom and zoom <= 1:
            return False, self.tr("The zoom is a magnification above 1 (e.g. 2), or 0 for no zoom pass.")
        bands = self.parameterAsString(parameters, self.BANDS, context)
        if bands:
            try:
                values = [int(b) for b in bands.split(",")]
            except ValueError:
                return False, self.tr("Bands must be whole numbers separated by commas, e.g. 3,2,1")
            if any(b < 1 for b in values):
                return False, self.tr("Band numbers start at 1")
        return True, ""

    def detect_options(self, parameters, context, extent=None, extent_crs=None, mask=None):
        from ...micro_detector.engine import DetectOptions

        # an optional multiple enum left empty still reads as [0] in QGIS 3.22: look at the raw value
        given = parameters.get(self.CLASSES) not in (None, "", [])
        chosen = [list(DEFAULT_CLASSES)[i] for i in self.parameterAsEnums(parameters, self.CLASSES, context)] \
            if given else []
        other = [c.strip() for c in self.parameterAsString(parameters, self.OTHER_CLASSES, context).split(",")
                 if c.strip()]
        classes = chosen + other or None
        bands = self.parameterAsString(parameters, self.BANDS, context)
        scale = self.parameterAsDouble(parameters, self.SCALE, context)
        return DetectOptions(
            tile=self.parameterAsInt(parameters, self.TILE, context) or None,
            overlap=self.parameterAsDouble(parameters, self.OVERLAP, context),
            conf=self.parameterAsDouble(parameters, self.CONF, context),
            iou=self.parameterAsDouble(parameters, self.IOU, context),
            merge=MERGES[self.parameterAsEnum(parameters, self.MERGE, context)],
            match=MATCHES[self.parameterAsEnum(parameters, self.MATCH, context)],
            batch=self.parameterAsInt(parameters, self.BATCH, context) or None,
            device=DETECT_DEVICES[self.parameterAsEnum(parameters, self.DEVICE, context)],
            precision=PRECISIONS[self.parameterAsEnum(parameters, self.PRECISION, context)],
            classes=classes, resample=self.parameterAsBool(parameters, self.RESAMPLE, context),
            scale=scale or None, bands=[int(b) for b in bands.split(",")] if bands else None,
            extent=extent, extent_crs=extent_crs, mask=mask,
            agnostic=self.parameterAsBool(parameters, self.AGNOSTIC, context),
            zoom=self.parameterAsDouble(parameters, self.ZOOM, context) or None)

    def require_backend(self, model: str):
        """ONNX Runtime or OpenVINO alone runs an .onnx model; a .pt model needs torch."""
        from ...micro_detector.model.runner import _importable

        if model.lower().endswith(".onnx") and _importable("openvino"):
            return self.require("openvino", "numpy")
        self.require("onnxruntime" if model.lower().endswith(".onnx") else "torch", "numpy")

    def open_runner(self, model: str, options):
        from ...micro_detector.model.runner import open_runner
        from ..profile import export_cache_folder

        try:
            runner = open_runner(model, backend=options.backend, device=options.device,
                                 cache_dir=export_cache_folder(), precision=options.precision)
        except (ValueError, RuntimeError, OSError) as error:
            raise processing_error(str(error)) from None
        # checked here once, before any raster, by the engine's own check
        from ...micro_detector.plan import PlanError, class_filter

        try:
            class_filter(runner.spec, options.classes)
        except PlanError as error:
            raise processing_error(str(error)) from None
        return runner
