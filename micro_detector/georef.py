"""Pixel boxes to map coordinates through the full affine geotransform (rotation included)."""

from __future__ import annotations

import numpy as np


def pixel_to_map(gt: tuple[float, ...], cols: np.ndarray, rows: np.ndarray):
    """Pixel-edge coordinates (col, row) -> map (x, y): x = g0 + c g1 + r g2, y = g3 + c g4 + r g5."""
    return gt[0] + cols * gt[1] + rows * gt[2], gt[3] + cols * gt[4] + rows * gt[5]


def map_to_pixel(gt: tuple[float, ...], xs: np.ndarray, ys: np.ndarray):
    """Map (x, y) -> pixel-edge (col, row): the inverse of pixel_to_map."""
    det = gt[1] * gt[5] - gt[2] * gt[4]
    if det == 0:
        raise ValueError("the geotransform is singular")
    dx, dy = np.asarray(xs) - gt[0], np.asarray(ys) - gt[3]
    return (dx * gt[5] - dy * gt[2]) / det, (dy * gt[1] - dx * gt[4]) / det


def box_polygons(gt: tuple[float, ...], boxes: np.ndarray) -> np.ndarray:
    """(n, 4) xyxy pixel boxes -> (n, 5, 2) closed rings in map coordinates. On a rotated or
    sheared raster the rings are the rotated/sheared boxes, not their bounding rectangles."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)  # no box at all is (0, 4), not (0,)
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    cols = np.stack([x1, x2, x2, x1, x1], 1)
    rows = np.stack([y1, y1, y2, y2, y1], 1)
    xs, ys = pixel_to_map(gt, cols.astype(np.float64), rows.astype(np.float64))
    return np.stack([xs, ys], -1)


def box_areas_m2(gt: tuple[float, ...], boxes: np.ndarray, metres_per_unit: float | None) -> np.ndarray:
    """Ground area of each box: pixel area times |det| of the geotransform, in square metres."""
    px = np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)
    if metres_per_unit is None:
        return np.full(len(boxes), np.nan)
    return px * abs(gt[1] * gt[5] - gt[2] * gt[4]) * metres_per_unit**2


def ring_polygon(ring_xy):
    """A closed ring of (x, y) map coordinates as an OGR polygon (region checks and outputs)."""
    from osgeo import ogr

    ring = ogr.Geometry(ogr.wkbLinearRing)
    for x, y in ring_xy:
        ring.AddPoint_2D(float(x), float(y))
    polygon = ogr.Geometry(ogr.wkbPolygon)
    polygon.AddGeometry(ring)
    return polygon
