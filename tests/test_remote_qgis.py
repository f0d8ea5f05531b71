"""A COG URL as the input of the QGIS detect algorithm: read window by window through the
core's GDAL source (not downloaded whole), the same objects as the file; a bad URL refused
before any work, naming it without its secrets."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from qgis.core import QgsProcessingException

sys.path.insert(0, str(Path(__file__).parent))
import numpy as np  # noqa: E402
from http_range_server import RangeServer  # noqa: E402
from test_remote import crop_cog  # noqa: E402
from test_remote_catalog import output_scores  # noqa: E402


@pytest.mark.slow
def test_a_cog_url_in_qgis_finds_what_the_file_finds(plugin, tmp_path):
    import processing

    cog = crop_cog(tmp_path / "served", width=512)
    processing.run("micro_detector:detect", {"INPUT": str(cog), "OUTPUT": str(tmp_path / "f.gpkg")})
    with RangeServer(tmp_path / "served", token="k3y") as server:
        url = f"{server.url}/{cog.name}?token=k3y"
        result = processing.run("micro_detector:detect", {"INPUT": url, "OUTPUT": str(tmp_path / "u.gpkg")})
        fetched = server.bytes_sent
        with pytest.raises(QgsProcessingException) as error:
            processing.run(
                "micro_detector:detect",
                {"INPUT": f"{server.url}/none.tif?token=k3y", "OUTPUT": str(tmp_path / "n.gpkg")},
            )
    scores = output_scores(Path(result["OUTPUT"]))
    assert len(scores) > 0
    np.testing.assert_array_equal(scores, output_scores(tmp_path / "f.gpkg"))
    assert fetched <= cog.stat().st_size * 1.1  # read by ranges, once
    assert "none.tif" in str(error.value) and "k3y" not in str(error.value)
    assert not (tmp_path / "n.gpkg").exists()


@pytest.mark.slow
def test_qgis_folder_algorithm_takes_a_stac_catalogue_and_a_url_list(plugin, tmp_path):
    """The folder algorithm over a STAC ItemCollection served by HTTP: outputs named by item
    id, the same objects as the files read locally, resumed by item id; a URL list too."""
    import json

    import pystac
    from test_remote_catalog import local_scores, stac_item, summary

    import processing

    served = tmp_path / "served"
    cogs = {name: crop_cog(served, f"{name}.tif", width=w) for name, w in (("a", 320), ("b", 384))}
    with RangeServer(served) as server:
        items = [stac_item(f"scene:{n}", f"{server.url}/{n}.tif") for n in cogs]
        (served / "items.json").write_text(json.dumps(pystac.ItemCollection(items).to_dict()))
        out = tmp_path / "stac_out"
        params = {"CATALOG": f"{server.url}/items.json", "OUTPUT_FOLDER": str(out), "SUMMARY": "TEMPORARY_OUTPUT"}
        result = processing.run("micro_detector:detect_folder", params)
        rows = summary(out)
        assert set(rows) == {"scene:a", "scene:b"} and rows["scene:a"]["status"] == "ok"
        assert sorted(p.name for p in out.glob("*.gpkg")) == ["scene_a.gpkg", "scene_b.gpkg"]
        assert result["SUMMARY"].featureCount() == 2
        for name, cog in cogs.items():
            np.testing.assert_array_equal(output_scores(out / f"scene_{name}.gpkg"), local_scores(cog))
        before = {p: p.stat().st_mtime_ns for p in out.glob("*.gpkg")}
        processing.run("micro_detector:detect_folder", params)  # resumed: nothing redone
        assert {p: p.stat().st_mtime_ns for p in out.glob("*.gpkg")} == before

        (tmp_path / "urls.txt").write_text(f"{server.url}/b.tif\n")
        out2 = tmp_path / "list_out"
        processing.run(
            "micro_detector:detect_folder",
            {"CATALOG": str(tmp_path / "urls.txt"), "OUTPUT_FOLDER": str(out2), "SUMMARY": "TEMPORARY_OUTPUT"},
        )
        np.testing.assert_array_equal(output_scores(out2 / "b.gpkg"), local_scores(cogs["b"]))


@pytest.mark.parametrize(
    "params, message",
    [
        ({}, "Give a folder of rasters, or a STAC catalogue"),
        ({"FOLDER": "{tmp}", "CATALOG": "{tmp}/items.json"}, "not both"),
        ({"FOLDER": "{tmp}", "ASSET": "visual"}, "asset key is for a STAC catalogue"),
        ({"CATALOG": "{tmp}/none.json"}, "STAC catalogue or URL list not found"),
    ],
)
def test_qgis_folder_algorithm_refuses_unclear_sources(plugin, tmp_path, params, message):
    import processing

    (tmp_path / "items.json").write_text("{}")
    params = {k: v.format(tmp=tmp_path) for k, v in params.items()}
    out = tmp_path / "out"
    with pytest.raises(QgsProcessingException, match=message):
        processing.run(
            "micro_detector:detect_folder", {**params, "OUTPUT_FOLDER": str(out), "SUMMARY": "TEMPORARY_OUTPUT"}
        )
    assert not out.exists()
