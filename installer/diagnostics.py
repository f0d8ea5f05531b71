"""A plain-text diagnostics report for a support request: QGIS, Python and the interpreter
the installer uses, the plugin's folder and its place on sys.path, each package's version
and where it is imported from, and the last error. No QGIS imports beyond its version."""

from __future__ import annotations

import platform
import sys
from pathlib import Path

from .core import InstallError, find_python, free_mb
from .groups import GROUPS, Package, installed_version


def _qgis_version() -> str:
    try:
        from qgis.core import Qgis

        return Qgis.QGIS_VERSION
    except ImportError:
        return "not running in QGIS"


def diagnostics_report(target: Path, last_error: str = "") -> str:
    """The report, one fact per line, ready to paste into an issue."""
    import importlib.util

    try:
        python = find_python()
    except InstallError as error:
        python = f"not found ({error})"
    folder = str(target)
    position = sys.path.index(folder) if folder in sys.path else None
    lines = [
        "Micro Object Detection: diagnostics",
        f"QGIS {_qgis_version()}, Python {platform.python_version()}, {platform.platform()}",
        f"sys.executable {sys.executable}; interpreter for pip {python}",
        f"plugin folder {target} ({'exists' if target.exists() else 'absent'}, "
        f"{f'sys.path[{position}]' if position is not None else 'not on sys.path'}; "
        f"{free_mb(target):.0f} MB free)",
    ]
    seen = set()
    for group, packages in GROUPS.items():
        for package in packages:
            if package.name in seen:
                continue
            seen.add(package.name)
            version = installed_version(package)
            spec = importlib.util.find_spec(package.module.split(".")[0]) if version is not None else None
            origin = getattr(spec, "origin", None) or "?"
            lines.append(
                f"{group:7s}{package.name}: "
                + ("not installed" if version is None else f"{version or '?'} from {origin}")
            )
    numpy = importlib.util.find_spec("numpy")
    lines.append(f"numpy (QGIS's): {installed_version(Package('numpy', 'numpy'))} from {getattr(numpy, 'origin', '?')}")
    lines.append("last error: " + (last_error.strip() or "none"))
    return "\n".join(lines)
