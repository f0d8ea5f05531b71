"""Properties of the geometry core over random inputs (Hypothesis): the tile grid, pixel <->
map, the cross-tile merge and the resampled read. Each property is one a silent wrong answer
would break: a strip at the edge never read, a box shifted by half a pixel, one object
reported twice. Profiles (example counts, deadlines) are in hypothesis_setup.py."""

from __future__ import annotations

import math

import hypothesis_setup  # noqa: F401  (profiles)
import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st
from osgeo import gdal, osr

from micro_detector.boxes import batched_nms, box_iou
from micro_detector.georef import box_polygons, map_to_pixel, pixel_to_map
from micro_detector.merge import edge_cut, merge_detections, merge_raw
from micro_detector.model.spec import ModelSpec
from micro_detector.options import DetectOptions
from micro_detector.plan import plan_tiles, read_size
from micro_detector.predict import RawBoxes, to_raster_pixels
from micro_detector.raster import RasterInfo, read_info
from micro_detector.tiling import make_grid, overlap_pixels

gdal.UseExceptions()
SIZES = st.integers(1, 1500)


def _coverage(windows, width, height) -> np.ndarray:
    covered = np.zeros((height, width), bool)
    for w in windows:
        covered[w.y0 : w.y0 + w.h, w.x0 : w.x0 + w.w] = True
    return covered


# --- the tile grid ---


def _count(size: int, tile: int, px: int) -> int:
    return 1 if size <= tile else math.ceil((size - tile) / (tile - px)) + 1


@given(width=SIZES, height=SIZES, tile=st.integers(1, 700), overlap=st.floats(0, 0.95))
def test_grid_covers_every_pixel_inside_the_raster_with_the_overlap_asked(width, height, tile, overlap):
    px = round(overlap * tile)
    assume(px < tile)
    assume(_count(width, tile, px) * _count(height, tile, px) <= 20_000)  # bounded test time
    assert overlap_pixels(tile, overlap) == px
    windows = make_grid(width, height, tile, px)
    assert _coverage(windows, width, height).all()
    for w in windows:
        assert w.x0 >= 0 and w.x0 + w.w <= width and w.y0 >= 0 and w.y0 + w.h <= height
        assert w.w == min(tile, width) and w.h == min(tile, height)
    for starts, size in ((sorted({w.x0 for w in windows}), width), (sorted({w.y0 for w in windows}), height)):
        steps = np.diff(starts)
        assert (steps[:-1] == tile - px).all()  # the overlap asked...
        if len(steps):  # ...except the last row/column, shifted inward: more overlap, never less
            assert 0 < steps[-1] <= tile - px
            assert starts[-1] + tile == size
    assert len(windows) == len({w.x0 for w in windows}) * len({w.y0 for w in windows})


@given(width=SIZES, height=SIZES, tile=st.integers(8, 400), data=st.data())
def test_grid_of_a_region_covers_the_region(width, height, tile, data):
    px = data.draw(st.integers(0, tile - 1))
    assume(_count(width, tile, px) * _count(height, tile, px) <= 20_000)
    x0 = data.draw(st.floats(-50, width + 50))
    y0 = data.draw(st.floats(-50, height + 50))
    x1 = data.draw(st.floats(x0, x0 + 2 * width + 1))
    y1 = data.draw(st.floats(y0, y0 + 2 * height + 1))
    windows = make_grid(width, height, tile, px, (x0, y0, x1, y1))
    covered = _coverage(windows, width, height)
    cx0, cy0 = max(math.floor(x0), 0), max(math.floor(y0), 0)
    cx1, cy1 = min(math.ceil(x1), width), min(math.ceil(y1), height)
    if cx1 > cx0 and cy1 > cy0 and x1 > x0 and y1 > y0:
        assert covered[cy0:cy1, cx0:cx1].all()  # every pixel the region touches
    for w in windows:  # and no window wholly outside it
        assert w.x0 < x1 and w.x0 + w.w > x0 and w.y0 < y1 and w.y0 + w.h > y0


UTM = osr.SpatialReference()
UTM.ImportFromEPSG(32632)


