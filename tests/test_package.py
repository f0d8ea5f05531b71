"""The plugin zip builds clean and installs and loads from a fresh QGIS profile."""

import subprocess
import sys
import zipfile

import pytest
from conftest import DEMO_RASTER, PLUGIN_NAME, ROOT, run_qgis_process, venv_site_packages


@pytest.fixture(scope="module")
def plugin_zip(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist") / f"{PLUGIN_NAME}.zip"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "package.py"), "-o", str(out)], check=True, capture_output=True
    )
    return out


def test_zip_has_one_top_folder_and_no_dev_files(plugin_zip):
    names = zipfile.ZipFile(plugin_zip).namelist()
    assert {n.split("/")[0] for n in names} == {PLUGIN_NAME}
    for required in (
        "metadata.txt",
        "__init__.py",
        "plugin.py",
        "LICENSE",
        "processing/provider.py",
        "micro_detector/__init__.py",
        "resources/icons/icon.png",
        "resources/models/default.onnx",
        "installer/core.py",
        "micro_detector/training/cli.py",
    ):
        assert f"{PLUGIN_NAME}/{required}" in names
    forbidden = (
        "/tests/",
        "/.venv/",
        "__pycache__",
        ".pyc",
        "/.git/",
        "/.ci/",
        "/benchmarks/",
        ".aux.xml",
        "/.wheels/",
        ".egg-info",
    )
    assert [n for n in names if any(f in n for f in forbidden)] == []


def test_zip_installs_and_loads_in_fresh_profile(plugin_zip, tmp_path):
    plugins = tmp_path / "profiles" / "default" / "python" / "plugins"
    plugins.mkdir(parents=True)
    zipfile.ZipFile(plugin_zip).extractall(plugins)
    enable = run_qgis_process(["plugins", "enable", PLUGIN_NAME], config_dir=tmp_path)
    assert enable.returncode == 0, enable.stdout + enable.stderr
    listing = run_qgis_process(["list"], config_dir=tmp_path)
    assert listing.returncode == 0, listing.stderr
    assert "Micro Object Detection" in listing.stdout
    assert "micro_detector:detect" in listing.stdout


@pytest.mark.slow
def test_qgis_process_run_detect_from_the_zip_writes_a_styled_layer(plugin_zip, tmp_path):
    """The issue's "done": fresh profile, plugin zip installed, `qgis_process run
    micro_detector:detect` on the demo raster (a KIT AIS frame) with the bundled default model."""
    from qgis.core import QgsCategorizedSymbolRenderer, QgsVectorLayer

    plugins = tmp_path / "profiles" / "default" / "python" / "plugins"
    plugins.mkdir(parents=True)
    zipfile.ZipFile(plugin_zip).extractall(plugins)
    assert (plugins / PLUGIN_NAME / "resources" / "models" / "default.pt").is_file()
    assert run_qgis_process(["plugins", "enable", PLUGIN_NAME], config_dir=tmp_path).returncode == 0
    out = tmp_path / "kit.gpkg"
    done = run_qgis_process(
        ["run", "micro_detector:detect", "--", f"INPUT={DEMO_RASTER}", f"OUTPUT={out}"],
        config_dir=tmp_path,
        extra_env={"PYTHONPATH": venv_site_packages()},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    layer = QgsVectorLayer(str(out), "kit", "ogr")
    assert layer.isValid() and layer.featureCount() > 10  # a street scene full of cars
    assert layer.crs().authid() == "EPSG:32632"
    assert isinstance(layer.renderer(), QgsCategorizedSymbolRenderer)
    assert {f["class_name"] for f in layer.getFeatures()} >= {"vehicle"}
