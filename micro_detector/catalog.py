"""What a folder run runs over: a folder of rasters, a STAC catalogue, or a list of URLs.

`list_items(source, pattern, asset)` answers a list whose entries each have `.name` (the key
of the summary row and of resume), `.stem` (the output's name) and `str()` (the GDAL dataset
name to read):
    a folder                       its files matching `pattern` (pathlib.Path objects)
    a STAC ItemCollection or Item  (JSON, a file or a URL) one `RemoteItem` per item, keyed
                                   by item id, reading the asset `asset` (default: "visual",
                                   else the one asset with the role "visual")
    a text file of URLs            one `RemoteItem` per line, keyed by the URL's file name
STAC is read with pystac; its JSON is fetched through GDAL (`GdalStacIO`), so an s3:// or
https:// catalogue is read with the same credentials and settings as the rasters.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from .remote import dataset_name, display_name, is_remote, redact, remote_stem

__all__ = ["RemoteItem", "CatalogError", "list_items", "read_stac_items", "read_url_list"]


class CatalogError(ValueError):
    """A catalogue or URL list cannot be used: names the file (without secrets) and the fix."""


@dataclass(frozen=True)
class RemoteItem:
    """One raster of a run that is not a file of a folder: `name` keys its summary row and
    resume, `stem` names its output, `href` is the GDAL dataset name read."""

    name: str
    href: str
    stem: str

    def __str__(self) -> str:
        return self.href


def _safe(text: str) -> str:
    """`text` usable as a file name (item ids may hold ':' or '/')."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "item"


def read_text(href: str) -> str:
    """The text at `href`: a local file, or any remote/GDAL name read through GDAL's VSI."""
    name = dataset_name(href)
    if not is_remote(name) and not name.startswith("/vsi"):
        try:
            return Path(name).read_text()
        except OSError as error:
            raise CatalogError(f"cannot read {name}: {error.strerror or error}") from None
    from osgeo import gdal

    from .remote import configure_gdal

    configure_gdal()
    try:
        handle = gdal.VSIFOpenL(name, "rb")
    except RuntimeError as error:
        raise CatalogError(f"cannot read {redact(href)}: {redact(error)}") from None
    if handle is None:
        raise CatalogError(f"cannot read {redact(href)}")
    try:
        chunks = []
        while chunk := gdal.VSIFReadL(1, 1 << 20, handle):
            chunks.append(chunk)
    finally:
        gdal.VSIFCloseL(handle)
    return b"".join(chunks).decode("utf-8")


def _stac_io():
    import pystac

    class GdalStacIO(pystac.StacIO):
        """pystac's reads through GDAL (local files, http(s), s3, gs alike)."""

        def read_text(self, source, *args, **kwargs) -> str:
            return read_text(str(source))

        def write_text(self, dest, txt, *args, **kwargs) -> None:
            raise CatalogError("catalogues are read, never written")

    return GdalStacIO()


def _absolute(href: str, base: str) -> str:
    """An asset href made absolute against the catalogue's location."""
    from pystac.utils import make_absolute_href

    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", href) or href.startswith("/"):
        return href
    return make_absolute_href(href, base)


def choose_asset(item, asset: str | None) -> str:
    """The asset key to read from a pystac Item: `asset`, else "visual", else the one asset
    with the role "visual"; CatalogError naming the keys there are otherwise."""
    keys = list(item.assets)
    if asset is not None:
        if asset not in item.assets:
            raise CatalogError(f"STAC item {item.id} has no asset {asset!r}; its assets: {keys}")
        return asset
    if "visual" in item.assets:
        return "visual"
    visual = [k for k, a in item.assets.items() if "visual" in (a.roles or [])]
    if len(visual) == 1:
        return visual[0]
    raise CatalogError(f"STAC item {item.id} has no 'visual' asset: choose one with --asset (its assets: {keys})")


def read_stac_items(href: str, asset: str | None = None) -> list[RemoteItem]:
    """The items of a STAC ItemCollection or Item at `href`, each reading `asset`."""
    import pystac

    io = _stac_io()
    try:
        data = json.loads(io.read_text(href))
    except json.JSONDecodeError as error:
        raise CatalogError(f"{redact(href)} is not JSON: {error}") from None
    kind = data.get("type") if isinstance(data, dict) else None
    try:
        if kind == "FeatureCollection":
            items = list(pystac.ItemCollection.from_dict(data, preserve_dict=False))
        elif kind == "Feature":
            items = [pystac.Item.from_dict(data, preserve_dict=False)]
        else:
            raise CatalogError(f"{redact(href)} is neither a STAC ItemCollection nor a STAC Item (type {kind!r})")
    except (pystac.STACError, KeyError, TypeError, ValueError) as error:
        if isinstance(error, CatalogError):
            raise
        raise CatalogError(f"{redact(href)} is not valid STAC: {error}") from None
    base = href if is_remote(href) else str(Path(href).resolve())
    out = []
    for item in items:
        key = choose_asset(item, asset)
        out.append(RemoteItem(item.id, dataset_name(_absolute(item.assets[key].href, base)), _safe(item.id)))
    return _unique(out, href)


def read_url_list(href: str) -> list[RemoteItem]:
    """One item per non-empty, non-# line of the text file at `href`, keyed by file name."""
    lines = [line.strip() for line in read_text(href).splitlines()]
    urls = [line for line in lines if line and not line.startswith("#")]
    if not urls:
        raise CatalogError(f"{redact(href)} lists no raster")
    return _unique([RemoteItem(display_name(u), dataset_name(u), _safe(remote_stem(u))) for u in urls], href)


def _unique(items: list[RemoteItem], href: str) -> list[RemoteItem]:
    seen: dict[str, RemoteItem] = {}
    for item in items:
        if item.name in seen or item.stem in {s.stem for s in seen.values()}:
            raise CatalogError(
                f"{redact(href)} names {item.name!r} twice: item ids and URL file "
                "names key the summary and the outputs, so they must be unique"
            )
        seen[item.name] = item
    if not items:
        raise CatalogError(f"{redact(href)} holds no item")
    return items


def _looks_like_json(href: str) -> bool:
    name = href.split("?", 1)[0].lower()
    if name.endswith((".json", ".geojson")):
        return True
    if is_remote(href) or not Path(href).is_file():
        return False
    with open(href, "rb") as f:
        return f.read(64).lstrip().startswith(b"{")


def list_items(source, pattern: str = "*.tif", asset: str | None = None) -> list:
    """What a folder run runs over (see the module docstring); errors up front."""
    from .batch import list_rasters

    text = str(source)
    if not is_remote(text) and Path(text).is_dir():
        if asset is not None:
            raise CatalogError("--asset is for a STAC catalogue, not a folder")
        return list_rasters(text, pattern)
    if _looks_like_json(text):
        return read_stac_items(text, asset)
    if re.search(r"\.(tiff?|jp2|vrt|img)$", text.split("?", 1)[0], re.I):
        raise CatalogError(
            f"{redact(text)} is one raster: detect-folder takes a folder, a STAC "
            "ItemCollection or Item, or a text file of URLs; use detect for one raster"
        )
    if is_remote(text) or Path(text).is_file():
        return read_url_list(text)
    raise FileNotFoundError(f"raster folder, STAC file or URL list not found: {redact(text)}")
