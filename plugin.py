"""The plugin object: puts the plugin's dependency folder on sys.path, installs the
translation, registers the Processing provider, adds the "Install dependencies" action, and
removes them on unload."""

import html
from pathlib import Path

from qgis.core import QgsApplication, QgsSettings
from qgis.PyQt.QtCore import QCoreApplication, QTranslator

from .installer.core import activate, deps_folder
from .processing.provider import MicroDetectorProvider

I18N = Path(__file__).resolve().parent / "i18n"


def load_translator(locale: str | None = None) -> QTranslator | None:
    """The plugin's translator for `locale` (default: QGIS's user locale), or None."""
    if locale is None:
        locale = str(QgsSettings().value("locale/userLocale", "en") or "en")
    qm = I18N / f"micro_object_detection_{locale[:2]}.qm"
    translator = QTranslator()
    return translator if qm.is_file() and translator.load(str(qm)) else None


def missing_runtimes() -> list[str]:
    """The inference runtimes (torch, onnxruntime) that cannot be imported, without importing them."""
    import importlib
    import importlib.util

    importlib.invalidate_caches()  # a package installed since start must be seen
    return [name for name in ("torch", "onnxruntime") if importlib.util.find_spec(name) is None]


class MicroDetectorPlugin:
    """QGIS plugin holding the `micro_detector` Processing provider."""

    MENU = "&Micro Object Detection"

    def __init__(self, iface):
        self.iface = iface
        self.provider = None
        self.action = None
        self.bar_item = None  # (message bar, item, button) of the start-up warning, kept alive
        # packages installed by the "Install dependencies" dialog; appended, never shadowing QGIS's
        activate(deps_folder(QgsApplication.qgisSettingsDirPath()))
        self.translator = load_translator()
        if self.translator is not None:
            QCoreApplication.installTranslator(self.translator)

    def initProcessing(self):  # noqa: N802 (QGIS API)
        """Register the provider; QGIS calls this alone for qgis_process (hasProcessingProvider)."""
        if self.provider is None:
            self.provider = MicroDetectorProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):  # noqa: N802 (QGIS API)
        from qgis.PyQt.QtGui import QIcon

        try:
            from qgis.PyQt.QtGui import QAction  # Qt6 (QGIS 4)
        except ImportError:
            from qgis.PyQt.QtWidgets import QAction  # Qt5

        from .micro_detector import resources

        self.initProcessing()
        self.action = QAction(
            QIcon(str(resources.icon("icon.svg"))), self.tr("Install dependencies…"), self.iface.mainWindow()
        )
        self.action.triggered.connect(self.show_installer)
        self.iface.addPluginToMenu(self.menu(), self.action)
        self.warn_missing_dependencies()

    @staticmethod
    def tr(text: str) -> str:
        return QCoreApplication.translate("MicroDetector", text)

    def menu(self) -> str:
        return self.tr(self.MENU)

    def show_installer(self):
        """Open the "Install dependencies" dialog; a successful install removes the start-up
        bar (after the signal's delivery, never inside it)."""
        from qgis.PyQt.QtCore import QTimer

        from .installer.dialog import InstallDialog

        dialog = InstallDialog(self.iface.mainWindow() if self.iface is not None else None)
        dialog.installed.connect(lambda ok: ok and QTimer.singleShot(0, self.update_bar))
        dialog.exec()

    def warn_missing_dependencies(self) -> list[str]:
        """Tell the user at start, without importing them, when neither torch nor onnxruntime
        can be imported: the message bar offers the installer, the log has the commands."""
        missing = missing_runtimes()
        if len(missing) == 2 and self.iface is not None:
            from qgis.core import Qgis, QgsMessageLog
            from qgis.PyQt.QtWidgets import QPushButton

            from .micro_detector.deps import install_instructions

            title = self.tr("Micro Object Detection")
            text = self.tr("needs ONNX Runtime (about 30 MB) to detect objects.")
            self.remove_bar_item()
            bar = self.iface.messageBar()
            item = bar.createMessage(title, text)
            button = QPushButton(self.tr("Install dependencies…"))
            # A bound method, not a lambda that pops the item: popping the bar item deletes the
            # button while its clicked signal is being delivered, which killed QGIS (SIGSEGV).
            # The plugin keeps the bar, the item and the button alive until it removes them.
            button.clicked.connect(self.install_from_bar)
            item.layout().addWidget(button)
            bar.pushWidget(item, Qgis.MessageLevel.Warning, 0)  # stays until answered
            self.bar_item = (bar, item, button)
            # the Log Messages panel renders HTML: `<=1.32.0` must show as text
            QgsMessageLog.logMessage(html.escape(install_instructions(missing)), title, Qgis.MessageLevel.Warning)
        return missing

    def install_from_bar(self):
        """The bar's button: open the installer; once the dialog is closed, and outside this
        signal's delivery, remove the bar if a runtime can now be imported."""
        from qgis.PyQt.QtCore import QTimer

        self.show_installer()
        QTimer.singleShot(0, self.update_bar)

    def update_bar(self):
        """Remove the warning bar when a detection runtime is importable."""
        if len(missing_runtimes()) < 2:
            self.remove_bar_item()

    def remove_bar_item(self):
        if self.bar_item is not None:
            bar, item, _button = self.bar_item
            self.bar_item = None
            try:
                if item in bar.items():
                    bar.popWidget(item)
            except RuntimeError:  # the bar or item was already deleted by Qt
                pass

    def unload(self):
        self.remove_bar_item()
        if self.action is not None:
            self.iface.removePluginMenu(self.menu(), self.action)
            self.action = None
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
        if self.translator is not None:
            QCoreApplication.removeTranslator(self.translator)
            self.translator = None
