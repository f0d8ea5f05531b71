"""The Python package: one version, every package in the wheel, bundled files found from the
installed package, the shipped ONNX default model, and a wheel that installs into a fresh
venv and detects with onnxruntime alone (no torch)."""

from __future__ import annotations

import configparser
import json
import os
import subprocess
import sys
import tarfile
from importlib import metadata

import pytest
import tomllib
from conftest import DEMO_RASTER, MINI, ROOT

WHEELS = ROOT / ".wheels"  # filled by `make setup`: the pinned onnxruntime wheel


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_one_version_for_package_plugin_and_distribution():
    import micro_detector

    plugin = configparser.ConfigParser()
    plugin.read(ROOT / "metadata.txt")
    assert plugin["general"]["version"] == micro_detector.__version__
    assert metadata.version("micro-object-detection") == micro_detector.__version__
    assert _pyproject()["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "micro_detector.__version__"}


def test_every_package_folder_is_in_the_distribution():
    listed = set(_pyproject()["tool"]["setuptools"]["packages"])
    found = {str(p.parent.relative_to(ROOT)).replace("/", ".") for p in (ROOT / "micro_detector").rglob("__init__.py")}
    assert found <= listed, f"add to [tool.setuptools] packages in pyproject.toml: {sorted(found - listed)}"
    entry = _pyproject()["project"]["scripts"]["micro-detector"]
    assert entry == "micro_detector.cli:main"


def test_bundled_files_are_found_through_the_resources_module():
    from micro_detector import resources

    assert resources.data_root() == ROOT / "resources"  # the checkout (editable install)
    assert resources.default_model("pt") == ROOT / "resources" / "models" / "default.pt"
    assert resources.default_model("onnx") == ROOT / "resources" / "models" / "default.onnx"
    assert resources.demo_raster() == DEMO_RASTER
    assert resources.style("vehicle").name == "vehicle.qml" and resources.style("tree") is None
    assert resources.icon("icon.svg").is_file() and resources.icon("icon.png").is_file()
    # auto: the ONNX export when onnxruntime is installed (here it is); explicit backends get theirs
    assert resources.default_model_for("auto").suffix == ".onnx"
    assert resources.default_model_for("torch").suffix == ".pt"
    with pytest.raises(ValueError, match="'pt' or 'onnx'"):
        resources.default_model("tflite")


def test_shipped_onnx_is_the_export_of_the_shipped_pt():
    """The .onnx carries the SHA-256 of the .pt it was exported from: a retrained default.pt
    without a new export (scripts/export_default_onnx.py) fails here."""
    import hashlib

    from micro_detector.model.io import read_model_file
    from micro_detector.model.onnx_io import SOURCE_KEY, open_session, spec_from_session

    pt, onnx = ROOT / "resources" / "models" / "default.pt", ROOT / "resources" / "models" / "default.onnx"
    session = open_session(onnx)
    props = session.get_modelmeta().custom_metadata_map
    assert props[SOURCE_KEY] == hashlib.sha256(pt.read_bytes()).hexdigest(), (
        "default.onnx is stale: run scripts/export_default_onnx.py"
    )
    payload = read_model_file(pt)
    assert spec_from_session(session, onnx) == payload["spec"]
    params = sum(v.numel() for v in payload["state_dict"].values())
    assert onnx.stat().st_size < 3 * params  # weights stored as float16 (2 bytes each), not float32


@pytest.mark.slow
def test_shipped_onnx_and_pt_find_the_same_boxes_on_the_demo():
    import numpy as np

    from micro_detector import resources
    from micro_detector.boxes import box_iou
    from micro_detector.engine import detect
    from micro_detector.model.runner import open_runner

    a = detect(DEMO_RASTER, None, open_runner(resources.default_model("pt"), backend="torch"))
    b = detect(DEMO_RASTER, None, open_runner(resources.default_model("onnx"), backend="onnx"))
    assert len(a) >= 30 and abs(len(a) - len(b)) <= 1  # a score on the threshold may flip
    iou = box_iou(a.boxes, b.boxes)
    pair = iou.argmax(1)
    matched = iou.max(1) > 0.5
    assert matched.mean() >= 0.97
    np.testing.assert_array_equal(a.class_ids[matched], b.class_ids[pair[matched]])
    assert np.abs(a.boxes[matched] - b.boxes[pair[matched]]).max() <= 1.0  # pixels
    assert np.abs(a.scores[matched] - b.scores[pair[matched]]).max() <= 0.01


def _source_copy(target):
    """The project's files (no venv, git, tests or caches) in `target`: the build never
    writes into the checkout."""
    skip = {".venv", ".git", "tests", "test-artifacts", ".wheels", "dist", "build", "demo-output"}
    with tarfile.open(target.parent / "src.tar", "w") as tar:
        for item in ROOT.iterdir():
            if item.name not in skip and not item.name.endswith(".egg-info"):
                tar.add(item, arcname=item.name, filter=lambda t: None if "__pycache__" in t.name else t)
    with tarfile.open(target.parent / "src.tar") as tar:
        tar.extractall(target)
    return target


def _run(cmd, **kw):
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600, **kw)
    assert done.returncode == 0, f"{cmd}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.mark.slow
