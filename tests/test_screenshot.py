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
    engine.detect(scene, detections, open_runner(synthetic_training["model"]))
    png = artifacts_dir / "qgis_detections.png"
    png.unlink(missing_ok=True)
    script = tmp_path / "show.py"
    errors = tmp_path / "errors.txt"
    script.write_text(
        textwrap.dedent(f"""
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
                iface.mapCanvas().grab().save(r"{png.with_name("qgis_detections_canvas.png")}")
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
    """)
    )
    env = dict(os.environ)
    env.pop("QT_QPA_PLATFORM", None)  # a real (virtual) screen, not offscreen
    env["QGIS_CUSTOM_CONFIG_PATH"] = str(tmp_path / "profile")
    env["PYTHONPATH"] = os.pathsep.join([str(plugins_dir), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1280x900x24", QGIS, "--nologo", "--noplugins", "--code", str(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
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
            if (c.red() > 200 and c.green() < 80 and c.blue() > 80) or (
                c.red() < 60 and c.green() > 140 and c.blue() > 200
            ):
                styled += 1
    assert styled > 100, styled


MAP_FLOW = """
import json, traceback
from qgis.core import QgsCoordinateReferenceSystem, QgsProject, QgsRasterLayer, QgsRectangle, QgsSettings
from qgis.PyQt.QtCore import QTimer
from qgis.utils import iface

state = {{}}

def fail():
    open(r"{errors}", "w").write(traceback.format_exc())
    leave()

def leave():
    import os
    os._exit(0)

def grab(name, widget=None):
    iface.mapCanvas().waitWhileRendering()  # tiles are drawn in the background
    (widget or iface.mainWindow()).grab().save(r"{artifacts}/" + name)

def basemap():
    try:
        # step 1: an XYZ connection in the Browser, its layer on the map, zoomed to an area
        QgsSettings().setValue("qgis/connections-xyz/Local basemap/url", r"{url}")
        QgsSettings().setValue("qgis/connections-xyz/Local basemap/zmax", {zoom})
        iface.reloadConnections()
        layer = QgsRasterLayer(r"{uri}", "Local basemap (XYZ)", "wms")
        iface.mainWindow().resize(1280, 880)
        QgsProject.instance().addMapLayer(layer)
        state["layer"] = layer
        # QGIS zooms to the first layer's extent (the whole world) once it is added: zoom after that
        QTimer.singleShot(1500, zoom)
    except Exception:
        fail()

def zoom():
    try:
        canvas = iface.mapCanvas()
        canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
        canvas.setExtent(QgsRectangle({zoom_extent}))
        canvas.refresh()
        QTimer.singleShot(4000, dialog)
    except Exception:
        fail()

def dialog():
    try:
        grab("qgis_map_1_basemap.png")
        import processing
        from processing.core.Processing import Processing
        import micro_object_detection as pkg
        Processing.initialize()
        state["plugin"] = pkg.classFactory(iface)
        state["plugin"].initProcessing()
        state["params"] = {{"INPUT": state["layer"].id(), "AREA": 1, "RESOLUTION": {resolution},
                            "OUTPUT": r"{output}"}}
        dlg = processing.createAlgorithmDialog("micro_detector:detect", state["params"])
        dlg.resize(900, 760)
        dlg.show()
        state["dialog"] = dlg
        QTimer.singleShot(2000, run)
    except Exception:
        fail()

def run():
    try:
        grab("qgis_map_2_dialog.png", state["dialog"])
        state["dialog"].close()
        import processing
        result = processing.runAndLoadResults("micro_detector:detect", state["params"])
        json.dump({{"output": result["OUTPUT"], "extent": iface.mapCanvas().extent().toString()}},
                  open(r"{summary}", "w"))
        QTimer.singleShot(4000, result_shot)
    except Exception:
        fail()

def result_shot():
    try:
        iface.layerTreeView().expandAll()  # the legend: one entry per class
        grab("qgis_map_3_result.png")
        grab("qgis_map_3_canvas.png", iface.mapCanvas())
    except Exception:
        fail()
    leave()

QTimer.singleShot(500, basemap)
"""


def test_detect_on_the_visible_part_of_an_xyz_basemap(plugins_dir, artifacts_dir, tmp_path):
    """The map-layer flow of the README, in QGIS desktop: an XYZ basemap (local tiles of the
    demo raster, file://), zoomed to an area, detect on the visible part at 13 cm/px with the
    bundled model, the styled result. Screenshots go to test-artifacts/qgis_map_*.png."""
    if not shutil.which("xvfb-run"):
        pytest.fail("xvfb-run is missing: make setup installs Debian's xvfb")
    from conftest import DEMO_RASTER, venv_site_packages
    from web_tiles import write_xyz_tiles

    zoom = 20
    tiles = write_xyz_tiles(DEMO_RASTER, tmp_path / "tiles", zoom)
    xmin, ymin, xmax, ymax = tiles["bounds"]
    width = xmax - xmin  # zoomed on the left 60% of the street
    zoom_extent = f"{xmin}, {ymin}, {xmin + 0.6 * width}, {ymax}"
    for name in ("qgis_map_1_basemap.png", "qgis_map_2_dialog.png", "qgis_map_3_result.png", "qgis_map_3_canvas.png"):
        (artifacts_dir / name).unlink(missing_ok=True)
    errors, summary, output = tmp_path / "errors.txt", tmp_path / "summary.json", tmp_path / "detections.gpkg"
    script = tmp_path / "flow.py"
    script.write_text(
        MAP_FLOW.format(
            errors=errors,
            artifacts=artifacts_dir,
            url=tiles["uri"].split("url=")[1].split("&")[0],
            zoom=zoom,
            uri=tiles["uri"],
            zoom_extent=zoom_extent,
            resolution=13,
            output=output,
            summary=summary,
        )
    )
    env = dict(os.environ)
    env.pop("QT_QPA_PLATFORM", None)
    env["QGIS_CUSTOM_CONFIG_PATH"] = str(tmp_path / "profile")
    env["PYTHONPATH"] = os.pathsep.join([str(plugins_dir), venv_site_packages(), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1280x900x24", QGIS, "--nologo", "--noplugins", "--code", str(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert not errors.exists(), errors.read_text()
    assert summary.is_file(), done.stdout[-2000:] + done.stderr[-2000:]
    from qgis.core import QgsCategorizedSymbolRenderer, QgsVectorLayer

    layer = QgsVectorLayer(str(output), "d", "ogr")
    assert layer.crs().authid() == "EPSG:3857" and isinstance(layer.renderer(), QgsCategorizedSymbolRenderer)
    vehicles = [f for f in layer.getFeatures() if f["class_name"] == "vehicle"]
    assert len(vehicles) >= 5  # a street full of cars
    import json

    low, high = json.loads(summary.read_text())["extent"].split(":")  # "xmin,ymin : xmax,ymax"
    (x0, y0), (x1, y1) = [float(v) for v in low.split(",")], [float(v) for v in high.split(",")]
    assert x1 < xmax  # the canvas showed a part of the street only
    for f in layer.getFeatures():  # only what was visible was searched
        c = f.geometry().centroid().asPoint()
        assert x0 <= c.x() <= x1 and y0 <= c.y() <= y1
    from qgis.PyQt.QtGui import QImage

    canvas = QImage(str(artifacts_dir / "qgis_map_3_canvas.png"))
    pink = sum(
        1
        for y in range(0, canvas.height(), 2)
        for x in range(0, canvas.width(), 2)
        if _is_vehicle_pink(canvas.pixelColor(x, y))
    )
    assert pink > 100, pink


def _is_vehicle_pink(c) -> bool:
    """The vehicle outline colour of resources/styles/vehicle.qml (#ff1e78)."""
    return c.red() > 200 and c.green() < 80 and 80 < c.blue() < 160