def _geotransform(data, unit: float, origin: float) -> tuple[float, ...]:
    """A random affine: pixel size, rotation/shear, north-up or south-up, never singular."""
    a = data.draw(st.floats(0.01, 10)) * unit
    e = data.draw(st.floats(0.01, 10)) * unit * data.draw(st.sampled_from([-1, 1]))
    angle = data.draw(st.sampled_from([0.0, 0.0, data.draw(st.floats(-math.pi, math.pi))]))
    c, s = math.cos(angle), math.sin(angle)
    g1, g2, g4, g5 = a * c, -abs(e) * s * np.sign(e), a * s, e * c
    assume(abs(g1 * g5 - g2 * g4) > 1e-6 * (a * abs(e)))
    return (data.draw(st.floats(-origin, origin)), g1, g2, data.draw(st.floats(-origin, origin)), g4, g5)


@given(width=st.integers(16, 600), height=st.integers(16, 600), tile=st.sampled_from([32, 64, 128]), data=st.data())
def test_plan_of_an_extent_reads_every_pixel_in_it_on_any_affine(width, height, tile, data):
    gt = _geotransform(data, 1.0, 1e6)
    info = RasterInfo("r.tif", width, height, 3, "byte", gt, UTM.ExportToWkt(), [None] * 3, [""] * 3, True, 1.0, 1.0)
    cols, rows = np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5)
    xs, ys = pixel_to_map(gt, cols, rows)
    fx = sorted(data.draw(st.floats(0, 1)) for _ in range(2))
    fy = sorted(data.draw(st.floats(0, 1)) for _ in range(2))
    ex = xs.min() + np.array(fx) * np.ptp(xs)
    ey = ys.min() + np.array(fy) * np.ptp(ys)
    inside = (xs >= ex[0]) & (xs <= ex[1]) & (ys >= ey[0]) & (ys <= ey[1])
    assume(inside.any() and ex[1] > ex[0] and ey[1] > ey[0])
    options = DetectOptions(
        tile=tile, overlap=data.draw(st.floats(0, 0.5)), resample=False, extent=(ex[0], ey[0], ex[1], ey[1])
    )
    plan = plan_tiles(info, ModelSpec(scale="n", imgsz=tile, class_names=["a"]), options)
    assert (_coverage(plan.windows, width, height) | ~inside).all()


# --- pixel <-> map ---

CRS_KINDS = {  # (pixel size unit, origin magnitude) of the CRSs a raster can have
    "geographic degrees": (1e-6, 180.0),
    "UTM metres": (1.0, 1e7),
    "web mercator": (1.0, 2.0e7),
    "US survey feet": (3.0, 1e7),
    "local pixel grid": (1.0, 1e3),
    "centimetre grid": (0.01, 1e5),
}


@given(kind=st.sampled_from(sorted(CRS_KINDS)), data=st.data())
def test_pixel_to_map_and_back_is_the_identity_within_a_micro_pixel(kind, data):
    unit, origin = CRS_KINDS[kind]
    gt = _geotransform(data, unit, origin)
    cols = np.array(data.draw(st.lists(st.floats(-1e5, 1e5), min_size=1, max_size=20)))
    rows = np.array(data.draw(st.lists(st.floats(-1e5, 1e5), min_size=len(cols), max_size=len(cols))))
    xs, ys = pixel_to_map(gt, cols, rows)
    back_c, back_r = map_to_pixel(gt, xs, ys)
    err = np.hypot(back_c - cols, back_r - rows)
    scale = 1 + (np.abs(cols) + np.abs(rows)) * 1e-11  # float64 limit far from the origin
    assert (err <= 1e-6 * scale).all(), (gt, err.max())
    for c, r, x, y in zip(cols[:3], rows[:3], xs, ys):  # and GDAL agrees, both ways
        gx, gy = gdal.ApplyGeoTransform(gt, float(c), float(r))
        assert math.isclose(gx, x, rel_tol=1e-12, abs_tol=1e-9 * unit)
        assert math.isclose(gy, y, rel_tol=1e-12, abs_tol=1e-9 * unit)


