"""The plugin zip builds clean and installs and loads from a fresh QGIS profile."""

import subprocess
import sys
import zipfile

import pytest

from conftest import PLUGIN_NAME, ROOT, run_qgis_process


@pytest.fixture(scope="module")
def plugin_zip(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist") / f"{PLUGIN_NAME}.zip"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "package.py"), "-o", str(out)],
                   check=True, capture_output=True)
    return out


def test_zip_has_one_top_folder_and_no_dev_files(plugin_zip):
    names = zipfile.ZipFile(plugin_zip).namelist()
    assert {n.split("/")[0] for n in names} == {PLUGIN_NAME}
    for required in ("metadata.txt", "__init__.py", "plugin.py", "LICENSE",
                     "processing/provider.py", "micro_detector/__init__.py",
                     "resources/icons/icon.png"):
        assert f"{PLUGIN_NAME}/{required}" in names
    forbidden = ("/tests/", "/.venv/", "__pycache__", ".pyc", "/.git/", "/.ci/", "/benchmarks/")
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
