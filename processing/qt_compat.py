"""What differs between QGIS 3 on Qt5 and QGIS 4 on Qt6, in one place: field types
(QVariant.Type is gone in Qt6; QgsField takes QMetaType.Type from QGIS 3.38 on)."""

from __future__ import annotations

from qgis.core import Qgis

if Qgis.QGIS_VERSION_INT >= 33800:
    from qgis.PyQt.QtCore import QMetaType

    FIELD_TYPES = {"int": QMetaType.Type.Int, "double": QMetaType.Type.Double, "string": QMetaType.Type.QString}
else:  # QGIS 3.22 - 3.36: QgsField wants QVariant.Type
    from qgis.PyQt.QtCore import QVariant

    FIELD_TYPES = {"int": QVariant.Type.Int, "double": QVariant.Type.Double, "string": QVariant.Type.String}
