"""detect-folder over what is not a folder: a list of URLs served over HTTP, a STAC
ItemCollection in a local S3-compatible server (moto, credentials checked), a STAC Item
file; rows and resume keyed by item id; failures marked and resumed; bad credentials."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal, ogr

sys.path.insert(0, str(Path(__file__).parent))
from http_range_server import RangeServer  # noqa: E402
from test_remote import crop_cog  # noqa: E402

from micro_detector import engine  # noqa: E402
from micro_detector.catalog import CatalogError, list_items, read_stac_items  # noqa: E402
from micro_detector.cli import main  # noqa: E402

pystac = pytest.importorskip("pystac")


def stac_item(item_id: str, href: str, asset: str = "visual"):
    item = pystac.Item(
        item_id,
        {"type": "Point", "coordinates": [11.5, 48.1]},
        [11.5, 48.1, 11.5, 48.1],
        __import__("datetime").datetime(2024, 5, 1),
        {},
    )
    item.add_asset(asset, pystac.Asset(href, media_type=pystac.MediaType.COG, roles=["visual"]))
    item.add_asset("thumbnail", pystac.Asset("thumb.png", roles=["thumbnail"]))
    return item


def summary(folder: Path) -> dict[str, dict]:
    with open(folder / "summary.csv", newline="") as f:
        return {row["raster"]: row for row in csv.DictReader(f)}


def output_scores(path: Path) -> np.ndarray:
    ds = ogr.Open(str(path))
    return np.sort([f.GetField("score") for f in ds.GetLayer(0)])


def local_scores(cog: Path) -> np.ndarray:
    from micro_detector.model.runner import open_runner
    from micro_detector.resources import default_model_for

    return np.sort(engine.detect(cog, None, open_runner(default_model_for("auto"))).scores)


def test_url_list_and_stac_items_are_listed(tmp_path):
    (tmp_path / "urls.txt").write_text("# scenes\nhttp://h/a/one.tif?sig=x\n\nhttps://h/b/two.tif\n")
    items = list_items(tmp_path / "urls.txt")
    assert [(i.name, i.stem, i.href) for i in items] == [
        ("one.tif", "one", "/vsicurl/http://h/a/one.tif?sig=x"),
        ("two.tif", "two", "/vsicurl/https://h/b/two.tif"),
    ]
    collection = pystac.ItemCollection([stac_item("S2A:tile/1", "scenes/x.tif"), stac_item("b", "s3://bk/y.tif")])
    (tmp_path / "items.json").write_text(json.dumps(collection.to_dict()))
    items = read_stac_items(str(tmp_path / "items.json"))
    assert [(i.name, i.stem) for i in items] == [("S2A:tile/1", "S2A_tile_1"), ("b", "b")]
    assert items[0].href == str(tmp_path / "scenes" / "x.tif") and items[1].href == "/vsis3/bk/y.tif"
    with pytest.raises(CatalogError, match="no asset 'red'.*visual"):
        read_stac_items(str(tmp_path / "items.json"), "red")
    (tmp_path / "dup.txt").write_text("http://h/a/one.tif\nhttp://h/b/one.tif\n")
    with pytest.raises(CatalogError, match="twice"):
        list_items(tmp_path / "dup.txt")
    with pytest.raises(CatalogError, match="one raster: .*use detect"):
        list_items("https://h/a/scene.tif?sig=1")


@pytest.mark.slow
def test_url_list_fails_an_item_then_resumes(tmp_path):
    served = tmp_path / "served"
    a, b = crop_cog(served, "a.tif", width=320), crop_cog(served, "b.tif", width=384)
    out = tmp_path / "out"
    with RangeServer(served) as server:
        (tmp_path / "urls.txt").write_text(f"{server.url}/a.tif\n{server.url}/c.tif?token=hush\n{server.url}/b.tif\n")
        code = main(["detect-folder", str(tmp_path / "urls.txt"), "-o", str(out), "-q"])
        rows = summary(out)
        assert code == 1 and rows["a.tif"]["status"] == "ok" and rows["b.tif"]["status"] == "ok"
        assert rows["c.tif"]["status"] == "error" and "c.tif" in rows["c.tif"]["error"]
        assert "hush" not in (out / "summary.csv").read_text()
        assert sorted(p.name for p in out.iterdir()) == ["a.gpkg", "b.gpkg", "summary.csv"]
        crop_cog(served, "c.tif", width=256)
        code = main(["detect-folder", str(tmp_path / "urls.txt"), "-o", str(out), "-q"])
        assert code == 0 and summary(out)["c.tif"]["status"] == "ok"
    np.testing.assert_array_equal(output_scores(out / "a.gpkg"), local_scores(a))
    np.testing.assert_array_equal(output_scores(out / "b.gpkg"), local_scores(b))


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    from s3_server import S3Server

    folder = tmp_path_factory.mktemp("s3")
    with S3Server() as server:
        server.cogs = {name: crop_cog(folder, f"{name}.tif", width=w) for name, w in (("a", 320), ("b", 384))}
        hrefs = {name: server.put("imagery", f"scenes/{name}.tif", cog) for name, cog in server.cogs.items()}
        collection = pystac.ItemCollection([stac_item(f"scene-{n}", h) for n, h in hrefs.items()])
        server.put("imagery", "catalog/items.json", json.dumps(collection.to_dict()).encode())
        yield server


@pytest.mark.slow
def test_stac_on_s3_same_as_local(tmp_path, s3, monkeypatch):
    for key, value in s3.env().items():
        monkeypatch.setenv(key, value)
    out = tmp_path / "out"
    assert main(["detect-folder", "s3://imagery/catalog/items.json", "-o", str(out), "-q"]) == 0
    rows = summary(out)
    assert set(rows) == {"scene-a", "scene-b"} and rows["scene-a"]["output"] == "scene-a.gpkg"
    for name, cog in s3.cogs.items():
        np.testing.assert_array_equal(output_scores(out / f"scene-{name}.gpkg"), local_scores(cog))
    assert main(["detect-folder", "s3://imagery/catalog/items.json", "-o", str(out), "-q"]) == 0


@pytest.mark.slow
def test_bad_credentials_and_bad_urls(tmp_path, s3, monkeypatch, capsys):
    gdal.VSICurlClearCache()
    for key, value in s3.env(secret="wrong-secret-123").items():
        monkeypatch.setenv(key, value)
    assert main(["detect-folder", "s3://imagery/catalog/items.json", "-o", str(tmp_path / "o1"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "items.json" in err and "wrong-secret-123" not in err
    # a local catalogue whose asset is refused: that item fails (exit 1), nothing half-written
    item = stac_item("scene-a", "s3://imagery/scenes/a.tif")
    (tmp_path / "item.json").write_text(json.dumps(item.to_dict()))
    out = tmp_path / "o2"
    assert main(["detect-folder", str(tmp_path / "item.json"), "-o", str(out), "-q"]) == 1
    row = summary(out)["scene-a"]
    assert row["status"] == "error" and "a.tif" in row["error"]
    assert sorted(p.name for p in out.iterdir()) == ["summary.csv"]
    assert main(["detect", "s3://imagery/scenes/missing.tif", "-o", str(tmp_path / "x.gpkg")]) == 2
    assert "missing.tif" in capsys.readouterr().err
