"""Install the plugin's Python dependencies into a folder the plugin owns (no QGIS imports).

QGIS ships neither onnxruntime, torch, onnx nor Dask. They are installed with pip, run by the Python
that runs QGIS, into `<profile>/python/micro_detector_deps`, never into QGIS's own
site-packages:
- `pip install --target` a staging folder with `--no-deps`: pip resolves nothing, so it
  never upgrades, downgrades or duplicates a package QGIS already has (numpy above all). The
  few dependencies a package needs at import time and QGIS lacks are listed explicitly.
- The staging folder is verified by importing the packages in a separate process (a broken
  install cannot crash QGIS), and only then moved into the deps folder.
- A package QGIS has is used when its version is recent enough (read from its metadata);
  otherwise the plugin's folder gets its own copy, and the folder goes on sys.path before
  site-/dist-packages at plugin start, so that copy wins. numpy is never installed there.
- The check runs a tiny real operation per group (a forward pass, a training step, an
  export, a Dask task) in QGIS's own interpreter, found from the running QGIS, not PATH.
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

from .groups import GROUPS, INDEX, TESTED, TORCH_CPU_INDEX, Package, installed_version, satisfied  # noqa: F401

FOLDER_NAME = "micro_detector_deps"
# no console window flashing up for each subprocess on Windows
NO_WINDOW = {"creationflags": 0x08000000} if os.name == "nt" else {}
OFFLINE_HINTS = (
    "ProxyError",
    "NewConnectionError",
    "Temporary failure in name resolution",
    "Failed to establish a new connection",
    "Network is unreachable",
    "SSLError",
    "No matching distribution found",
    "Could not find a version that satisfies",
    "ConnectTimeout",
    "ReadTimeout",
    "Name or service not known",
)


class InstallError(Exception):
    """Installing failed; the message says why and what to do."""


@dataclass
class Item:
    """One package to install: pip requirement, import name, sizes, pip index, and why."""

    name: str
    requirement: str
    module: str
    size_mb: float
    index_url: str | None = None
    disk_mb: float = 0
    reason: str = "missing"


@dataclass
class Plan:
    """What an install will do: the packages, where, with which interpreter and sources."""

    python: str
    target: Path
    items: list[Item] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    find_links: Path | None = None
    proxy: str | None = None
    groups: list[str] = field(default_factory=list)

    @property
    def size_mb(self) -> float:
        return sum(i.size_mb for i in self.items)

    @property
    def disk_mb(self) -> float:
        return sum(i.disk_mb for i in self.items)

    def source(self, item: Item, tr=str) -> str:
        if self.find_links:
            return tr("the wheel folder {}").format(self.find_links)
        return item.index_url or "PyPI (https://pypi.org/simple)"

    def describe(self, tr=str) -> str:
        """Plain text: what is missing, what will be installed from where, sizes, free space.
        `tr` translates the sentences (the dialog passes QGIS's)."""
        lines = [tr("Missing: {}").format(", ".join(self.missing) or tr("nothing"))]
        for i in self.items:
            reason = tr("missing") if i.reason == "missing" else i.reason
            lines.append(
                "  "
                + tr("{} ({}; about {:.0f} MB download, {:.0f} MB on disk) from {}").format(
                    i.requirement, reason, i.size_mb, i.disk_mb, self.source(i, tr)
                )
            )
        lines += [
            tr("Total about {:.0f} MB to download, {:.0f} MB on disk; {:.0f} MB free there").format(
                self.size_mb, self.disk_mb, free_mb(self.target)
            ),
            tr("Into {} (used only by this plugin; QGIS's own packages are not changed)").format(self.target),
            tr("With {} -m pip").format(self.python),
        ]
        return "\n".join(lines)

    def check_space(self) -> None:
        """Raise InstallError when the disk of the target lacks room for the install
        (the packages, the downloaded wheels and a staging copy are there at once)."""
        need, free = needed_mb(self), free_mb(self.target)
        if free < need:
            raise InstallError(
                f"Not enough free disk space: the install needs about {need:.0f} MB in "
                f"{self.target.parent}, {free:.0f} MB are free. Free some space and retry."
            )


def needed_mb(plan: Plan) -> float:
    """Disk space an install of `plan` needs at its peak, with a 10% margin."""
    return 1.1 * (plan.disk_mb + plan.size_mb)


def free_mb(target: Path) -> float:
    """Free space in MB on the disk that holds `target` (or its nearest existing parent)."""
    folder = Path(target)
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return shutil.disk_usage(folder).free / 2**20


def deps_folder(settings_dir: str | Path) -> Path:
    """The plugin's dependency folder inside a QGIS profile (`settings_dir` is the profile's
    folder, QgsApplication.qgisSettingsDirPath())."""
    return Path(settings_dir) / "python" / FOLDER_NAME


def activate(folder: Path) -> bool:
    """Put `folder` on sys.path just before the first site-/dist-packages entry, so that the
    versions the installer chose (sympy 1.14 for torch, not Debian's 1.11) are the ones the
    plugin imports, while QGIS's own modules (qgis, PyQt, the standard library) come first.
    The installer never puts numpy there (pip --no-deps), so numpy stays QGIS's; a folder that
    holds one anyway is appended instead. Returns True if it was added now."""
    path = str(folder)
    if not folder.is_dir() or path in sys.path:
        return False
    if (folder / "numpy").exists():
        sys.path.append(path)
    else:
        where = next(
            (i for i, p in enumerate(sys.path) if p.endswith(("site-packages", "dist-packages"))), len(sys.path)
        )
        sys.path.insert(where, path)
    importlib.invalidate_caches()
    return True


def importable(module: str) -> bool:
    """True when `module` can be imported, without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


IDENTITY = "import sys, sysconfig; print(sys.version_info[:2], sys.prefix, sysconfig.get_paths()['stdlib'])"


def _identity() -> str:
    import sysconfig

    return f"{tuple(sys.version_info[:2])} {sys.prefix} {sysconfig.get_paths()['stdlib']}"


def find_python() -> str:
    """The Python interpreter of the running QGIS, for `python -m pip` and the check.

    Inside QGIS sys.executable is the QGIS program itself (qgis-bin.exe, QGIS.app/.../QGIS),
    or, on Linux, whatever `python3` came first on PATH (pyenv, conda, an activated venv). A
    candidate is taken only when it has the running Python's version, prefix and standard
    library; the installation's own bin folder is tried first, PATH last."""
    import sysconfig

    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    exe = Path(sys.executable)
    candidates = [Path(p) for p in (getattr(sys, "_base_executable", ""), sysconfig.get_config_var("BINDIR")) if p]
    candidates = [c / f"python{version}" if c.is_dir() else c for c in candidates]
    for prefix in (Path(sys.exec_prefix), Path(sys.base_exec_prefix)):
        candidates += [
            prefix / "python.exe",
            prefix / "python3.exe",
            prefix / "bin" / f"python{version}",
            prefix / "bin" / "python3",
        ]
    candidates += [exe] if exe.name.lower().startswith("python") else []
    candidates += [exe.parent / "bin" / "python3", exe.parent / "python3"]  # QGIS.app/Contents/MacOS
    candidates += [Path(p) for p in (shutil.which(f"python{version}"), shutil.which("python3")) if p]
    wanted, seen = _identity(), set()
    for candidate in candidates:
        if candidate in seen or not candidate.is_file():
            continue
        seen.add(candidate)
        if _python_identity(candidate) == wanted:
            return str(candidate)
    raise InstallError(
        f"Cannot find the Python {version} interpreter that runs QGIS (looked in {sys.exec_prefix} and beside {exe})."
    )


def _python_identity(python: Path) -> str | None:
    try:
        done = subprocess.run(
            [str(python), "-I", "-c", IDENTITY], capture_output=True, text=True, timeout=60, **NO_WINDOW
        )
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


def plan_install(
    target: Path,
    *,
    torch: bool = False,
    find_links: Path | None = None,
    python: str | None = None,
    numpy_version: str | None = None,
    is_importable=None,
    proxy: str | None = None,
    groups: list[str] | None = None,
    version_of=installed_version,
) -> Plan:
    """What to install so that the chosen `groups` work: "detect" (onnxruntime), "train"
    (torch and the versions of its dependencies it needs), "export" (onnx), "dask". `torch`
    adds "train" (the older form). A package the running Python has in a recent enough
    version is left out; `is_importable(module)` replaces the version check in tests."""
    if numpy_version is None:
        import numpy

        numpy_version = numpy.__version__
    groups = list(groups or ["detect"]) + (["train"] if torch and "train" not in (groups or []) else [])
    if is_importable is not None:
        version_of = lambda p: "9999" if is_importable(p.module) else None  # noqa: E731
    plan = Plan(python=python or find_python(), target=target, find_links=find_links, proxy=proxy, groups=groups)
    chosen: set[str] = set()
    for group in GROUPS:
        for package in GROUPS[group] if group in groups else []:
            version = version_of(package)
            if package.name in chosen or satisfied(package, version):
                continue
            chosen.add(package.name)
            requirement = (
                onnxruntime_requirement(numpy_version)
                if package.name == "onnxruntime"
                else package.name + (package.pin or (f">={package.minimum}" if package.minimum else ""))
            )
            reason = (
                "missing"
                if version is None
                else (f"QGIS's Python has {version or 'an unknown version'}, {package.minimum} or later is needed")
            )  # noqa
            if package is GROUPS[group][0]:
                plan.missing.append(package.name)
            plan.items.append(
                Item(
                    package.name,
                    requirement,
                    package.module,
                    package.download_mb,
                    INDEX.get(package.name if sys.platform != "darwin" else ""),
                    package.disk_mb,
                    reason,
                )
            )
    return plan


def pip_commands(plan: Plan, staging: Path) -> list[list[str]]:
    """The pip command lines of `plan`, one per package index, installing into `staging`."""
    base = [
        plan.python,
        "-m",
        "pip",
        "install",
        "--target",
        str(staging),
        "--no-deps",
        "--disable-pip-version-check",
        "--no-input",
        "--progress-bar",
        "off",
        "--no-warn-script-location",
    ]
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
        return (
            "pip could not download the packages (no network, a proxy, or no build for this "
            "Python). If QGIS uses a proxy, set it in Settings > Options > Network, then retry. "
            "Offline: on a machine with internet access run\n"
            f"  python -m pip download --no-deps -d wheels {reqs}\n"
            f"with the same Python version ({sys.version_info[0]}.{sys.version_info[1]}) and "
            "platform as QGIS, copy the folder here and choose it as the wheel folder "
            "(pip --find-links).\n" + tail
        )
    return "pip failed:\n" + tail
