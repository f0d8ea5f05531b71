"""A web layer given as text, the way `qgis_process` and `processing.run` users type it:
QGIS's own `wms://<data source>` and the bare data source `type=xyz&url=...` (as the layer's
properties show it). Both must find what the file run finds on the same pixels, through the
real qgis_process.bin, and so must a real (local) WMS; a bad string is refused before any work,
naming the problem; and a tile server that asks for a login must not hang a run on QGIS's main
thread (network_reads.py)."""

from __future__ import annotations

import http.server
import threading

import pytest
from conftest import DEMO_RASTER, PLUGIN_NAME, run_qgis_process, venv_site_packages
from qgis.core import QgsProcessingException
from web_tiles import EXTENT, RES, boxes_of, make_web_scene, matched

ENV = {"PYTHONPATH": venv_site_packages(), "GDAL_PAM_ENABLED": "NO"}


@pytest.fixture(scope="module")
def web_scene(tmp_path_factory):
    """The demo raster's crop as a GeoTIFF on the tile grid and as local XYZ tiles."""
    return make_web_scene(tmp_path_factory.mktemp("web"), DEMO_RASTER)


@pytest.fixture(scope="module")
def qgis_profile(tmp_path_factory, plugins_dir):
    """A qgis_process profile with the plugin enabled."""
    config = tmp_path_factory.mktemp("qgis-profile")
    enable = run_qgis_process(["plugins", "enable", PLUGIN_NAME], config_dir=config, plugin_path=plugins_dir)
    assert enable.returncode == 0, enable.stdout + enable.stderr
    return config


def detect(config, plugins_dir, inputs: dict, timeout: float = 600):
    args = ["run", "micro_detector:detect", "--"] + [f"{k}={v}" for k, v in inputs.items()]
    return run_qgis_process(args, config_dir=config, plugin_path=plugins_dir, timeout=timeout, extra_env=ENV)


