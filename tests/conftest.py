"""Shared test fixtures.

The plugin is imported the way QGIS imports it: as the package `micro_object_detection`
from a plugins folder (here a temporary folder holding a link to the repository root).
The root itself is never put on sys.path, where its processing/ would shadow QGIS's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLUGIN_NAME = "micro_object_detection"
# The full micro4 set sits beside the repository only on CI and dev machines; tests that need
# it take the `micro4_full` fixture. Everything else uses the small committed fixtures.
SHARED_DATA = ROOT.parent / "shared" / "data" / "micro4"
TEST_DATA = ROOT / "tests" / "data"
MINI = TEST_DATA / "micro4_mini"  # two KIT AIS street scenes, xView labels (see its README)
KIT_RASTER = MINI / "images" / "kit_MOS155.tif"
DEMO_RASTER = ROOT / "resources" / "demo" / "kit_MunichStreet02-MOS93.tif"
# Reading a raster must never leave a .aux.xml beside the input data (also for subprocesses).
os.environ["GDAL_PAM_ENABLED"] = "NO"
# ONNX exports of .pt models (the default CPU path) are cached per session, not in ~/.cache.
os.environ.setdefault("MICRO_DETECTOR_CACHE", tempfile.mkdtemp(prefix="mod-onnx-cache-"))
# `--backend auto` takes OpenVINO where it measures faster: a per-machine timing. The suite's
# tests of the ONNX Runtime path pin the choice; tests/test_openvino.py turns it back on.
os.environ.setdefault("MICRO_DETECTOR_AUTO_OPENVINO", "0")
QGIS_PROCESS = shutil.which("qgis_process.bin") or "/usr/bin/qgis_process.bin"

_PLUGINS_DIR = Path(tempfile.mkdtemp(prefix="mod-plugins-"))
(_PLUGINS_DIR / PLUGIN_NAME).symlink_to(ROOT, target_is_directory=True)
sys.path.insert(0, str(_PLUGINS_DIR))


@pytest.fixture(scope="session")
def plugins_dir() -> Path:
    """A plugins folder that holds this checkout as `micro_object_detection`."""
    return _PLUGINS_DIR


@pytest.fixture(scope="session")
def micro4_full() -> Path:
    """The full micro4 set. Skipped when absent (a bare clone), but required, failing, when
    MICRO4_REQUIRED=1 (CI sets it, so the tests that need the whole set always run there)."""
    if not (SHARED_DATA / "micro4_dev.geojson").is_file():
        message = f"the full micro4 set is not at {SHARED_DATA}"
        if os.environ.get("MICRO4_REQUIRED") == "1":
            pytest.fail(message + " and MICRO4_REQUIRED=1")
        pytest.skip(message + " (set MICRO4_REQUIRED=1 to make this a failure)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where tests leave files for a person to look at (screenshots, reports)."""
    path = ROOT / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path


def run_python(code: str, *, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter of this venv, with the test plugins folder on sys.path."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    full_env["PYTHONPATH"] = os.pathsep.join([str(_PLUGINS_DIR), full_env.get("PYTHONPATH", "")])
    full_env.setdefault("QT_QPA_PLATFORM", "offscreen")
    return subprocess.run(
        [sys.executable, "-c", code],
        env=full_env,
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def qgis_without(*modules: str) -> str:
    """Code for run_python: make `modules` unimportable (as if not installed), then start QGIS
    with Processing and this plugin's provider."""
    return f"""
import sys
class Block:  # makes the modules look uninstalled
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {modules!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}")
        return None
sys.meta_path.insert(0, Block())
sys.path.append("/usr/share/qgis/python/plugins")
from qgis.core import QgsApplication, QgsProcessingException, QgsVectorLayer
app = QgsApplication([], False); app.initQgis()
from processing.core.Processing import Processing
Processing.initialize()
import processing
import micro_object_detection as pkg
plugin = pkg.classFactory(None); plugin.initProcessing()
"""


def venv_site_packages() -> str:
    """This venv's site-packages: qgis_process runs Debian's Python, which has no torch."""
    import sysconfig

    return sysconfig.get_paths()["purelib"]


def run_qgis_process(
    args: list[str],
    *,
    config_dir: Path,
    plugin_path: Path | None = None,
    timeout: float = 600,
    extra_env: dict | None = None,
) -> subprocess.CompletedProcess:
    """Run qgis_process.bin (the Debian wrapper passes a flag 3.22 rejects) with its own profile."""
    env = dict(os.environ)
    env.update(extra_env or {})
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["QGIS_CUSTOM_CONFIG_PATH"] = str(config_dir)
    if plugin_path is not None:
        env["QGIS_PLUGINPATH"] = str(plugin_path)
    return subprocess.run(
        [QGIS_PROCESS, *args],
        env=env,
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def synthetic_training(tmp_path_factory):
    """Three synthetic scenes (xView labels) and a YOLOv12n trained on two of them; scene2 is
    held out for validation. Trained once per session (about a minute on two CPU cores)."""
    import torch
    from synthetic import make_scene, write_mapping, write_xview

    from micro_detector.training.labels import ClassMap, load_xview, split_by_image
    from micro_detector.training.trainer import train

    folder = tmp_path_factory.mktemp("scenes")
    rows = []
    for i in range(3):
        raster, boxes, classes = make_scene(folder, f"scene{i}.tif", size=256, count=30, seed=i)
        rows.append((raster.name, boxes, classes))
    geojson = write_xview(folder / "labels.geojson", rows)
    mapping = write_mapping(folder / "map.json")
    labels = load_xview(geojson, folder, ClassMap.from_file(mapping))
    train_set, val_set = split_by_image(labels, val_names=["scene2.tif"])
    torch.manual_seed(0)
    run = tmp_path_factory.mktemp("run")
    result = train(tiny_config(80, val_every=40), train_set, val_set, run, model_path=run / "model.pt")
    return {
        "folder": folder,
        "geojson": geojson,
        "mapping": mapping,
        "rows": rows,
        "result": result,
        "model": run / "model.pt",
        "run": run,
        "train": train_set,
        "val": val_set,
    }


def tiny_config(epochs: int, **kw):
    from micro_detector.training.chips import ChipConfig
    from micro_detector.training.dataset import AugmentConfig
    from micro_detector.training.trainer import TrainConfig

    return TrainConfig(
        scale="n",
        epochs=epochs,
        imgsz=128,
        batch=8,
        nbs=8,
        warmup_epochs=0,
        close_mosaic=2,
        lr0=0.004,
        workers=0,
        chips=ChipConfig(size=128, overlap=0.25),
        augment=AugmentConfig(scale=0.1),
        **kw,
    )


@pytest.fixture
def plugin(qgis_iface, qgis_processing):
    """The plugin loaded into the test QGIS with its Processing provider registered
    (test_plugin.py has its own: it checks the registration itself)."""
    import importlib

    instance = importlib.import_module("micro_object_detection").classFactory(qgis_iface)
    instance.initProcessing()
    yield instance
    instance.unload()
