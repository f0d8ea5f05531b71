"""The "Install dependencies" dialog: shows what is missing and the plan, runs the install as
a QgsTask with its log, offers uninstall. All decisions are in installer.core."""

from __future__ import annotations

from pathlib import Path

from qgis.core import QgsApplication, QgsSettings
from qgis.gui import QgsFileWidget
from qgis.PyQt.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
)

from .core import InstallError, deps_folder, importable, plan_install
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


class InstallDialog(QDialog):
    """Install or remove onnxruntime (detection) and, optionally, OpenVINO (faster detection) and
    CPU torch (training)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Micro Object Detection: install dependencies"))
        self.task = None
        self.target = profile_deps_folder()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.torch = QCheckBox(self.tr("Also install PyTorch, CPU build (about 200 MB): needed for "
                                       "training and for .pt models; detection needs only ONNX Runtime"))
        self.openvino = QCheckBox(self.tr("Also install OpenVINO (about 45 MB): faster detection on "
                                          "Intel and AMD x86 CPUs, and Intel GPUs and NPUs (device intel:gpu)"))
        self.wheels = QgsFileWidget()
        self.wheels.setStorageMode(QgsFileWidget.GetDirectory)
        self.wheels.setDialogTitle(self.tr("Folder of downloaded wheels (offline install)"))
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.install_button = QPushButton(self.tr("Install"))
        self.uninstall_button = QPushButton(self.tr("Uninstall"))
        self.cancel_button = QPushButton(self.tr("Cancel install"))
        self.cancel_button.setEnabled(False)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        for button in (self.install_button, self.uninstall_button, self.cancel_button):
            row.addWidget(button)
        layout = QVBoxLayout(self)
        for widget in (self.status, self.torch, self.openvino, QLabel(self.tr("Wheel folder, for sites without "
                       "internet access (optional, pip --find-links):")), self.wheels, self.log):
            layout.addWidget(widget)
        layout.addLayout(row)
        layout.addWidget(buttons)
        self.install_button.clicked.connect(self.start_install)
        self.uninstall_button.clicked.connect(self.remove)
        self.cancel_button.clicked.connect(lambda: self.task is not None and self.task.cancel())
        self.torch.toggled.connect(self.refresh)
        self.openvino.toggled.connect(self.refresh)
        self.wheels.fileChanged.connect(self.refresh)
        self.refresh()

    def plan(self):
        """The install plan for the current choices (raises InstallError)."""
        folder = self.wheels.filePath().strip()
        return plan_install(self.target, torch=self.torch.isChecked(), openvino=self.openvino.isChecked(),
                            find_links=Path(folder) if folder else None, proxy=qgis_proxy())

    def show_status(self):
        """What the running QGIS can import now, and the deps folder."""
        have = [m for m in ("onnxruntime", "openvino", "torch") if importable(m)]
        self.status.setText(self.tr("Installed: {}. Folder: {}").format(", ".join(have) or self.tr("none"),
                                                                          self.target))
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
        self.log.setPlainText(plan.describe() if plan.items else self.tr("Nothing to install."))

    def start_install(self):
        """Run the plan as a background task; the log follows pip."""
        self.task = InstallTask(self.plan())
        self.task.line.connect(self.log.appendPlainText)
        self.task.done.connect(self.finish)
        self.install_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.log.appendPlainText("")
        QgsApplication.taskManager().addTask(self.task)

    def finish(self, ok: bool, message: str):
        self.log.appendPlainText(message)
        self.task = None
        self.cancel_button.setEnabled(False)
        self.install_button.setEnabled(True)
        self.show_status()

    def remove(self):
        self.log.appendPlainText(uninstall(self.target))
        self.show_status()
