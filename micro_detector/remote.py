"""Rasters that are not local files: URLs, object storage and other GDAL dataset names.

Wherever a raster is taken (CLI, Python API, detect-folder, evaluation, training, QGIS) it is
a GDAL dataset name, and `dataset_name` says which one:

    http(s)://host/a.tif      -> /vsicurl/http(s)://host/a.tif
    s3://bucket/key.tif       -> /vsis3/bucket/key.tif      (gs:// -> /vsigs/, az:// -> /vsiaz/)
    /vsicurl/..., /vsis3/...  as given (any /vsi name, chains such as /vsizip//vsicurl/...)
    anything else             a local path

A URL is never a local path: `pathlib.Path("http://h/a.tif")` collapses the double slash
("http:/h/a.tif"); that spelling is mended here, so a URL survives a Path on its way in.

Credentials come from the environment and GDAL's config (AWS_*, AWS_NO_SIGN_REQUEST,
GDAL_HTTP_*, a query string the user gave): GDAL reads them, and every name that reaches a
message, a log line or an output goes through `redact` (userinfo and query strings hidden).

`configure_gdal` sets GDAL's network options for COGs without overriding any the user set;
`NetworkStats` counts the bytes and requests of a run (GDAL's network statistics).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from pathlib import PurePosixPath

from osgeo import gdal

__all__ = [
    "dataset_name",
    "is_remote",
    "redact",
    "display_name",
    "remote_stem",
    "configure_gdal",
    "gdal_config",
    "apply_gdal_config",
    "forget_remote",
    "NetworkStats",
    "layout_warning",
]

_SCHEMES = {"http": "/vsicurl/", "https": "/vsicurl/", "s3": "/vsis3/", "gs": "/vsigs/", "az": "/vsiaz/"}
_COLLAPSED = re.compile(r"^(https?|s3|gs|az):/(?!/)")  # what Path() makes of a URL
_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<rest>.*)$")
_NETWORK_VSI = ("/vsicurl", "/vsis3", "/vsigs", "/vsiaz", "/vsiadls", "/vsioss", "/vsiswift", "/vsiwebhdfs", "/vsihdfs")

# Options suited to reading COGs by range requests. Set only where the user set nothing.
COG_DEFAULTS = {
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",  # no listing of the folder per open
    "GDAL_HTTP_MERGE_CONSECUTIVE_RANGES": "YES",  # adjacent tiles in one request
    "GDAL_HTTP_MULTIPLEX": "YES",  # HTTP/2 multiplexing where the server speaks it
    "GDAL_HTTP_VERSION": "2TLS",  # HTTP/2 over TLS, HTTP/1.1 otherwise
    "GDAL_HTTP_MAX_RETRY": "3",  # 429/5xx and dropped connections: retried ...
    "GDAL_HTTP_RETRY_DELAY": "1",  # ... after 1 s, then longer (GDAL's backoff)
    "GDAL_HTTP_CONNECTTIMEOUT": "20",
    "GDAL_HTTP_TIMEOUT": "60",
    "VSI_CACHE": "TRUE",
    "CPL_VSIL_NETWORK_STATS_ENABLED": "YES",  # bytes and requests for the run report
}
# Keys handed to Dask workers so that they read as the client does (credentials included:
# the workers need them; they travel in the task, never in a log or an output).
_CONFIG_PREFIXES = ("GDAL_", "CPL_", "VSI_", "AWS_", "GS_", "GOOGLE_", "AZURE_", "OSS_", "SWIFT_")
# GDAL (3.6) cannot list the options set by gdal.SetConfigOption: these are asked by name.
_KNOWN_KEYS = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_S3_ENDPOINT",
    "AWS_HTTPS",
    "AWS_VIRTUAL_HOSTING",
    "AWS_NO_SIGN_REQUEST",
    "AWS_PROFILE",
    "AWS_REQUEST_PAYER",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "GS_ACCESS_KEY_ID",
    "GS_SECRET_ACCESS_KEY",
    "GS_OAUTH2_REFRESH_TOKEN",
    "GS_NO_SIGN_REQUEST",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "AZURE_STORAGE_ACCOUNT",
    "AZURE_STORAGE_ACCESS_KEY",
    "AZURE_STORAGE_SAS_TOKEN",
    "AZURE_STORAGE_CONNECTION_STRING",
    "AZURE_NO_SIGN_REQUEST",
    "GDAL_HTTP_HEADERS",
    "GDAL_HTTP_HEADER_FILE",
    "GDAL_HTTP_USERPWD",
    "GDAL_HTTP_AUTH",
    "GDAL_HTTP_PROXY",
    "GDAL_HTTP_PROXYUSERPWD",
    "GDAL_HTTP_UNSAFESSL",
    "GDAL_HTTP_USERAGENT",
    "GDAL_HTTP_COOKIE",
    "CPL_CURL_VERBOSE",
    "CURL_CA_BUNDLE",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS",
    "GDAL_INGESTED_BYTES_AT_OPEN",
    "CPL_VSIL_CURL_CHUNK_SIZE",
)


def dataset_name(raster) -> str:
    """The GDAL dataset name of `raster` (a str, a Path or anything with __str__): URLs
    become /vsi names (see the module docstring), /vsi names and local paths are kept."""
    text = str(raster)
    text = _COLLAPSED.sub(lambda m: m.group(1) + "://", text)
    match = _URL.match(text)
    if match and match["scheme"].lower() in _SCHEMES:
        scheme = match["scheme"].lower()
        prefix = _SCHEMES[scheme]
        return prefix + (text if prefix == "/vsicurl/" else match["rest"])
    return text


def is_remote(raster) -> bool:
    """True when `raster` is read over a network (a URL, or a /vsi network name)."""
    name = dataset_name(raster)
    return any(part in name for part in _NETWORK_VSI)


def redact(text) -> str:
    """`text` with secrets of any URL in it hidden: user:password@ and query strings (signed
    URLs, tokens). Safe on any message; plain paths are unchanged."""
    text = str(text)
    text = re.sub(r"(?P<s>[A-Za-z][A-Za-z0-9+.-]*://)[^/\s@'\"]+@", r"\g<s>***@", text)
    text = re.sub(r"(?P<u>(?:[A-Za-z][A-Za-z0-9+.-]*://|/vsi[a-z0-9_]+/)[^\s'\"?]*)\?[^\s'\"]*", r"\g<u>?***", text)
    return text


def _url_path(name: str) -> str:
    """The path part of a dataset name, without /vsi prefixes, host and query."""
    text = redact(dataset_name(name)).split("?", 1)[0]
    while text.startswith("/vsi"):
        text = text.split("/", 2)[2] if text.count("/") >= 2 else ""
    match = _URL.match(text)
    if match:
        text = match["rest"].split("/", 1)[1] if "/" in match["rest"] else ""
    return text.rstrip("/")


def display_name(raster) -> str:
    """The last path element of `raster` (a URL's file name), for messages and outputs."""
    return PurePosixPath(_url_path(str(raster))).name or redact(raster)


def remote_stem(raster) -> str:
    """`display_name` without its extension: the stem an output is named after."""
    return PurePosixPath(display_name(raster)).stem


def forget_remote(name: str) -> None:
    """Drop what GDAL cached of a remote raster (a 404 is cached too): a later try asks again."""
    if is_remote(name):
        gdal.VSICurlPartialClearCache(dataset_name(name))


def configure_gdal() -> dict[str, str]:
    """Set GDAL's network options for COGs (COG_DEFAULTS) where neither the environment nor
    GDAL's config has them. Returns the options set now."""
    set_now = {}
    for key, value in COG_DEFAULTS.items():
        if gdal.GetConfigOption(key) is None:
            gdal.SetConfigOption(key, value)
            set_now[key] = value
    return set_now


def gdal_config() -> dict[str, str]:
    """The GDAL and cloud options in force here (environment and GDAL config, the COG
    defaults included), for workers."""
    configure_gdal()
    keys = {k for k in os.environ if k.startswith(_CONFIG_PREFIXES)} | set(COG_DEFAULTS) | set(_KNOWN_KEYS)
    values = {k: gdal.GetConfigOption(k) for k in sorted(keys)}
    return {k: v for k, v in values.items() if v is not None}


def apply_gdal_config(config: dict[str, str]) -> None:
    """Set `config` (from `gdal_config` of another process) in this process's GDAL config."""
    for key, value in config.items():
        gdal.SetConfigOption(key, value)
    configure_gdal()


class NetworkStats:
    """Bytes downloaded and requests made by GDAL's network readers between `start()` and
    `read()` (GDAL counts per process: runs in parallel threads of one process add up)."""

    def __init__(self):
        self.base = (0, 0)

    @staticmethod
    def totals() -> tuple[int, int]:
        """(bytes downloaded, requests) so far in this process."""
        try:
            stats = json.loads(gdal.NetworkStatsGetAsSerializedJSON() or "{}")
        except (RuntimeError, ValueError):
            return 0, 0
        methods = stats.get("methods", {}).values()
        return (sum(int(m.get("downloaded_bytes", 0)) for m in methods), sum(int(m.get("count", 0)) for m in methods))

    def start(self) -> NetworkStats:
        """Take the counts of now as the base."""
        self.base = self.totals()
        return self

    def read(self) -> dict:
        """{"bytes_fetched", "requests"} since `start()`."""
        now = self.totals()
        return {"bytes_fetched": now[0] - self.base[0], "requests": now[1] - self.base[1]}


@contextlib.contextmanager
def redact_gdal_messages(stream=None):
    """Within the block, GDAL's own warnings (which may quote a signed URL) go through
    `redact` to `stream` (stderr). Errors still raise (gdal.UseExceptions) and are redacted
    where caught."""

    def handler(level, number, message):
        if level == gdal.CE_Warning:
            (stream or sys.stderr).write(f"GDAL warning: {redact(message)}\n")

    gdal.PushErrorHandler(handler)
    try:
        yield
    finally:
        gdal.PopErrorHandler()


def layout_warning(ds, width: int) -> str | None:
    """A warning when a remote raster is not tiled (striped or one block): each window then
    fetches whole rows of the raster, not just its own pixels. None for a tiled raster."""
    block_w, block_h = ds.GetRasterBand(1).GetBlockSize()
    if block_w < width or width <= 512:
        return None
    return (
        f"not a tiled (cloud-optimized) GeoTIFF: its blocks are whole rows ({block_w} x "
        f"{block_h} px), so every window downloads full rows of {width} px, up to "
        f"{width / 512:.0f}x the bytes of 512 px tiles; convert it once with "
        "gdal_translate -of COG for window reads"
    )
