"""The bad-input checks in real QGIS, through processing.run and the provider's
checkParameterValues: unusable input rasters named as what they are, outputs under the
output-safety rule (never the input, never a folder, a GeoPackage's other layers kept)."""

from __future__ import annotations

import os
import sqlite3

import pytest
from bad_input_kit import cli, gpkg_with_user_layers, layer_names, make_raster, sha, user_tables
from qgis.core import QgsProcessingException


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("qmodel") / "tiny.pt"
    assert cli("new-model", "--scale", "n", "--imgsz", "64", "--classes", "a,b", "-o", path).returncode == 0
    return path


def _run(alg, params):
    import processing

    return processing.run(f"micro_detector:{alg}", params)


BAD_INPUTS = {
    "missing": (lambda p: None, "not found"),
    "damaged": (lambda p: p.write_bytes(b"II*\x00" + os.urandom(500)), "cannot be used"),
    "text": (lambda p: p.write_text("not a raster"), "cannot be used"),
    "vector": (lambda p: p.write_text('{"type": "FeatureCollection", "features": []}'), "cannot be used"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_unusable_input_raster_is_named_for_what_it_is(plugin, tmp_path, tiny_model, case):
    make, words = BAD_INPUTS[case]
    raster = tmp_path / "r.tif"
    make(raster)
    with pytest.raises(QgsProcessingException, match=words) as caught:
        _run("detect", {"INPUT": str(raster), "MODEL": str(tiny_model), "OUTPUT": str(tmp_path / "o.gpkg")})
    assert "r.tif" in str(caught.value)
    assert not (tmp_path / "o.gpkg").exists()


def test_output_that_is_the_input_geopackage_is_refused(plugin, tmp_path, tiny_model):
    gpkg = gpkg_with_user_layers(tmp_path / "data.gpkg")
    before = sha(gpkg)
    with pytest.raises(QgsProcessingException, match="is an input"):
        _run("detect", {"INPUT": str(gpkg), "MODEL": str(tiny_model), "OUTPUT": str(gpkg)})
    assert sha(gpkg) == before


def test_output_that_is_a_folder_is_refused(plugin, tmp_path, tiny_model):
    raster = make_raster(tmp_path / "r.tif")
    (tmp_path / "out.gpkg").mkdir()
    with pytest.raises(QgsProcessingException, match="is a folder"):
        _run("detect", {"INPUT": str(raster), "MODEL": str(tiny_model), "OUTPUT": str(tmp_path / "out.gpkg")})


def test_folder_output_that_is_a_file_is_refused(plugin, tmp_path, tiny_model):
    make_raster(tmp_path / "r.tif")
    (tmp_path / "out").write_text("mine")
    with pytest.raises(QgsProcessingException, match="is a file"):
        _run(
            "detect_folder",
            {
                "FOLDER": str(tmp_path),
                "MODEL": str(tiny_model),
                "OUTPUT_FOLDER": str(tmp_path / "out"),
                "SUMMARY": "memory:",
            },
        )
    assert (tmp_path / "out").read_text() == "mine"


@pytest.mark.slow
def test_detect_into_an_existing_geopackage_keeps_the_users_layers(plugin, tmp_path, tiny_model):
    raster = make_raster(tmp_path / "r.tif")
    gpkg = gpkg_with_user_layers(tmp_path / "project.gpkg")
    kept = user_tables(gpkg)
    for _ in range(2):  # QGIS's file widget asked already: our layer is replaced, nothing else
        result = _run("detect", {"INPUT": str(raster), "MODEL": str(tiny_model), "TILE": 64, "OUTPUT": str(gpkg)})
        assert result["OUTPUT"] == str(gpkg)
        assert user_tables(gpkg) == kept and "detections" in layer_names(gpkg)
    with sqlite3.connect(gpkg) as db:  # the style went to our layer, not to the user's
        assert db.execute("SELECT f_table_name, useAsDefault FROM layer_styles").fetchall() == [("detections", 1)]


@pytest.mark.parametrize(
    "params, word",
    [({"TILE": 50}, "tile"), ({"BATCH": -1}, "batch"), ({"CONF": 2}, "conf"), ({"OVERLAP": -0.1}, "overlap")],
)
def test_detection_options_out_of_range_are_refused(plugin, tmp_path, tiny_model, params, word):
    raster = make_raster(tmp_path / "r.tif")
    with pytest.raises(QgsProcessingException) as caught:
        _run("detect", {"INPUT": str(raster), "MODEL": str(tiny_model), "OUTPUT": str(tmp_path / "o.gpkg"), **params})
    assert word in str(caught.value).lower()
    assert not (tmp_path / "o.gpkg").exists()
