"""`tr`: the plugin's one translation context for module-level strings (algorithms use
their own `self.tr`, which translates in the same context)."""

from __future__ import annotations

from qgis.PyQt.QtCore import QCoreApplication

CONTEXT = "MicroDetector"


def tr(text: str) -> str:
    """`text` in the user's QGIS language when i18n/ has it, else as given."""
    return QCoreApplication.translate(CONTEXT, text)
