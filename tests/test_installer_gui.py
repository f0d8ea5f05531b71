"""The installer as a user drives it: QGIS desktop under Xvfb, a fresh profile without
onnxruntime, another `python3` first on PATH (an activated venv). Click the start-up bar's
button, give the wheel folder, click Install: the plan names QGIS's own interpreter, Uninstall
is off while pip runs, the install is checked with a real forward pass, the bar goes away,
the diagnostics can be copied; the dialog is saved as a PNG (English and French)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from test_first_run import fresh_profile, run_desktop

pytestmark = pytest.mark.slow

DRIVE = """
import json, os, traceback
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtWidgets import QApplication, QPushButton
from qgis.utils import iface

state = {{"running_states": []}}

def save():
    open(r"{report}", "w").write(json.dumps(state))

def fail():
    state["error"] = traceback.format_exc(); save(); os._exit(1)

def dialog():
    return QApplication.activeModalWidget()

def start():
    try:
        buttons = [b for item in iface.messageBar().items() for b in item.findChildren(QPushButton)]
        state["bar_buttons"] = [b.text() for b in buttons]
        QTimer.singleShot(800, fill)
        buttons[0].click()  # the dialog runs modal inside this call
        QTimer.singleShot(1000, after)
    except Exception:
        fail()

def fill():
    try:
        d = dialog()
        if d is None:
            return QTimer.singleShot(200, fill)
        state["title"] = d.windowTitle()
        state["boxes"] = [b.text() for b in (d.detect, d.torch, d.export, d.dask)]
        d.wheels.setFilePath(r"{wheels}")
        state["plan"] = d.log.toPlainText()
        d.grab().save(r"{png}")
        d.install_button.click()
        state["uninstall_while_running"] = d.uninstall_button.isEnabled()
        state["install_while_running"] = d.install_button.isEnabled()
        QTimer.singleShot(200, wait)
    except Exception:
        fail()

def wait():
    try:
        d = dialog()
        if d.task is not None:
            state["running_states"].append(d.uninstall_button.isEnabled())
            return QTimer.singleShot(200, wait)
        state["log"] = d.log.toPlainText()
        state["uninstall_after"] = d.uninstall_button.isEnabled()
        d.copy_button.click()
        state["clipboard"] = QApplication.clipboard().text()
        d.grab().save(r"{png_done}")
        d.reject()
    except Exception:
        fail()

def after():
    try:
        from qgis.PyQt.QtWidgets import QLabel
        state["bar_items_after"] = [" ".join(w.text() for w in i.findChildren(QLabel)) or i.text()
                                    for i in iface.messageBar().items()]
    except Exception:
        fail()
    save()
    os._exit(0)

QTimer.singleShot(2000, start)
"""


def _fake_python_first_on_path(tmp_path, env):
    """A `python3` first on PATH that is another interpreter of the same version, as a pyenv
    shim is: a script running a venv without QGIS's packages."""
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--without-pip", str(tmp_path / "other")], check=True)
    shim = tmp_path / "shims" / "python3"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nexec {tmp_path / "other" / "bin" / "python3"} "$@"\n')
    shim.chmod(0o755)
    env["PATH"] = f"{shim.parent}:{env['PATH']}"
    return str(shim)


def _wheels(tmp_path):
    from conftest import ROOT

    found = sorted((ROOT / ".wheels").glob("onnxruntime-*.whl"))
    assert found, "no onnxruntime wheel in .wheels: run `make setup`"
    folder = tmp_path / "wheels"
    folder.mkdir()
    shutil.copy(found[-1], folder)
    return folder


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_install_from_the_bar_with_a_wheel_folder(tmp_path, artifacts_dir, locale):
    from conftest import ROOT

    if not shutil.which("xvfb-run"):
        pytest.fail("xvfb-run is missing: make setup installs Debian's xvfb")
    env = fresh_profile(tmp_path / "settings", ROOT)
    ini = tmp_path / "settings" / "profiles" / "default" / "QGIS" / "QGIS3.ini"
    ini.write_text(ini.read_text() + f"\n[locale]\noverrideFlag=true\nuserLocale={locale}\n")
    other = _fake_python_first_on_path(tmp_path, env)
    report, png = tmp_path / "report.json", artifacts_dir / f"installer_plan_{locale}.png"
    done = run_desktop(
        DRIVE.format(
            report=report, wheels=_wheels(tmp_path), png=png, png_done=artifacts_dir / f"installer_done_{locale}.png"
        ),
        env,
        tmp_path,
    )
    assert report.is_file(), f"QGIS ended with {done.returncode}\n{done.stderr[-3000:]}"
    state = json.loads(report.read_text())
    assert "error" not in state, state["error"]
    deps = tmp_path / "settings" / "profiles" / "default" / "python" / "micro_detector_deps"
    assert " /usr/bin/python3" in state["plan"] and other not in state["plan"], state["plan"]
    assert "MB on disk" in state["plan"] or "Mo sur le disque" in state["plan"], state["plan"]
    assert state["install_while_running"] is False and state["uninstall_while_running"] is False
    assert not any(state["running_states"]), "Uninstall was clickable while pip ran"
    assert "one forward pass" in state["log"] and (deps / "onnxruntime").is_dir(), state["log"]
    assert state["uninstall_after"] is True
    # QGIS's own "task complete" item may be there; the plugin's warning must not
    assert not [t for t in state["bar_items_after"] if "ONNX Runtime" in t], state["bar_items_after"]
    assert str(deps) in state["clipboard"] and "onnxruntime: 1.32.0 from " + str(deps) in state["clipboard"]
    if locale == "fr":
        assert state["title"] == "Détection de micro-objets : installer les dépendances", state["title"]
        assert state["bar_buttons"][0].startswith("Installer les dépendances"), state["bar_buttons"]
        assert "Installé : onnxruntime 1.32.0" in state["log"], state["log"]
    else:
        assert "Installed: onnxruntime 1.32.0" in state["log"], state["log"]
