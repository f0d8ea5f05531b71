"""Raster access through GDAL: facts about a raster, band choice, windowed reads, normalisation.

Only windows are ever read, never a whole raster. Reads return uint8 (bands, h, w) arrays in
the 0-255 range the model expects, plus a validity mask from nodata values / mask bands.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from osgeo import gdal, osr

from .remote import configure_gdal, dataset_name, forget_remote, is_remote, redact

gdal.UseExceptions()
osr.UseExceptions()


class RasterError(ValueError):
    """A raster cannot be used as asked: names the file and the problem."""


class RasterReadError(RuntimeError):
    """Pixels of a raster that opened could not be read (a server gone, a timeout, a
    truncated file): the run failed, names the raster without secrets and the window."""


@dataclass
class RasterInfo:
    """Facts about a raster known before reading pixels (see source.py for each field)."""

    path: str
    width: int
    height: int
    count: int
    dtype: str
    geotransform: tuple[float, ...]
    crs_wkt: str | None
    nodata: list[float | None]
    color_interp: list[str]
    georeferenced: bool
    pixel_size_m: float | None = None  # ground sample distance, metres per pixel
    metres_per_unit: float | None = None
    block: tuple[int, int] | None = None  # the internal tile (block) size of band 1, (w, h)

    @property
    def label(self) -> str:
        """`path` for messages, reports and outputs: a URL without its secrets (remote.redact)."""
        return redact(self.path)


def open_dataset(path: str | Path) -> gdal.Dataset:
    """A read-only GDAL dataset of any GDAL dataset name (a file, a URL, a /vsi name: see
    remote.py), or RasterError saying why not (missing, unreachable, unreadable, empty).
    Messages name the raster without secrets (remote.redact)."""
    path = dataset_name(path)
    shown = redact(path)
    if is_remote(path):
        configure_gdal()
    elif "://" not in path and not path.startswith("/vsi") and not Path(path).exists():
        raise RasterError(f"raster not found: {path}")
    try:
        ds = gdal.Open(path, gdal.GA_ReadOnly)
    except RuntimeError as error:
        forget_remote(path)
        raise RasterError(f"GDAL cannot open {shown}: {redact(error)}") from None
    if ds is None or ds.RasterCount == 0:
        raise RasterError(f"{shown} has no raster bands")
    if ds.RasterXSize == 0 or ds.RasterYSize == 0:
        raise RasterError(f"{shown} is an empty raster ({ds.RasterXSize} x {ds.RasterYSize})")
    return ds


def _metres_per_unit(srs: osr.SpatialReference, gt, width, height) -> tuple[float, float]:
    """Metres per CRS unit along x and along y. Projected: the linear unit. Geographic: the
    ellipsoid's metres per degree of longitude and of latitude at the raster's centre."""
    if not srs.IsGeographic():
        unit = srs.GetLinearUnits()
        return unit, unit
    lat = math.radians(gt[3] + gt[5] * height / 2 + gt[4] * width / 2)
    a = srs.GetSemiMajor()
    inv_f = srs.GetInvFlattening()
    e2 = 0.0 if not inv_f else (2 - 1 / inv_f) / inv_f
    w = 1 - e2 * math.sin(lat) ** 2
    meridian = a * (1 - e2) / w**1.5  # radius of curvature north-south
    normal = a / math.sqrt(w)  # east-west
    rad = srs.GetAngularUnits()  # radians per CRS unit (degree: pi / 180)
    return normal * max(math.cos(lat), 1e-9) * rad, meridian * rad


def read_info(path: str | Path, ds: gdal.Dataset | None = None) -> RasterInfo:
    """The facts about a raster (size, bands, georeferencing, GSD in metres) without reading pixels."""
    ds = ds or open_dataset(path)
    gt = ds.GetGeoTransform(can_return_null=True)
    wkt = ds.GetProjection() or None
    georeferenced = gt is not None and wkt is not None
    bands = [ds.GetRasterBand(i + 1) for i in range(ds.RasterCount)]
    info = RasterInfo(
        path=dataset_name(path),
        width=ds.RasterXSize,
        height=ds.RasterYSize,
        count=ds.RasterCount,
        dtype=gdal.GetDataTypeName(bands[0].DataType).lower(),
        geotransform=tuple(gt) if gt else (0.0, 1.0, 0.0, 0.0, 0.0, 1.0),
        crs_wkt=wkt,
        nodata=[b.GetNoDataValue() for b in bands],
        color_interp=[gdal.GetColorInterpretationName(b.GetColorInterpretation()) for b in bands],
        georeferenced=georeferenced,
        block=tuple(bands[0].GetBlockSize()),
    )
    if georeferenced:
        srs = osr.SpatialReference(wkt=wkt)
        mx, my = _metres_per_unit(srs, info.geotransform, info.width, info.height)
        g = info.geotransform
        # one number for both axes: the side of a square pixel of the same ground area
        info.metres_per_unit = math.sqrt(mx * my)
        info.pixel_size_m = math.sqrt(abs(g[1] * g[5] - g[2] * g[4]) * mx * my) or None
    return info


def choose_bands(info: RasterInfo, model_bands: int, bands: list[int] | None = None) -> list[int]:
    """1-based band numbers to feed the model: the user's, else R,G,B by colour interpretation
    for a 3-band model, else the first bands; a single grey band (alpha aside) is repeated on
    every model band. Too few bands otherwise is an error naming the counts."""
    if bands:
        bad = [b for b in bands if not 1 <= b <= info.count]
        if bad:
            raise RasterError(f"{info.label} has {info.count} band(s); band(s) {bad} do not exist")
        if len(bands) != model_bands:
            raise RasterError(f"the model takes {model_bands} band(s) but {len(bands)} were chosen ({bands})")
        return list(bands)
    grey = [k + 1 for k, c in enumerate(info.color_interp) if c != "Alpha"]
    if len(grey) == 1 and model_bands > 1:  # panchromatic: the one grey band on every input
        return grey * model_bands
    if info.count < model_bands:
        raise RasterError(
            f"{info.label} has {info.count} band(s) but the model needs "
            f"{model_bands}; choose bands explicitly (e.g. --bands "
            f"{','.join(['1'] * model_bands)} to repeat a grey band)"
        )
    if model_bands == 3:
        rgb = [info.color_interp.index(c) + 1 for c in ("Red", "Green", "Blue") if c in info.color_interp]
        if len(rgb) == 3:
            return rgb
    return list(range(1, model_bands + 1))


def compute_stretch(
    ds: gdal.Dataset, info: RasterInfo, bands: list[int], low: float = 2.0, high: float = 98.0, sample: int = 1024
) -> list[tuple[float, float]]:
    """Per band (low, high) percentiles from a decimated read (GDAL uses overviews when present)."""
    scale = max(info.width, info.height) / sample
    bw, bh = max(1, round(info.width / max(scale, 1))), max(1, round(info.height / max(scale, 1)))
    out = []
    for b in bands:
        band = ds.GetRasterBand(b)
        data = band.ReadAsArray(0, 0, info.width, info.height, bw, bh).astype(np.float64)
        valid = np.isfinite(data)
        if info.nodata[b - 1] is not None:
            valid &= data != info.nodata[b - 1]
        if not valid.any():
            out.append((0.0, 1.0))
            continue
        lo, hi = np.percentile(data[valid], [low, high])
        out.append((float(lo), float(hi if hi > lo else lo + 1)))
    return out


def to_uint8(data: np.ndarray, stretch: list[tuple[float, float]] | None) -> np.ndarray:
    """(bands, h, w) -> uint8: as is for 8-bit data, else linear stretch between percentiles."""
    if stretch is None:
        return data.astype(np.uint8, copy=False)
    out = np.empty(data.shape, np.uint8)
    for k, (lo, hi) in enumerate(stretch):
        band = (data[k].astype(np.float32) - lo) * (255.0 / (hi - lo))
        out[k] = np.clip(np.nan_to_num(band, nan=0.0), 0, 255)
    return out


# GDAL's block cache is process-wide and by default 5% of the RAM. Reading a large raster
# filled it, so peak memory grew with the raster (744 MB at 2k x 2k, 1320 MB at 12k x 12k).
# Tiles are read once, row by row: the reads reuse only the blocks of the overlap, within one
# band of tile rows (640 rows of a 12k RGB raster: 23 MB). Measured on a 12k JPEG mosaic,
# reads alone: peak RSS 537 MB uncapped, 232 MB at 128 MB, 169 MB at 64 MB, same read time.
GDAL_CACHE_MB = 64


def cap_gdal_cache(megabytes: int = GDAL_CACHE_MB) -> int:
    """Lower GDAL's block cache to `megabytes` (a smaller cap someone set is kept). Returns
    the cap in bytes."""
    cap = megabytes * 1024 * 1024
    if gdal.GetCacheMax() > cap:
        gdal.SetCacheMax(cap)
    return gdal.GetCacheMax()


class WindowReader:
    """Reads windows of chosen bands from its own GDAL handle (one per thread); caps GDAL's
    block cache (cap_gdal_cache) so memory does not grow with the raster."""

    def __init__(self, info: RasterInfo, bands: list[int], stretch=None):
        self.info = info
        cap_gdal_cache()
        self.ds = open_dataset(info.path)
        self.bands = bands
        self.stretch = stretch
        first = self.ds.GetRasterBand(bands[0])
        self.use_mask = first.GetMaskFlags() != gdal.GMF_ALL_VALID

    def read(self, x0: int, y0: int, w: int, h: int, out_w: int, out_h: int):
        """Window (x0, y0, w, h) in source pixels resampled to (out_h, out_w):
        (uint8 image (bands, out_h, out_w), valid mask (out_h, out_w) bool)."""
        resample = gdal.GRIORA_NearestNeighbour if (w, h) == (out_w, out_h) else gdal.GRIORA_Bilinear
        arrays = {}
        try:
            for b in dict.fromkeys(self.bands):  # a repeated band (grey as RGB) is read once
                band = self.ds.GetRasterBand(b)
                arrays[b] = band.ReadAsArray(x0, y0, w, h, out_w, out_h, resample_alg=resample)
            valid = np.ones((out_h, out_w), bool)
            if self.use_mask:
                mask = self.ds.GetRasterBand(self.bands[0]).GetMaskBand()
                valid &= mask.ReadAsArray(x0, y0, w, h, out_w, out_h) > 0
        except RuntimeError as error:  # a server gone, a timeout, a truncated file
            forget_remote(self.info.path)
            raise RasterReadError(
                f"reading {self.info.label} failed at window x={x0} y={y0} ({w} x {h} px): {redact(error)}"
            ) from None
        data = np.stack([arrays[b] for b in self.bands])
        for k, b in enumerate(self.bands):
            nd = self.info.nodata[b - 1]
            if nd is not None:
                valid &= data[k] != nd
        if np.issubdtype(data.dtype, np.floating):
            valid &= np.isfinite(data).all(0)
        image = to_uint8(data, self.stretch)
        image[:, ~valid] = 0
        return image, valid
