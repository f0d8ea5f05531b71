"""Styles for detection layers: a categorized renderer on `class_name`, each known class
drawn with the outline symbol of its QML in resources/styles/, other classes generated."""

from __future__ import annotations

from pathlib import Path

from qgis.core import (
    QgsCategorizedSymbolRenderer,
    QgsFillSymbol,
    QgsProcessingLayerPostProcessorInterface,
    QgsRendererCategory,
    QgsVectorLayer,
)

from ..micro_detector import resources
from .translate import tr

# distinct from the four styled classes, readable on imagery
FALLBACK_COLOURS = ["#ff00ff", "#00ffff", "#ffff00", "#ff8000", "#8080ff", "#80ff80", "#ff8080", "#ffffff"]


def class_symbol(name: str, index: int = 0):
    """The outline symbol of `name` from its QML, else a generated outline."""
    qml = resources.style(name)
    if qml is not None:
        layer = QgsVectorLayer("Polygon?crs=EPSG:4326", "style", "memory")
        _, ok = layer.loadNamedStyle(str(qml))
        if ok and layer.renderer() is not None and layer.renderer().symbol() is not None:
            return layer.renderer().symbol().clone()
    colour = FALLBACK_COLOURS[index % len(FALLBACK_COLOURS)]
    return QgsFillSymbol.createSimple(
        {
            "style": "no",
            "outline_color": colour,
            "outline_width": "0.6",
            "outline_width_unit": "MM",
            "joinstyle": "miter",
        }
    )


def class_label(name: str) -> str:
    """The legend's label of a class: the default model's classes in the user's language."""
    labels = {"boat": tr("boat"), "building": tr("building"), "plane": tr("plane"), "vehicle": tr("vehicle")}
    return labels.get(name, name)


def detection_renderer(class_names: list[str]) -> QgsCategorizedSymbolRenderer:
    """Categories on the `class_name` value (as written), labelled in the user's language."""
    categories = [
        QgsRendererCategory(name, class_symbol(name, k), class_label(name)) for k, name in enumerate(class_names)
    ]
    return QgsCategorizedSymbolRenderer("class_name", categories)


def style_detections(layer: QgsVectorLayer, class_names: list[str] | None = None) -> None:
    """Apply the per-class style; class names default to the layer's values of class_name."""
    if class_names is None:
        index = layer.fields().indexOf("class_name")
        class_names = sorted(v for v in layer.uniqueValues(index) if v) if index >= 0 else []
    layer.setRenderer(detection_renderer(class_names))
    layer.triggerRepaint()


class StyleDetections(QgsProcessingLayerPostProcessorInterface):
    """Styles an output layer when Processing loads it into the project."""

    _keep = []  # Processing holds a raw pointer: keep the Python objects alive

    def __init__(self, class_names: list[str]):
        super().__init__()
        self.class_names = class_names
        StyleDetections._keep.append(self)

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802 (QGIS API)
        if isinstance(layer, QgsVectorLayer):
            style_detections(layer, self.class_names)


def embed_style(path: str, class_names: list[str]) -> bool:
    """Store the per-class style with the file, so it opens styled anywhere (also after
    qgis_process): as the default style inside a GeoPackage (of the layer that `path` names
    with `|layername=`, else its first), else as a sidecar .qml."""
    layer = QgsVectorLayer(path, "detections", "ogr")
    if not layer.isValid():
        return False
    style_detections(layer, class_names)
    if path.split("|")[0].lower().endswith(".gpkg"):
        from .gpkg_style import embed_in_gpkg  # not saveStyleToDatabase: it hangs on a 2nd call

        return embed_in_gpkg(path, layer, "micro_detector", "Detections per class")
    _, ok = layer.saveNamedStyle(str(Path(path).with_suffix(".qml")))
    return bool(ok)
