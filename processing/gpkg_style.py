"""A layer's default style stored inside its GeoPackage (the `layer_styles` table QGIS reads),
written through GDAL in one transaction.

Why not QgsVectorLayer.saveStyleToDatabase: in QGIS 3.22 a second call on the same GeoPackage
in one process never returns (QGIS's OGR connection pool), and since outputs now add or
replace one layer of an existing GeoPackage, a second run into the same file is common.
"""

from __future__ import annotations

from osgeo import gdal, ogr

FIELDS = [
    ("f_table_catalog", ogr.OFTString),
    ("f_table_schema", ogr.OFTString),
    ("f_table_name", ogr.OFTString),
    ("f_geometry_column", ogr.OFTString),
    ("styleName", ogr.OFTString),
    ("styleQML", ogr.OFTString),
    ("styleSLD", ogr.OFTString),
    ("useAsDefault", ogr.OFTInteger),
    ("description", ogr.OFTString),
    ("owner", ogr.OFTString),
    ("ui", ogr.OFTString),
    ("update_time", ogr.OFTDateTime),
]


def save_default_style(path: str, layer_name: str, qml: str, name: str, description: str = "") -> bool:
    """Make `qml` the default style of `layer_name` in the GeoPackage `path` (replacing an
    earlier style of that name and any other default of that layer). Returns success."""
    ds = gdal.OpenEx(str(path), gdal.OF_VECTOR | gdal.OF_UPDATE)
    if ds is None or ds.GetLayerByName(layer_name) is None:
        return False
    geometry_column = ds.GetLayerByName(layer_name).GetGeometryColumn() or "geom"
    ds.StartTransaction()
    try:
        styles = ds.GetLayerByName("layer_styles")
        if styles is None:
            styles = ds.CreateLayer("layer_styles", None, ogr.wkbNone)
            for field, kind in FIELDS:
                styles.CreateField(ogr.FieldDefn(field, kind))
        quoted = layer_name.replace("'", "''")
        styles.SetAttributeFilter(f"f_table_name = '{quoted}'")
        for feature in list(styles):
            if feature.GetField("styleName") == name:
                styles.DeleteFeature(feature.GetFID())
            elif feature.GetField("useAsDefault"):
                feature.SetField("useAsDefault", 0)
                styles.SetFeature(feature)
        styles.SetAttributeFilter(None)
        row = ogr.Feature(styles.GetLayerDefn())
        for field, value in (
            ("f_table_catalog", ""),
            ("f_table_schema", ""),
            ("f_table_name", layer_name),
            ("f_geometry_column", geometry_column),
            ("styleName", name),
            ("styleQML", qml),
            ("styleSLD", ""),
            ("useAsDefault", 1),
            ("description", description),
            ("owner", ""),
            ("ui", ""),
        ):
            row.SetField(field, value)
        styles.CreateFeature(row)
        ds.CommitTransaction()
    except BaseException:
        ds.RollbackTransaction()
        raise
    finally:
        ds = None
    return True


def embed_in_gpkg(path: str, layer, name: str, description: str = "") -> bool:
    """Store the current style of the QgsVectorLayer `layer`, opened from `path`
    (`file.gpkg|layername=x`), as that layer's default style. Without a layer name: our
    "detections" layer, else the file's only layer; never a user's layer beside ours."""
    from qgis.PyQt.QtXml import QDomDocument

    from ..micro_detector.outputs import DEFAULT_LAYER

    file, _, rest = path.partition("|layername=")
    layer_name = rest.split("|")[0]
    if not layer_name:
        ds = ogr.Open(file.split("|")[0])
        names = [ds.GetLayer(i).GetName() for i in range(ds.GetLayerCount())] if ds is not None else []
        layer_name = DEFAULT_LAYER if DEFAULT_LAYER in names else names[0] if len(names) == 1 else ""
    document = QDomDocument()
    if layer.exportNamedStyle(document):  # a non-empty string is an error message
        return False
    return bool(layer_name) and save_default_style(
        file.split("|")[0], layer_name, document.toString(), name, description
    )