@given(data=st.data())
def test_box_rings_on_a_real_raster_are_gdals_corners(data):
    gt = _geotransform(data, 0.5, 1e6)
    ds = gdal.GetDriverByName("MEM").Create("", 40, 30, 1)
    ds.SetGeoTransform(gt)
    ds.SetProjection(UTM.ExportToWkt())
    path = "/vsimem/prop_ring.tif"
    gdal.GetDriverByName("GTiff").CreateCopy(path, ds)
    info = read_info(path)
    gdal.Unlink(path)
    assert info.geotransform == gt and info.georeferenced
    box = np.array([[data.draw(st.floats(0, 20)), data.draw(st.floats(0, 15)), 25.0, 29.5]])
    ring = box_polygons(info.geotransform, box)[0]
    corners = [(box[0, 0], box[0, 1]), (box[0, 2], box[0, 1]), (box[0, 2], box[0, 3]), (box[0, 0], box[0, 3])]
    for (c, r), (x, y) in zip(corners, ring[:4]):
        gx, gy = gdal.ApplyGeoTransform(gt, float(c), float(r))
        assert abs(gx - x) < 1e-6 and abs(gy - y) < 1e-6
    assert (ring[0] == ring[4]).all()


# --- the cross-tile merge ---


@st.composite
def box_sets(draw, max_n=60, extent=300.0, classes=3):
    """n boxes from a drawn seed (numpy draws them: fast), with a drawn spread so that some
    sets are crowded and some sparse; distinct scores."""
    n = draw(st.integers(0, max_n))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    spread = draw(st.sampled_from([20.0, 80.0, extent]))
    xy = rng.uniform(0, spread, (n, 2))
    wh = rng.uniform(1, draw(st.sampled_from([5.0, 40.0])), (n, 2))
    if draw(st.booleans()):
        xy, wh = np.round(xy), np.round(wh)  # integer boxes: exact ties of overlap
    boxes = np.concatenate([xy, xy + wh], 1)
    scores = ((rng.permutation(n) + 1) / (n + 1)).astype(np.float32)
    return boxes, scores, rng.integers(0, classes, n).astype(np.int64)


@given(sets=box_sets(), threshold=st.floats(0.05, 0.95), agnostic=st.booleans())
def test_nms_keeps_no_two_boxes_of_a_class_overlapping_above_the_threshold(sets, threshold, agnostic):
    boxes, scores, cls = sets
    kept, merged = merge_detections(boxes, scores, cls, threshold=threshold, agnostic=agnostic)
    assert np.array_equal(merged, boxes[kept])
    iou = box_iou(boxes[kept], boxes[kept])
    same = np.ones_like(iou, bool) if agnostic else cls[kept][:, None] == cls[kept][None, :]
    np.fill_diagonal(same, False)
    assert not (iou[same] > threshold + 1e-9).any()
    reference = batched_nms(boxes, scores, np.zeros_like(cls) if agnostic else cls, threshold)  # all pairs
    assert sorted(kept.tolist()) == sorted(reference.tolist())


@given(
    sets=box_sets(),
    threshold=st.floats(0.1, 0.9),
    method=st.sampled_from(["nms", "nmm"]),
    metric=st.sampled_from(["iou", "ios"]),
    seed=st.integers(0, 2**32 - 1),
    data=st.data(),
)
def test_merge_does_not_depend_on_tile_order(sets, threshold, method, metric, seed, data):
    boxes, scores, cls = sets
    cut = np.array(data.draw(st.lists(st.booleans(), min_size=len(boxes), max_size=len(boxes))), bool)
    perm = np.random.default_rng(seed).permutation(len(boxes))
    a_kept, a = merge_detections(boxes, scores, cls, cut, method, metric, threshold)
    b_kept, b = merge_detections(boxes[perm], scores[perm], cls[perm], cut[perm], method, metric, threshold)
    assert sorted(map(tuple, a.tolist())) == sorted(map(tuple, b.tolist()))
    assert sorted(a_kept.tolist()) == sorted(perm[b_kept].tolist())


class _Plan:  # what merge_raw reads of a plan
    def __init__(self, width, height):
        self.info = RasterInfo("r.tif", width, height, 3, "byte", (0, 1, 0, 0, 0, 1), None, [None] * 3, [""] * 3, False)


