"""What a model file says about itself, whatever its format, read without building the network."""

from __future__ import annotations

from pathlib import Path

from .spec import ModelSpec


def is_onnx(path: str | Path) -> bool:
    """An ONNX model (by its suffix); anything else is read as our .pt model file."""
    return Path(path).suffix.lower() == ".onnx"


def read_spec(path: str | Path) -> ModelSpec:
    """The model's spec (classes, bands, input size, GSD): from an ONNX export's metadata
    (onnxruntime only) or a .pt model file (torch only). Raises ModelFileError."""
    if is_onnx(path):
        from .onnx_io import read_onnx_spec

        return read_onnx_spec(path)
    from .io import read_model_file

    return read_model_file(path)["spec"]
