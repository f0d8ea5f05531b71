"""An ONNX file's metadata (`metadata_props`) read without onnx or onnxruntime.

Why: OpenVINO reads ONNX graphs but drops their metadata, and an OpenVINO-only install has
neither `onnx` nor `onnxruntime`. The model spec travels in the metadata, so this module walks
the top level of the ModelProto protobuf (skipping the graph by its length) and decodes its
`metadata_props` (field 14: key 1, value 2).
"""

from __future__ import annotations

import json
import mmap
from pathlib import Path

from .spec import ModelFileError, ModelSpec

_METADATA_FIELD = 14


def _varint(buf, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _fields(buf, start: int, end: int):
    """(field number, wire type, value) of a protobuf message in buf[start:end]; the value of
    a length-delimited field is its (start, end) span."""
    pos = start
    while pos < end:
        tag, pos = _varint(buf, pos)
        number, wire = tag >> 3, tag & 7
        value: object
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = None, pos + 8
        elif wire == 5:
            value, pos = None, pos + 4
        elif wire == 2:
            size, pos = _varint(buf, pos)
            value, pos = (pos, pos + size), pos + size
        else:
            raise ValueError(f"unsupported wire type {wire}")
        if pos > end:
            raise ValueError("truncated field")
        yield number, wire, value


def onnx_metadata(path: str | Path) -> dict[str, str]:
    """The `metadata_props` of the ONNX file at `path` as a dict; ModelFileError when the file
    is missing or not a readable ONNX protobuf."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"ONNX model not found: {path}")
    out: dict[str, str] = {}
    try:
        with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            for number, wire, span in _fields(buf, 0, len(buf)):
                if number != _METADATA_FIELD or wire != 2:
                    continue
                entry = {n: bytes(buf[v[0] : v[1]]).decode("utf-8") for n, w, v in _fields(buf, *span) if w == 2}
                out[entry.get(1, "")] = entry.get(2, "")
    except (ValueError, OSError, UnicodeDecodeError) as error:
        raise ModelFileError(f"{path} is not a readable ONNX model (corrupt or truncated?): {error}") from None
    return out


def spec_from_metadata(meta: dict[str, str], path: str | Path) -> ModelSpec:
    """The ModelSpec in an exported model's metadata (as onnx_io.spec_from_session)."""
    from .onnx_io import SPEC_KEY

    if SPEC_KEY not in meta:
        raise ModelFileError(f"{path} is an ONNX model but was not exported by micro-detector (no {SPEC_KEY} metadata)")
    try:
        return ModelSpec.from_dict(json.loads(meta[SPEC_KEY]))
    except (TypeError, ValueError, AttributeError) as error:
        raise ModelFileError(
            f"{path} has invalid {SPEC_KEY} metadata (not a model description micro-detector can read): {error}"
        ) from None
