"""The install as a QgsTask: runs in the background with progress, log and cancel."""

from __future__ import annotations

import html

from qgis.core import Qgis, QgsMessageLog, QgsTask
from qgis.PyQt.QtCore import pyqtSignal

from ..processing.translate import tr
from .core import InstallError, Plan
from .run import install

LOG_TAG = "Micro Object Detection"


class InstallTask(QgsTask):
    """Installs a Plan. `line` carries pip's output; `done(ok, message)` fires at the end
    (in the main thread, from finished())."""

    line = pyqtSignal(str)
    done = pyqtSignal(bool, str)

    def __init__(self, plan: Plan):
        super().__init__(tr("Micro Object Detection: install dependencies"), QgsTask.Flag.CanCancel)
        self.plan = plan
        self.message = ""
        self.versions: dict[str, str] = {}

    def run(self) -> bool:  # in the worker thread
        try:
            self.versions = install(self.plan, log=self.line.emit, cancelled=self.isCanceled, progress=self.setProgress)
        except InstallError as error:
            self.message = str(error)
            return False
        except Exception as error:  # noqa: BLE001 - a task must report, never raise into QGIS
            self.message = f"Unexpected error: {error!r}"
            return False
        installed = ", ".join(f"{m} {v}" for m, v in self.versions.items() if not m.startswith("check "))
        checks = "; ".join(v for m, v in self.versions.items() if m.startswith("check "))
        self.message = tr("Installed: {}").format(installed) + (
            ". " + tr("Checked: {}").format(checks) if checks else ""
        )
        return True

    def finished(self, ok: bool) -> None:  # in the main thread
        if not ok and not self.message:
            self.message = tr("Cancelled: nothing was installed.")
        QgsMessageLog.logMessage(
            html.escape(self.message), LOG_TAG, Qgis.MessageLevel.Success if ok else Qgis.MessageLevel.Warning
        )
        self.done.emit(ok, self.message)
