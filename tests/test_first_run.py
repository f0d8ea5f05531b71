"""The first run as a new user has it: QGIS desktop under Xvfb, the plugin enabled in a fresh
profile, QGIS's own Python without onnxruntime or torch. The yellow bar made at start-up
offers the installer; clicking its button must open the dialog and leave QGIS running."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import textwrap

import pytest

pytestmark = pytest.mark.slow

QGIS = shutil.which("qgis.bin") or "/usr/bin/qgis.bin"
PLUGIN_NAME = "micro_object_detection"


def fresh_profile(root, plugin_root) -> dict:
    """A QGIS settings folder with only this plugin, enabled; the environment to start QGIS in it."""
    profile = root / "profiles" / "default"
    plugins = profile / "python" / "plugins"
    plugins.mkdir(parents=True)
    (plugins / PLUGIN_NAME).symlink_to(plugin_root, target_is_directory=True)
    (profile / "QGIS").mkdir()
    (profile / "QGIS" / "QGIS3.ini").write_text(
        f"[PythonPlugins]\n{PLUGIN_NAME}=true\n\n[plugins]\nshowDeprecated=false\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "PYTHONPATH", "VIRTUAL_ENV")}
    env["QGIS_CUSTOM_CONFIG_PATH"] = str(root)
    return env


def run_desktop(script: str, env: dict, tmp_path) -> subprocess.CompletedProcess:
    path = tmp_path / "drive.py"
    path.write_text(textwrap.dedent(script))
    return subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1280x900x24", QGIS, "--nologo", "--code", str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_clicking_install_on_the_start_up_bar_opens_the_installer(tmp_path):
    from conftest import ROOT

    if not shutil.which("xvfb-run"):
        pytest.fail("xvfb-run is missing: make setup installs Debian's xvfb")
    env = fresh_profile(tmp_path / "settings", ROOT)
    report = tmp_path / "report.json"
    done = run_desktop(
        f"""
        import json, os, traceback
        from qgis.PyQt.QtCore import QTimer
        from qgis.PyQt.QtWidgets import QApplication, QPushButton
        from qgis.utils import iface

        state = {{}}

        def save():
            open(r"{report}", "w").write(json.dumps(state))

        def bar_buttons():
            bar = iface.messageBar()
            return [b for item in bar.items() for b in item.findChildren(QPushButton)
                    if "Install" in b.text()]

        def close_dialog():
            dialog = QApplication.activeModalWidget()
            state["dialog"] = dialog.windowTitle() if dialog is not None else None
            if dialog is not None:
                dialog.reject()
            else:
                QTimer.singleShot(200, close_dialog)

        def after():
            try:
                state["bar_items_after"] = len(iface.messageBar().items())
                state["alive"] = True
            except Exception:
                state["error"] = traceback.format_exc()
            save()
            os._exit(0)

        def click():
            try:
                buttons = bar_buttons()
                state["buttons"] = [b.text() for b in buttons]
                save()  # a crash in the click leaves this: buttons, no "clicked"
                if buttons:
                    QTimer.singleShot(500, close_dialog)
                    buttons[0].click()  # the dialog runs modal inside this call
                    state["clicked"] = True
            except Exception:
                state["error"] = traceback.format_exc()
            save()
            QTimer.singleShot(1500, after)

        QTimer.singleShot(2000, click)
    """,
        env,
        tmp_path,
    )
    assert report.is_file(), f"QGIS ended with {done.returncode} before the click\n{done.stderr[-3000:]}"
    state = json.loads(report.read_text())
    assert state.get("clicked"), f"QGIS died in the click ({done.returncode}): {state}\n{done.stderr[-2000:]}"
    assert "error" not in state, state["error"]
    assert state["buttons"], f"no install button on the start-up bar: {state}\n{done.stderr[-2000:]}"
    assert state.get("clicked") and state.get("alive"), f"QGIS died after the click ({done.returncode}): {state}"
    assert state["dialog"] and "install dependencies" in state["dialog"].lower()
    assert done.returncode == 0, done.stderr[-3000:]
