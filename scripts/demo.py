#!/usr/bin/env python3
"""`make demo`: the default model on the bundled demo raster -> a GeoPackage of styled
detections and a PNG quick-look of the raster with the boxes (rendered by QGIS, headless).

    .venv/bin/python scripts/demo.py [--raster R] [--model M] [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def render_quicklook(raster: Path, detections: Path, png: Path, width: int = 1600) -> Path:
    """Raster plus styled detection layer rendered to a PNG with QGIS's map renderer."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from qgis.core import QgsApplication, QgsMapRendererCustomPainterJob, QgsMapSettings, QgsRasterLayer, QgsVectorLayer
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor, QImage, QPainter

    sys.path.insert(0, str(ROOT.parent))  # the plugin package, for its style helper
    app = QgsApplication([], False)
    app.initQgis()
    style = __import__(f"{ROOT.name}.processing.styles", fromlist=["style_detections"])
    rlayer = QgsRasterLayer(str(raster), "raster")
    vlayer = QgsVectorLayer(str(detections), "detections", "ogr")
    if not rlayer.isValid() or not vlayer.isValid():
        raise SystemExit(f"demo: cannot open {raster} or {detections} for the quick-look")
    style.style_detections(vlayer)
    extent = rlayer.extent()
    height = max(1, round(width * extent.height() / extent.width()))
    settings = QgsMapSettings()
    settings.setLayers([vlayer, rlayer])
    settings.setDestinationCrs(rlayer.crs())
    settings.setExtent(extent)
    settings.setOutputSize(QSize(width, height))
    settings.setBackgroundColor(QColor("white"))
    image = QImage(QSize(width, height), QImage.Format_ARGB32_Premultiplied)
    image.fill(QColor("white"))
    painter = QPainter(image)
    job = QgsMapRendererCustomPainterJob(settings, painter)
    job.start()
    job.waitForFinished()
    painter.end()
    image.save(str(png))
    return png


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raster", type=Path, default=None, help="default: the bundled demo raster")
    parser.add_argument("--model", type=Path, default=None, help="default: the bundled default model")
    parser.add_argument("--out", type=Path, default=ROOT / "demo-output")
    args = parser.parse_args()
    # QGIS computes the raster's statistics to draw it: no .aux.xml beside the bundled demo
    os.environ.setdefault("GDAL_PAM_ENABLED", "NO")
    from micro_detector import resources
    from micro_detector.engine import detect
    from micro_detector.model.runner import open_runner

    model = args.model or resources.default_model_for("auto")
    args.raster = args.raster or resources.demo_raster()
    if model is None:
        raise SystemExit("demo: no default model in resources/models/; give --model")
    args.out.mkdir(parents=True, exist_ok=True)
    gpkg = args.out / "detections.gpkg"
    result = detect(args.raster, gpkg, open_runner(model), log=lambda m: print(m, file=sys.stderr))
    png = render_quicklook(args.raster, gpkg, args.out / "quicklook.png")
    counts = ", ".join(f"{k} {v}" for k, v in result.counts().items() if v)
    print(f"demo: {len(result)} objects ({counts or 'none'}) in {result.report['seconds']:.1f} s\n  {gpkg}\n  {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
