"""Installing the plugin's dependencies from inside QGIS: the plan, the pip command lines,
offline and failure messages, cancel, a broken package never activated, and end to end on
Debian's QGIS Python (no onnxruntime there): install from the local wheel folder, then
detect through processing.run with the ONNX default model; a fresh start finds the folder;
uninstall removes it."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import KIT_RASTER, PLUGIN_NAME, ROOT
from micro_object_detection.installer import core, run  # noqa: E402  (the plugin's own package)

WHEELS = ROOT / ".wheels"
DEBIAN_PYTHON = "/usr/bin/python3"


def test_plan_installs_only_what_is_missing_and_never_numpy(tmp_path):
    present = {"jinja2", "markupsafe", "numpy"}
    plan = core.plan_install(
        tmp_path / "deps",
        torch=True,
        python=sys.executable,
        numpy_version="1.24.2",
        is_importable=lambda m: m in present,
    )
    names = [i.name for i in plan.items]
    assert names[:2] == ["onnxruntime", "torch"] and plan.missing == ["onnxruntime", "torch"]
    assert plan.items[1].index_url == core.TORCH_CPU_INDEX
    assert "numpy" not in names and "jinja2" not in names and "markupsafe" not in names
    assert {"sympy", "filelock", "networkx"} <= set(names)
    assert plan.items[0].requirement == "onnxruntime>=1.16,<=1.32.0"
    text = plan.describe()
    assert str(tmp_path / "deps") in text and "MB on disk" in text and "MB free" in text and "onnxruntime" in text
    assert f"torch>=2.1,<=2.13.0 (missing; about 192 MB download, 863 MB on disk) from {core.TORCH_CPU_INDEX}" in text
    assert core.plan_install(tmp_path, python=sys.executable, is_importable=lambda m: True).items == []


def test_onnxruntime_version_follows_the_loaded_numpy():
    assert core.onnxruntime_requirement("1.24.2") == "onnxruntime>=1.16,<=1.32.0"
    assert core.onnxruntime_requirement("2.1.0") == "onnxruntime>=1.16,<=1.32.0"
    assert core.onnxruntime_requirement("1.19.5") == "onnxruntime>=1.10,<1.16"


def test_pip_commands_target_a_staging_folder_without_dependencies(tmp_path):
    plan = core.plan_install(
        tmp_path / "deps",
        torch=True,
        python="py",
        numpy_version="1.24.2",
        is_importable=lambda m: m != "torch" and m != "onnxruntime",
    )
    online = core.pip_commands(plan, tmp_path / "staging")
    assert all(c[:4] == ["py", "-m", "pip", "install"] and "--no-deps" in c for c in online)
    assert all(c[c.index("--target") + 1] == str(tmp_path / "staging") for c in online)
    torch_cmd = next(c for c in online if any(a.startswith("torch") for a in c))
    assert torch_cmd[torch_cmd.index("--index-url") + 1] == core.TORCH_CPU_INDEX  # never the CUDA build
    plan.find_links, plan.proxy = tmp_path / "wheels", "http://proxy:3128"
    [offline] = core.pip_commands(plan, tmp_path / "staging")
    assert "--no-index" in offline and offline[offline.index("--find-links") + 1] == str(tmp_path / "wheels")
    assert "--index-url" not in offline and offline[offline.index("--proxy") + 1] == "http://proxy:3128"


def test_network_failures_name_the_wheel_folder_option(tmp_path):
    plan = core.plan_install(tmp_path, python="py", numpy_version="1.24.2", is_importable=lambda m: False)
    message = core.explain_failure("...\nERROR: No matching distribution found for onnxruntime\n", plan)
    assert "--find-links" in message and "pip download" in message and "proxy" in message
    assert core.explain_failure("ERROR: disk full\n", plan).startswith("pip failed")


def test_interpreter_is_found_and_folder_goes_before_site_packages(tmp_path, monkeypatch):
    python = core.find_python()
    version = subprocess.run(
        [python, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True
    ).stdout.strip()
    assert version == str(sys.version_info[:2])
    monkeypatch.setattr(sys, "path", ["/q/python", "/usr/lib/python3.11", "/x/site-packages", "/usr/lib/dist-packages"])
    (tmp_path / "deps").mkdir()
    assert core.activate(tmp_path / "deps") and sys.path[2] == str(tmp_path / "deps")  # QGIS's and stdlib first
    assert not core.activate(tmp_path / "deps") and not core.activate(tmp_path / "absent")
    (tmp_path / "odd" / "numpy").mkdir(parents=True)  # never shadow QGIS's numpy
    assert core.activate(tmp_path / "odd") and sys.path[-1] == str(tmp_path / "odd")


def _broken_wheel(folder: Path) -> Path:
    """A wheel whose package raises on import: the install must not be activated."""
    folder.mkdir()
    wheel = folder / "brokenpkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("brokenpkg/__init__.py", "raise RuntimeError('broken on import')\n")
        zf.writestr("brokenpkg-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: brokenpkg\nVersion: 1.0\n")
        zf.writestr(
            "brokenpkg-1.0.dist-info/WHEEL",
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        zf.writestr("brokenpkg-1.0.dist-info/RECORD", "")
    return folder


def test_a_package_that_fails_to_import_is_not_activated(tmp_path):
    plan = core.Plan(
        python=sys.executable,
        target=tmp_path / "deps",
        find_links=_broken_wheel(tmp_path / "w"),
        items=[core.Item("brokenpkg", "brokenpkg", "brokenpkg", 0.1)],
        missing=["brokenpkg"],
    )
    lines = []
    with pytest.raises(core.InstallError, match="broken on import"):
        run.install(plan, log=lines.append)
    assert not plan.target.exists() and not (tmp_path / "deps.staging").exists()
    assert any("Successfully installed brokenpkg" in line for line in lines)  # pip did run


def test_cancel_stops_before_anything_is_installed(tmp_path):
    plan = core.Plan(
        python=sys.executable,
        target=tmp_path / "deps",
        find_links=_broken_wheel(tmp_path / "w"),
        items=[core.Item("brokenpkg", "brokenpkg", "brokenpkg", 0.1)],
        missing=["brokenpkg"],
    )
    with pytest.raises(run.Cancelled):
        run.install(plan, log=lambda line: None, cancelled=lambda: True)
    assert not plan.target.exists()
    assert "Nothing to remove" in run.uninstall(plan.target)


QGIS_SESSION = """
import importlib.util, os, sys, time
sys.path.append("/usr/share/qgis/python/plugins")
from qgis.core import QgsApplication, QgsVectorLayer
app = QgsApplication([], False, os.environ["TEST_PROFILE"]); app.initQgis()
from processing.core.Processing import Processing
Processing.initialize()
import processing
import {plugin} as pkg
plugin = pkg.classFactory(None); plugin.initProcessing()
from {plugin}.installer import core, run
from {plugin}.installer.task import InstallTask
target = core.deps_folder(QgsApplication.qgisSettingsDirPath())
print("TARGET", target)
"""

INSTALL = """
assert importlib.util.find_spec("onnxruntime") is None and importlib.util.find_spec("torch") is None
plan = core.plan_install(target, find_links=os.environ["TEST_WHEELS"])
assert [i.name for i in plan.items] == ["onnxruntime"], plan.describe()
task, outcome = InstallTask(plan), []
task.done.connect(lambda ok, message: outcome.append((ok, message)))
QgsApplication.taskManager().addTask(task)  # the task manager deletes the task when it ends
deadline = time.time() + 300
while not outcome and time.time() < deadline:
    app.processEvents(); time.sleep(0.05)
