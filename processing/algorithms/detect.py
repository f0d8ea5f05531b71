"""`micro_detector:detect` and `micro_detector:detect_folder`: find micro objects."""

from __future__ import annotations

from pathlib import Path

from qgis.core import (
    QgsFeature,
    QgsFeatureSink,
    QgsField,
    QgsFields,
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputFile,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFile,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
    QgsProcessingParameterVectorDestination,
    QgsProcessingParameterVectorLayer,
    QgsProcessingUtils,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QVariant

from ...micro_detector.model.spec import DEFAULT_CLASSES
from ..styles import StyleDetections, embed_style
from .base import DEVICES, MicroAlgorithm, tr

MERGES = ["nms", "nmm"]
MATCHES = ["iou", "ios"]
FORMATS = ["gpkg", "shp", "geojson", "fgb"]


class DetectOptionsMixin:
    """The parameters detect and detect_folder share, and their translation to DetectOptions."""

    MODEL, CONF, IOU, MERGE, MATCH, TILE, OVERLAP, BATCH, DEVICE = (
        "MODEL", "CONF", "IOU", "MERGE", "MATCH", "TILE", "OVERLAP", "BATCH", "DEVICE")
    CLASSES, OTHER_CLASSES, RESAMPLE, SCALE, BANDS = "CLASSES", "OTHER_CLASSES", "RESAMPLE", "SCALE", "BANDS"

    def add_detect_parameters(self):
        number = QgsProcessingParameterNumber
        self.addParameter(QgsProcessingParameterFile(
            self.MODEL, self.tr("Model file (.pt or .onnx; empty = the bundled default model)"),
            optional=True))
        self.addParameter(number(self.CONF, self.tr("Minimum confidence"), number.Double, 0.25, False, 0.0, 1.0))
        self.addParameter(number(self.IOU, self.tr("Cross-tile merge threshold (IoU or IoS)"), number.Double, 0.5,
                                 False, 0.0, 1.0))
        self.addParameter(QgsProcessingParameterEnum(self.MERGE, self.tr("Merge method"), MERGES, defaultValue=0))
        self.addParameter(number(self.TILE, self.tr("Tile size in model pixels (0 = the model's)"), number.Integer,
                                 0, False, 0, 8192))
        self.addParameter(number(self.OVERLAP, self.tr("Tile overlap (fraction of the tile)"), number.Double, 0.2,
                                 False, 0.0, 0.9))
        self.addParameter(number(self.BATCH, self.tr("Batch size (tiles per forward pass)"), number.Integer, 4,
                                 False, 1, 256))
        self.addParameter(QgsProcessingParameterEnum(self.DEVICE, self.tr("Device"), DEVICES, defaultValue=0))
        self.addParameter(QgsProcessingParameterEnum(
            self.CLASSES, self.tr("Classes to keep (none = all)"), list(DEFAULT_CLASSES), allowMultiple=True,
            optional=True))
        advanced = [
            QgsProcessingParameterString(self.OTHER_CLASSES, self.tr(
                "Classes to keep, by name, for models with other classes (comma-separated)"), optional=True),
            QgsProcessingParameterEnum(self.MATCH, self.tr("Merge overlap measure"), MATCHES, defaultValue=0),
            QgsProcessingParameterBoolean(self.RESAMPLE, self.tr("Resample to the model's ground sample distance"),
                                          defaultValue=True),
            number(self.SCALE, self.tr("Source pixels per model pixel (0 = from the GSD)"), number.Double, 0.0,
                   False, 0.0, 100.0),
            QgsProcessingParameterString(self.BANDS, self.tr("Bands to use, 1-based, comma-separated "
                                                             "(empty = red, green, blue)"), optional=True),
        ]
        for p in advanced:
            p.setFlags(p.flags() | p.FlagAdvanced)
            self.addParameter(p)

    def check_detect_parameters(self, parameters, context) -> tuple[bool, str]:
        ok, message = self.check_model_file(self.parameterAsFile(parameters, self.MODEL, context))
        if not ok:
            return ok, message
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
            batch=self.parameterAsInt(parameters, self.BATCH, context),
            device=DEVICES[self.parameterAsEnum(parameters, self.DEVICE, context)],
            classes=classes, resample=self.parameterAsBool(parameters, self.RESAMPLE, context),
            scale=scale or None, bands=[int(b) for b in bands.split(",")] if bands else None,
            extent=extent, extent_crs=extent_crs, mask=mask)

    def require_backend(self, model: str):
        """ONNX Runtime alone runs an .onnx model; a .pt model needs torch."""
        self.require("onnxruntime" if model.lower().endswith(".onnx") else "torch", "numpy")

    def open_runner(self, model: str, options):
        from ...micro_detector.model.runner import open_runner

        try:
            runner = open_runner(model, backend=options.backend, device=options.device)
        except (ValueError, RuntimeError, OSError) as error:
            raise QgsProcessingException(str(error)) from None
        # checked here once, before any raster: the class names come with the opened model
        known = list(runner.spec.class_names)
        unknown = [c for c in options.classes or [] if c not in known]
        if unknown:
            raise QgsProcessingException(self.tr("The model has no class {}; it knows {}").format(
                ", ".join(unknown), ", ".join(known)))
        return runner


