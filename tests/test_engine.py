"""Tiled georeferenced detection, tested with a deterministic stand-in detector: bright blobs
(band 1 > 128) are the objects; band 2 tells the class. Georeferencing, tiling, merging and
output are thereby tested apart from learned weights."""

import csv
import json
import os
import subprocess

import numpy as np
import pytest
from conftest import ROOT
from osgeo import gdal, ogr, osr
from synthetic import UTM32, BlobRunner, write_raster

from micro_detector import boxes as npboxes
from micro_detector.engine import Cancelled, DetectOptions, detect
from micro_detector.merge import merge_detections
from micro_detector.raster import RasterError
from micro_detector.writer import OutputError


def read_layer(path):
    ds = ogr.Open(str(path))
    layer = ds.GetLayer(0)
    feats = [(f.items(), f.GetGeometryRef().Clone()) for f in layer]
    return ds, layer, feats


def opts(**kw):
    kw.setdefault("tile", 64)
    kw.setdefault("batch", 3)
    return DetectOptions(**kw)


def test_object_found_at_its_map_coordinates(tmp_path):
    raster = write_raster(tmp_path / "r.tif", 200, 150, [(30, 50, 40, 58, 3)])
    out = tmp_path / "out.gpkg"
    result = detect(raster, out, BlobRunner(), options=opts())
    assert len(result) == 1
    ds, layer, feats = read_layer(out)
    assert len(feats) == 1
    items, geom = feats[0]
    xmin, xmax, ymin, ymax = geom.GetEnvelope()
    assert (xmin, xmax, ymin, ymax) == pytest.approx((500015, 500020, 4999971, 4999975))
    assert items["class_name"] == "vehicle" and items["class_id"] == 3
    assert items["area_m2"] == pytest.approx(20.0)
    assert items["score"] == pytest.approx(0.9)
    assert items["source"] == str(raster)
    assert layer.GetSpatialRef().GetAuthorityCode(None) == str(UTM32)
    meta = layer.GetMetadata()
    assert meta["option_conf"] == "0.25" and "run_date" in meta and "model" in meta
    assert [d.GetName() for d in layer.schema] == [
        "class_id",
        "class_name",
        "score",
        "source",
        "tile_row",
        "tile_col",
        "area_m2",
    ]


def test_rotated_raster_gives_rotated_polygons(tmp_path):
    angle = np.radians(30)
    gt = (1000.0, 0.5 * np.cos(angle), -0.5 * np.sin(angle), 2000.0, -0.5 * np.sin(angle), -0.5 * np.cos(angle))
    raster = write_raster(tmp_path / "rot.tif", 120, 100, [(20, 30, 30, 36, 0)], gt=gt)
    result = detect(raster, tmp_path / "rot.gpkg", BlobRunner(), options=opts())
    assert len(result) == 1
    _, _, feats = read_layer(tmp_path / "rot.gpkg")
    ring = np.array(feats[0][1].GetGeometryRef(0).GetPoints())[:4]
    for (col, row), xy in zip([(20, 30), (30, 30), (30, 36), (20, 36)], ring):
        expected = (gt[0] + col * gt[1] + row * gt[2], gt[3] + col * gt[4] + row * gt[5])
        assert tuple(xy) == pytest.approx(expected)
    assert feats[0][1].GetArea() == pytest.approx(10 * 6 * 0.25)  # not the bounding rectangle


@pytest.mark.parametrize("merge,match", [("nms", "iou"), ("nmm", "iou"), ("nms", "ios")])
def test_objects_across_tile_borders_give_one_whole_box(tmp_path, merge, match):
    # tiles start at x = 0, 51, 64 and y = 0, 51, 64: these objects straddle tile edges
    objects = [(55, 10, 75, 20, 1), (10, 56, 18, 70, 2), (58, 58, 70, 69, 3)]
    raster = write_raster(tmp_path / "b.tif", 128, 128, objects)
    result = detect(raster, None, BlobRunner(), options=opts(merge=merge, match=match))
    assert result.report["boxes_before_merge"] > len(objects)  # seen from several tiles
    got = sorted(map(tuple, result.boxes.round(3).tolist()))
    assert got == sorted((c0, r0, c1, r1) for c0, r0, c1, r1, _ in objects)