@pytest.mark.slow
def test_an_xyz_string_through_qgis_process_finds_what_the_file_run_finds(
    qgis_profile, plugins_dir, web_scene, tmp_path
):
    done = detect(qgis_profile, plugins_dir, {"INPUT": web_scene["raster"], "OUTPUT": tmp_path / "file.gpkg"})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    from_file = boxes_of(tmp_path / "file.gpkg")
    assert len(from_file) >= 10  # a street full of cars
    for name, text in [("bare", web_scene["xyz"]), ("prefixed", "wms://" + web_scene["xyz"])]:
        out = tmp_path / f"{name}.gpkg"
        done = detect(
            qgis_profile, plugins_dir, {"INPUT": text, "EXTENT": EXTENT, "RESOLUTION": RES * 100, "OUTPUT": out}
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        from_tiles = boxes_of(out)
        assert len(from_tiles) == len(from_file), name
        assert matched(from_tiles, from_file, 0.5 * RES) == len(from_file), name
        assert {source for source in _field(out, "source")} == {"tiles"}  # named after the tile folder


@pytest.mark.slow
def test_an_xyz_string_through_processing_run(plugin, web_scene, tmp_path):
    import processing

    processing.run("micro_detector:detect", {"INPUT": str(web_scene["raster"]), "OUTPUT": str(tmp_path / "f.gpkg")})
    result = processing.run(
        "micro_detector:detect",
        {"INPUT": web_scene["xyz"], "EXTENT": EXTENT, "RESOLUTION": RES * 100, "OUTPUT": str(tmp_path / "x.gpkg")},
    )
    from_file, from_tiles = boxes_of(tmp_path / "f.gpkg"), boxes_of(result["OUTPUT"])
    assert len(from_tiles) == len(from_file) >= 10
    assert matched(from_tiles, from_file, 0.5 * RES) == len(from_file)


@pytest.mark.parametrize(
    "text, message",
    [
        ("type=xyz&url=", "has no url="),
        ("type=xyz&url=https://tile.example.org/tile.png", "has no {z}, {x} and {y} placeholders"),
        ("type=xyz&url=file:///no/such/folder/{z}/{x}/{y}.png", "XYZ tile folder not found: /no/such/folder"),
        ("type=xyz&url=ftp://tiles.example.org/{z}/{x}/{y}.png", "must start with http://, https:// or file://"),
        (
            "wms://crs=EPSG:3857&format=image/png&layers=roads&styles=&url=http://127.0.0.1:9/wms",
            "The wms layer .* cannot be opened",
        ),
    ],
)
def test_a_bad_layer_string_is_refused_before_any_work(plugin, tmp_path, text, message):
    import processing

    with pytest.raises(QgsProcessingException, match=message):
        processing.run("micro_detector:detect", {"INPUT": text, "RESOLUTION": 30, "OUTPUT": str(tmp_path / "o.gpkg")})
    assert not (tmp_path / "o.gpkg").exists()


def test_the_string_forms_are_recognised(qgis_app, web_scene):
    from micro_object_detection.processing.layer_uri import layer_name, provider_string, split_provider

    xyz = web_scene["xyz"]
    assert split_provider(xyz) == ("wms", xyz) and provider_string(xyz) == "wms://" + xyz
    assert split_provider("wms://" + xyz) == ("wms", xyz) and provider_string("wms://" + xyz) == "wms://" + xyz
    assert split_provider("virtualraster://?crs=EPSG:3857") == ("virtualraster", "?crs=EPSG:3857")
    for other in [
        str(web_scene["raster"]),
        "https://example.org/a.tif",
        "/vsicurl/https://example.org/a.tif",
        "WMS:https://example.org/wms?layers=a",
        "layer_id_1234",
        "",
        None,
    ]:
        assert split_provider(other) is None and provider_string(other) == other
    assert layer_name(xyz) == "tiles"
    assert layer_name("type=xyz&url=https://tile.openstreetmap.org/{z}/{x}/{y}.png") == "tile.openstreetmap.org"
    assert layer_name("wms://crs=EPSG:3857&layers=roads&url=https://example.org/wms") == "roads"


class LoginRequired(http.server.BaseHTTPRequestHandler):
    """A tile server that answers every request with 401 and a Basic login challenge."""

    def do_GET(self):  # noqa: N802 (http.server API)
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="tiles"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.slow
def test_a_tile_server_asking_for_a_login_does_not_hang_qgis_process(qgis_profile, plugins_dir, tmp_path):
    """qgis_process runs the algorithm on QGIS's main thread; QGIS's network manager on the
    reader thread waits for the main thread to answer the login request. It used to wait for
    ever (the subprocess timeout below is a hang guard only)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), LoginRequired)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{{z}}/{{x}}/{{y}}.png"
        done = detect(
            qgis_profile,
            plugins_dir,
            {
                "INPUT": f"type=xyz&url={url}&zmin=20&zmax=20",
                "EXTENT": EXTENT,
                "RESOLUTION": RES * 100,
                "OUTPUT": tmp_path / "o.gpkg",
            },
            timeout=300,
        )
    finally:
        server.shutdown()
    text = done.stdout + done.stderr
    assert done.returncode == 0, text[-3000:]
    assert "tile request(s) failed" in text and "127.0.0.1" in text, text[-3000:]
    assert boxes_of(tmp_path / "o.gpkg") == []  # every tile refused: nothing found, and said so


def _field(path, name) -> list:
    from osgeo import ogr

    ds = ogr.Open(str(path))  # kept open while its layer is read
    return [f.GetField(name) for f in ds.GetLayer(0)]


@pytest.mark.slow
def test_a_wms_string_finds_what_the_file_run_finds_asking_the_server_once(plugin, web_scene, tmp_path):
    """A real WMS (tests/wms_server.py) given as its data source: the objects of the file run
    on the same pixels. The layer is opened by the input check, the parameter checks and the
    run, but QGIS's WMS provider keeps the capabilities: the server is asked for them once."""
    from wms_server import WmsServer

    import processing

    processing.run("micro_detector:detect", {"INPUT": str(web_scene["raster"]), "OUTPUT": str(tmp_path / "f.gpkg")})
    with WmsServer(web_scene["raster"], "scene") as wms:
        result = processing.run(
            "micro_detector:detect",
            {"INPUT": wms.uri(), "EXTENT": EXTENT, "RESOLUTION": RES * 100, "OUTPUT": str(tmp_path / "w.gpkg")},
        )
        asked = dict(wms.requests)
    from_file, from_wms = boxes_of(tmp_path / "f.gpkg"), boxes_of(result["OUTPUT"])
    assert len(from_file) >= 10
    assert len(from_wms) == len(from_file) and matched(from_wms, from_file, 0.5 * RES) == len(from_file)
    assert asked["GetMap"] >= 1
    assert asked["GetCapabilities"] == 1, asked
