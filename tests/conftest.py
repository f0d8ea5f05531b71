"""Shared test fixtures.

The plugin is imported the way QGIS imports it: as the package `micro_object_detection`
from a plugins folder (here a temporary folder holding a link to the repository root).
The root itself is never put on sys.path, where its processing/ would shadow QGIS's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLUGIN_NAME = "micro_object_detection"
SHARED_DATA = ROOT.parent / "shared" / "data" / "micro4"
QGIS_PROCESS = shutil.which("qgis_process.bin") or "/usr/bin/qgis_process.bin"

_PLUGINS_DIR = Path(tempfile.mkdtemp(prefix="mod-plugins-"))
(_PLUGINS_DIR / PLUGIN_NAME).symlink_to(ROOT, target_is_directory=True)
sys.path.insert(0, str(_PLUGINS_DIR))


@pytest.fixture(scope="session")
def plugins_dir() -> Path:
    """A plugins folder that holds this checkout as `micro_object_detection`."""
    return _PLUGINS_DIR


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where tests leave files for a person to look at (screenshots, reports)."""
    path = ROOT / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path


def run_python(code: str, *, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter of this venv, with the test plugins folder on sys.path."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    full_env["PYTHONPATH"] = os.pathsep.join([str(_PLUGINS_DIR), full_env.get("PYTHONPATH", "")])
    full_env.setdefault("QT_QPA_PLATFORM", "offscreen")
    return subprocess.run(
        [sys.executable, "-c", code], env=full_env, cwd=tempfile.gettempdir(),
        capture_output=True, text=True, timeout=timeout,
    )


def run_qgis_process(args: list[str], *, config_dir: Path, plugin_path: Path | None = None,
                     timeout: float = 600) -> subprocess.CompletedProcess:
    """Run qgis_process.bin (the Debian wrapper passes a flag 3.22 rejects) with its own profile."""
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["QGIS_CUSTOM_CONFIG_PATH"] = str(config_dir)
    if plugin_path is not None:
        env["QGIS_PLUGINPATH"] = str(plugin_path)
    return subprocess.run(
        [QGIS_PROCESS, *args], env=env, cwd=tempfile.gettempdir(),
        capture_output=True, text=True, timeout=timeout,
    )
