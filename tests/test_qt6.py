"""Qt6-clean code for QGIS 4: the static check (scripts/check_qt6.py) finds nothing, finds
each kind of problem in a sample, and metadata.txt declares Qt6 support."""

from __future__ import annotations

import configparser
import subprocess
import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import check_qt6  # noqa: E402


def test_plugin_code_passes_the_qt6_check():
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "check_qt6.py")],
        capture_output=True,
        text=True,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_check_finds_qt5_only_code(tmp_path, monkeypatch):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from qgis.core import QgsTask, Qgis\nfrom qgis.PyQt.QtWidgets import QAction\n"
        "from PyQt5.QtCore import QVariant\n"
        "t = QgsTask('x', QgsTask.CanCancel)\nok = QgsTask.Flag.CanCancel\n"
        "dialog.exec_()\np.setFlags(p.flags() | p.FlagAdvanced)\nkind = QVariant.Int\n"
        "level = Qgis.MessageLevel.Warning\n"
    )
    monkeypatch.setattr(check_qt6, "ROOT", tmp_path)
    problems = "\n".join(check_qt6.check_file(sample))
    assert "sample.py:4: unscoped enum QgsTask.CanCancel: use QgsTask.Flag.CanCancel" in problems
    assert "exec_()" in problems and "FlagAdvanced" in problems and "QVariant.Type" in problems
    assert "QAction is in QtGui" in problems and "qgis.PyQt only" in problems
    assert ":5:" not in problems and ":9:" not in problems  # the scoped forms pass


def test_metadata_declares_qt6_and_qgis_4():
    config = configparser.ConfigParser()
    config.read(ROOT / "metadata.txt")
    general = config["general"]
    assert general["qgisMaximumVersion"] == "4.99" and general["supportsQt6"] == "True"
    assert "skeleton" not in general["changelog"]
