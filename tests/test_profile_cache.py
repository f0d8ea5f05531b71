"""Inside QGIS the ONNX export of a .pt model is cached in the QGIS profile
(<profile>/micro_detector/onnx-cache), not in ~/.cache: a real qgis_process run with its own
profile and HOME, and no MICRO_DETECTOR_CACHE."""

from __future__ import annotations

import shutil

import pytest
from conftest import DEMO_RASTER, PLUGIN_NAME, ROOT, run_qgis_process, venv_site_packages
from osgeo import gdal


@pytest.mark.slow
def test_a_qgis_run_caches_the_onnx_export_in_the_profile(plugins_dir, tmp_path):
    home, config = tmp_path / "home", tmp_path / "config"
    home.mkdir()
    model = tmp_path / "model.pt"  # no export beside it: the run must make one
    shutil.copy(ROOT / "resources" / "models" / "default.pt", model)
    raster = tmp_path / "crop.tif"
    gdal.Translate(str(raster), str(DEMO_RASTER), srcWin=[0, 0, 320, 320])
    # "" is unset for the cache (a subprocess inherits this session's MICRO_DETECTOR_CACHE)
    env = {
        "PYTHONPATH": venv_site_packages(),
        "GDAL_PAM_ENABLED": "NO",
        "HOME": str(home),
        "MICRO_DETECTOR_CACHE": "",
        "XDG_CACHE_HOME": "",
    }
    assert (
        run_qgis_process(
            ["plugins", "enable", PLUGIN_NAME], config_dir=config, plugin_path=plugins_dir, extra_env=env
        ).returncode
        == 0
    )
    runs = []
    for name in ("first", "second"):
        done = run_qgis_process(
            [
                "run",
                "micro_detector:detect",
                "--",
                f"INPUT={raster}",
                f"MODEL={model}",
                "DEVICE=1",
                f"OUTPUT={tmp_path / name}.gpkg",
            ],  # DEVICE 1: cpu
            config_dir=config,
            plugin_path=plugins_dir,
            extra_env=env,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        runs.append(done.stdout + done.stderr)
    cache = config / "profiles" / "default" / "micro_detector" / "onnx-cache"
    exports = list((cache / "onnx").glob("*.onnx"))
    assert len(exports) == 1 and exports[0].stat().st_size > 1_000_000
    assert f"made once in {cache / 'onnx'}" in runs[0] and f"reused from {cache / 'onnx'}" in runs[1]
    assert not (home / ".cache" / "micro-detector").exists()
    assert not any("micro-detector" in str(p) for p in home.rglob("*"))

    # evaluate, from QGIS too, reuses the profile's export and writes nothing under HOME
    mapping = tmp_path / "classes.json"
    mapping.write_text('{"vehicle": [17, 18, 19, 23]}')
    done = run_qgis_process(
        [
            "run",
            "micro_detector:evaluate",
            "--",
            f"MODEL={model}",
            f"CLASS_MAP={mapping}",
            f"XVIEW={DEMO_RASTER.with_suffix('.geojson')}",
            f"IMAGES={DEMO_RASTER.parent}",
            f"OUTPUT={tmp_path / 'metrics.gpkg'}",
            f"FOLDER={tmp_path / 'evaluation'}",
        ],
        config_dir=config,
        plugin_path=plugins_dir,
        extra_env=env,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert (tmp_path / "evaluation" / "metrics.json").is_file()
    assert list((cache / "onnx").glob("*.onnx")) == exports
    assert not any("micro-detector" in str(p) for p in home.rglob("*"))