class DetectAlgorithm(DetectOptionsMixin, MicroAlgorithm):
    NAME = "detect"
    DISPLAY = "Detect micro objects"
    GROUP = "Detection"
    GROUP_ID = "detection"
    HELP = ("Finds small objects (boats, buildings, planes, vehicles) on a georeferenced raster with a "
            "YOLOv12 model, tile by tile at the model's ground sample distance, merges duplicates across "
            "tile borders and writes one polygon per object in the raster's CRS, with its class, score "
            "and area. Without a model file the bundled default model is used. An extent or a mask "
            "layer limits the search. The result is styled per class.")
    INPUT, EXTENT, MASK, OUTPUT = "INPUT", "EXTENT", "MASK", "OUTPUT"

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS API)
        self.addParameter(QgsProcessingParameterRasterLayer(self.INPUT, self.tr("Raster")))
        self.add_detect_parameters()
        self.addParameter(QgsProcessingParameterExtent(self.EXTENT, self.tr("Search only in this extent"),
                                                       optional=True))
        self.addParameter(QgsProcessingParameterVectorLayer(
            self.MASK, self.tr("Search only inside these polygons"), [QgsProcessing.TypeVectorPolygon],
            optional=True))
        self.addParameter(QgsProcessingParameterVectorDestination(
            self.OUTPUT, self.tr("Detections"), QgsProcessing.TypeVectorPolygon))

    def check_values(self, parameters, context):
        layer = self.parameterAsRasterLayer(parameters, self.INPUT, context)
        if layer is not None and not layer.crs().isValid():
            return False, self.tr("The raster {} is not georeferenced (no CRS): georeference it first.").format(
                layer.name())
        return self.check_detect_parameters(parameters, context)

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API)
        model = self.model_path(self.parameterAsFile(parameters, self.MODEL, context))
        self.require_backend(model)
        layer = self.parameterAsRasterLayer(parameters, self.INPUT, context)
        source = layer.source() if layer is not None else ""
        if not source or not (Path(source).exists() or source.startswith("/vsi")):
            raise QgsProcessingException(self.tr("The raster must be a file GDAL can open."))
        extent = extent_crs = None
        if parameters.get(self.EXTENT):
            rect = self.parameterAsExtent(parameters, self.EXTENT, context, layer.crs())
            extent = (rect.xMinimum(), rect.yMinimum(), rect.xMaximum(), rect.yMaximum())
        mask_layer = self.parameterAsVectorLayer(parameters, self.MASK, context)
        mask = mask_layer.source().split("|")[0] if mask_layer is not None else None
        options = self.detect_options(parameters, context, extent, extent_crs, mask)
        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        if not Path(output).suffix or output.startswith(("memory:", "ogr:", "postgres")):
            output = QgsProcessingUtils.generateTempFilename("detections.gpkg")
        runner = self.open_runner(model, options)
        from ...micro_detector.engine import Cancelled, detect

        feedback.pushInfo(self.tr("Model: {} ({})").format(model, ", ".join(runner.spec.class_names)))
        try:
            result = detect(source, output, runner=runner, weights=model, options=options,
                            progress=self.progress(feedback), log=feedback.pushInfo)
        except Cancelled:
            feedback.reportError(self.tr("Cancelled: nothing was written."))
            return {}
        except (ValueError, RuntimeError, OSError) as error:
            raise QgsProcessingException(str(error)) from None
        if not embed_style(output, list(runner.spec.class_names)):
            feedback.pushWarning(self.tr("The style could not be stored with {}").format(output))
        counts = ", ".join(f"{k} {v}" for k, v in result.counts().items())
        feedback.pushInfo(self.tr("{} objects found: {}").format(len(result), counts))
        if context.willLoadLayerOnCompletion(output):
            details = context.layerToLoadOnCompletionDetails(output)
            details.name = self.tr("Detections {}").format(layer.name())
            details.setPostProcessor(StyleDetections(list(runner.spec.class_names)))
        return {self.OUTPUT: output}


