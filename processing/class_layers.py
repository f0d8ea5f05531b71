"""One layer per class beside the single detection layer of a GeoPackage, each styled."""

from __future__ import annotations

import numpy as np

from ..micro_detector.outputs import DEFAULT_LAYER, OutputTarget
from ..micro_detector.writer import write_detections
from .styles import embed_style


def class_layer_name(main_layer: str, class_name: str) -> str:
    """`detections_vehicle` for the class `vehicle` of the layer `detections`."""
    return f"{main_layer}_{class_name}"


def write_class_layers(
    path: str, result, class_names: list[str], source: str, main_layer: str = DEFAULT_LAYER
) -> dict[str, str]:
    """Write the objects of each class in `class_names` (also those with none: a model or a
    script can rely on the layer being there) into its own layer of the GeoPackage `path`,
    through the core writer (atomic, other layers untouched), and store the class's style
    with it. Returns {class name: layer URI}."""
    records = result.records(source)
    uris = {}
    for name in class_names:
        k = result.class_names.index(name)
        keep = np.flatnonzero(result.class_ids == k)
        layer = class_layer_name(main_layer, name)
        write_detections(
            OutputTarget(path, layer, overwrite=True),
            result.rings[keep],
            [records[i] for i in keep],
            result.crs_wkt,
            {"class_name": name},
        )
        uri = f"{path}|layername={layer}"
        embed_style(uri, [name])
        uris[name] = uri
    return uris
