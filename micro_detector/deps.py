"""Runtime dependency checks with install instructions a QGIS user can follow.

torch and onnxruntime are not part of any QGIS install. They are imported only when an
algorithm runs; when they are missing the user gets this text, not a traceback.
"""

from __future__ import annotations

import importlib

PIP_SPECS = {
    "torch": "torch==2.13.0",
    "onnxruntime": "onnxruntime<=1.32.0",
    "numpy": "numpy<2",
    "openvino": "openvino<=2026.4.1",
    "nncf": "nncf<=3.4.0",
}
# The CPU build of torch: the default Linux wheel on PyPI pulls about 2.7 GB of CUDA libraries.
TORCH_CPU_INDEX = "--extra-index-url https://download.pytorch.org/whl/cpu"


class MissingDependencyError(ImportError):
    """A Python package needed for this operation is not installed."""


def install_instructions(packages: list[str]) -> str:
    """Plain-text instructions to install `packages` into the Python that runs QGIS."""
    specs = " ".join(f'"{PIP_SPECS.get(p, p)}"' for p in packages) + ' "numpy<2"'
    if "torch" in packages:
        specs += " " + TORCH_CPU_INDEX
    names = ", ".join(packages)
    return (
        f"Micro Object Detection needs the Python package(s) {names}, which the Python "
        f"running QGIS cannot import. In QGIS: Plugins > Micro Object Detection > Install "
        f"dependencies installs them into the QGIS profile (detection needs only onnxruntime). "
        f"Or install them into that Python yourself, then restart QGIS:\n"
        f"  Debian/Ubuntu (QGIS from apt): python3 -m pip install --user "
        f"--break-system-packages {specs}\n"
        f"  Windows (OSGeo4W or the QGIS installer): open the OSGeo4W Shell and run: "
        f"python -m pip install {specs}\n"
        f"  macOS (QGIS.app): /Applications/QGIS.app/Contents/MacOS/bin/python3 -m pip "
        f"install {specs}\n"
        f"Keep numpy below 2: QGIS's GDAL bindings are built against numpy 1."
    )


def require(*packages: str):
    """Import and return the first of `packages`, or raise MissingDependencyError naming all."""
    missing = []
    modules = []
    for name in packages:
        try:
            modules.append(importlib.import_module(name))
        except ImportError:
            missing.append(name)
    if missing:
        raise MissingDependencyError(install_instructions(missing))
    return modules[0] if len(modules) == 1 else modules
