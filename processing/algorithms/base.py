"""What every algorithm of the provider shares: translation, icon, dependency check,
progress and cancel adapters, and the bundled default model."""

from __future__ import annotations

from pathlib import Path

from qgis.core import QgsApplication, QgsProcessingAlgorithm, QgsProcessingException
from qgis.PyQt.QtGui import QIcon

from ...micro_detector import resources
from ...micro_detector.deps import MissingDependencyError, require
from ..translate import tr

PLUGIN_ROOT = Path(__file__).resolve().parents[2]
ICON = resources.icon("icon.svg")
DEVICES = ["auto", "cpu", "cuda"]


def processing_error(message: str) -> QgsProcessingException:
    """The exception to raise for a failed run, printed once.

    qgis_process prints every Critical message of the message log on stderr, and QGIS logs
    a failed algorithm's message twice at Critical (when it catches the exception, and again
    in reportError) besides its own "ERROR:" line: each error came out three times. The run
    ends with this error, so under qgis_process the log's signals are blocked first and only
    the "ERROR:" line remains. The desktop's dialog and Python's processing.run are unchanged.
    """
    if QgsApplication.platform() == "qgis_process":
        QgsApplication.messageLog().blockSignals(True)
    return QgsProcessingException(message)


def default_model(backend: str = "torch") -> str | None:
    """The bundled default model: the .pt for training ("torch"), or for detection ("auto")
    the file the installed packages can run (the ONNX export needs only onnxruntime)."""
    path = resources.default_model_for(backend)
    return str(path) if path is not None else None


class MicroAlgorithm(QgsProcessingAlgorithm):
    """Base class: subclasses set NAME, DISPLAY, GROUP, GROUP_ID, HELP (untranslated text)."""

    NAME = DISPLAY = GROUP = GROUP_ID = HELP = ""

    def tr(self, text):
        return tr(text)

    def createInstance(self):  # noqa: N802 (QGIS API)
        return type(self)()

    def createCustomParametersWidget(self, parent=None):  # noqa: N802 (QGIS API)
        """QGIS's own dialog, widened on opening so no parameter needs a scrollbar (dialog.py)."""
        from ..dialog import fitting_dialog

        return fitting_dialog(self, parent)

    def name(self):
        return self.NAME

    def displayName(self):  # noqa: N802 (QGIS API)
        return self.tr(self.DISPLAY)

    def group(self):
        return self.tr(self.GROUP)

    def groupId(self):  # noqa: N802 (QGIS API)
        return self.GROUP_ID

    def shortHelpString(self):  # noqa: N802 (QGIS API)
        return self.tr(self.HELP)

    def checkParameterValues(self, parameters, context):  # noqa: N802 (QGIS API)
        """Unreadable input rasters (named as what they are, not "not found"), QGIS's own
        checks, the algorithm's `check_values`, then the output-safety rule (checks.py).
        Raster layers given as provider strings are checked in QGIS's form (layer_uri.py)."""
        from ..layer_uri import with_provider_strings
        from .checks import check_detect_options, check_input_rasters, check_outputs

        ok, message = check_input_rasters(self, parameters, context)
        parameters = with_provider_strings(self, parameters, context)
        if ok:
            ok, message = super().checkParameterValues(parameters, context)
        if ok:
            ok, message = self.check_values(parameters, context)
        if ok:
            ok, message = check_detect_options(self, parameters, context)
        if ok:
            ok, message = check_outputs(self, parameters, context)
        return ok, message

    def check_values(self, parameters, context) -> tuple[bool, str]:
        return True, ""

    def icon(self):
        return QIcon(str(ICON))

    def svgIconPath(self):  # noqa: N802 (QGIS API)
        return str(ICON)

    @staticmethod
    def require(*packages: str):
        """Import the packages or stop with the install instructions (no traceback)."""
        try:
            return require(*packages)
        except MissingDependencyError as error:
            raise processing_error(str(error)) from None

    @staticmethod
    def progress(feedback, start: float = 0.0, span: float = 100.0):
        """An engine progress callback: (done, total) -> feedback; False when cancelled."""

        def report(done, total):
            feedback.setProgress(start + span * done / max(total, 1))
            return not feedback.isCanceled()

        return report

    @staticmethod
    def model_path(value: str | None) -> str:
        path = value or default_model("auto")
        if not path:
            raise processing_error(tr("No model file given and no default model is bundled."))
        if not Path(path).is_file():
            raise processing_error(tr("Model file not found: {}").format(path))
        return path

    @staticmethod
    def check_model_file(value: str | None) -> tuple[bool, str]:
        if not value and default_model() is None:
            return False, tr("Choose a model file: no default model is bundled.")
        if value and not Path(value).is_file():
            return False, tr("Model file not found: {}").format(value)
        if value and Path(value).suffix.lower() not in (".pt", ".onnx"):
            return False, tr("The model must be a .pt model file or an exported .onnx file: {}").format(value)
        return True, ""
