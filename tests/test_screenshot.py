"""QGIS desktop under Xvfb with a raster and a styled detection layer, saved as a PNG in
test-artifacts/ so a person can look at the result."""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap

import pytest

pytestmark = pytest.mark.slow

QGIS = shutil.which("qgis.bin") or "/usr/bin/qgis.bin"


def test_qgis_desktop_shows_the_styled_detections(synthetic_training, plugins_dir, artifacts_dir, tmp_path):
    if not shutil.which("xvfb-run"):
        pytest.fail("xvfb-run is missing: make setup installs Debian's xvfb")
    from micro_detector import engine
    from micro_detector.model.runner import open_runner

    scene = synthetic_training["folder"] / "scene2.tif"
    detections = tmp_path / "detections.gpkg"
    engine.detect(scene, detections, runner=open_runner(synthetic_training["model"]))
    png = artifacts_dir / "qgis_detections.png"
    png.unlink(missing_ok=True)
    script = tmp_path / "show.py"
    errors = tmp_path / "errors.txt"
    script.write_text(textwrap.dedent(f"""
        import traceback
        from qgis.core import QgsProject, QgsRasterLayer, QgsVectorLayer
        from qgis.PyQt.QtCore import QTimer
        from qgis.utils import iface

        def leave():
            # the screenshot is on disk; end QGIS without any "save the project?" dialog
            import os
            os._exit(0)

        def shoot():
            try:
                iface.mainWindow().grab().save(r"{png}")
                iface.mapCanvas().grab().save(r"{png.with_name('qgis_detections_canvas.png')}")
            except Exception:
                open(r"{errors}", "w").write(traceback.format_exc())
            leave()

        def show():
            try:
                from micro_object_detection.processing.styles import style_detections

                raster = QgsRasterLayer(r"{scene}", "scene2")
                layer = QgsVectorLayer(r"{detections}", "detections", "ogr")
                style_detections(layer)
                QgsProject.instance().addMapLayer(raster)
                QgsProject.instance().addMapLayer(layer)  # drawn above the raster
                iface.mapCanvas().setExtent(raster.extent())
                iface.mapCanvas().refresh()
                QTimer.singleShot(5000, shoot)
            except Exception:
                open(r"{errors}", "w").write(traceback.format_exc())
                leave()

        QTimer.singleShot(500, show)
    """))
    env = dict(os.environ)
    env.pop("QT_QPA_PLATFORM", None)  # a real (virtual) screen, not offscreen
    env["QGIS_CUSTOM_CONFIG_PATH"] = str(tmp_path / "profile")
    env["PYTHONPATH"] = os.pathsep.join([str(plugins_dir), env.get("PYTHONPATH", "")])
    done = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1280x900x24", QGIS, "--nologo", "--noplugins",
                           "--code", str(script)], env=env, capture_output=True, text=True, timeout=180)
    assert not errors.exists(), errors.read_text()
    assert png.is_file(), done.stdout[-2000:] + done.stderr[-2000:]
    from qgis.PyQt.QtGui import QImage

    image = QImage(str(png.with_name("qgis_detections_canvas.png")))
    assert image.width() > 200 and image.height() > 200
    # the detection outlines are drawn: pixels of the vehicle (#ff1e78) or boat (#00b4ff) style
    styled = 0
    for y in range(0, image.height(), 2):
        for x in range(0, image.width(), 2):
            c = image.pixelColor(x, y)
            if (c.red() > 200 and c.green() < 80 and c.blue() > 80) or (c.red() < 60 and c.green() > 140 and c.blue() > 200):
                styled += 1
    assert styled > 100, styled
