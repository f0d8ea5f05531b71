"""The "Install dependencies" dialog: shows what is missing and the plan, runs the install as
a QgsTask with its log, offers uninstall. All decisions are in installer.core."""

from __future__ import annotations

from pathlib import Path

from qgis.core import QgsApplication, QgsSettings
from qgis.gui import QgsFileWidget
from qgis.PyQt.QtCore import pyqtSignal
from qgis.PyQt.QtWidgets import (
    QApplication,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
)

from ..processing.translate import tr
from .core import InstallError, deps_folder, importable, plan_install
from .diagnostics import diagnostics_report
from .run import uninstall
from .task import InstallTask


def qgis_proxy() -> str | None:
    """QGIS's proxy (Settings > Options > Network) as a pip --proxy URL, or None."""
    s = QgsSettings()
    if str(s.value("proxy/proxyEnabled", "false")).lower() != "true" or not s.value("proxy/proxyHost"):
        return None
    user, password = s.value("proxy/proxyUser", ""), s.value("proxy/proxyPassword", "")
    auth = f"{user}:{password}@" if user else ""
    return f"http://{auth}{s.value('proxy/proxyHost')}:{s.value('proxy/proxyPort', '8080')}"


def profile_deps_folder() -> Path:
    """The deps folder of the running QGIS profile."""
    return deps_folder(QgsApplication.qgisSettingsDirPath())


GROUP_MODULES = {"detect": "onnxruntime", "train": "torch", "export": "onnx", "dask": "distributed"}


class InstallDialog(QDialog):
    """Install or remove what each algorithm needs: ONNX Runtime (detection), CPU torch
    (training, .pt models), onnx (export), Dask (parallel batches), OpenVINO (faster CPU
    detection, Intel GPUs and NPUs)."""

    installed = pyqtSignal(bool)  # after an install, ok or not

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Micro Object Detection: install dependencies"))
        self.task = None
        self.last_error = ""
        self.target = profile_deps_folder()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.detect = QCheckBox(self.tr("ONNX Runtime (about 30 MB): detection"))
        self.detect.setChecked(True)
        self.torch = QCheckBox(
            self.tr("PyTorch, CPU build (about 200 MB download, 900 MB on disk): training and .pt models")
        )
        self.export = QCheckBox(
            self.tr("ONNX (about 20 MB): export of trained models to .onnx, the faster CPU path for .pt models")
        )
        self.dask = QCheckBox(self.tr("Dask (about 10 MB): the Workers option of detection in a folder"))
        self.openvino = QCheckBox(
            self.tr("OpenVINO (about 45 MB): faster detection on x86 CPUs, and Intel GPUs and NPUs (device intel:gpu)")
        )
        self.wheels = QgsFileWidget()
        self.wheels.setStorageMode(QgsFileWidget.StorageMode.GetDirectory)
        self.wheels.setDialogTitle(self.tr("Folder of downloaded wheels (offline install)"))
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.install_button = QPushButton(self.tr("Install"))
        self.uninstall_button = QPushButton(self.tr("Uninstall"))
        self.cancel_button = QPushButton(self.tr("Cancel install"))
        self.copy_button = QPushButton(self.tr("Copy diagnostics"))
        self.cancel_button.setEnabled(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.close_button = buttons.button(QDialogButtonBox.StandardButton.Close)
        self.close_button.setText(self.tr("Close"))
        self._lay_out(buttons)
        self.install_button.clicked.connect(self.start_install)
        self.uninstall_button.clicked.connect(self.remove)
        self.cancel_button.clicked.connect(self.cancel_install)
        self.copy_button.clicked.connect(self.copy_diagnostics)
        for box in (self.detect, self.torch, self.export, self.dask):
            box.toggled.connect(self.refresh)
        self.wheels.fileChanged.connect(self.refresh)
        self.refresh()
        self.resize(820, 560)

    def _lay_out(self, buttons):
        row = QHBoxLayout()
        for button in (self.install_button, self.uninstall_button, self.cancel_button, self.copy_button):
            row.addWidget(button)
        layout = QVBoxLayout(self)
        for widget in (
            self.status,
            QLabel(self.tr("Install for:")),
            self.detect,
            self.torch,
            self.export,
            self.dask,
            self.openvino,
            QLabel(self.tr("Wheel folder, for sites without internet access (optional, pip --find-links):")),
            self.wheels,
            self.log,
        ):
            layout.addWidget(widget)
        layout.addLayout(row)
        layout.addWidget(buttons)

    def tr(self, text):  # the plugin's one translation context (i18n/)
        return tr(text)

    def groups(self) -> list[str]:
        boxes = {
            "detect": self.detect,
            "train": self.torch,
            "export": self.export,
            "dask": self.dask,
            "openvino": self.openvino,
        }
        return [group for group, box in boxes.items() if box.isChecked()]

    def plan(self):
        """The install plan for the current choices (raises InstallError)."""
        folder = self.wheels.filePath().strip()
        return plan_install(
            self.target, groups=self.groups(), find_links=Path(folder) if folder else None, proxy=qgis_proxy()
        )

    def show_status(self):
        """What the running QGIS can import now, and the deps folder; Uninstall only when
        there is something to remove and no install runs."""
        have = [m for m in ("onnxruntime", "torch", "onnx", "dask", "openvino") if importable(m)]
        self.status.setText(
            self.tr("Installed: {}. Folder: {}").format(", ".join(have) or self.tr("none"), self.target)
        )
        self.uninstall_button.setEnabled(self.target.exists() and self.task is None)

    def refresh(self, *_):
        """Show what is there, what is missing and what Install would do."""
        self.show_status()
        try:
            plan = self.plan()
        except InstallError as error:
            self.log.setPlainText(str(error))
            self.install_button.setEnabled(False)
            return
        self.install_button.setEnabled(bool(plan.items) and self.task is None)
        self.log.setPlainText(plan.describe(self.tr) if plan.items else self.tr("Nothing to install."))

    def start_install(self):
        """Check the free space, then run the plan as a background task; the log follows pip."""
        try:
            plan = self.plan()
            plan.check_space()
        except InstallError as error:
            self.last_error = str(error)
            self.log.appendPlainText(self.last_error)
            return
        self.task = InstallTask(plan)
        self.task.line.connect(self.log.appendPlainText)
        self.task.done.connect(self.finish)
        self.set_running(True)
        self.log.appendPlainText("")
        QgsApplication.taskManager().addTask(self.task)

    def set_running(self, running: bool):
        """While pip runs: only Cancel (and Close) are clickable."""
        for widget in (self.install_button, self.detect, self.torch, self.export, self.dask, self.wheels):
            widget.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.show_status()

    def cancel_install(self):
        if self.task is not None:
            self.task.cancel()

    def finish(self, ok: bool, message: str):
        self.log.appendPlainText(message)
        self.last_error = "" if ok else message
        self.task = None
        self.set_running(False)
        self.install_button.setEnabled(not ok)
        self.installed.emit(ok)

    def remove(self):
        self.log.appendPlainText(uninstall(self.target))
        self.show_status()

    def copy_diagnostics(self):
        """The diagnostics report (diagnostics.py) to the clipboard and the log."""
        text = diagnostics_report(self.target, self.last_error)
        QApplication.clipboard().setText(text)
        self.log.appendPlainText(text)
