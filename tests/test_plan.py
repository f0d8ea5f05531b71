"""The tile plan: one scale rule (GSD round trip in metres and degrees), region checks, bands."""

import numpy as np
import pytest
from osgeo import osr
from synthetic import BlobRunner, write_raster

from micro_detector.engine import DetectOptions, detect, plan_raster
from micro_detector.model.spec import ModelSpec
from micro_detector.options import OptionsError
from micro_detector.plan import PlanError, plan_tiles
from micro_detector.raster import read_info


def _model_file(tmp_path, **spec):
    from micro_detector.model.io import save_model
    from micro_detector.model.yolov12 import build_model

    path = tmp_path / "m.pt"
    save_model(build_model(ModelSpec(scale="n", imgsz=64, **spec)), path)
    return path


def _ground_metres(lon, lat, dlon, dlat):
    """Ground size (m) of a dlon x dlat cell at (lon, lat), measured in its UTM zone."""
    wgs, utm = osr.SpatialReference(), osr.SpatialReference()
    wgs.ImportFromEPSG(4326)
    utm.ImportFromEPSG(32600 + int((lon + 180) // 6) + 1)
    for s in (wgs, utm):
        s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    t = osr.CoordinateTransformation(wgs, utm)
    x0, y0, _ = t.TransformPoint(lon, lat)
    x1, _, _ = t.TransformPoint(lon + dlon, lat)
    _, y1, _ = t.TransformPoint(lon, lat + dlat)
    return abs(x1 - x0) / 0.9996, abs(y1 - y0) / 0.9996  # UTM's central scale factor


def test_gsd_round_trip_metres(tmp_path):
    """spec (gsd 1.0 m) -> model file -> engine: a 0.5 m raster is read at scale 2."""
    from micro_detector.model.runner import open_runner

    runner = open_runner(_model_file(tmp_path, gsd=1.0), backend="torch", device="cpu")
    assert runner.spec.gsd == 1.0
    raster = write_raster(tmp_path / "r.tif", 256, 256)
    plan = plan_raster(raster, runner.spec, DetectOptions(overlap=0))
    assert plan.scale == pytest.approx(2.0) and plan.src_tile == 128 and len(plan.windows) == 4


def test_gsd_round_trip_degrees(tmp_path):
    """A raster in EPSG:4326 gets its GSD in metres at its centre; the model's 1 m GSD sets the scale."""
    from micro_detector.model.runner import open_runner

    lon, lat, step = 11.55, 48.14, 5e-6  # Munich, about 0.37 x 0.56 m pixels
    raster = write_raster(tmp_path / "geo.tif", 200, 200, gt=(lon, step, 0, lat + 100 * step, 0, -step), epsg=4326)
    mx, my = _ground_metres(lon, lat, step, step)
    info = read_info(raster)
    assert info.pixel_size_m == pytest.approx(np.sqrt(mx * my), rel=2e-3)
    runner = open_runner(_model_file(tmp_path, gsd=1.0), backend="torch", device="cpu")
    plan = plan_raster(raster, runner.spec, DetectOptions())
    assert plan.scale == pytest.approx(1.0 / np.sqrt(mx * my), rel=2e-3)


@pytest.mark.parametrize("raster_gsd, expected", [(0.3, 1.0), (0.5, 1.0), (0.2, 0.25 / 0.2), (1.0, 0.6)])
def test_a_gsd_range_is_served_without_resampling(tmp_path, raster_gsd, expected):
    raster = write_raster(tmp_path / "r.tif", 64, 64, gt=(500000.0, raster_gsd, 0, 5e6, 0, -raster_gsd))
    spec = ModelSpec(scale="n", imgsz=64, gsd_min=0.25, gsd_max=0.6)
    plan = plan_tiles(read_info(raster), spec, DetectOptions(gsd_tolerance=0))
    assert plan.scale == pytest.approx(expected)


def test_user_gsd_scale_and_missing_gsd(tmp_path):
    plain = write_raster(tmp_path / "p.tif", 64, 64, gt=None)
    spec = ModelSpec(scale="n", imgsz=64, gsd=0.3)
    info = read_info(plain)
    with pytest.raises(PlanError, match="--gsd.*--scale"):
        plan_tiles(info, spec, DetectOptions(pixel_coordinates=True))
    assert plan_tiles(info, spec, DetectOptions(pixel_coordinates=True, gsd=0.15)).scale == pytest.approx(2.0)
    assert plan_tiles(info, spec, DetectOptions(pixel_coordinates=True, scale=0.5)).scale == 0.5
    assert plan_tiles(info, spec, DetectOptions(pixel_coordinates=True, resample=False)).scale == 1.0


def test_extent_that_misses_the_raster_names_both_extents(tmp_path):
    raster = write_raster(tmp_path / "r.tif", 64, 64)  # UTM 32N near 500000, 5000000
    with pytest.raises(OptionsError, match=r"extent does not meet.*500000.*EPSG code"):
        detect(raster, None, BlobRunner(), options=DetectOptions(extent=(11.5, 48.1, 11.6, 48.2)))
    with pytest.raises(OptionsError, match="does not meet"):
        detect(
            raster, None, BlobRunner(), options=DetectOptions(extent=(11.5, 48.1, 11.6, 48.2), extent_crs="EPSG:4326")
        )


def test_grey_band_is_repeated_and_said(tmp_path):
    raster = write_raster(tmp_path / "g.tif", 64, 64, [(10, 10, 20, 20, 0)], bands=1)
    lines = []
    result = detect(raster, None, BlobRunner(), options=DetectOptions(tile=64), log=lines.append)
    assert result.report["bands"] == [1, 1, 1] and len(result) == 1
    assert any("grey band 1 repeated" in line for line in lines)


def test_all_nodata_raster_warns(tmp_path):
    raster = write_raster(tmp_path / "n.tif", 64, 64, background=0, nodata=0)
    lines = []
    result = detect(raster, None, BlobRunner(), options=DetectOptions(tile=64), log=lines.append)
    assert result.report["warnings"] and any("every tile is nodata" in line for line in lines)


def test_class_filter_is_checked_before_any_tile(tmp_path):
    raster = write_raster(tmp_path / "r.tif", 64, 64)
    runner = BlobRunner()
    with pytest.raises(PlanError, match="zebra"):
        detect(raster, None, runner, options=DetectOptions(classes=["zebra"]))
    assert runner.tiles_seen == 0
