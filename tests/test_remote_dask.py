"""detect-folder on Dask over remote items: a STAC ItemCollection in a local S3-compatible
server (moto, credentials checked), a LocalCluster of worker processes, one COG split into
blocks across the workers. The credentials and endpoint are set only in the client's GDAL
config (not in the environment the workers inherit): the run works only if the config
reaches every worker. The client reads headers, never pixels."""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_remote import crop_cog  # noqa: E402
from test_remote_catalog import stac_item  # noqa: E402

pytest.importorskip("distributed")
pystac = pytest.importorskip("pystac")

MODEL = Path(__file__).resolve().parents[1] / "resources" / "models" / "default.onnx"


def options():
    from micro_detector.engine import DetectOptions

    return DetectOptions(tile=128, batch=4, device="cpu")


@pytest.mark.slow
def test_dask_run_over_stac_on_s3_reads_on_the_workers(tmp_path, monkeypatch):
    from s3_server import S3Server
    from test_dask import features, same_features

    from micro_detector import engine
    from micro_detector.distributed import ClusterOptions, detect_folder_dask
    from micro_detector.model.runner import open_runner
    from micro_detector.remote import NetworkStats

    for key in [k for k in os.environ if k.startswith(("AWS_", "GDAL_HTTP", "CPL_"))]:
        monkeypatch.delenv(key)
    cogs = {
        "big": crop_cog(tmp_path / "cogs", "big.tif", width=1284, blocksize=128),
        "small": crop_cog(tmp_path / "cogs", "small.tif", width=300),
    }
    runner = open_runner(MODEL, device="cpu")
    local = {
        name: engine.detect(cog, tmp_path / f"{name}.gpkg", runner, options=options()) for name, cog in cogs.items()
    }
    with S3Server() as s3:
        items = [stac_item(f"scene-{name}", s3.put("imagery", f"scenes/{name}.tif", cog)) for name, cog in cogs.items()]
        s3.put("imagery", "items.json", json.dumps(pystac.ItemCollection(items).to_dict()).encode())
        with s3.gdal_env():  # the client's GDAL config only
            client_net = NetworkStats().start()
            messages = []
            rows, summary = detect_folder_dask(
                "s3://imagery/items.json",
                tmp_path / "out",
                MODEL,
                options=options(),
                cluster=ClusterOptions(workers=2, block_tiles=8),
                progress=False,
                log=messages.append,
            )
            fetched = client_net.read()["bytes_fetched"]
    assert [r["raster"] for r in rows] == ["scene-big", "scene-small"]
    assert all(r["status"] == "ok" for r in rows), [(r["raster"], r["error"]) for r in rows]
    assert any("scene-big" in m and " blocks" in m for m in messages), messages
    for name in cogs:
        assert same_features(features(tmp_path / "out" / f"scene-{name}.gpkg"), features(tmp_path / f"{name}.gpkg"))
        assert len(local[name]) > 0
    # the client opened the items for their plans (headers) and read the catalogue: no pixels
    assert fetched < cogs["big"].stat().st_size / 4, fetched
    with open(summary, newline="") as f:
        assert {r["raster"] for r in csv.DictReader(f)} == {"scene-big", "scene-small"}
