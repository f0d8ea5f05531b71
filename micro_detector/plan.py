"""The tile plan: options + raster facts + model spec -> what to read, where, at what scale.

This is the one place where the resolution (scale) rule, the band choice, the tile size and
overlap, the search region and the window grid are decided, for detection and for training
chips alike. Every check that needs the raster or the model is made here, before any tile
is read. A `TilePlan` is plain data (it pickles), so a client can plan a huge raster and send
subsets of `plan.windows` to workers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from .options import DetectOptions, OptionsError
from .raster import RasterError, RasterInfo, choose_bands
from .remote import is_remote
from .tiling import Window, aligned_overlap, make_grid, overlap_pixels

__all__ = [
    "TilePlan",
    "PlanError",
    "plan_tiles",
    "zoom_plan",
    "check_georeferenced",
    "resolution_scale",
    "class_filter",
    "read_size",
]


class PlanError(ValueError):
    """The raster, the model and the options do not fit together; names what to change."""


@dataclass
class TilePlan:
    """What a run reads: `windows` (source pixels) read at `scale` source px per model px."""

    info: RasterInfo
    scale: float  # source pixels per model pixel
    tile: int  # model pixels per tile side
    src_tile: int  # source pixels per tile side
    overlap: int  # source pixels shared by neighbouring tiles
    windows: Sequence[Window]  # a lazy WindowGrid (whole raster) or a list (a region's)
    bands: list[int]  # 1-based, in the model's order
    classes: list[int] | None = None  # class ids kept (None: all)
    region_wkt: str | None = None  # search region in the raster's CRS (None: whole raster)
    notes: list[str] = field(default_factory=list)  # log lines: scale reason, grey band...
    raster_gsd: float | None = None  # metres per pixel used by the scale rule
    # boxes wider than this (sqrt(w * h), source pixels) are dropped: the zoom pass's limit
    max_side: float | None = None
    _region = None

    def region(self):
        """The search region as an OGR geometry (built once), or None."""
        if self.region_wkt is None:
            return None
        if self._region is None:
            from osgeo import ogr

            self._region = ogr.CreateGeometryFromWkt(self.region_wkt)
        return self._region

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_region", None)  # OGR geometries do not pickle
        return state


def read_size(window: Window, scale: float, floor: int = 32) -> tuple[int, int]:
    """Model pixels (out_w, out_h) a window is read at: its size / scale, at least `floor`."""
    return max(floor, round(window.w / scale)), max(floor, round(window.h / scale))


def resolution_scale(spec, info: RasterInfo, options: DetectOptions) -> tuple[float, float | None, str]:
    """(scale, raster GSD used, reason): source pixels per model pixel.

    `options.scale` wins. Else, with resampling on and a model that states a GSD (or a range
    gsd_min..gsd_max), the raster's GSD (`options.gsd`, else its own) is brought to the
    nearest GSD the model serves; differences under `gsd_tolerance` are ignored. A raster
    with no usable GSD then needs `gsd` or `scale`: PlanError.
    """
    if options.scale is not None:
        return float(options.scale), options.gsd or info.pixel_size_m, "scale set by the user"
    served = served_gsd(spec)
    raster_gsd = options.gsd or info.pixel_size_m
    if not options.resample or served is None:
        why = "resampling off" if not options.resample else "the model states no GSD"
        return 1.0, raster_gsd, f"native pixels ({why})"
    if not raster_gsd:
        raise PlanError(
            f"{info.label} has no usable ground sample distance and the model was "
            f"trained at {_served_text(served)}: give the raster's GSD (--gsd METRES) "
            "or a scale (--scale SOURCE_PX_PER_MODEL_PX), or turn resampling off (--no-resample)"
        )
    target = min(max(raster_gsd, served[0]), served[1])
    ratio = target / raster_gsd
    if abs(ratio - 1) <= options.gsd_tolerance:
        if ratio == 1:
            where = f"within the model's {_served_text(served)}"
        else:
            side = "finer" if ratio > 1 else "coarser"
            where = (
                f"{abs(1 - raster_gsd / target):.0%} {side} than the model's {_served_text(served)}, "
                f"within the {options.gsd_tolerance:.0%} left as is"
            )
        return 1.0, raster_gsd, f"native pixels: raster GSD {raster_gsd:.3g} m {where}"
    return ratio, raster_gsd, f"resampled from {raster_gsd:.3g} m to the model's {target:.3g} m"


def served_gsd(spec) -> tuple[float, float] | None:
    """(finest, coarsest) GSD in metres that the model serves, or None when it states none."""
    if hasattr(spec, "gsd_range"):
        return spec.gsd_range()
    return (spec.gsd, spec.gsd) if getattr(spec, "gsd", None) else None


def _served_text(served: tuple[float, float]) -> str:
    lo, hi = served
    return f"{lo:.3g} m" if lo == hi else f"{lo:.3g}-{hi:.3g} m"


def class_filter(spec, classes: list[str] | None) -> list[int] | None:
    """Class ids of the names in `classes` (None: all); unknown names are a PlanError."""
    if not classes:
        return None
    unknown = [c for c in classes if c not in spec.class_names]
    if unknown:
        raise PlanError(f"unknown class(es) {unknown}; the model knows {list(spec.class_names)}")
    return [list(spec.class_names).index(c) for c in classes]


def _band_plan(info: RasterInfo, spec, options: DetectOptions) -> tuple[list[int], list[str]]:
    bands = choose_bands(info, spec.bands, options.bands)
    notes = []
    if not options.bands and spec.bands > 1 and len(set(bands)) == 1:
        notes.append(f"single grey band {bands[0]} repeated to the model's {spec.bands} bands (panchromatic imagery)")
    return bands, notes


def _windows(info: RasterInfo, src_tile: int, overlap: int, region_wkt: str | None):
    """The plan's windows: the whole grid (a lazy WindowGrid), or the list of those meeting
    the region (only the rows and columns meeting its bounding box are looked at)."""
    if region_wkt is None:
        return make_grid(info.width, info.height, src_tile, overlap)
    from osgeo import ogr

    from .georef import box_polygons, ring_polygon
    from .region import pixel_bbox

    region = ogr.CreateGeometryFromWkt(region_wkt)
    windows = list(make_grid(info.width, info.height, src_tile, overlap, pixel_bbox(info, region)))
    if not windows:
        return []
    import numpy as np

    rings = box_polygons(info.geotransform, np.array([w.bounds for w in windows], float))
    return [w for w, ring in zip(windows, rings) if ring_polygon(ring).Intersects(region)]


def check_georeferenced(info: RasterInfo, options: DetectOptions, spec=None) -> None:
    """RasterError unless the raster is georeferenced or pixel coordinates were asked for.
    The message says all that a run in pixel coordinates needs: with a model that states
    its GSD (and resampling on), also the raster's GSD or a scale, which a raster without
    georeferencing cannot tell."""
    if info.georeferenced or options.pixel_coordinates:
        return
    served = served_gsd(spec) if spec is not None else None
    needs_gsd = (
        served is not None and options.resample and options.scale is None and not options.gsd and not info.pixel_size_m
    )
    also = (
        f" together with the raster's GSD (--gsd METRES) or a scale (--scale "
        f"SOURCE_PX_PER_MODEL_PX; 1 = native pixels), since the model was trained at "
        f"{_served_text(served)}"
        if needs_gsd and served is not None
        else ""
    )
    raise RasterError(
        f"{info.label} is not georeferenced (no CRS or geotransform); georeference it "
        f"first, or ask for pixel coordinates explicitly (--pixel-coordinates){also}"
    )


def plan_tiles(info: RasterInfo, spec, options: DetectOptions | None = None) -> TilePlan:
    """The plan of a run over a raster described by `info` for a model described by `spec`.

    Raises RasterError (not georeferenced, bands), PlanError (classes, GSD, tile) or
    OptionsError (extent/mask outside the raster) before any pixel is read."""
    from .region import region_wkt

    options = options or DetectOptions()
    check_georeferenced(info, options, spec)
    classes = class_filter(spec, options.classes)
    bands, notes = _band_plan(info, spec, options)
    scale, raster_gsd, why = resolution_scale(spec, info, options)
    tile = options.tile or spec.imgsz
    if tile % 32:
        raise PlanError(f"the tile must be a multiple of 32, got {tile}")
    src_tile = max(1, round(tile * scale))
    # overlap in pixels is given in model pixels: the same context whatever the scale
    overlap_src = options.overlap if options.overlap < 1 else options.overlap * scale
    try:
        overlap = overlap_pixels(src_tile, overlap_src)
    except ValueError as error:
        raise OptionsError(f"option overlap={options.overlap!r} is out of range: {error}") from None
    if is_remote(info.path) and info.block:  # whole internal tiles per window: fewer bytes over the network
        aligned = aligned_overlap(info.width, info.height, src_tile, overlap, info.block)
        if aligned != overlap:
            notes.append(
                f"overlap {overlap} -> {aligned} px: windows start on the raster's "
                f"{info.block[0]} px tiles (no more windows)"
            )
        overlap = aligned
    region = region_wkt(info, options)
    windows = _windows(info, src_tile, overlap, region)
    notes.insert(
        0,
        f"{info.width} x {info.height} px, {len(windows)} tiles of {src_tile} px "
        f"(model {tile} px, scale {scale:.3f}: {why}), overlap {overlap} px",
    )
    return TilePlan(
        info=info,
        scale=scale,
        tile=tile,
        src_tile=src_tile,
        overlap=overlap,
        windows=windows,
        bands=bands,
        classes=classes,
        region_wkt=region,
        notes=notes,
        raster_gsd=raster_gsd,
    )


def zoom_plan(info: RasterInfo, spec, options: DetectOptions, plan: TilePlan) -> TilePlan | None:
    """The plan of the magnified pass of `options.zoom` over the raster of `plan`: the same
    bands, classes and region, read at `plan.scale / zoom`, giving only objects up to
    `options.zoom_max_side` model pixels of `plan` (larger ones are the plain pass's). The
    zoom is cut so that the model never reads finer than the finest GSD it serves
    (`zoom_limit`). Its line is added to `plan.notes`. None without a zoom, or when the cut
    leaves a zoom under 1 + gsd_tolerance (said in `plan.notes`)."""
    if not options.zoom:
        return None
    zoom, limit = options.zoom, zoom_limit(spec, plan, options)
    if limit is not None and limit[0] < zoom:
        zoom = limit[0]
        if zoom < 1 + options.gsd_tolerance:
            plan.notes.append(
                f"zoom pass skipped: the raster is read at {limit[1]:.3g} m and the model "
                f"serves {limit[2]:.3g} m at finest: magnified, it would be finer than the "
                "model was trained on"
            )
            return None
    zoomed = plan_tiles(info, spec, replace(options, scale=plan.scale / zoom, zoom=None))
    why = (
        ""
        if limit is None or zoom == options.zoom
        else f", not {options.zoom:g}x: the model serves {limit[2]:.3g} m at finest"
    )
    zoomed.notes = [
        f"zoom pass: {len(zoomed.windows)} more tiles of {zoomed.src_tile} px, "
        f"the raster magnified {zoom:.3g}x (scale {zoomed.scale:.3f}{why})"
    ]
    zoomed.raster_gsd = plan.raster_gsd
    zoomed.max_side = options.zoom_max_side * plan.scale
    plan.notes += zoomed.notes
    return zoomed


def zoom_limit(spec, plan: TilePlan, options: DetectOptions) -> tuple[float, float, float] | None:
    """(largest zoom, GSD the plain pass reads at, finest GSD served) for a model that states
    its GSD; None when it states none, the raster's GSD is unknown or resampling is off.

    The zoom pass shows the model the raster at the plain pass's GSD / zoom, and a model
    is not asked to read finer than it was trained: at 0.065 m (KIT streets at 0.13 m
    magnified 2x) the default model, trained at 0.15-0.6 m, added false boxes on cars
    (vehicle AP50 0.991 -> 0.953, precision 0.56, benchmarks/micro_ladder_zoom2_native.txt)."""
    served = served_gsd(spec)
    if served is None or not options.resample or not plan.raster_gsd:
        return None
    read_at = plan.raster_gsd * plan.scale
    return read_at / served[0], read_at, served[0]
