"""The clip stage: keep the objects whose centre lies inside the plan's search region.

Tiles are chosen by touching the region, so they see beyond it; an object belongs to the
region when its centre does (the same rule for an extent and for mask polygons).
"""

from __future__ import annotations

import numpy as np

from .georef import pixel_to_map
from .plan import TilePlan
from .predict import RawBoxes

__all__ = ["clip_to_region"]


def clip_to_region(raw: RawBoxes, plan: TilePlan) -> RawBoxes:
    """`raw` without the boxes whose centre is outside `plan.region()` (all kept when None)."""
    region = plan.region()
    if region is None or not len(raw):
        return raw
    from osgeo import ogr

    xs, ys = pixel_to_map(
        plan.info.geotransform, (raw.boxes[:, 0] + raw.boxes[:, 2]) / 2, (raw.boxes[:, 1] + raw.boxes[:, 3]) / 2
    )
    point = ogr.Geometry(ogr.wkbPoint)
    inside = np.zeros(len(raw), bool)
    for k, (x, y) in enumerate(zip(xs, ys)):
        point.SetPoint_2D(0, float(x), float(y))
        inside[k] = region.Contains(point)
    return raw.subset(inside)
