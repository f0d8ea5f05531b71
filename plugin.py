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
        self.warn_missing_dependencies()

    def warn_missing_dependencies(self) -> list[str]:
        """Tell the user at start, without importing them, when neither torch nor onnxruntime
        can be imported: the message bar says so, the log has the install commands."""
        import importlib.util

        missing = [name for name in ("torch", "onnxruntime") if importlib.util.find_spec(name) is None]
        if len(missing) == 2 and self.iface is not None:
            from qgis.core import Qgis, QgsMessageLog

            from .micro_detector.deps import install_instructions

            title = QCoreApplication.translate("MicroDetector", "Micro Object Detection")
            text = QCoreApplication.translate(
                "MicroDetector", "needs torch (or onnxruntime for ONNX models); see the log for how to install it.")
            self.iface.messageBar().pushMessage(title, text, Qgis.Warning, 15)
            QgsMessageLog.logMessage(install_instructions(missing), title, Qgis.Warning)
        return missing

    def unload(self):
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
        if self.translator is not None:
            QCoreApplication.removeTranslator(self.translator)
            self.translator = None
