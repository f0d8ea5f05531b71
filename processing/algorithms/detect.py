"""`micro_detector:detect` and `micro_detector:detect_folder`: find micro objects."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from qgis.core import (
    QgsFeature,
    QgsFeatureSink,
    QgsField,
    QgsFields,
    QgsProcessing,
    QgsProcessingContext,
    QgsProcessingOutputFile,
    QgsProcessingOutputLayerDefinition,
    QgsProcessingOutputMultipleLayers,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterDefinition,
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

from ..class_layers import write_class_layers
from ..engine_log import translating
from ..layer_input import (
    AREA_ENTIRE,
    AREA_MASK,
    AREA_VISIBLE,
    file_scale,
    intersect,
    is_file_layer,
    mask_rect,
    provider_source,
    to_layer_crs,
    visible_extent,
)
from ..layer_uri import layer_name, provider_string, remote_layer_id
from ..network_reads import FailedRequests, run_handling_events
from ..qgis_source import QgisLayerSource
from ..qt_compat import FIELD_TYPES
from ..styles import StyleDetections, embed_style
from .base import MicroAlgorithm, processing_error
from .detect_options import DetectOptionsMixin, decimals

FORMATS = ["gpkg", "shp", "geojson", "fgb"]


class DetectAlgorithm(DetectOptionsMixin, MicroAlgorithm):
    NAME = "detect"
    DISPLAY = "Detect micro objects"
    GROUP = "Detection"
    GROUP_ID = "detection"
    HELP = (
        "Finds small objects (vehicles, boats, planes, buildings) on a raster layer and adds a layer with "
        "one polygon per object: its class, score and area, styled per class.<br><br>"
        "<b>The settings that matter</b><br>"
        "<b>Raster layer</b>: an image file, or a web layer (XYZ tiles, WMS/WMTS, WCS).<br>"
        "<b>Where to search</b>: the entire layer, the part of the map you see (zoom to the area, run), or "
        "inside mask polygons.<br>"
        "<b>Resolution in cm/px</b>: the one scale setting. 0 (auto) reads the layer at the model's ground "
        "sample distance, which suits most images; give e.g. 15 to read a web layer at 15 cm per pixel.<br>"
        "<b>Minimum confidence</b>: lower it to find more objects, raise it for fewer false alarms.<br>"
        "<b>Classes to keep</b>: none ticked keeps all.<br>"
        "Empty model file: the bundled model is used.<br><br>"
        "<b>Advanced</b><br>"
        "Scale, which wins: 'Source pixels per model pixel' when not 0; else the resolution in cm/px when "
        "not 0; else the model's GSD when 'Resample files to the model's GSD' is ticked; else the "
        "raster's own pixels.<br>"
        "Tiles: the layer is cut into overlapping tiles; boxes found twice across tile borders are kept "
        "once (the best box) or merged. 'One box per object, whatever the class' also keeps one box where "
        "two classes claim the same object. 'Zoom pass' adds a pass over the layer magnified, e.g. 2 times, "
        "for objects of a few pixels; it costs about 1 + zoom x zoom the time. 'One layer per class' adds "
        "a styled layer per class to the GeoPackage.<br><br>"
        "<b>From qgis_process or processing.run</b><br>"
        "Give a web layer as its data source text, as the layer's properties show it "
        "(type=xyz&amp;url=https://tile.example.org/{z}/{x}/{y}.png&amp;zmin=0&amp;zmax=19, or a WMS "
        "crs=...&amp;layers=...&amp;url=...), or as wms://&lt;data source&gt; (also wcs://, "
        "virtualraster://)."
    )
    INPUT, AREA, RESOLUTION, EXTENT, MASK, PER_CLASS, OUTPUT = (
        "INPUT",
        "AREA",
        "RESOLUTION",
        "EXTENT",
        "MASK",
        "PER_CLASS",
        "OUTPUT",
    )

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS API)
        self.addParameter(QgsProcessingParameterRasterLayer(self.INPUT, self.tr("Raster layer")))
        self.addParameter(
            QgsProcessingParameterEnum(
                self.AREA,
                self.tr("Where to search"),
                [self.tr("Entire layer"), self.tr("Visible part of the map"), self.tr("Inside the mask polygons")],
                defaultValue=AREA_ENTIRE,
            )
        )
        number = QgsProcessingParameterNumber
        self.addParameter(
            decimals(
                number(
                    self.RESOLUTION,
                    self.tr("Resolution in cm/px (0 = auto: the model's)"),
                    number.Type.Double,
                    0.0,
                    False,
                    0.0,
                    100000.0,
                ),
                1,
            )
        )
        self.add_detect_parameters()
        self.addParameter(
            QgsProcessingParameterExtent(self.EXTENT, self.tr("Search only in this extent"), optional=True)
        )
        self.addParameter(
            QgsProcessingParameterVectorLayer(
                self.MASK,
                self.tr("Search only inside these polygons"),
                [QgsProcessing.SourceType.TypeVectorPolygon],
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterBoolean(
                self.PER_CLASS, self.tr("Also one layer per class (GeoPackage)"), defaultValue=False
            )
        )
        self.addParameter(
            QgsProcessingParameterVectorDestination(
                self.OUTPUT, self.tr("Detections"), QgsProcessing.SourceType.TypeVectorPolygon
            )
        )
        self.addOutput(QgsProcessingOutputMultipleLayers("CLASS_LAYERS", self.tr("Layers per class")))

    def input_layer(self, parameters, context):
        """The input raster layer; one given as a provider string (`type=xyz&url=...`,
        `wms://...`, layer_uri.py) is opened by its provider and named after its source."""
        value = parameters.get(self.INPUT)
        text = (remote_layer_id(value, context) or provider_string(value)) if isinstance(value, str) else value
        layer = self.parameterAsRasterLayer({**parameters, self.INPUT: text}, self.INPUT, context)
        if layer is not None and not layer.name() and isinstance(value, str):
            layer.setName(layer_name(value))
        return layer

    def check_values(self, parameters, context):
        layer = self.input_layer(parameters, context)
        if layer is not None and not layer.crs().isValid():
            return False, self.tr("The raster {} is not georeferenced (no CRS): georeference it first.").format(
                layer.name()
            )
        area = self.parameterAsEnum(parameters, self.AREA, context)
        if area == AREA_VISIBLE and visible_extent() is None:
            return False, self.tr(
                "The visible part of the map needs the QGIS desktop: choose the entire layer with an extent instead."
            )
        if area == AREA_MASK and self.parameterAsVectorLayer(parameters, self.MASK, context) is None:
            return False, self.tr("Choose the mask polygons to search inside.")
        output = parameters.get(self.OUTPUT)
        if isinstance(output, QgsProcessingOutputLayerDefinition):
            output = output.sink.staticValue()
        output = output.split("|")[0] if isinstance(output, str) else ""
        if (
            self.parameterAsBool(parameters, self.PER_CLASS, context)
            and Path(output).suffix
            and not output.lower().endswith(".gpkg")
        ):
            return False, self.tr("One layer per class needs a GeoPackage output (.gpkg).")
        return self.check_detect_parameters(parameters, context)

    def prepareAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API)
        # the canvas and the layer's provider are read here, in the main thread, not in the task
        area = self.parameterAsEnum(parameters, self.AREA, context)
        self.canvas_view = visible_extent() if area == AREA_VISIBLE else None
        layer = self.input_layer(parameters, context)
        self.provider = None
        if layer is not None and layer.isValid() and not is_file_layer(layer):
            self.provider = layer.dataProvider().clone()
        return True

    def search_extent(self, parameters, context, layer):
        """The extent to search in the layer's CRS (the EXTENT parameter, the visible map
        when chosen, both intersected), or None for no limit."""
        rect = None
        if parameters.get(self.EXTENT):
            rect = self.parameterAsExtent(parameters, self.EXTENT, context, layer.crs())
        canvas = getattr(self, "canvas_view", None)
        if self.parameterAsEnum(parameters, self.AREA, context) == AREA_VISIBLE:
            if canvas is None:
                raise processing_error(self.tr("The visible part of the map is unknown outside the QGIS desktop."))
            rect = intersect(rect, to_layer_crs(canvas.rect, canvas.crs, layer))
        if rect is not None and rect.intersect(layer.extent()).isEmpty():
            raise processing_error(self.tr("The area to search does not overlap the layer {}.").format(layer.name()))
        return rect

    def raster_source(self, layer, parameters, context, options, extent, mask_layer, spec):
        """(what the engine reads, options): a file's path (GDAL), else the layer read through
        its QGIS data provider on a grid at the processing resolution."""
        resolution = self.parameterAsDouble(parameters, self.RESOLUTION, context) / 100 or None
        try:
            if is_file_layer(layer):
                path = layer.source().split("|")[0]
                if resolution and options.scale is None:
                    options = replace(options, scale=file_scale(path, resolution))
                return path, options
            source = provider_source(
                layer,
                intersect(extent, mask_rect(mask_layer, layer)),
                resolution,
                spec.gsd,
                getattr(self, "canvas_view", None),
                getattr(self, "provider", None),
            )
        except (ValueError, OSError) as error:
            raise processing_error(str(error)) from None
        # a grid at the user's resolution is read as it is; at the model's GSD the engine finds scale 1 itself
        return source, replace(options, scale=options.scale or 1.0) if resolution else options

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API)
        model = self.model_path(self.parameterAsFile(parameters, self.MODEL, context))
        self.require_backend(model)
        layer = self.input_layer(parameters, context)
        extent = self.search_extent(parameters, context, layer)
        mask_layer = self.parameterAsVectorLayer(parameters, self.MASK, context)
        mask = mask_layer.source().split("|")[0] if mask_layer is not None else None
        bounds = (
            None if extent is None else (extent.xMinimum(), extent.yMinimum(), extent.xMaximum(), extent.yMaximum())
        )
        options = self.detect_options(parameters, context, bounds, None, mask)
        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        if not Path(output).suffix or output.startswith(("memory:", "ogr:", "postgres")):
            output = QgsProcessingUtils.generateTempFilename("detections.gpkg")
        per_class = self.parameterAsBool(parameters, self.PER_CLASS, context)
        if per_class and not output.lower().endswith(".gpkg"):
            raise processing_error(self.tr("One layer per class needs a GeoPackage output (.gpkg)."))
        runner = self.open_runner(model, options)
        source, options = self.raster_source(layer, parameters, context, options, extent, mask_layer, runner.spec)
        feedback.pushInfo(self.tr("Model: {} ({})").format(model, ", ".join(runner.spec.class_names)))
        feedback.pushInfo(self.tr("Backend: {} ({})").format(runner.backend, getattr(runner, "backend_reason", "")))
        result = self.run_detection(source, output, runner, options, feedback)
        if result is None:
            return {}
        names = list(runner.spec.class_names)
        if not embed_style(output, names):
            feedback.pushWarning(self.tr("The style could not be stored with {}").format(output))
        counts = ", ".join(f"{k} {v}" for k, v in result.counts().items())
        feedback.pushInfo(self.tr("{} objects found: {}").format(len(result), counts))
        class_layers = {}
        if per_class:
            class_layers = write_class_layers(
                output, result, options.classes or names, str(result.report.get("raster", layer.name()))
            )
        self.load_on_completion(context, output, layer.name(), names, class_layers)
        return {self.OUTPUT: output, "CLASS_LAYERS": list(class_layers.values())}

    def run_detection(self, source, output, runner, options, feedback):
        """The engine's detect on `source` (a file's path or a QGIS layer source); None when
        cancelled. A web layer is read with the main thread kept free for QGIS's network
        manager (network_reads.py), and refused tile requests are reported."""
        from ...micro_detector.engine import Cancelled, detect

        def work():
            return detect(
                source,
                output,
                runner,
                options=options,
                progress=self.progress(feedback),
                log=translating(feedback.pushInfo),
            )

        web, failed = isinstance(source, QgisLayerSource), FailedRequests()
        try:
            with failed:
                result = run_handling_events(work) if web else work()
        except Cancelled:
            feedback.reportError(self.tr("Cancelled: nothing was written."))
            return None
        except (ValueError, RuntimeError, OSError) as error:
            raise processing_error(str(error)) from None
        finally:
            if web and failed.summary():
                feedback.pushWarning(failed.summary())
        return result

    def load_on_completion(self, context, output, name, class_names, class_layers):
        """Name and style the layers Processing adds to the project: all detections, then
        one layer per class when asked."""
        if not context.willLoadLayerOnCompletion(output):
            return
        details = context.layerToLoadOnCompletionDetails(output)
        details.name = self.tr("Detections {}").format(name)
        details.setPostProcessor(StyleDetections(class_names))
        for class_name, uri in class_layers.items():
            extra = QgsProcessingContext.LayerDetails(f"{class_name} ({name})", context.project(), "CLASS_LAYERS")
            extra.setPostProcessor(StyleDetections([class_name]))
            context.addLayerToLoadOnCompletion(uri, extra)


class DetectFolderAlgorithm(DetectOptionsMixin, MicroAlgorithm):
    NAME = "detect_folder"
    DISPLAY = "Detect micro objects in a folder of rasters"
    GROUP = "Detection"
    GROUP_ID = "detection"
    HELP = (
        "Runs the detection on every raster of a folder that matches the pattern (e.g. *.tif) and writes "
        "one vector file per raster into the output folder. Instead of a folder, give a STAC catalogue "
        "(an ItemCollection or Item JSON, a file or an http(s):// or s3:// URL; the asset key defaults to the "
        "visual/RGB asset) or a text file listing one raster URL per line: the rasters are then read over the "
        "network window by window, and outputs are named by item id. Resumable: rasters whose output exists are skipped, so "
        "a stopped run goes on where it stopped. A raster that fails is reported and the others still "
        "run. The summary table gives per raster the status, objects per class and seconds; it is "
        "also kept as summary.csv in the output folder. The detection settings are those of 'Detect micro "
        "objects'. Advanced: Workers runs the rasters in parallel on this machine with Dask (install it "
        "with Plugins > Micro Object Detection > Install dependencies), or on a Dask scheduler."
    )
    FOLDER, PATTERN, FORMAT, OVERWRITE, OUTPUT_FOLDER, SUMMARY = (
        "FOLDER",
        "PATTERN",
        "FORMAT",
        "OVERWRITE",
        "OUTPUT_FOLDER",
        "SUMMARY",
    )
    CATALOG, ASSET = "CATALOG", "ASSET"
    WORKERS, SCHEDULER = "WORKERS", "SCHEDULER"

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS API)
        self.addParameter(
            QgsProcessingParameterFile(
                self.FOLDER,
                self.tr("Folder of rasters"),
                behavior=QgsProcessingParameterFile.Behavior.Folder,
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterFile(
                self.CATALOG,
                self.tr("Or: STAC catalogue or URL list"),
                behavior=QgsProcessingParameterFile.Behavior.File,
                optional=True,
            )
        )
        asset = QgsProcessingParameterString(
            self.ASSET, self.tr("STAC asset key (empty: the visual/RGB asset)"), optional=True
        )
        asset.setFlags(asset.flags() | QgsProcessingParameterDefinition.Flag.FlagAdvanced)
        self.addParameter(asset)
        self.addParameter(QgsProcessingParameterString(self.PATTERN, self.tr("File name pattern"), "*.tif"))
        self.add_detect_parameters()
        self.addParameter(QgsProcessingParameterEnum(self.FORMAT, self.tr("Output format"), FORMATS, defaultValue=0))
        self.addParameter(
            QgsProcessingParameterBoolean(self.OVERWRITE, self.tr("Redo rasters already done"), defaultValue=False)
        )
        for p in (
            QgsProcessingParameterNumber(
                self.WORKERS,
                self.tr("Workers (Dask processes; 0 = in QGIS)"),
                QgsProcessingParameterNumber.Type.Integer,
                0,
                True,
                0,
            ),
            QgsProcessingParameterString(self.SCHEDULER, self.tr("Dask scheduler (tcp://host:8786)"), optional=True),
        ):
            p.setFlags(p.flags() | QgsProcessingParameterDefinition.Flag.FlagAdvanced)
            self.addParameter(p)
        self.addParameter(QgsProcessingParameterFolderDestination(self.OUTPUT_FOLDER, self.tr("Output folder")))
        self.addParameter(
            QgsProcessingParameterFeatureSink(self.SUMMARY, self.tr("Summary"), QgsProcessing.SourceType.TypeVector)
        )
        self.addOutput(QgsProcessingOutputFile("SUMMARY_CSV", self.tr("Summary (CSV in the output folder)")))

    def source_and_asset(self, parameters, context) -> tuple[str, str | None, str | None]:
        """What the run goes over: the folder, or the STAC catalogue / URL list, the asset key,
        and what is wrong with them (None when nothing is)."""
        folder = (self.parameterAsFile(parameters, self.FOLDER, context) or "").strip()
        catalog = (self.parameterAsFile(parameters, self.CATALOG, context) or "").strip()
        asset = (self.parameterAsString(parameters, self.ASSET, context) or "").strip() or None
        problem = None
        if folder and catalog:
            problem = self.tr("Give either a folder of rasters or a STAC catalogue / URL list, not both.")
        elif not folder and not catalog:
            problem = self.tr("Give a folder of rasters, or a STAC catalogue or a list of raster URLs.")
        elif folder and asset:
            problem = self.tr("The STAC asset key is for a STAC catalogue, not a folder.")
        elif folder and not Path(folder).is_dir():
            problem = self.tr("Folder not found: {}").format(folder)
        elif catalog:
            from ...micro_detector.remote import is_remote, redact

            if not is_remote(catalog) and not Path(catalog).is_file():
                problem = self.tr("STAC catalogue or URL list not found: {}").format(redact(catalog))
        return folder or catalog, asset, problem

    def check_values(self, parameters, context):
        source, _, problem = self.source_and_asset(parameters, context)
        if problem:
            return False, problem
        pattern = self.parameterAsString(parameters, self.PATTERN, context)
        if Path(source).is_dir() and not any(p.is_file() for p in Path(source).glob(pattern or "*.tif")):
            return False, self.tr("No file in {} matches {}").format(source, pattern)
        return self.check_detect_parameters(parameters, context)

    def detect_on_dask(self, folder, out_dir, model, options, workers, scheduler, feedback, **kwargs):
        """The batch on Dask (micro_detector.distributed): a LocalCluster of `workers` processes
        or the cluster at `scheduler`. Cancel stops the pending tasks; finished outputs stay."""
        from ...micro_detector.deps import MissingDependencyError
        from ...micro_detector.distributed import ClusterOptions, detect_folder_dask

        try:
            cluster = ClusterOptions(workers=None if scheduler else workers, scheduler=scheduler or None)
            return detect_folder_dask(
                folder,
                out_dir,
                model,
                options=options,
                cluster=cluster,
                log=translating(feedback.pushInfo),
                progress=lambda done, total: feedback.setProgress(100.0 * done / max(total, 1)),
                cancelled=feedback.isCanceled,
                **kwargs,
            )
        except MissingDependencyError:
            raise processing_error(
                self.tr(
                    "The Workers and Dask scheduler settings run on Dask, which QGIS's Python lacks. Install it "
                    "with Plugins > Micro Object Detection > Install dependencies (tick Dask), or set Workers to 0 "
                    "and leave the scheduler empty to run in QGIS."
                )
            ) from None

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API)
        model = self.model_path(self.parameterAsFile(parameters, self.MODEL, context))
        self.require_backend(model)
        options = self.detect_options(parameters, context)
        folder, asset, problem = self.source_and_asset(parameters, context)
        if problem:
            raise processing_error(problem)
        pattern = self.parameterAsString(parameters, self.PATTERN, context) or "*.tif"
        out_dir = self.parameterAsString(parameters, self.OUTPUT_FOLDER, context)
        runner = self.open_runner(model, options)
        from ...micro_detector.batch import detect_folder
        from ...micro_detector.catalog import list_items
        from ...micro_detector.engine import Cancelled
        from ...micro_detector.summary import summary_fields

        try:
            rasters = list_items(folder, pattern, asset)
        except (ValueError, OSError) as error:  # a bad catalogue: named before any work
            raise processing_error(str(error)) from None
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
                rows, summary_csv = self.detect_on_dask(
                    folder,
                    out_dir,
                    model,
                    options,
                    workers,
                    scheduler,
                    feedback,
                    pattern=pattern,
                    fmt=fmt,
                    overwrite=overwrite,
                    asset=asset,
                )
            else:
                rows, summary_csv = detect_folder(
                    folder,
                    out_dir,
                    runner,
                    options=options,
                    pattern=pattern,
                    fmt=fmt,
                    overwrite=overwrite,
                    asset=asset,
                    progress_for=progress_for,
                    log=translating(feedback.pushInfo),
                    cancelled=feedback.isCanceled,
                )
        except Cancelled:
            feedback.reportError(self.tr("Cancelled: the rasters finished so far are kept; run again to go on."))
            return {}
        except (ValueError, RuntimeError, OSError) as error:
            raise processing_error(str(error)) from None
        for row in rows:
            # only files this run wrote: one done before may be open in QGIS (a locked GeoPackage)
            if row.get("written_now"):
                embed_style(str(Path(out_dir) / row["output"]), list(runner.spec.class_names))
        sink_id = self.write_summary(parameters, context, rows, summary_fields(list(runner.spec.class_names)))
        failed = [r["raster"] for r in rows if r.get("status") != "ok"]
        if failed:
            feedback.reportError(self.tr("{} raster(s) failed: {}").format(len(failed), ", ".join(failed)))
        return {self.OUTPUT_FOLDER: out_dir, self.SUMMARY: sink_id, "SUMMARY_CSV": str(summary_csv)}

    def write_summary(self, parameters, context, rows: list[dict], names: list[str]) -> str:
        """The summary table (one row per raster, the columns `names`: counts as integers,
        seconds as decimals, empty cells as NULL) into the SUMMARY sink; returns its id."""
        fields = QgsFields()
        kinds = {
            name: "int" if name == "objects" or name.startswith("n_") else ("double" if name == "seconds" else "string")
            for name in names
        }
        for name in names:
            fields.append(QgsField(name, FIELD_TYPES[kinds[name]]))
        sink, sink_id = self.parameterAsSink(parameters, self.SUMMARY, context, fields, QgsWkbTypes.Type.NoGeometry)
        for row in rows:
            feature = QgsFeature(fields)
            for name in names:
                value = row.get(name, "")
                if kinds[name] != "string":
                    value = (int if kinds[name] == "int" else float)(value) if str(value).strip() != "" else None
                feature[name] = value
            sink.addFeature(feature, QgsFeatureSink.Flag.FastInsert)
        return sink_id