class DetectFolderAlgorithm(DetectOptionsMixin, MicroAlgorithm):
    NAME = "detect_folder"
    DISPLAY = "Detect micro objects in a folder of rasters"
    GROUP = "Detection"
    GROUP_ID = "detection"
    HELP = ("Runs the detection on every raster of a folder that matches the pattern and writes one vector "
            "file per raster into the output folder. Resumable: rasters whose output exists are skipped, so "
            "a stopped run goes on where it stopped. A raster that fails is reported and the others still "
            "run. The summary table gives per raster the status, objects per class and seconds; it is "
            "also kept as summary.csv in the output folder.")
    FOLDER, PATTERN, FORMAT, OVERWRITE, OUTPUT_FOLDER, SUMMARY = (
        "FOLDER", "PATTERN", "FORMAT", "OVERWRITE", "OUTPUT_FOLDER", "SUMMARY")
    WORKERS, SCHEDULER = "WORKERS", "SCHEDULER"

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS API)
        self.addParameter(QgsProcessingParameterFile(self.FOLDER, self.tr("Folder of rasters"),
                                                     behavior=QgsProcessingParameterFile.Folder))
        self.addParameter(QgsProcessingParameterString(self.PATTERN, self.tr("File name pattern"), "*.tif"))
        self.add_detect_parameters()
        self.addParameter(QgsProcessingParameterEnum(self.FORMAT, self.tr("Output format"), FORMATS,
                                                     defaultValue=0))
        self.addParameter(QgsProcessingParameterBoolean(self.OVERWRITE, self.tr("Redo rasters already done"),
                                                        defaultValue=False))
        self.addParameter(QgsProcessingParameterNumber(
            self.WORKERS, self.tr("Workers (Dask processes on this machine; 0: in QGIS)"),
            QgsProcessingParameterNumber.Integer, 0, True, 0))
        self.addParameter(QgsProcessingParameterString(
            self.SCHEDULER, self.tr("Dask scheduler address (tcp://host:8786)"), optional=True))
        self.addParameter(QgsProcessingParameterFolderDestination(self.OUTPUT_FOLDER, self.tr("Output folder")))
        self.addParameter(QgsProcessingParameterFeatureSink(self.SUMMARY, self.tr("Summary"),
                                                            QgsProcessing.TypeVector))
        self.addOutput(QgsProcessingOutputFile("SUMMARY_CSV", self.tr("Summary (CSV in the output folder)")))

    def check_values(self, parameters, context):
        folder = self.parameterAsFile(parameters, self.FOLDER, context)
        if not Path(folder).is_dir():
            return False, self.tr("Folder not found: {}").format(folder)
        pattern = self.parameterAsString(parameters, self.PATTERN, context)
        if not any(p.is_file() for p in Path(folder).glob(pattern or "*.tif")):
            return False, self.tr("No file in {} matches {}").format(folder, pattern)
        return self.check_detect_parameters(parameters, context)

    def detect_on_dask(self, folder, out_dir, model, options, workers, scheduler, feedback, **kwargs):
        """The batch on Dask (micro_detector.distributed): a LocalCluster of `workers` processes
        or the cluster at `scheduler`. Cancel stops the pending tasks; finished outputs stay."""
        from ...micro_detector.deps import MissingDependencyError
        from ...micro_detector.distributed import ClusterOptions, detect_folder_dask

        try:
            cluster = ClusterOptions(workers=None if scheduler else workers, scheduler=scheduler or None)
            return detect_folder_dask(
                folder, out_dir, model, options=options, cluster=cluster, log=feedback.pushInfo,
                progress=lambda done, total: feedback.setProgress(100.0 * done / max(total, 1)),
                cancelled=feedback.isCanceled, **kwargs)
        except MissingDependencyError as error:
            raise processing_error(str(error)) from None

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API)
        model = self.model_path(self.parameterAsFile(parameters, self.MODEL, context))
        self.require_backend(model)
        options = self.detect_options(parameters, context)
        folder = self.parameterAsFile(parameters, self.FOLDER, context)
        pattern = self.parameterAsString(parameters, self.PATTERN, context) or "*.tif"
        out_dir = self.parameterAsString(parameters, self.OUTPUT_FOLDER, context)
        runner = self.open_runner(model, options)
        from ...micro_detector.batch import detect_folder, list_rasters, summary_fields
        from ...micro_detector.engine import Cancelled

        rasters = list_rasters(folder, pattern)
        position = {r: k for k, r in enumerate(rasters)}

        def progress_for(raster):
            feedback.pushInfo(self.tr("Raster {} of {}: {}").format(position[raster] + 1, len(rasters), raster.name))
            return self.progress(feedback, 100.0 * position[raster] / len(rasters), 100.0 / len(rasters))

        fmt = FORMATS[self.parameterAsEnum(parameters, self.FORMAT, context)]
        overwrite = self.parameterAsBool(parameters, self.OVERWRITE, context)
        workers = self.parameterAsInt(parameters, self.WORKERS, context)
        scheduler = (self.parameterAsString(parameters, self.SCHEDULER, context) or "").strip()
        try:
            if workers or scheduler:
                rows, summary_csv = self.detect_on_dask(folder, out_dir, model, options, workers, scheduler,
                                                        feedback, pattern=pattern, fmt=fmt, overwrite=overwrite)
            else:
                rows, summary_csv = detect_folder(
                    folder, out_dir, runner, options=options, pattern=pattern, fmt=fmt, overwrite=overwrite,
                    weights=model, progress_for=progress_for, log=feedback.pushInfo,
                    cancelled=feedback.isCanceled)
        except Cancelled:
            feedback.reportError(self.tr("Cancelled: the rasters finished so far are kept; run again to go on."))
            return {}
        except (ValueError, RuntimeError, OSError) as error:
            raise QgsProcessingException(str(error)) from None
        for row in rows:
            # only files this run wrote: one done before may be open in QGIS (a locked GeoPackage)
            if row.get("written_now"):
                embed_style(str(Path(out_dir) / row["output"]), list(runner.spec.class_names))
        names = summary_fields(list(runner.spec.class_names))
        fields = QgsFields()
        for name in names:
            numeric = name == "objects" or name.startswith("n_")
            fields.append(QgsField(name, QVariant.Int if numeric else
                                   (QVariant.Double if name == "seconds" else QVariant.String)))
        sink, sink_id = self.parameterAsSink(parameters, self.SUMMARY, context, fields, QgsWkbTypes.NoGeometry)
        for row in rows:
            feature = QgsFeature(fields)
            for name in names:
                value = row.get(name, "")
                if fields.field(name).type() == QVariant.Int:
                    value = int(value) if str(value).strip() != "" else None
                elif fields.field(name).type() == QVariant.Double:
                    value = float(value) if str(value).strip() != "" else None
                feature[name] = value
            sink.addFeature(feature, QgsFeatureSink.FastInsert)
        failed = [r["raster"] for r in rows if r.get("status") != "ok"]
        if failed:
            feedback.reportError(self.tr("{} raster(s) failed: {}").format(len(failed), ", ".join(failed)))
        return {self.OUTPUT_FOLDER: out_dir, self.SUMMARY: sink_id, "SUMMARY_CSV": str(summary_csv)}

