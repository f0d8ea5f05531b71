"""Planning any raster size is cheap (issue 27, item 4): the tile grid of a 200000 x 200000
raster is held as its row and column starts (tiling.WindowGrid), so the plan takes
milliseconds and a few kB, whole or with an extent. The detection runs under a memory limit
are benchmarks/bench_memory.py (minutes to hours: run by hand on a quiet machine)."""

from __future__ import annotations

import pickle
import time

from osgeo import osr

from micro_detector.model.spec import ModelSpec
from micro_detector.options import DetectOptions
from micro_detector.plan import plan_tiles
from micro_detector.raster import RasterInfo
from micro_detector.tiling import make_grid

SIZE = 200_000


def _huge() -> RasterInfo:
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32632)
    return RasterInfo(
        "huge.vrt",
        SIZE,
        SIZE,
        3,
        "byte",
        (690000.0, 0.3, 0.0, 5335000.0, 0.0, -0.3),
        srs.ExportToWkt(),
        [None] * 3,
        [""] * 3,
        True,
        0.3,
        1.0,
    )


def test_the_plan_of_a_200000_px_raster_takes_under_a_second_whole_and_with_an_extent():
    spec = ModelSpec(scale="s", imgsz=640, gsd_min=0.15, gsd_max=0.6)
    t0 = time.perf_counter()
    whole = plan_tiles(_huge(), spec, DetectOptions())
    whole_s = time.perf_counter() - t0
    assert len(whole.windows) == 391 * 391  # step 512 px, the last column shifted inward
    assert whole.windows[-1].bounds == (SIZE - 640, SIZE - 640, SIZE, SIZE)
    assert len(pickle.dumps(whole)) < 100_000  # sent to Dask workers as is
    extent = (690000.0 + 30000, 5335000.0 - 30300, 690000.0 + 30300, 5335000.0 - 30000)
    t0 = time.perf_counter()
    part = plan_tiles(_huge(), spec, DetectOptions(extent=extent))
    part_s = time.perf_counter() - t0
    assert 1 <= len(part.windows) <= 9
    assert whole_s < 1.0 and part_s < 1.0, (whole_s, part_s)


def test_the_lazy_grid_is_the_list_it_stands_for():
    grid = make_grid(1000, 700, 128, 28, region=(150.5, -3, 612, 333))
    listed = list(grid)
    assert len(grid) == len(listed) and grid == listed and listed == grid
    assert grid[3] == listed[3] and grid[-1] == listed[-1] and grid[2:7] == listed[2:7]
    assert all(w.x0 < 612 and w.x0 + w.w > 150.5 and w.y0 + w.h > -3 and w.y0 < 333 for w in listed)
    assert pickle.loads(pickle.dumps(grid)) == listed
