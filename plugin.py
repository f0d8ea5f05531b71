"""The plugin object: installs the translation, registers the Processing provider and removes
both on unload."""

from pathlib import Path

from qgis.core import QgsApplication, QgsSettings
from qgis.PyQt.QtCore import QCoreApplication, QTranslator

from .processing.provider import MicroDetectorProvider

I18N = Path(__file__).resolve().parent / "i18n"


def load_translator(locale: str | None = None) -> QTranslator | None:
    """The plugin's translator for `locale` (default: QGIS's user locale), or None."""
    if locale is None:
        locale = str(QgsSettings().value("locale/userLocale", "en") or "en")
    qm = I18N / f"micro_object_detection_{locale[:2]}.qm"
    translator = QTranslator()
    return translator if qm.is_file() and translator.load(str(qm)) else None


class MicroDetectorPlugin:
    """QGIS plugin holding the `micro_detector` Processing provider."""

    def __init__(self, iface):
        self.iface = iface
        self.provider = None
        self.translator = load_translator()
        if self.translator is not None:
            QCoreApplication.installTranslator(self.translator)

    def initProcessing(self):  # noqa: N802 (QGIS API)
        """Register the provider; QGIS calls this alone for qgis_process (hasProcessingProvider)."""
        if self.provider is None:
            self.provider = MicroDetectorProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):  # noqa: N802 (QGIS API)
        self.initProcessing()

    def unload(self):
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
        if self.translator is not None:
            QCoreApplication.removeTranslator(self.translator)
            self.translator = None
