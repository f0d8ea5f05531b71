"""The corpus builder on a tiny mirror made here: a git repository with two small images and
their YOLO labels, a tiny micro4 folder, a manifest and a blocklist. Checks the output format
(GeoTIFF tiled JPEG YCbCr with an assigned UTM geotransform at the source's GSD, xView
GeoJSON, images.json), the counts, determinism, the SHA-256 check refusing a changed image,
the reserved rules (a blocklisted near-duplicate, a reserved DOTA name, a reserved repository).
Nothing here reads ../shared or /work/.mirror."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal
from PIL import Image

from micro_detector.training.corpus.build import BuildConfig, BuildError, build
from micro_detector.training.corpus.imagehash import dihedral_dhashes, to_hex

REPO, NAMES = "someone/tiny-aerial", ["car", "ship"]


def scene(seed: int, size=(160, 120)) -> Image.Image:
    """A textured RGB image (distinct dHash per seed)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (6, 8, 3), dtype=np.uint8)
    return Image.fromarray(small).resize(size, Image.BILINEAR)


def git(repo: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
        "GIT_AUTHOR_DATE": "2020-01-01T00:00:00",
        "GIT_COMMITTER_DATE": "2020-01-01T00:00:00",
    }
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, env=env
    ).stdout.strip()


def make_mirror(tmp: Path) -> tuple[Path, str]:
    """A mirror root holding REPO as `<owner>+<name>/repo` (a work-tree clone) at one commit:
    images/a.png (2 cars), images/b.png (a ship), images/P0012.png (a reserved DOTA name)."""
    work = tmp / "mirror" / REPO.replace("/", "+") / "repo"
    (work / "images").mkdir(parents=True)
    git(work, "init", "-q")
    for name, seed, lines in (
        ("a", 1, ["0 0.25 0.5 0.1 0.1", "0 0.75 0.5 0.1 0.1"]),
        ("b", 2, ["1 0.5 0.5 0.5 0.2"]),
        ("P0012", 3, ["0 0.5 0.5 0.1 0.1"]),
    ):
        scene(seed).save(work / "images" / f"{name}.png")
        (work / "images" / f"{name}.txt").write_text("\n".join(lines) + "\n")
    (work / "names.txt").write_text("\n".join(NAMES) + "\n")
    git(work, "add", ".")
    git(work, "commit", "-q", "-m", "data")
    return tmp / "mirror", git(work, "rev-parse", "HEAD")


def make_micro4(tmp: Path) -> Path:
    """A one-image stand-in for micro4 (same files and fields)."""
    m4 = tmp / "micro4"
    (m4 / "images").mkdir(parents=True)
    drv = gdal.GetDriverByName("GTiff").Create(str(m4 / "images" / "kit_x.tif"), 64, 64, 3)
    drv.SetGeoTransform((690000, 0.13, 0, 5335000, 0, -0.13))
    drv = None
    feature = {
        "type": "Feature",
        "properties": {
            "bounds_imcoords": "1,1,9,9",
            "type_id": 18,
            "image_id": "kit_x.tif",
            "feature_id": 7,
            "cat_id": 7,
            "class_name": "vehicle",
        },
        "geometry": None,
    }
    (m4 / "micro4_dev.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    (m4 / "images.json").write_text(
        json.dumps(
            [
                {
                    "image_id": "kit_x.tif",
                    "source": "kit",
                    "annotated_groups": ["vehicle"],
                    "origin": "jekhor/aerial-cars-dataset:x.png",
                }
            ]
        )
    )
    (m4 / "classes.json").write_text(
        json.dumps({"groups": {"vehicle": [18]}, "annotated_groups_by_source": {"kit": ["vehicle"]}})
    )
    return m4


def make_manifests(tmp: Path, commit: str, reserved_image: Image.Image, repos=("bad/reserved",)) -> Path:
    folder = tmp / "manifests"
    folder.mkdir()
    manifest = {
        "source": "tiny",
        "title": "tiny test source",
        "repository": REPO,
        "commit": commit,
        "licence": {"summary": "CC0"},
        "split": "train",
        "format": "yolo",
        "labels": {"names_file": "names.txt", "rule": "same-stem"},
        "select": {"include": ["images/*.png"], "exclude": []},
        "gsd": {"m": 0.3, "how": "stated"},
        "georef": {"mode": "assigned", "epsg": 32633, "origin": [500000, 5000000]},
        "annotated_groups": ["boat", "vehicle"],
        "absent_classes": ["plane"],
        "type_ids": {"ship": 40},
    }
    (folder / "tiny.json").write_text(json.dumps(manifest))
    blocklist = {
        "repos": list(repos),
        "micro4_repos": ["jekhor/aerial-cars-dataset"],
        "text_patterns": ["crowdai"],
        "dota_last": 30,
        "max_hamming": 4,
        "images": [
            {
                "from": "bad/reserved:b-copy.jpg",
                "sha256": "0" * 64,
                "dhash": [to_hex(h) for h in dihedral_dhashes(reserved_image)],
            }
        ],
    }
    (folder / "reserved_blocklist.json").write_text(json.dumps(blocklist))
    return folder