def test_all_nodata_tiles_are_skipped(tmp_path):
    raster = write_raster(tmp_path / "nd.tif", 256, 64, [(200, 20, 210, 30, 0)], background=0, nodata=0)
    ds = gdal.Open(str(raster), gdal.GA_Update)
    for b in range(3):
        arr = ds.GetRasterBand(b + 1).ReadAsArray()
        arr[:, 128:] = np.where(arr[:, 128:] == 0, 7, arr[:, 128:])  # right half has data
        ds.GetRasterBand(b + 1).WriteArray(arr)
    ds = None
    runner = BlobRunner()
    result = detect(raster, None, runner, options=opts(overlap=0))
    assert result.report["tiles"] == 4 and result.report["tiles_skipped_nodata"] == 2
    assert runner.tiles_seen == 2 and len(result) == 1


def test_16_bit_input_is_stretched_and_reported(tmp_path):
    raster = write_raster(
        tmp_path / "u16.tif", 100, 80, [(40, 30, 50, 40, 2)], dtype=gdal.GDT_UInt16, background=400, value=3000
    )
    result = detect(raster, None, BlobRunner(), options=opts())
    assert result.report["stretch"] is not None and len(result.report["stretch"]) == 3
    assert [tuple(b) for b in result.boxes] == [(40, 30, 50, 40)]
    low, high = result.report["stretch"][0]
    assert low == pytest.approx(400) and high > low  # percentiles of the 16-bit values


def test_extent_in_another_crs_and_mask_limit_the_search(tmp_path):
    objects = [(20, 20, 28, 28, 0), (150, 100, 160, 110, 0)]
    raster = write_raster(tmp_path / "e.tif", 200, 150, objects)
    # extent around the first object, given in EPSG:4326
    src, dst = osr.SpatialReference(), osr.SpatialReference()
    src.ImportFromEPSG(UTM32)
    dst.ImportFromEPSG(4326)
    dst.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    to_wgs = osr.CoordinateTransformation(src, dst)
    lon0, lat0, _ = to_wgs.TransformPoint(500000 + 0, 5000000 - 40 * 0.5)
    lon1, lat1, _ = to_wgs.TransformPoint(500000 + 40 * 0.5, 5000000)
    runner = BlobRunner()
    result = detect(raster, None, runner, options=opts(extent=(lon0, lat0, lon1, lat1), extent_crs="EPSG:4326"))
    assert [tuple(b) for b in result.boxes] == [(20, 20, 28, 28)]
    assert result.report["tiles"] < 16
    # mask polygon (in the raster CRS) around the second object only
    mask = tmp_path / "mask.geojson"
    x0, y0 = 500000 + 140 * 0.5, 5000000 - 120 * 0.5
    x1, y1 = 500000 + 170 * 0.5, 5000000 - 90 * 0.5
    mask.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{UTM32}"}},
                "features": [
                    {
                        "type": "Feature",
                        "properties": {},
                        "geometry": {
                            "type": "Polygon",
                            "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]],
                        },
                    }
                ],
            }
        )
    )
    result = detect(raster, None, BlobRunner(), options=opts(mask=str(mask)))
    assert [tuple(b) for b in result.boxes] == [(150, 100, 160, 110)]


def test_cancel_midway_leaves_no_output(tmp_path):
    raster = write_raster(tmp_path / "c.tif", 300, 300, [(10, 10, 20, 20, 0)])
    out = tmp_path / "out" / "c.gpkg"
    out.parent.mkdir()
    calls = []

    def progress(done, total):
        calls.append(done)
        return len(calls) < 2  # cancel on the second report

    with pytest.raises(Cancelled):
        detect(raster, out, BlobRunner(), options=opts(batch=2), progress=progress)
    assert calls[-1] < 36
    assert list(out.parent.iterdir()) == []


def test_not_georeferenced_is_refused_unless_pixels_are_asked_for(tmp_path):
    raster = write_raster(tmp_path / "plain.tif", 64, 64, [(5, 5, 10, 10, 0)], gt=None)
    with pytest.raises(RasterError, match="not georeferenced"):
        detect(raster, None, BlobRunner(), options=opts())
    result = detect(raster, tmp_path / "px.gpkg", BlobRunner(), options=opts(pixel_coordinates=True))
    assert [tuple(b) for b in result.boxes] == [(5, 5, 10, 10)]


