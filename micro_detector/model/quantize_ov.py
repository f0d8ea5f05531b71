"""int8 by NNCF post-training quantization of an export, for the OpenVINO runner.

What differs from the ONNX Runtime int8 attempt that lost 0.34 mAP50 (commit 82741eb; see
NOTE in benchmarks/precision_ladder.py): that one quantized every node ORT knows, with one
min/max uint8 scale per activation tensor, including the decode at the end of the graph,
where box coordinates in input pixels (0-640) and class probabilities (0-1) meet, and the
softmax outputs of attention and DFL. Here:
- weights int8 per output channel, activations int8 per tensor (NNCF's MIXED preset),
  calibrated on real tiles read by the engine's own read stage (`calibration_tiles`);
- kept in floating point (NNCF ignored scope): the head from its last convolutions (box
  and class logits) through the DFL softmax, the anchor decode, the sigmoid and the output,
  and every attention block's softmax and the matmuls around it.
The quantized model is an OpenVINO IR (.xml + .bin) in the cache beside the compiled blobs,
keyed by the export's SHA-256 and QUANT_VERSION (bumped when the recipe changes).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import uuid
from pathlib import Path

import numpy as np

QUANT_VERSION = 1
HEAD_LOGITS = re.compile(r"^/detect/cv[23]\.\d+/cv[23]\.\d+\.2/")  # the last conv of each branch
ATTENTION = r".*/attn/(MatMul|Softmax).*"


def int8_model_path(cache_dir: Path, onnx_sha: str) -> Path:
    """Where the int8 IR of the export with content `onnx_sha` lives."""
    return cache_dir / "openvino" / f"{onnx_sha}-int8-q{QUANT_VERSION}.xml"


def demo_rasters() -> list[Path]:
    """The bundled demo rasters (real aerial tiles) used for calibration by default."""
    from ..resources import data_root

    root = data_root()
    return sorted((root / "demo").glob("*.tif")) if root is not None else []


def calibration_tiles(spec, rasters: list[str | Path] | None = None, count: int = 64) -> np.ndarray:
    """Up to `count` (bands, imgsz, imgsz) float32 tiles read from `rasters` (default: the
    demo rasters) exactly as detection reads them (plan at the model's GSD, read stage), each
    also flipped and turned so that a small raster still gives varied tiles."""
    from ..options import DetectOptions
    from ..plan import plan_tiles
    from ..predict import _pad
    from ..source import open_source
    from ..stream import read_tile

    tiles = []
    for raster in rasters or demo_rasters():
        source = open_source(str(raster))
        try:
            plan = plan_tiles(source.info, spec, DetectOptions())
            source.select_bands(plan.bands)
            for window in plan.windows:
                image, valid = read_tile(source, window, plan.scale)
                if valid.any():
                    tile = np.zeros((spec.bands, spec.imgsz, spec.imgsz), np.float32)
                    padded = _pad(image)[:, : spec.imgsz, : spec.imgsz]
                    tile[:, : padded.shape[1], : padded.shape[2]] = padded
                    tiles += [tile, tile[:, :, ::-1], np.rot90(tile, 1, (1, 2))]
        finally:
            source.close()
    if not tiles:
        raise ValueError("no calibration tiles: give rasters with valid pixels")
    return np.ascontiguousarray(np.stack(tiles[:count]))


def ignored_names(model) -> list[str]:
    """Friendly names of the ops from the head's last convolutions to the output."""
    seeds = [op for op in model.get_ordered_ops() if HEAD_LOGITS.match(op.get_friendly_name())]
    seen, todo = set(), list(seeds)
    while todo:
        op = todo.pop()
        if op.get_friendly_name() in seen:
            continue
        seen.add(op.get_friendly_name())
        for out in op.outputs():
            todo += [target.get_node() for target in out.get_target_inputs()]
    return sorted(seen)


@contextlib.contextmanager
def _nncf_output_to_stderr():
    """NNCF logs every ignored node at INFO to stdout and draws its progress bar there: the
    CLI's stdout is the JSON report, which scripts parse. During quantization its log goes
    to stderr at WARNING and its progress bar to stderr; both are restored afterwards."""
    logger = logging.getLogger("nncf")
    level = logger.level
    moved = {h: h.stream for h in logger.handlers if isinstance(h, logging.StreamHandler) and _is_stdout(h.stream)}
    for handler in moved:
        handler.setStream(sys.stderr)
    logger.setLevel(logging.WARNING)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        logger.setLevel(level)
        for handler, stream in moved.items():
            handler.setStream(stream)


def _is_stdout(stream) -> bool:
    if stream is sys.stdout or stream is sys.__stdout__:
        return True
    try:
        return stream.fileno() == 1
    except (AttributeError, OSError, ValueError):
        return False


def quantize_int8(onnx_path: str | Path, out_xml: Path, tiles: np.ndarray) -> Path:
    """Write the int8 IR of the export `onnx_path` to `out_xml` (+ .bin), calibrated on
    `tiles` (N, bands, H, W float32 pixels); written under temporary names, then renamed."""
    import nncf
    import openvino as ov

    model = ov.Core().read_model(str(onnx_path))
    scope = nncf.IgnoredScope(names=ignored_names(model), patterns=[ATTENTION], validate=False)
    dataset = nncf.Dataset(list(tiles), lambda tile: tile[None])
    with _nncf_output_to_stderr():
        quantized = nncf.quantize(
            model, dataset, preset=nncf.QuantizationPreset.MIXED, subset_size=len(tiles), ignored_scope=scope
        )
    out_xml.parent.mkdir(parents=True, exist_ok=True)
    tag = f".{os.getpid()}.{uuid.uuid4().hex[:8]}"
    tmp_xml = out_xml.with_name(out_xml.stem + tag + ".xml")
    try:
        ov.save_model(quantized, str(tmp_xml), compress_to_fp16=False)
        tmp_xml.with_suffix(".bin").replace(out_xml.with_suffix(".bin"))
        tmp_xml.replace(out_xml)
    finally:
        tmp_xml.unlink(missing_ok=True)
        tmp_xml.with_suffix(".bin").unlink(missing_ok=True)
    return out_xml


def cached_int8(
    onnx_path: Path, onnx_sha: str, cache_dir: Path, calibration: list[str | Path] | None = None
) -> tuple[Path, bool]:
    """(the int8 IR of the export, True when it was already cached); quantizes it once."""
    from .onnx_meta import onnx_metadata, spec_from_metadata

    target = int8_model_path(cache_dir, onnx_sha)
    if target.is_file() and target.with_suffix(".bin").is_file():
        return target, True
    spec = spec_from_metadata(onnx_metadata(onnx_path), onnx_path)
    return quantize_int8(onnx_path, target, calibration_tiles(spec, calibration)), False
