"""Where an output image sits on the ground: its own true georeferencing when the source has it,
else an ASSIGNED (fictitious, plausible) north-up UTM geotransform at the source's site and the
image's GSD, offset per image by a seeded amount so images do not overlap. Also the cutting of
large images into pieces of at most `max_side` pixels per side.
"""

from __future__ import annotations

import hashlib
import math


def assigned_geotransform(georef: dict, name: str, gsd: float) -> tuple[str, tuple]:
    """(CRS, geotransform) of an image with assigned georeferencing: `georef` gives `epsg`
    (a WGS84 UTM zone), `origin` (easting, northing) and `spread_m`; the offset comes from the
    image name's hash, so a rebuild gives the same place."""
    seed = int(hashlib.sha256(name.encode()).hexdigest()[:12], 16)
    spread = float(georef.get("spread_m", 1500.0))
    dx = (seed % 10007) / 10007 * spread
    dy = (seed // 10007 % 10009) / 10009 * spread
    east, north = georef["origin"]
    return f"EPSG:{int(georef['epsg'])}", (round(east + dx, 2), gsd, 0.0, round(north - dy, 2), 0.0, -gsd)


def pieces(width: int, height: int, max_side: int = 2048) -> list[tuple[int, int, int, int]]:
    """Windows (x0, y0, w, h) cutting an image into a grid of near-equal pieces of at most
    `max_side` pixels per side (one window when it fits)."""
    nx, ny = math.ceil(width / max_side), math.ceil(height / max_side)
    xs = [round(i * width / nx) for i in range(nx + 1)]
    ys = [round(j * height / ny) for j in range(ny + 1)]
    return [(xs[i], ys[j], xs[i + 1] - xs[i], ys[j + 1] - ys[j]) for j in range(ny) for i in range(nx)]


def shift_geotransform(gt: tuple, x0: int, y0: int) -> tuple:
    """The geotransform of a window starting at pixel (x0, y0)."""
    return (gt[0] + x0 * gt[1] + y0 * gt[2], gt[1], gt[2], gt[3] + x0 * gt[4] + y0 * gt[5], gt[4], gt[5])
