"""The detection parameters `detect` and `detect_folder` share, and their translation to
the engine's DetectOptions."""

from __future__ import annotations

from qgis.core import (
    QgsProcessingParameterBoolean,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from ...micro_detector.model.spec import DEFAULT_CLASSES
from ...micro_detector.options import PRECISIONS
from ...micro_detector.options import option_default as default  # every default written once
from ..styles import class_label
from .base import DEVICES, processing_error

MERGES = ["nms", "nmm"]  # the engine's values, in the order of the dialog's plain labels
MATCHES = ["iou", "ios"]
# detection only (training stays on torch devices); appended, so saved indexes keep their meaning
DETECT_DEVICES = DEVICES + ["intel:gpu", "intel:npu"]


def decimals(parameter, places: int = 2):
    """`parameter` shown with `places` decimals in the dialog (QGIS shows 6 by default)."""
    parameter.setMetadata({"widget_wrapper": {"decimals": places}})
    return parameter


def device_labels(tr) -> list[str]:
    """The dialog's labels of DETECT_DEVICES (auto, cpu, cuda, intel:gpu, intel:npu), in order."""
    return [
        tr("Automatic (GPU when there is one)"),
        tr("CPU"),
        tr("GPU (CUDA)"),
        tr("Intel GPU (OpenVINO)"),
        tr("Intel NPU (OpenVINO)"),
    ]


class DetectOptionsMixin:
    """The parameters detect and detect_folder share, and their translation to DetectOptions."""

    MODEL, CONF, IOU, MERGE, MATCH, TILE, OVERLAP, BATCH, DEVICE = (
        "MODEL",
        "CONF",
        "IOU",
        "MERGE",
        "MATCH",
        "TILE",
        "OVERLAP",
        "BATCH",
        "DEVICE",
    )
    CLASSES, OTHER_CLASSES, RESAMPLE, SCALE, BANDS = "CLASSES", "OTHER_CLASSES", "RESAMPLE", "SCALE", "BANDS"
    AGNOSTIC, ZOOM, PRECISION = "AGNOSTIC", "ZOOM", "PRECISION"

    def add_detect_parameters(self):
        number = QgsProcessingParameterNumber
        self.addParameter(
            QgsProcessingParameterFile(self.MODEL, self.tr("Model file (empty = the bundled model)"), optional=True)
        )
        self.addParameter(
            decimals(
                number(self.CONF, self.tr("Minimum confidence"), number.Type.Double, default("conf"), False, 0.0, 1.0)
            )
        )
        self.addParameter(
            QgsProcessingParameterEnum(
                self.CLASSES,
                self.tr("Classes to keep (none = all)"),
                [class_label(c) for c in DEFAULT_CLASSES],
                allowMultiple=True,
                optional=True,
            )
        )
        advanced = [
            number(self.TILE, self.tr("Tile size in model pixels (0 = auto)"), number.Type.Integer, 0, False, 0, 8192),
            decimals(
                number(
                    self.OVERLAP,
                    self.tr("Tile overlap (fraction of a tile)"),
                    number.Type.Double,
                    default("overlap"),
                    False,
                    0.0,
                    0.9,
                )
            ),
            # 0: by device (1 tile on a CPU, 8 on a GPU), as DetectOptions' None
            number(
                self.BATCH,
                self.tr("Tiles per pass (0 = auto: 1 on CPU, 8 on GPU)"),
                number.Type.Integer,
                default("batch") or 0,
                False,
                0,
                256,
            ),
            QgsProcessingParameterEnum(self.DEVICE, self.tr("Device"), device_labels(self.tr), defaultValue=0),
            QgsProcessingParameterEnum(
                self.PRECISION,
                self.tr(
                    "Precision (automatic: full precision unless a faster one was measured for the model; "
                    "bf16, fp16 and int8 need OpenVINO)"
                ),
                [
                    self.tr("Automatic"),
                    self.tr("Full (fp32)"),
                    self.tr("bfloat16 (bf16)"),
                    self.tr("Half (fp16)"),
                    self.tr("8-bit integer (int8)"),
                ],
                defaultValue=PRECISIONS.index(default("precision")),
            ),
            QgsProcessingParameterEnum(
                self.MERGE,
                self.tr("Boxes found twice across tiles"),
                [self.tr("Keep the best box (NMS)"), self.tr("Merge them into one box (NMM)")],
                defaultValue=MERGES.index(default("merge")),
            ),
            decimals(
                number(
                    self.IOU,
                    self.tr("Overlap that makes two boxes one"),
                    number.Type.Double,
                    default("iou"),
                    False,
                    0.0,
                    1.0,
                )
            ),
            QgsProcessingParameterEnum(
                self.MATCH,
                self.tr("Overlap measured as"),
                [self.tr("Share of the union (IoU)"), self.tr("Share of the smaller box (IoS)")],
                defaultValue=MATCHES.index(default("match")),
            ),
            QgsProcessingParameterBoolean(
                self.AGNOSTIC, self.tr("One box per object, whatever the class"), defaultValue=default("agnostic")
            ),
            QgsProcessingParameterString(
                self.OTHER_CLASSES, self.tr("Other class names to keep (a,b,c)"), optional=True
            ),
            QgsProcessingParameterBoolean(
                self.RESAMPLE, self.tr("Resample files to the model's GSD"), defaultValue=default("resample")
            ),
            decimals(
                number(
                    self.SCALE,
                    self.tr("Source pixels per model pixel (0 = auto)"),
                    number.Type.Double,
                    0.0,
                    False,
                    0.0,
                    100.0,
                )
            ),
            QgsProcessingParameterString(self.BANDS, self.tr("Bands, e.g. 3,2,1 (empty = RGB)"), optional=True),
            decimals(
                number(
                    self.ZOOM, self.tr("Zoom pass magnification (0 = off)"), number.Type.Double, 0.0, False, 0.0, 8.0
                ),
                1,
            ),
        ]
        for p in advanced:
            p.setFlags(p.flags() | QgsProcessingParameterDefinition.Flag.FlagAdvanced)
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
        chosen = (
            [list(DEFAULT_CLASSES)[i] for i in self.parameterAsEnums(parameters, self.CLASSES, context)]
            if given
            else []
        )
        other = [
            c.strip() for c in self.parameterAsString(parameters, self.OTHER_CLASSES, context).split(",") if c.strip()
        ]
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
            classes=classes,
            resample=self.parameterAsBool(parameters, self.RESAMPLE, context),
            scale=scale or None,
            bands=[int(b) for b in bands.split(",")] if bands else None,
            extent=extent,
            extent_crs=extent_crs,
            mask=mask,
            agnostic=self.parameterAsBool(parameters, self.AGNOSTIC, context),
            zoom=self.parameterAsDouble(parameters, self.ZOOM, context) or None,
        )

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
            runner = open_runner(
                model,
                backend=options.backend,
                device=options.device,
                cache_dir=export_cache_folder(),
                precision=options.precision,
            )
        except (ValueError, RuntimeError, OSError) as error:
            raise processing_error(str(error)) from None
        # checked here once, before any raster, by the engine's own check
        from ...micro_detector.plan import PlanError, class_filter

        try:
            class_filter(runner.spec, options.classes)
        except PlanError as error:
            raise processing_error(str(error)) from None
        return runner