print("TASK", *outcome[0])
result = processing.run("micro_detector:detect", {"INPUT": os.environ["TEST_RASTER"],
                                                 "OUTPUT": os.environ["TEST_OUTPUT"]})
layer = QgsVectorLayer(result["OUTPUT"], "d", "ogr")
print("DETECTED", layer.featureCount(), sys.modules["onnxruntime"].__file__, "torch" in sys.modules)
"""

RESTART = """
print("FOUND", importlib.util.find_spec("onnxruntime").origin)
print(run.uninstall(target)); print("GONE", not target.exists())
"""


def _debian_qgis(code: str, env: dict, plugins_dir: Path) -> subprocess.CompletedProcess:
    """Debian's QGIS Python (not this venv: no onnxruntime, no torch), a clean environment."""
    clean = {k: os.environ[k] for k in ("PATH", "LANG") if k in os.environ}
    clean.update(
        env,
        HOME=env["TEST_PROFILE"],
        PYTHONNOUSERSITE="1",
        QT_QPA_PLATFORM="offscreen",
        PYTHONPATH=str(plugins_dir),
        GDAL_PAM_ENABLED="NO",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return subprocess.run(
        [DEBIAN_PYTHON, "-c", QGIS_SESSION.format(plugin=PLUGIN_NAME) + code],
        env=clean,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=env["TEST_PROFILE"],
    )


@pytest.mark.slow
def test_fresh_profile_installs_onnxruntime_offline_then_detects(tmp_path, plugins_dir):
    assert sorted(WHEELS.glob("onnxruntime-*.whl")), f"no onnxruntime wheel in {WHEELS}: run `make setup`"
    env = {
        "TEST_PROFILE": str(tmp_path / "profile"),
        "TEST_WHEELS": str(WHEELS),
        "TEST_RASTER": str(KIT_RASTER),
        "TEST_OUTPUT": str(tmp_path / "out.gpkg"),
    }
    (tmp_path / "profile").mkdir()
    done = _debian_qgis(INSTALL, env, plugins_dir)
    output = done.stdout + done.stderr[-3000:]
    assert done.returncode == 0, output
    assert "TASK True Installed: onnxruntime 1.32.0" in done.stdout, output
    detected = next(line for line in done.stdout.splitlines() if line.startswith("DETECTED")).split()
    # The profile QGIS resolved: 3.22 takes the folder given to QgsApplication (profile/);
    # 3.40 ignores it in standalone scripts and takes HOME's default profile
    # (profile/.local/share/profiles/default/). Either way inside this test's own profile.
    target = Path(next(line for line in done.stdout.splitlines() if line.startswith("TARGET ")).split(" ", 1)[1])
    assert target.name == core.FOLDER_NAME and target.parent.name == "python", output
    assert target.is_relative_to(tmp_path / "profile"), output
    assert int(detected[1]) > 10 and detected[2].startswith(str(target)) and detected[3] == "False"
    # a new QGIS session: the plugin puts the folder on sys.path at start; uninstall removes it
    again = _debian_qgis(RESTART, env, plugins_dir)
    assert again.returncode == 0, again.stdout + again.stderr[-3000:]
    assert f"FOUND {target}" in again.stdout and "GONE True" in again.stdout


def test_plugin_menu_opens_a_dialog_that_shows_the_plan(qgis_iface, monkeypatch, artifacts_dir):
    import functools
    import importlib

    from micro_object_detection.installer import dialog as dialog_module

    plugin = importlib.import_module(PLUGIN_NAME).classFactory(qgis_iface)
    plugin.initGui()
    assert "Install dependencies" in plugin.action.text()
    dialog = dialog_module.InstallDialog()
    assert "Nothing to install" in dialog.log.toPlainText()  # this venv has both packages
    # as in a QGIS without them: the plan names the package, the size and the profile folder
    monkeypatch.setattr(
        dialog_module, "plan_install", functools.partial(core.plan_install, is_importable=lambda m: False)
    )
    monkeypatch.setattr(dialog_module, "importable", lambda m: False)
    dialog.torch.setChecked(True)
    text = dialog.log.toPlainText()
    assert "onnxruntime" in text and "torch" in text and "MB" in text and str(dialog.target) in text
    assert dialog.install_button.isEnabled()
    dialog.torch.setChecked(False)  # the default choice: detection only
    assert "torch" not in dialog.log.toPlainText() and "Installed: none" in dialog.status.text()
    dialog.resize(820, 560)
    # the README's picture (docs/images/install_dialog.png is a copy of this file)
    assert dialog.grab().save(str(artifacts_dir / "install_dialog.png"))
    plugin.unload()
    assert plugin.action is None