@given(tile=st.integers(64, 200), data=st.data())
def test_an_object_split_by_tile_edges_comes_back_whole_once(tile, data):
    """Objects on a lattice (never overlapping), each no larger than the overlap: every window
    reports the part of each object it sees, scored at random (a cut part may score best).
    The merge gives back each object once, whole."""
    overlap = data.draw(st.integers(tile // 4, tile // 2))
    width, height = data.draw(st.integers(tile, 3 * tile)), data.draw(st.integers(tile, 3 * tile))
    side = overlap - 5
    cell = side + 3
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    gx, gy = np.meshgrid(np.arange(width // cell), np.arange(height // cell))
    at = rng.uniform(size=gx.shape) < data.draw(st.floats(0.1, 1.0))
    assume(at.any())
    x0, y0 = gx[at] * cell + 1.0, gy[at] * cell + 1.0
    objects = np.stack([x0, y0, x0 + rng.integers(2, side + 1, len(x0)), y0 + rng.integers(2, side + 1, len(x0))], 1)
    windows = make_grid(width, height, tile, overlap)
    parts, where = [], []
    for w in windows:
        x0, y0, x1, y1 = w.bounds
        clip = np.stack(
            [
                np.clip(objects[:, 0], x0, x1),
                np.clip(objects[:, 1], y0, y1),
                np.clip(objects[:, 2], x0, x1),
                np.clip(objects[:, 3], y0, y1),
            ],
            1,
        )
        seen = (clip[:, 2] - clip[:, 0] >= 1) & (clip[:, 3] - clip[:, 1] >= 1)
        parts.append(clip[seen])
        where.append(np.repeat([[w.row, w.col, x0, y0, x1, y1]], seen.sum(), 0))
    boxes = np.concatenate(parts)
    raw = RawBoxes(
        boxes,
        rng.uniform(0.3, 1, len(boxes)).astype(np.float32),
        np.zeros(len(boxes), np.int64),
        np.concatenate(where).astype(np.int64),
    )
    out = merge_raw(raw, _Plan(width, height), DetectOptions(iou=0.5))
    got = sorted(map(tuple, out.boxes.tolist()))
    assert got == sorted(map(tuple, objects.tolist()))


@given(sets=box_sets(max_n=80), threshold=st.floats(0.1, 0.9), method=st.sampled_from(["nms", "nmm"]))
def test_merging_one_tiles_boxes_is_a_no_op(sets, threshold, method):
    """A tile's own output (its NMS done at the same threshold) goes through the merge unchanged."""
    boxes, scores, cls = sets
    keep = batched_nms(boxes, scores, cls, threshold)
    boxes, scores, cls = boxes[keep], scores[keep], cls[keep]
    windows = np.repeat([[0, 0, 0, 0, 400, 400]], len(boxes), 0).astype(np.int64)
    assert not edge_cut(boxes, windows[:, 2:6], (400, 400)).any()  # one window: nothing is cut
    raw = RawBoxes(boxes, scores, cls, windows)
    out = merge_raw(raw, _Plan(400, 400), DetectOptions(iou=threshold, merge=method))
    assert sorted(map(tuple, out.boxes.tolist())) == sorted(map(tuple, boxes.tolist()))


# --- the resampled read: a box at GSD g, detected at the model's GSD ---


@given(gsd=st.floats(0.03, 3.0), tile=st.sampled_from([32, 64, 96, 128]), data=st.data())
def test_a_box_seen_at_the_models_gsd_maps_back_to_its_raster_pixels(gsd, tile, data):
    """Pure mapping: the tile image of a window spans it exactly, whatever the scale; a box
    in the tile image maps back to where it was drawn on the raster (to 1e-6 px), and a box
    located to the nearest model pixel is within half a model pixel of it."""
    width, height = data.draw(st.integers(8, 4000)), data.draw(st.integers(8, 4000))
    info = RasterInfo(
        "r.tif",
        width,
        height,
        3,
        "byte",
        (0, gsd, 0, 0, 0, -gsd),
        UTM.ExportToWkt(),
        [None] * 3,
        [""] * 3,
        True,
        gsd,
        1.0,
    )
    spec = ModelSpec(scale="n", imgsz=tile, class_names=["a"], gsd_min=0.15, gsd_max=0.6)
    plan = plan_tiles(info, spec, DetectOptions(tile=tile))
    served = min(max(gsd, 0.15), 0.6)
    assert abs(plan.scale - (1.0 if abs(served / gsd - 1) <= 0.25 else served / gsd)) < 1e-12
    w = plan.windows[data.draw(st.integers(0, len(plan.windows) - 1))]
    out_w, out_h = read_size(w, plan.scale)
    bx0, by0 = data.draw(st.floats(w.x0, w.x0 + w.w - 0.5)), data.draw(st.floats(w.y0, w.y0 + w.h - 0.5))
    bx1, by1 = data.draw(st.floats(bx0, w.x0 + w.w)), data.draw(st.floats(by0, w.y0 + w.h))
    drawn = np.array([bx0, by0, bx1, by1])
    fx, fy = out_w / w.w, out_h / w.h
    seen = np.array([[(bx0 - w.x0) * fx, (by0 - w.y0) * fy, (bx1 - w.x0) * fx, (by1 - w.y0) * fy, 0.9, 0]])
    back = to_raster_pixels(seen, w, (out_h, out_w))[0]
    assert np.abs(back - drawn).max() < 1e-6
    located = to_raster_pixels(np.round(seen), w, (out_h, out_w))[0]
    assert np.abs(located - drawn).max() <= 0.5 * max(w.w / out_w, w.h / out_h) + 1e-9


@given(gsd=st.floats(0.05, 1.5), tile=st.sampled_from([32, 64]), data=st.data())
def test_the_resampled_read_puts_each_source_pixel_where_the_mapping_says(gsd, tile, data):
    """A real read (GDAL, bilinear) of a raster whose pixels hold their own column and row
    (x2): every model pixel of a tile, mapped back to raster pixels by to_raster_pixels,
    lands within half a source pixel of the pixel whose value it shows."""
    from micro_detector.source import GdalSource
    from micro_detector.stream import read_tile

    width, height = data.draw(st.integers(40, 120)), data.draw(st.integers(40, 120))
    path = f"/vsimem/ramp_{width}_{height}.tif"
    ds = gdal.GetDriverByName("GTiff").Create(path, width, height, 3, gdal.GDT_Byte)
    ds.SetGeoTransform((500000.0, gsd, 0.0, 5300000.0, 0.0, -gsd))
    ds.SetProjection(UTM.ExportToWkt())
    ds.GetRasterBand(1).WriteArray(np.tile(np.arange(width) * 2, (height, 1)))
    ds.GetRasterBand(2).WriteArray(np.tile(np.arange(height)[:, None] * 2, (1, width)))
    ds = None
    try:
        source = GdalSource(path)
        spec = ModelSpec(scale="n", imgsz=tile, class_names=["a"], gsd_min=0.15, gsd_max=0.6)
        plan = plan_tiles(source.info, spec, DetectOptions(tile=tile))
        source.select_bands(plan.bands)
        w = plan.windows[data.draw(st.integers(0, len(plan.windows) - 1))]
        image, _ = read_tile(source, w, plan.scale)
        out_h, out_w = image.shape[1:]
        margin = int(math.ceil(2 / min(out_w / w.w, out_h / w.h))) + 1  # edge pixels are clamped
        i = np.arange(out_w)[margin : out_w - margin]
        j = np.arange(out_h)[margin : out_h - margin]
        assume(len(i) and len(j))
        centres = np.zeros((len(i), 6))
        centres[:, [0, 2]] = (i + 0.5)[:, None]
        back_x = to_raster_pixels(centres, w, (out_h, out_w))[:, 0] - 0.5  # a pixel's centre
        centres = np.zeros((len(j), 6))
        centres[:, [1, 3]] = (j + 0.5)[:, None]
        back_y = to_raster_pixels(centres, w, (out_h, out_w))[:, 1] - 0.5
        shown_x = image[0][j[0], i] / 2.0
        shown_y = image[1][j, i[0]] / 2.0
        assert np.abs(shown_x - back_x).max() <= 0.5, (plan.scale, np.abs(shown_x - back_x).max())
        assert np.abs(shown_y - back_y).max() <= 0.5, (plan.scale, np.abs(shown_y - back_y).max())
    finally:
        gdal.Unlink(path)
