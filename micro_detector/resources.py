"""The one place that knows where the bundled files are: default model, styles, icons, demo.

The files live in the repository's `resources/` folder, which is also the QGIS plugin's
`resources/` (the plugin zip keeps the repository layout). A wheel has no such sibling
folder, so the build maps `resources/` into the package as `micro_detector/data/`
(pyproject.toml, `[tool.setuptools.package-dir]`). Both layouts are looked up here, the
installed one first; nothing else in the code computes these paths.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

_HERE = Path(__file__).resolve().parent
# Installed wheel: micro_detector/data. Source checkout, editable install, QGIS plugin: ../resources.
_CANDIDATES = (_HERE / "data", _HERE.parent / "resources")
DEMO_NAME = "kit_MunichStreet02-MOS93.tif"


def data_root() -> Path | None:
    """The folder holding models/, styles/, icons/ and demo/, or None when none is installed."""
    for folder in _CANDIDATES:
        if (folder / "styles").is_dir():
            return folder
    return None


def _file(*parts: str) -> Path | None:
    root = data_root()
    path = root.joinpath(*parts) if root is not None else None
    return path if path is not None and path.is_file() else None


def default_model(fmt: str = "pt") -> Path | None:
    """The shipped default model file of format `fmt` ("pt" or "onnx"), or None if absent."""
    if fmt not in ("pt", "onnx"):
        raise ValueError(f"the default model comes as 'pt' or 'onnx', not {fmt!r}")
    return _file("models", f"default.{fmt}")


def _importable(name: str) -> bool:
    # find_spec only locates the package: importing torch to decide would cost seconds
    return importlib.util.find_spec(name) is not None


def default_model_for(backend: str = "auto") -> Path | None:
    """The default model file a run with `backend` ("auto", "torch", "onnx") should open.

    auto: the shipped ONNX export when onnxruntime is installed (the light route: the same
    model, the same boxes, no torch needed), else the .pt when torch is installed, else
    whichever file exists (opening it then names the missing package).
    """
    if backend == "torch":
        return default_model("pt")
    if backend in ("onnx", "openvino"):
        return default_model("onnx")
    pt, onnx = default_model("pt"), default_model("onnx")
    if onnx is not None and (_importable("onnxruntime") or _importable("openvino")):
        return onnx
    if pt is not None and _importable("torch"):
        return pt
    return onnx or pt


def style(class_name: str) -> Path | None:
    """The QML style of detections of `class_name`, or None when the class has none."""
    return _file("styles", f"{class_name}.qml")


def styles_dir() -> Path | None:
    """The folder of per-class QML styles."""
    root = data_root()
    return root / "styles" if root is not None else None


def icon(name: str = "icon.svg") -> Path | None:
    """A plugin icon file (icon.svg or icon.png)."""
    return _file("icons", name)


def demo_raster() -> Path | None:
    """The bundled demo raster (a KIT AIS frame, CC BY 3.0; see resources/demo/README.md)."""
    return _file("demo", DEMO_NAME)
