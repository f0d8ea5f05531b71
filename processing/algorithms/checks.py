"""Checks every algorithm of the provider runs before its work (from
MicroAlgorithm.checkParameterValues): an input raster that cannot be used is reported as
what it is (missing, corrupt, not a raster), and vector outputs follow the output-safety rule
of micro_detector/outputs.py. QGIS keeps its overwrite convention: its file widget has
already asked, so replacing is allowed, and in an existing GeoPackage only our layer is."""

from __future__ import annotations

import re
from pathlib import Path

from qgis.core import (
    QgsProcessingOutputLayerDefinition,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterVectorDestination,
    QgsProcessingParameterVectorLayer,
    QgsProcessingUtils,
    QgsProperty,
    QgsRasterLayer,
)

from ...micro_detector.outputs import DEFAULT_LAYER, OutputError, OutputTarget, check_output
from ...micro_detector.remote import dataset_name, redact
from ..layer_uri import describe_problem, split_provider
from ..translate import tr

_OGR_URI = re.compile(r"^ogr:dbname='(?P<path>(?:[^']|'')+)'(?:\s+table=\"(?P<table>[^\"]+)\")?")


def _raw(value):
    """The string behind a parameter value (output definitions and properties included)."""
    if isinstance(value, QgsProcessingOutputLayerDefinition):
        value = value.sink
    if isinstance(value, QgsProperty):
        value = value.staticValue()
    return value if isinstance(value, str) else None


def output_target(value) -> OutputTarget | None:
    """The file and layer a vector destination names (`x.gpkg`, `x.gpkg|layername=n`,
    `ogr:dbname='x.gpkg' table="n"`), allowed to replace; None for memory or database outputs."""
    text = _raw(value)
    if not text or text == "TEMPORARY_OUTPUT" or text.startswith(("memory:", "postgres", "postgis:")):
        return None
    layer = DEFAULT_LAYER
    match = _OGR_URI.match(text)
    if match:
        text, layer = match["path"].replace("''", "'"), match["table"] or DEFAULT_LAYER
    elif "|layername=" in text:
        text, layer = text.split("|layername=", 1)
        layer = layer.split("|")[0] or DEFAULT_LAYER
    return OutputTarget(Path(text), layer, overwrite=True)


def describe_unreadable_raster(value: str) -> str | None:
    """Why the raster `value` (a file or a GDAL source string) cannot be used, or None."""
    from osgeo import gdal

    path = dataset_name(value.split("|")[0])
    if not Path(path).exists() and not path.startswith(("/vsi", "GPKG:")) and "://" not in path:
        return tr("Raster file not found: {}").format(path)
    gdal.UseExceptions()  # as the core does (raster.py)
    try:
        ds = gdal.Open(path)
    except RuntimeError as error:
        return tr("The raster {} cannot be used: GDAL cannot read it ({})").format(redact(path), redact(error).strip())
    if ds is None or ds.RasterCount == 0:
        return tr("The raster {} cannot be used: it holds no raster bands").format(redact(path))
    return None


def check_input_rasters(alg, parameters, context) -> tuple[bool, str]:
    """A raster parameter given as text that QGIS cannot load: say what is wrong with it (a
    provider layer string such as `type=xyz&url=...`, see layer_uri.py, or a file)."""
    for definition in alg.parameterDefinitions():
        if not isinstance(definition, QgsProcessingParameterRasterLayer):
            continue
        value = _raw(parameters.get(definition.name()))
        if not value:
            continue
        if split_provider(value) is not None:
            problem = describe_problem(value)
            if problem:
                return False, problem
            continue
        layer = QgsProcessingUtils.mapLayerFromString(value, context)
        if isinstance(layer, QgsRasterLayer) and layer.isValid():
            continue
        problem = describe_unreadable_raster(value)
        if problem:
            return False, problem
    return True, ""


def _input_sources(alg, parameters, context) -> list[str]:
    sources = []
    for definition in alg.parameterDefinitions():
        name = definition.name()
        if parameters.get(name) in (None, ""):
            continue
        if isinstance(definition, QgsProcessingParameterRasterLayer):
            layer = alg.parameterAsRasterLayer(parameters, name, context)
        elif isinstance(definition, QgsProcessingParameterVectorLayer):
            layer = alg.parameterAsVectorLayer(parameters, name, context)
        else:
            continue
        if layer is not None:
            sources.append(layer.source())
        elif _raw(parameters.get(name)):
            sources.append(_raw(parameters.get(name)))
    return sources


def check_outputs(alg, parameters, context) -> tuple[bool, str]:
    """Vector outputs under the output-safety rule; folder outputs must not be files."""
    inputs = None
    for definition in alg.destinationParameterDefinitions():
        value = parameters.get(definition.name())
        if isinstance(definition, QgsProcessingParameterFolderDestination):
            text = _raw(value)
            if text and text != "TEMPORARY_OUTPUT" and Path(text).is_file():
                return False, tr("The output folder {} is a file: choose a folder.").format(text)
        if not isinstance(definition, QgsProcessingParameterVectorDestination):
            continue
        target = output_target(value)
        if target is None or not target.path.suffix and not target.path.is_dir():
            continue  # QGIS adds the default extension to a bare name
        if inputs is None:
            inputs = _input_sources(alg, parameters, context)
        try:
            check_output(target, inputs)
        except OutputError as error:
            return False, str(error)
    return True, ""


def check_detect_options(alg, parameters, context) -> tuple[bool, str]:
    """The detection options as the engine will get them, validated by DetectOptions itself
    (one rule set for the CLI, the library and QGIS), before any model or raster is opened."""
    if not hasattr(alg, "detect_options"):
        return True, ""
    try:
        alg.detect_options(parameters, context)
    except (ValueError, TypeError) as error:
        return False, tr("Invalid detection option: {}").format(error)
    return True, ""
