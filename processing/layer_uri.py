"""Raster layers given as text: what `qgis_process`, `processing.run` and the model designer
pass for detect's input when it is not a layer object.

QGIS 3.22 reads a raster parameter's text as a project layer (id, name or source), else as a
file or GDAL source, else as `<provider key>://<data source>` (QgsProcessingUtils'
decodeProviderKeyAndUri), e.g. `wms://type=xyz&url=...`. The data source of a web layer as
QGIS shows it in the layer's properties (`type=xyz&url=...`, or a WMS/WMTS
`crs=...&layers=...&url=...`) names no provider, so QGIS tried GDAL and reported the text as
a missing file. Accepted here, and rewritten to QGIS's form before QGIS reads the text:

- `<provider>://<data source>`, QGIS's own form, for any registered provider (`wms` serves
  XYZ, WMS and WMTS; `wcs`; `virtualraster`), unchanged;
- a web layer's data source without the prefix, starting with `key=` and holding `url=`
  (`type=xyz&url=https://tile.example.org/{z}/{x}/{y}.png&zmin=0&zmax=19`): the `wms` provider.

Anything else (files, GDAL strings such as `WMS:https://...`, layer ids) is left to QGIS.
Because the `wms` provider accepts an XYZ source without a URL, or with a tile folder that does
not exist, as a valid layer (it fails later, tile by tile), those are checked here first.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlparse

from qgis.core import QgsDataSourceUri, QgsProcessingParameterRasterLayer, QgsProviderRegistry, QgsRasterLayer

from ..micro_detector.remote import configure_gdal, dataset_name, display_name, is_remote
from .translate import tr

WEB_PROVIDER = "wms"
_PREFIXED = re.compile(r"^(\w+?)://(.*)$", re.S)  # as QgsProcessingUtils::decodeProviderKeyAndUri
_BARE = re.compile(r"^[A-Za-z_][\w.-]*=")
_RASTER_URL = re.compile(r"^(https?|s3|gs)://[^?&=]+\.(tiff?|vrt|jp2|img)(\?.*)?$", re.I)  # one raster file
_PLACEHOLDERS = ("{x}", "{y}", "{-y}", "{q}")  # column, row (or inverted row) or quadkey


def split_provider(text) -> tuple[str, str] | None:
    """(provider key, data source) of a layer string in either accepted form; None for
    anything else (a file, a GDAL string, a layer id or name)."""
    if not isinstance(text, str) or not text.strip():
        return None
    text = text.strip()
    match = _PREFIXED.match(text)
    if match:
        key = match[1]
        return (key, match[2]) if key in QgsProviderRegistry.instance().providerList() else None
    if _BARE.match(text) and not Path(text).exists() and _params(text).hasParam("url"):
        return WEB_PROVIDER, text
    return None


def is_remote_vsi(text: str) -> bool:
    """A /vsi name read over the network (/vsicurl/, /vsis3/, ...)."""
    return text.startswith("/vsi") and is_remote(text)


def is_raster_url(text) -> bool:
    """A raster file's URL (http(s)://, s3://, gs://) or a remote /vsi name."""
    return isinstance(text, str) and bool(_RASTER_URL.match(text.strip()) or is_remote_vsi(text.strip()))


def remote_layer_id(text, context) -> str | None:
    """A raster URL or remote /vsi name loaded as a GDAL layer of its /vsi name into the
    context's temporary layers (QGIS 3.22 loads no remote raster from text); its layer id, or
    None for other text and for a raster GDAL cannot open (checks.py says why). The core
    then reads it window by window through its own GDAL source (network options: remote.py)."""
    if not is_raster_url(text):
        return None
    name = dataset_name(text.strip())
    store = context.temporaryLayerStore()
    for layer in store.mapLayers().values():
        if layer.source() == name:
            return layer.id()
    configure_gdal()
    layer = QgsRasterLayer(name, display_name(name), "gdal")
    if not layer.isValid():
        return None
    store.addMapLayer(layer)
    return layer.id()


def provider_string(text):
    """`text` in QGIS's `<provider>://<data source>` form when it is a provider layer string;
    anything else unchanged (a raster URL: see `remote_layer_id`)."""
    parts = split_provider(text)
    return f"{parts[0]}://{parts[1]}" if parts else text


def with_provider_strings(alg, parameters: dict, context=None) -> dict:
    """A copy of `parameters` whose raster-layer texts are in QGIS's provider form (raster
    URLs, with a `context`: the id of their layer, `remote_layer_id`)."""
    out = dict(parameters)
    for definition in alg.parameterDefinitions():
        if isinstance(definition, QgsProcessingParameterRasterLayer) and isinstance(out.get(definition.name()), str):
            value = out[definition.name()]
            remote = remote_layer_id(value, context) if context is not None else None
            out[definition.name()] = remote or provider_string(value)
    return out


def layer_name(text) -> str:
    """A readable name for a layer given as a provider string: the WMS layers, else the tile
    server's host, else the tile folder's name, else the provider key."""
    if is_raster_url(text):
        return display_name(text.strip())  # a URL's file name, without its secrets
    parts = split_provider(text)
    if parts is None:
        return str(text)
    provider, source = parts
    params = _params(source)
    if params.param("layers"):
        return params.param("layers")
    url = urlparse(params.param("url"))
    if url.scheme == "file":
        folder = _tile_folder(url)
        return folder.name if folder else provider
    return url.hostname or provider


def describe_problem(text) -> str | None:
    """Why a provider layer string cannot be read, naming the fix; None when it opens (or
    is not a provider string: files are checked elsewhere)."""
    parts = split_provider(text)
    if parts is None:
        return None
    provider, source = parts
    params = _params(source)
    if provider == WEB_PROVIDER and params.param("type") == "xyz":
        problem = _xyz_problem(params.param("url"))
        if problem:
            return problem
    options = QgsRasterLayer.LayerOptions()
    options.loadDefaultStyle = False
    layer = QgsRasterLayer(source, "", provider, options)
    if layer.isValid():
        return None
    error = layer.error()  # its summary() crashes QGIS 3.22 when the error is empty
    detail = error.summary() if not error.isEmpty() else tr("no reason given")
    return tr("The {} layer {} cannot be opened: {}").format(provider, source, detail)


def _xyz_problem(url: str) -> str | None:
    example = "type=xyz&url=https://tile.example.org/{z}/{x}/{y}.png"
    if not url:
        return tr("The XYZ layer has no url=: give the tile URL template, e.g. {}").format(example)
    if "{z}" not in url or not any(p in url for p in _PLACEHOLDERS):
        return tr("The XYZ tile URL {} has no {{z}}, {{x}} and {{y}} placeholders, e.g. {}").format(url, example)
    parsed = urlparse(url)
    if parsed.scheme == "file":
        folder = _tile_folder(parsed)
        if folder is None or not folder.is_dir():
            return tr("XYZ tile folder not found: {}").format(folder or unquote(parsed.path))
    elif parsed.scheme not in ("http", "https"):
        return tr("The XYZ tile URL {} must start with http://, https:// or file://").format(url)
    return None


def _tile_folder(url) -> Path | None:
    """The folder above the tiles of a file:// URL template (the part before the first {...})."""
    path = unquote(url.path).split("{")[0]
    return Path(path) if path.strip("/") else None


def _params(source: str) -> QgsDataSourceUri:
    uri = QgsDataSourceUri()
    uri.setEncodedUri(source)  # as the wms provider parses it: percent-encoded values decoded
    return uri