def test_wheel_installs_in_a_fresh_venv_and_detects_with_onnxruntime_alone(tmp_path):
    ort = sorted(WHEELS.glob("onnxruntime-*.whl"))
    assert ort, f"no onnxruntime wheel in {WHEELS}: run `make setup`"
    src = _source_copy(tmp_path / "src")
    _run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", tmp_path / "dist", src]
    )
    wheel = next((tmp_path / "dist").glob("micro_object_detection-*.whl"))
    # Debian's python with its GDAL and numpy; no torch, no onnxruntime until installed here
    venv = tmp_path / "venv"
    _run(["/usr/bin/python3", "-m", "venv", "--system-site-packages", venv])
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(WHEELS), GDAL_PAM_ENABLED="NO")
    _run([venv / "bin" / "python", "-m", "pip", "install", "-q", "--no-deps", wheel, ort[-1]], env=env)
    probe = _run(
        [
            venv / "bin" / "python",
            "-c",
            "import importlib.util as u, micro_detector.training, micro_detector.resources as r;"
            "print(u.find_spec('torch') is None, r.data_root(), r.default_model_for(), r.demo_raster())",
        ],
        env=env,
        cwd=tmp_path,
    )
    no_torch, data_root, model, demo = probe.stdout.split()
    assert no_torch == "True" and data_root.startswith(str(venv)) and model.endswith("default.onnx")
    out = tmp_path / "x.gpkg"
    done = _run([venv / "bin" / "micro-detector", "detect", demo, "-o", out, "--quiet"], env=env, cwd=tmp_path)
    report = json.loads(done.stdout)
    from osgeo import ogr

    dataset = ogr.Open(str(out))  # kept referenced: a layer outlives no dataset
    assert dataset.GetLayer(0).GetFeatureCount() >= 30, report  # the demo frame has 40 vehicles
    # detect-folder and evaluate need no torch either
    folder = _run(
        [venv / "bin" / "micro-detector", "detect-folder", MINI / "images", "-o", tmp_path / "many", "--quiet"],
        env=env,
        cwd=tmp_path,
    )
    assert json.loads(folder.stdout)["done"] == 2
    evaluated = _run(
        [
            venv / "bin" / "micro-detector",
            "evaluate",
            model,
            "--xview",
            MINI / "micro4_mini.geojson",
            "--images",
            MINI / "images",
            "--out",
            tmp_path / "eval",
        ],
        env=env,
        cwd=tmp_path,
    )
    assert json.loads(evaluated.stdout[evaluated.stdout.index("{") :])["mAP50"] > 0.5
