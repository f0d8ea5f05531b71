"""Rasters read over the network: URLs as GDAL names, window reads of COGs over a real local
HTTP server (range requests), the run report's bytes and requests, and the failures a
network brings (404, 403, a server that dies mid-run, a timeout), without secrets shown."""

from __future__ import annotations

import contextlib
import sys
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal, ogr

sys.path.insert(0, str(Path(__file__).parent))
from http_range_server import RangeServer, make_cog  # noqa: E402

from micro_detector import engine  # noqa: E402
from micro_detector.raster import RasterError, RasterReadError  # noqa: E402
from micro_detector.remote import dataset_name, display_name, is_remote, redact, remote_stem  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "resources" / "demo" / "kit_MunichStreet02-MOS93.tif"


@contextlib.contextmanager
def config_options(options: dict):
    """GDAL config options set for the block, then restored (GDAL 3.6 lacks gdal.config_options)."""
    old = {k: gdal.GetConfigOption(k) for k in options}
    for key, value in options.items():
        gdal.SetConfigOption(key, value)
    try:
        yield
    finally:
        for key, value in old.items():
            gdal.SetConfigOption(key, value)


def crop_cog(folder: Path, name: str = "demo_cog.tif", width: int = 640, **kw) -> Path:
    """A COG of the left `width` px of the demo raster (256 px tiles), in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    crop = folder / f".{name}.crop.tif"
    gdal.Translate(str(crop), str(DEMO), srcWin=[0, 0, width, 377])
    out = make_cog(crop, folder / name, **kw)
    crop.unlink()
    return out


@pytest.fixture(scope="module")
def runner():
    from micro_detector.model.runner import open_runner
    from micro_detector.resources import default_model_for

    return open_runner(default_model_for("auto"))


def same_detections(a, b) -> None:
    assert len(a) == len(b) > 0
    np.testing.assert_array_equal(a.boxes, b.boxes)
    np.testing.assert_array_equal(a.scores, b.scores)
    np.testing.assert_array_equal(a.class_ids, b.class_ids)


def test_dataset_names():
    assert dataset_name("http://h:1/a/b.tif") == "/vsicurl/http://h:1/a/b.tif"
    assert dataset_name(Path("https://h/a/b.tif")) == "/vsicurl/https://h/a/b.tif"  # Path collapsed //
    assert dataset_name("s3://bucket/k/x.tif") == "/vsis3/bucket/k/x.tif"
    assert dataset_name("gs://bucket/x.tif") == "/vsigs/bucket/x.tif"
    assert dataset_name("/vsicurl/http://h/a.tif") == "/vsicurl/http://h/a.tif"
    assert dataset_name("/data/a.tif") == "/data/a.tif"
    assert is_remote("s3://b/x.tif") and is_remote("/vsizip//vsicurl/http://h/a.zip/x.tif")
    assert not is_remote("/data/a.tif") and not is_remote("/vsimem/a.tif")
    secret = "https://user:pw@h/a/scene.tif?X-Amz-Signature=abc&token=t0p"
    shown = redact(f"GDAL cannot open /vsicurl/{secret}: HTTP 403")
    assert "pw" not in shown and "abc" not in shown and "t0p" not in shown
    assert "h/a/scene.tif" in shown and "HTTP 403" in shown
    assert display_name(secret) == "scene.tif" and remote_stem(secret) == "scene"
    assert remote_stem("s3://bucket/dir/tile_1.tif") == "tile_1"


def test_server_answers_ranges(tmp_path):
    data = bytes(range(256)) * 4
    (tmp_path / "f.bin").write_bytes(data)
    with RangeServer(tmp_path) as server:
        req = urllib.request.Request(f"{server.url}/f.bin", headers={"Range": "bytes=10-19"})
        with urllib.request.urlopen(req) as answer:
            assert answer.status == 206 and answer.read() == data[10:20]
            assert answer.headers["Content-Range"] == "bytes 10-19/1024"
        req = urllib.request.Request(f"{server.url}/f.bin", headers={"Range": "bytes=0-1,100-101"})
        with urllib.request.urlopen(req) as answer:
            body = answer.read()
            assert answer.status == 206 and "multipart/byteranges" in answer.headers["Content-Type"]
            assert data[0:2] in body and data[100:102] in body


@pytest.mark.slow
def test_http_cog_same_as_local_and_counted(tmp_path, runner):
    cog = crop_cog(tmp_path)
    local = engine.detect(cog, None, runner)
    with RangeServer(tmp_path) as server:
        lines = []
        remote = engine.detect(f"{server.url}/{cog.name}", tmp_path / "out.gpkg", runner, log=lines.append)
        sent = server.bytes_sent
    same_detections(local, remote)
    net = remote.report["network"]
    assert 0 < net["bytes_fetched"] <= cog.stat().st_size * 1.05  # no block fetched twice
    assert net["bytes_fetched"] <= sent and 0 < net["requests"] <= server.requests
    assert remote.report["warnings"] == []
    assert remote.report["raster"] == f"/vsicurl/{server.url}/{cog.name}"
    assert any("MB in" in line for line in lines)


@pytest.mark.slow
def test_extent_reads_a_part(tmp_path, runner):
    from micro_detector.options import DetectOptions

    cog = crop_cog(tmp_path, width=1284, blocksize=128)
    gt = gdal.Open(str(cog)).GetGeoTransform()
    extent = (gt[0], gt[3] - 200 * 0.13, gt[0] + 300 * 0.13, gt[3])
    with RangeServer(tmp_path) as server:
        result = engine.detect(f"{server.url}/{cog.name}", None, runner, options=DetectOptions(extent=extent))
    assert result.report["network"]["bytes_fetched"] < cog.stat().st_size / 2


@pytest.mark.slow
def test_secret_query_never_in_outputs_or_logs(tmp_path, runner):
    cog = crop_cog(tmp_path, width=320)
    with RangeServer(tmp_path, token="s3cr3t") as server:
        url = f"{server.url}/{cog.name}?token=s3cr3t"
        lines = []
        result = engine.detect(url, tmp_path / "out.gpkg", runner, log=lines.append)
        with pytest.raises(RasterError) as bad:
            engine.detect(f"{server.url}/{cog.name}?token=wrong", None, runner)
    assert len(result) > 0
    text = " ".join(lines) + str(result.report) + str(bad.value)
    assert "s3cr3t" not in text and "wrong" not in text
    assert cog.name in str(bad.value) and "403" in str(bad.value)
    ds = ogr.Open(str(tmp_path / "out.gpkg"))
    sources = {f.GetField("source") for f in ds.GetLayer(0)}
    meta = ds.GetLayer(0).GetMetadata() or {}
    assert all("s3cr3t" not in s for s in sources) and "s3cr3t" not in str(meta)


def test_missing_url_names_it(tmp_path):
    with RangeServer(tmp_path) as server, pytest.raises(RasterError) as error:
        engine.plan_raster(f"{server.url}/nothing.tif?sig=abc", None)
    assert "nothing.tif" in str(error.value) and "abc" not in str(error.value)


@pytest.mark.slow
def test_server_dying_mid_run(tmp_path, runner):
    cog = crop_cog(tmp_path, width=1284, blocksize=128)
    out = tmp_path / "out.gpkg"
    with (
        config_options({"GDAL_HTTP_MAX_RETRY": "1", "GDAL_HTTP_RETRY_DELAY": "0.1"}),
        RangeServer(tmp_path, die_after=3) as server,
        pytest.raises(RasterReadError) as error,
    ):
        engine.detect(f"{server.url}/{cog.name}", out, runner)
    assert cog.name in str(error.value) and "window" in str(error.value)
    assert not out.exists() and not list(tmp_path.glob(".*partial"))


def test_timeout_names_the_url(tmp_path):
    cog = crop_cog(tmp_path, width=256)
    with (
        config_options({"GDAL_HTTP_TIMEOUT": "1", "GDAL_HTTP_MAX_RETRY": "0"}),
        RangeServer(tmp_path, delay=3) as server,
        pytest.raises(RasterError) as error,
    ):
        engine.plan_raster(f"{server.url}/{cog.name}", None)
    assert cog.name in str(error.value)


@pytest.mark.slow
def test_striped_remote_raster_warns(tmp_path, runner):
    striped = tmp_path / "striped.tif"
    gdal.Translate(str(striped), str(DEMO), srcWin=[0, 0, 700, 300], creationOptions=["TILED=NO"])
    with RangeServer(tmp_path) as server:
        result = engine.detect(f"{server.url}/striped.tif", None, runner)
    assert any("not a tiled" in w and "gdal_translate -of COG" in w for w in result.report["warnings"])


def test_windows_align_to_cog_tiles_when_free():
    from micro_detector.tiling import _starts, aligned_overlap

    overlap = aligned_overlap(2000, 2000, 1024, 64, (512, 512))
    assert overlap == 512 and all(s % 512 == 0 for s in _starts(2000, 1024, 1024 - overlap)[:-1])
    assert len(_starts(2000, 1024, 1024 - overlap)) == len(_starts(2000, 1024, 960))
    assert aligned_overlap(12000, 12000, 640, 64, (512, 512)) == 64  # aligning would add windows
    assert aligned_overlap(2000, 2000, 1024, 64, (2000, 1)) == 64  # striped: nothing to align to


@pytest.mark.slow
def test_evaluate_and_chips_over_http(tmp_path, runner):
    from micro_detector.resources import default_model_for
    from micro_detector.training import cli as training_cli
    from micro_detector.training.chips import ChipConfig, build_chips
    from micro_detector.training.labels import load_vector

    cog = crop_cog(tmp_path / "served", width=640)
    labels = DEMO.with_suffix(".geojson")
    with RangeServer(tmp_path / "served") as server:
        url = f"{server.url}/{cog.name}"
        for name, raster in (("local", str(cog)), ("remote", url)):
            assert (
                training_cli.main(
                    [
                        "evaluate",
                        str(default_model_for("auto")),
                        "--vector",
                        str(labels),
                        "--class-field",
                        "class_name",
                        "--rasters",
                        raster,
                        "--out",
                        str(tmp_path / name),
                        "--device",
                        "cpu",
                    ]
                )
                == 0
            )
        remote_set = load_vector(labels, [url], "class_name")
        local_set = load_vector(labels, [str(cog)], "class_name")
        assert remote_set.images[0].name == cog.name
        config = ChipConfig(size=256)
        chips = [
            build_chips(s.images, len(s.class_names), config, tmp_path / f"chips{k}")
            for k, s in enumerate((remote_set, local_set))
        ]
    local = (tmp_path / "local" / "metrics.json").read_text()
    assert (tmp_path / "remote" / "metrics.json").read_text() == local
    assert len(chips[0]) == len(chips[1]) > 0
    np.testing.assert_array_equal(np.asarray(chips[0].images), np.asarray(chips[1].images))


def test_gdal_warnings_are_redacted(capsys):
    from micro_detector.remote import redact_gdal_messages

    with redact_gdal_messages():
        gdal.Error(gdal.CE_Warning, 1, "HTTP response code on https://h/a.tif?X-Amz-Signature=zz9: 403")
    err = capsys.readouterr().err
    assert "a.tif" in err and "zz9" not in err


def test_gdal_config_carries_options_set_in_process():
    from micro_detector.remote import apply_gdal_config, gdal_config

    with config_options({"AWS_S3_ENDPOINT": "127.0.0.1:9", "GDAL_HTTP_TIMEOUT": "7"}):
        config = gdal_config()
    assert config["AWS_S3_ENDPOINT"] == "127.0.0.1:9" and config["GDAL_HTTP_TIMEOUT"] == "7"
    assert config["GDAL_DISABLE_READDIR_ON_OPEN"] == "EMPTY_DIR"
    with config_options({"AWS_S3_ENDPOINT": None}):
        apply_gdal_config({"AWS_S3_ENDPOINT": "127.0.0.1:10"})
        assert gdal.GetConfigOption("AWS_S3_ENDPOINT") == "127.0.0.1:10"
