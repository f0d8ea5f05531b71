"""Install the plugin's Python dependencies into a folder the plugin owns (no QGIS imports).

QGIS ships neither onnxruntime nor torch. They are installed with pip, run by the Python
that runs QGIS, into `<profile>/python/micro_detector_deps`, never into QGIS's own
site-packages:
- `pip install --target` a staging folder with `--no-deps`: pip resolves nothing, so it
  never upgrades, downgrades or duplicates a package QGIS already has (numpy above all). The
  few dependencies a package needs at import time and QGIS lacks are listed explicitly.
- The staging folder is verified by importing the packages in a separate process (a broken
  install cannot crash QGIS), and only then moved into the deps folder.
- The deps folder is *appended* to sys.path at plugin start: a package QGIS has always wins.
- Uninstall removes the folder.
Air-gapped sites point the installer at a folder of wheels (`--find-links`, no index).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

FOLDER_NAME = "micro_detector_deps"
TESTED = {"onnxruntime": "1.32.0", "torch": "2.13.0", "openvino": "2026.4.1"}  # the versions the test suite runs
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
# download size in MB, roughly (the wheel for Linux x86-64; other platforms are similar)
SIZE_MB = {"onnxruntime": 28, "torch": 200, "openvino": 45, "sympy": 6, "networkx": 2, "mpmath": 1, "jinja2": 1,
           "fsspec": 1, "filelock": 1, "typing-extensions": 1, "markupsafe": 1}
# torch's own imports at run time: installed only where QGIS's Python lacks them
TORCH_DEPS = {"filelock": "filelock", "typing-extensions": "typing_extensions", "sympy": "sympy",
              "mpmath": "mpmath", "networkx": "networkx", "jinja2": "jinja2", "markupsafe": "markupsafe",
              "fsspec": "fsspec"}
# no console window flashing up for each subprocess on Windows
NO_WINDOW = {"creationflags": 0x08000000} if os.name == "nt" else {}
OFFLINE_HINTS = ("ProxyError", "NewConnectionError", "Temporary failure in name resolution",
                 "Failed to establish a new connection", "Network is unreachable", "SSLError",
                 "No matching distribution found", "Could not find a version that satisfies",
                 "ConnectTimeout", "ReadTimeout", "Name or service not known")


class InstallError(Exception):
    """Installing failed; the message says why and what to do."""


@dataclass
class Item:
    """One package to install: pip requirement, import name, rough size, pip index."""

    name: str
    requirement: str
    module: str
    size_mb: float
    index_url: str | None = None


@dataclass
class Plan:
    """What an install will do: the packages, where, with which interpreter and sources."""

    python: str
    target: Path
    items: list[Item] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    find_links: Path | None = None
    proxy: str | None = None

    @property
    def size_mb(self) -> float:
        return sum(i.size_mb for i in self.items)

    def describe(self) -> str:
        """Plain text: what is missing, what will be installed, where, how big."""
        lines = [f"Missing: {', '.join(self.missing) or 'nothing'}"]
        lines += [f"  {i.requirement}  (about {i.size_mb:.0f} MB)" for i in self.items]
        source = f"the wheel folder {self.find_links} (offline)" if self.find_links else "PyPI"
        lines += [f"Total about {self.size_mb:.0f} MB from {source}",
                  f"Into {self.target} (used only by this plugin; QGIS's own packages are not changed)",
                  f"With {self.python} -m pip"]
        return "\n".join(lines)


def deps_folder(settings_dir: str | Path) -> Path:
    """The plugin's dependency folder inside a QGIS profile (`settings_dir` is the profile's
    folder, QgsApplication.qgisSettingsDirPath())."""
    return Path(settings_dir) / "python" / FOLDER_NAME


def activate(folder: Path) -> bool:
    """Append `folder` to sys.path (after QGIS's own paths, so it never shadows them).
    Returns True if it was added now."""
    path = str(folder)
    if not folder.is_dir() or path in sys.path:
        return False
    sys.path.append(path)
    importlib.invalidate_caches()
    return True


def importable(module: str) -> bool:
    """True when `module` can be imported, without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def find_python() -> str:
    """The Python interpreter of the running QGIS, for `python -m pip`.

    Inside QGIS sys.executable is the QGIS program itself (qgis-bin.exe, QGIS.app/.../QGIS),
    so the interpreter is looked for beside it, in sys.exec_prefix, with the same version."""
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    exe = Path(sys.executable)
    prefixes = [Path(sys.exec_prefix), Path(sys.base_exec_prefix)]
    candidates = [exe] if exe.name.lower().startswith("python") else []
    candidates += [exe.parent / "bin" / "python3", exe.parent / "python3"]  # QGIS.app/Contents/MacOS
    for prefix in prefixes:
        candidates += [prefix / "python.exe", prefix / "python3.exe", prefix / "bin" / f"python{version}",
                       prefix / "bin" / "python3"]
    candidates += [Path(p) for p in (shutil.which(f"python{version}"), shutil.which("python3")) if p]
    for candidate in candidates:
        if candidate.is_file() and _python_version(candidate) == version:
            return str(candidate)
    raise InstallError(f"Cannot find the Python {version} interpreter that runs QGIS (looked beside "
                       f"{exe} and in {sys.exec_prefix}).")


def _python_version(python: Path) -> str | None:
    try:
        done = subprocess.run([str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                              capture_output=True, text=True, timeout=60, **NO_WINDOW)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def onnxruntime_requirement(numpy_version: str) -> str:
    """An onnxruntime requirement that works with the numpy QGIS has loaded: builds for numpy 2
    run on numpy 1.21.6 and later; older numpy needs onnxruntime before 1.16."""
    parts = tuple(int(p) for p in numpy_version.split(".")[:3] if p.isdigit())
    if parts < (1, 21, 6):
        return "onnxruntime>=1.10,<1.16"
    return f"onnxruntime>=1.16,<={TESTED['onnxruntime']}"


def plan_install(target: Path, *, torch: bool = False, find_links: Path | None = None,
                 python: str | None = None, numpy_version: str | None = None,
                 is_importable=importable, proxy: str | None = None, openvino: bool = False) -> Plan:
    """What to install so that detection (onnxruntime) and, with `torch`, training work;
    with `openvino`, OpenVINO too (faster CPU detection on x86, Intel GPUs and NPUs; it needs
    numpy only, which QGIS has). Packages the running Python can already import are left out."""
    if numpy_version is None:
        import numpy

        numpy_version = numpy.__version__
    plan = Plan(python=python or find_python(), target=target, find_links=find_links, proxy=proxy)
    if not is_importable("onnxruntime"):
        plan.missing.append("onnxruntime")
        plan.items.append(Item("onnxruntime", onnxruntime_requirement(numpy_version), "onnxruntime",
                               SIZE_MB["onnxruntime"]))
    if openvino and not is_importable("openvino"):
        plan.missing.append("openvino")
        plan.items.append(Item("openvino", f"openvino>=2024.0,<={TESTED['openvino']}", "openvino",
                               SIZE_MB["openvino"]))
    if torch and not is_importable("torch"):
        plan.missing.append("torch")
        # the CPU build: the default Linux wheel from PyPI pulls about 2.7 GB of CUDA libraries
        index = None if sys.platform == "darwin" else TORCH_CPU_INDEX
        plan.items.append(Item("torch", f"torch>=2.1,<={TESTED['torch']}", "torch", SIZE_MB["torch"], index))
        plan.items += [Item(name, name, module, SIZE_MB[name]) for name, module in TORCH_DEPS.items()
                       if not is_importable(module)]
    return plan


def pip_commands(plan: Plan, staging: Path) -> list[list[str]]:
    """The pip command lines of `plan`, one per package index, installing into `staging`."""
    base = [plan.python, "-m", "pip", "install", "--target", str(staging), "--no-deps",
            "--disable-pip-version-check", "--no-input", "--progress-bar", "off", "--no-warn-script-location"]
    if plan.proxy:
        base += ["--proxy", plan.proxy]
    if plan.find_links is not None:
        base += ["--no-index", "--find-links", str(plan.find_links)]
    groups: dict[str | None, list[str]] = {}
    for item in plan.items:
        groups.setdefault(None if plan.find_links else item.index_url, []).append(item.requirement)
    return [base + (["--index-url", index] if index else []) + reqs for index, reqs in groups.items()]


def explain_failure(output: str, plan: Plan) -> str:
    """A message for a failed pip run: network and proxy failures name the offline route."""
    tail = "\n".join(output.strip().splitlines()[-6:])
    if any(hint in output for hint in OFFLINE_HINTS):
        reqs = " ".join(f'"{i.requirement}"' for i in plan.items)
        return ("pip could not download the packages (no network, a proxy, or no build for this "
                "Python). If QGIS uses a proxy, set it in Settings > Options > Network, then retry. "
                "Offline: on a machine with internet access run\n"
                f"  python -m pip download --no-deps -d wheels {reqs}\n"
                f"with the same Python version ({sys.version_info[0]}.{sys.version_info[1]}) and "
                "platform as QGIS, copy the folder here and choose it as the wheel folder "
                "(pip --find-links).\n" + tail)
    return "pip failed:\n" + tail
