"""A full disk, for real: a small tmpfs mounted by the test (we run as root, in CI too), filled
up, then written to by the output writer (GeoPackage, GeoJSON, FlatGeobuf, Shapefile; a new
file and our layer of an existing GeoPackage), the training chip cache and a checkpoint.
Each must fail with one message naming the path and saying "no space left", leave nothing
half-written, and keep the user's older complete file. Where mounting is refused (not
root), the file-level cases still run against /dev/full, which fails every write with
ENOSPC."""

from __future__ import annotations

import hashlib
import os
import subprocess
import uuid
from pathlib import Path

import numpy as np
import pytest

from micro_detector.diskio import DiskFullError, atomic_file

SIZE_KB = 512


def _mount(folder: Path, size_kb: int) -> bool:
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(folder)], capture_output=True)
    return done.returncode == 0


@pytest.fixture
def small_disk(tmp_path):
    """A fresh {SIZE_KB} kB tmpfs, unmounted afterwards."""
    folder = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    if not _mount(folder, SIZE_KB):
        pytest.skip("mounting a tmpfs needs root (the /dev/full cases below still run)")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path, leave: int = 0) -> None:
    """Fill the filesystem of `folder` up to `leave` bytes."""
    with open(folder / "ballast", "wb", buffering=0) as f:
        for size in (65536, 4096, 512, 1):
            try:
                while True:
                    f.write(b"\1" * size)
            except OSError:
                pass
    if leave:
        with open(folder / "ballast", "r+b") as f:
            f.truncate(max(os.path.getsize(folder / "ballast") - leave, 0))


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != "ballast")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _detections(n=400):
    rings = np.tile(np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]], float), (n, 1, 1))
    rings += np.arange(n)[:, None, None]
    records = [dict(class_id=0, class_name="car", score=0.5, source="r.tif", tile_row=0, tile_col=0, area_m2=1.0)] * n
    return rings, records


@pytest.mark.parametrize("ext", ["gpkg", "geojson", "fgb", "shp"])
def test_output_on_a_full_disk_names_the_path_and_leaves_nothing(small_disk, ext):
    from micro_detector.writer import write_detections

    fill(small_disk, leave=8192)
    out = small_disk / f"o.{ext}"
    with pytest.raises(DiskFullError) as caught:
        write_detections(out, *_detections(), None, {"run": "x"})
    message = str(caught.value)
    assert "no space left" in message and str(out) in message
    assert names(small_disk) == []  # no partial folder, no half file


def test_full_disk_keeps_the_layers_of_an_existing_geopackage(small_disk):
    from micro_detector.writer import write_detections

    out = small_disk / "o.gpkg"
    write_detections(out, *_detections(3), None, {"run": "old"}, layer_name="old")
    before = digest(out)
    fill(small_disk)
    with pytest.raises(DiskFullError, match="no space left"):
        write_detections(out, *_detections(2000), None, {"run": "new"}, layer_name="new")
    assert digest(out) == before and names(small_disk) == ["o.gpkg"]


def test_cli_detect_on_a_full_disk(small_disk, tmp_path):
    from bad_input_kit import cli, make_raster

    model = tmp_path / "tiny.pt"
    assert cli("new-model", "--scale", "n", "--imgsz", "64", "--classes", "a,b", "-o", model).returncode == 0
    raster = make_raster(tmp_path / "r.tif", size=192)
    fill(small_disk, leave=4096)
    out = small_disk / "o.geojson"  # GeoJSON once cut the file short and reported success
    result = cli("detect", raster, "-o", out, "--weights", model, "--tile", "64", "-q", "--conf", "0", timeout=300)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    line = [x for x in result.stderr.splitlines() if "error" in x][-1]
    assert "no space left on device" in line and str(out) in line, line
    assert names(small_disk) == []


def test_chip_cache_on_a_full_disk(small_disk, tmp_path):
    """The chips are written through a memory map: without their space reserved first, a
    full disk kills the process with SIGBUS. It must be one clear error instead."""
    from synthetic import make_scene

    from micro_detector.training.chips import ChipConfig, build_chips
    from micro_detector.training.labels import LabeledImage

    raster, boxes, classes = make_scene(tmp_path, "scene.tif", size=256, count=12, seed=1)
    image = LabeledImage(str(raster), 256, 256, np.asarray(boxes, np.float32), np.asarray(classes), np.ones(2, bool))
    fill(small_disk, leave=16384)
    with pytest.raises(DiskFullError) as caught:
        build_chips([image], 2, ChipConfig(size=64, negative_ratio=1.0), small_disk)
    assert "no space left" in str(caught.value) and "chips-" in str(caught.value)
    assert names(small_disk) == []  # no .part.npy, no index without its array


def test_checkpoint_on_a_full_disk_keeps_the_last_good_one(small_disk):
    import torch

    from micro_detector.training.checkpoint import Checkpoint

    path = small_disk / "last.ckpt"
    good = Checkpoint(config={"epochs": 2}, epoch=0, model={"w": torch.ones(8)}, optimizer={})
    good.save(path)
    before = digest(path)
    fill(small_disk, leave=1024)
    big = Checkpoint(config={"epochs": 2}, epoch=1, model={"w": torch.ones(50_000)}, optimizer={})
    with pytest.raises(DiskFullError) as caught:
        big.save(path)
    assert "no space left" in str(caught.value) and str(path) in str(caught.value)
    assert digest(path) == before and names(small_disk) == ["last.ckpt"]
    assert Checkpoint.read(path).epoch == 0


def test_dev_full_is_a_disk_full_error_without_a_mount(tmp_path):
    """No mount needed: /dev/full fails every write with ENOSPC. The file stays as it was."""
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    target = tmp_path / "table.csv"
    target.write_text("old\n")

    with pytest.raises(DiskFullError, match="no space left"), atomic_file(target) as tmp:
        with open("/dev/full", "w") as f:
            f.write("x" * 10_000)
            f.flush()
        tmp.write_text("never reached")
    assert target.read_text() == "old\n" and sorted(p.name for p in tmp_path.iterdir()) == ["table.csv"]