@pytest.fixture
def setup(tmp_path):
    mirror, commit = make_mirror(tmp_path)
    # the reserved copy of b: re-encoded as JPEG and brightened a little (a near-duplicate)
    b_copy = Image.fromarray(np.clip(np.asarray(scene(2), np.int16) + 3, 0, 255).astype(np.uint8))
    manifests = make_manifests(tmp_path, commit, b_copy)
    cfg = BuildConfig(manifests, mirror, make_micro4(tmp_path), tmp_path / "corpus", tmp_path / "corpus_ood")
    return cfg, tmp_path


def run_build(cfg: BuildConfig, update: bool) -> dict:
    cfg.update = update
    return build(cfg, log=lambda m: None)


def test_build_writes_micro4_format_and_drops_reserved(setup):
    cfg, tmp = setup
    report = run_build(cfg, update=True)  # fills files / SHA-256 / counts into the manifest
    manifest = json.loads((cfg.manifests / "tiny.json").read_text())
    assert sorted(manifest["files"]) == ["images/a.png"]  # b: near-duplicate, P0012: reserved DOTA id
    reasons = {Path(p).name: r for _, p, r in report["dropped"].dropped}
    assert "near-duplicate" in reasons["b.png"] and "P0012" in reasons["P0012.png"]
    assert manifest["counts"]["objects"] == {"vehicle": 2}
    run_build(cfg, update=False)
    out = cfg.out_train
    records = {r["image_id"]: r for r in json.loads((out / "images.json").read_text())}
    assert set(records) == {"kit_x.tif", "tiny_a.tif"}
    rec = records["tiny_a.tif"]
    assert rec["split"] == "train" and rec["georeferencing"] == "assigned" and rec["gsd_m"] == 0.3
    assert rec["annotated_groups"] == ["boat", "vehicle"] and rec["n_objects"] == 2
    assert rec["sha256"] == [manifest["files"]["images/a.png"]]
    ds = gdal.Open(str(out / "images" / "tiny_a.tif"))
    assert (ds.RasterXSize, ds.RasterYSize, ds.RasterCount) == (160, 120, 3)
    assert ds.GetMetadata("IMAGE_STRUCTURE")["COMPRESSION"] == "YCbCr JPEG"
    assert ds.GetRasterBand(1).GetBlockSize() == [512, 512]
    gt = ds.GetGeoTransform()
    assert gt[1] == 0.3 and gt[5] == -0.3 and "32633" in ds.GetProjection()
    features = json.loads((out / "corpus.geojson").read_text())["features"]
    mine = [f["properties"] for f in features if f["properties"]["image_id"] == "tiny_a.tif"]
    assert [p["bounds_imcoords"] for p in mine] == ["32,54,48,66", "112,54,128,66"]
    assert {p["type_id"] for p in mine} == {18} and {p["class_name"] for p in mine} == {"vehicle"}
    assert [p["feature_id"] for p in mine] == [8, 9]  # after micro4's ids
    config = json.loads((out / "dataset_config.json").read_text())
    assert config["absent_classes"]["by_source"]["tiny"] == ["plane"]
    assert (out / "classes.json").is_file() and (out / "images" / "kit_x.tif").is_file()


def test_rebuild_gives_identical_labels(setup):
    cfg, _ = setup
    run_build(cfg, update=True)
    run_build(cfg, update=False)
    first = [(cfg.out_train / n).read_text() for n in ("corpus.geojson", "images.json")]
    run_build(cfg, update=False)
    assert [(cfg.out_train / n).read_text() for n in ("corpus.geojson", "images.json")] == first


def test_a_changed_image_fails_the_sha256_check(setup):
    cfg, tmp = setup
    run_build(cfg, update=True)
    work = cfg.mirror / REPO.replace("/", "+") / "repo"
    scene(9).save(work / "images" / "a.png")
    git(work, "commit", "-q", "-am", "changed")
    manifest_path = cfg.manifests / "tiny.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["commit"] = git(work, "rev-parse", "HEAD")
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(BuildError, match=r"images/a.png: SHA-256 .* differs from the manifest"):
        run_build(cfg, update=False)


def test_a_reserved_repository_is_refused(setup):
    cfg, tmp = setup
    blocklist = json.loads((cfg.manifests / "reserved_blocklist.json").read_text())
    blocklist["repos"].append(REPO)
    (cfg.manifests / "reserved_blocklist.json").write_text(json.dumps(blocklist))
    with pytest.raises(BuildError, match="reserved repository"):
        run_build(cfg, update=True)
