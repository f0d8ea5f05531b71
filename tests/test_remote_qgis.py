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
