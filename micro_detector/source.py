"""Window sources: where the detection engine and the training chips get their pixels.

The core never reads a raster any other way than through a `WindowSource`, and never imports
QGIS. A source answers two kinds of question:

Facts, in `source.info` (a `raster.RasterInfo`), known before any pixel is read:
    width, height            raster size in pixels
    geotransform             GDAL affine (x0, dx, rx, y0, ry, dy): pixel-edge (col, row) -> map
    crs_wkt                  the CRS as WKT, or None (then `georeferenced` is False)
    georeferenced            both a CRS and a geotransform are known
    pixel_size_m             ground sample distance in metres per pixel, or None when unknown;
                             for a geographic CRS (degrees) it is computed at the raster's centre
    metres_per_unit          metres per CRS unit (areas of boxes), or None
    count, dtype             band count and GDAL data type name ("byte", "uint16", "float32"...)
    color_interp             per band colour interpretation name ("Red", "Gray", "Alpha"...)
    nodata                   per band nodata value or None
    path                     a name for messages and the output's `source` field

Pixels, through two calls made in this order:
    select_bands(bands)      1-based band numbers, in the model's order (a band may repeat:
                             [1, 1, 1] feeds a grey band as RGB). The source prepares whatever
                             turns those bands into 0-255 (for GDAL: a percentile stretch of
                             non-8-bit data) and returns log lines saying what it did.
    read(window, out_w, out_h) -> (image, valid)
                             `window` is a `tiling.Window` in source pixels (x0, y0, w, h);
                             image: uint8 array (len(bands), out_h, out_w), the window resampled
                             to out_w x out_h (nearest when equal size, bilinear otherwise);
                             valid: bool array (out_h, out_w), False where the source has no data
                             (nodata values, mask/alpha bands, NaN, outside a provider's extent).
                             Invalid pixels are 0 in `image`.

Threads: the engine reads in one background thread. `for_thread()` returns a source that is safe
to use from another thread (GDAL: a new dataset handle; a QGIS provider: `provider.clone()`);
it must give the same pixels. Sources are context managers; `close()` releases handles.

To add a source (the QGIS layer source lives in `processing/`), subclass `WindowSource`,
fill `self.info` in `__init__`, implement `select_bands`, `read` and, when needed,
`for_thread` and `close`. `GdalSource` is the reference implementation.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np

from .raster import RasterInfo, WindowReader, compute_stretch, open_dataset, read_info
from .remote import NetworkStats, dataset_name, is_remote, layout_warning
from .tiling import Window

__all__ = ["WindowSource", "GdalSource", "open_source"]


class WindowSource(ABC):
    """A raster the engine reads window by window (see the module docstring for the contract)."""

    info: RasterInfo
    bands: list[int] | None = None

    @abstractmethod
    def select_bands(self, bands: list[int]) -> list[str]:
        """Read these 1-based bands from now on; returns log lines (may be empty)."""

    @abstractmethod
    def read(self, window: Window, out_w: int, out_h: int) -> tuple[np.ndarray, np.ndarray]:
        """(uint8 image (bands, out_h, out_w), bool valid mask (out_h, out_w)) of `window`."""

    def for_thread(self) -> WindowSource:
        """A source giving the same pixels, safe to read from another thread."""
        return self

    def describe(self) -> dict:
        """Facts for the run report (e.g. the stretch applied); empty by default."""
        return {}

    def close(self) -> None:  # noqa: B027 (optional: a source without handles needs none)
        """Release handles; the source is not read after this."""

    def __enter__(self) -> WindowSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class GdalSource(WindowSource):
    """Any raster GDAL opens: files, /vsi paths, URLs, GeoPackage rasters.

    Non-8-bit data is stretched linearly per band between its 2nd and 98th percentiles
    (computed once from a decimated read), so every source feeds the model 0-255 pixels.
    """

    def __init__(
        self, path: str | Path, info: RasterInfo | None = None, stretch: list[tuple[float, float]] | None = None
    ):
        self.path = dataset_name(path)
        self.remote = is_remote(self.path)
        self.network = NetworkStats().start() if self.remote else None
        self._ds = open_dataset(self.path) if info is None else None
        self.info = info or read_info(self.path, self._ds)
        self.stretch = stretch
        self.bands: list[int] | None = None
        self._reader: WindowReader | None = None
        self.warnings = []
        if self.remote and self._ds is not None:
            self.warnings = [w for w in [layout_warning(self._ds, self.info.width)] if w]

    def select_bands(self, bands: list[int]) -> list[str]:
        """Read these 1-based bands from now on; non-8-bit data gets its stretch computed here. Returns log lines."""
        self.bands = list(bands)
        notes = []
        if self.info.dtype != "byte" and self.stretch is None:
            ds = self._ds or open_dataset(self.path)
            self.stretch = compute_stretch(ds, self.info, self.bands)
            notes.append(
                f"{self.info.dtype} raster: stretched per band between the 2nd and 98th "
                f"percentiles {[(round(a, 3), round(b, 3)) for a, b in self.stretch]}"
            )
        self._reader = None
        return notes

    def read(self, window: Window, out_w: int, out_h: int) -> tuple[np.ndarray, np.ndarray]:
        """(uint8 image (bands, out_h, out_w), bool valid mask (out_h, out_w)) of `window`; RuntimeError before select_bands()."""
        if self.bands is None:
            raise RuntimeError("select_bands() must be called before read()")
        if self._reader is None:  # opened lazily: in the thread that reads
            self._reader = WindowReader(self.info, self.bands, self.stretch)
        return self._reader.read(window.x0, window.y0, window.w, window.h, out_w, out_h)

    def for_thread(self) -> GdalSource:
        """A twin with its own GDAL handle (opened on first read), the same bands and stretch."""
        twin = GdalSource(self.path, self.info, self.stretch)
        twin.bands = self.bands
        return twin

    def describe(self) -> dict:
        """{"stretch": the per-band stretch applied, or None for 8-bit data}; for a remote
        raster also "network" (bytes fetched and requests since it was opened) and
        "warnings" (an untiled layout)."""
        facts: dict[str, object] = {"stretch": self.stretch}
        if self.network is not None:
            facts["network"] = self.network.read()
            facts["warnings"] = list(self.warnings)
        return facts

    def close(self) -> None:
        """Drop the GDAL handles."""
        self._reader = None
        self._ds = None


def open_source(raster) -> WindowSource:
    """`raster` as a window source: a WindowSource is returned as is, anything else (a path,
    a GDAL connection string) is opened with GDAL. Raises RasterError naming the problem."""
    if isinstance(raster, WindowSource):
        return raster
    return GdalSource(raster)