def test_bad_inputs_get_clear_errors(tmp_path):
    with pytest.raises(RasterError, match="not found"):
        detect(tmp_path / "missing.tif", None, BlobRunner())
    two = write_raster(tmp_path / "two.tif", 64, 64, bands=2)
    with pytest.raises(RasterError, match="has 2 band.*needs 3"):
        detect(two, None, BlobRunner(), options=opts())
    ok = write_raster(tmp_path / "ok.tif", 64, 64)
    with pytest.raises(OutputError, match="does not exist"):
        detect(ok, tmp_path / "nope" / "o.gpkg", BlobRunner(), options=opts())
    with pytest.raises(OutputError, match="unknown vector format"):
        detect(ok, tmp_path / "o.xyz", BlobRunner(), options=opts())
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if not os.access(locked, os.W_OK):  # root may write anywhere
            with pytest.raises(OutputError, match="not writable"):
                detect(ok, locked / "o.gpkg", BlobRunner(), options=opts())
    finally:
        locked.chmod(0o700)
    (tmp_path / "empty.tif").write_bytes(b"")
    with pytest.raises(RasterError):
        detect(tmp_path / "empty.tif", None, BlobRunner())


@pytest.mark.parametrize("seed", range(3))
def test_bucketed_merge_equals_plain_nms(seed):
    rng = np.random.default_rng(seed)
    n = 3000
    xy = rng.uniform(0, 2000, (n, 2))
    wh = rng.uniform(4, 30, (n, 2))
    wh[:5] *= 20  # a few oversized boxes take the all-pairs path
    boxes = np.concatenate([xy, xy + wh], 1)
    scores = rng.permutation(n) / n
    classes = rng.integers(0, 3, n)
    kept, _ = merge_detections(boxes, scores, classes, threshold=0.3)
    assert kept.tolist() == npboxes.batched_nms(boxes, scores, classes, 0.3).tolist()


def test_detect_folder_resumes_and_summarises(tmp_path):
    cli = str(ROOT / ".venv" / "bin" / "micro-detector")
    model = tmp_path / "m.pt"
    subprocess.run(
        [cli, "new-model", "--scale", "n", "--imgsz", "64", "-o", str(model)], check=True, capture_output=True
    )
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a", "b"):
        write_raster(folder / f"{name}.tif", 100, 70)
    (folder / "notes.txt").write_text("not a raster")
    out = tmp_path / "out"
    args = [cli, "detect-folder", str(folder), "-o", str(out), "--weights", str(model), "-q"]
    first = subprocess.run(args, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert sorted(p.name for p in out.iterdir()) == ["a.gpkg", "b.gpkg", "summary.csv"]
    (out / "b.gpkg").unlink()  # as if killed before b finished
    second = subprocess.run(args, capture_output=True, text=True)
    assert second.returncode == 0, second.stderr
    assert "a.tif: done before, skipped" in second.stderr
    assert (out / "b.gpkg").exists()
    rows = list(csv.DictReader(open(out / "summary.csv")))
    assert sorted(r["raster"] for r in rows) == ["a.tif", "b.tif"]
    assert all(r["status"] == "ok" for r in rows) and "n_vehicle" in rows[0]


def test_windows_are_resampled_to_the_model_gsd_and_boxes_return_in_source_pixels(tmp_path):
    # raster at 0.5 m, model trained at 1.0 m: tiles read at half resolution
    raster = write_raster(tmp_path / "g.tif", 256, 256, [(100, 60, 120, 80, 0), (200, 180, 212, 196, 0)])
    runner = BlobRunner(imgsz=64, gsd=1.0)
    result = detect(raster, None, runner, options=opts(overlap=0))
    assert result.report["scale"] == pytest.approx(2.0)
    assert result.report["tile_source_px"] == 128 and result.report["tiles"] == 4
    got = sorted(map(tuple, result.boxes.tolist()))
    assert np.allclose(got, [(100, 60, 120, 80), (200, 180, 212, 196)], atol=2)
    off = detect(raster, None, BlobRunner(imgsz=64, gsd=1.0), options=opts(overlap=0, resample=False))
    assert off.report["scale"] == 1.0 and off.report["tiles"] == 16
