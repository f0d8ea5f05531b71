"""int8 static quantization of an ONNX export through ONNX Runtime (experimental).

Weights int8 per channel, activations uint8, scales calibrated (min/max) on chips read from
a raster, QDQ format. `precision="int8"` in open_runner reaches it; it is cached like the
fp32 export. `calibration_chips` is public so an evaluation can quantize with chips of the
training data and measure the accuracy it costs (see benchmarks/bench_int8.py).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from pathlib import Path

import numpy as np

DEMO_RASTER = Path(__file__).resolve().parents[2] / "resources" / "demo" / "kit_MunichStreet02-MOS93.tif"


def calibration_chips(raster: str | Path | None, size: int, bands: int = 3, count: int = 16,
                      seed: int = 0) -> np.ndarray:
    """`count` (bands, size, size) float32 pixel chips (0-255) at random windows of `raster`
    (default: the demo raster), as the engine reads them (first bands / RGB, 8-bit stretch)."""
    from ..raster import WindowReader, choose_bands, compute_stretch, open_dataset, read_info

    raster = Path(raster) if raster is not None else DEMO_RASTER
    ds = open_dataset(raster)
    info = read_info(raster, ds)
    chosen = choose_bands(info, bands)
    stretch = compute_stretch(ds, info, chosen) if info.dtype != "byte" else None
    reader = WindowReader(info, chosen, stretch)
    rng = np.random.default_rng(seed)
    chips = []
    for _ in range(count):
        w, h = min(size, info.width), min(size, info.height)
        x0 = int(rng.integers(0, info.width - w + 1))
        y0 = int(rng.integers(0, info.height - h + 1))
        image, _ = reader.read(x0, y0, w, h, w, h)
        chip = np.zeros((bands, size, size), np.float32)
        chip[:, :h, :w] = image
        chips.append(chip)
    return np.stack(chips)


@contextlib.contextmanager
def _scratch_cwd():
    """Work from a temporary folder, removed afterwards (process-wide: quantization runs once
    per model, before any reader thread starts)."""
    previous = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="micro-detector-quant-") as scratch:
        os.chdir(scratch)
        try:
            yield
        finally:
            os.chdir(previous)


def quantize_export(fp32_path: str | Path, out_path: str | Path, calibration=None,
                    chips: np.ndarray | None = None) -> Path:
    """Write the int8 QDQ quantization of the fp32 export `fp32_path` to `out_path`
    (atomically: unique temporary name, then renamed). Calibrated on `chips`, else on chips
    of the raster `calibration` (default: the demo raster)."""
    import onnx
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                          QuantType, quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from .onnx_io import read_onnx_spec

    out_path, fp32_path = Path(out_path), Path(fp32_path)
    spec = read_onnx_spec(fp32_path)
    if chips is None:
        chips = calibration_chips(calibration, spec.imgsz, spec.bands)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.items = iter([{"images": c[None]} for c in chips])

        def get_next(self):
            return next(self.items, None)

    tmp = out_path.with_name(f"{out_path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.part")
    pre = tmp.with_suffix(".pre")
    try:
        # ORT's symbolic shape inference, when it gives up inside these calls, saves its
        # partial model ("sym_shape_infer_temp.onnx" plus a large external-data file) into
        # the current directory: run them from a scratch folder, never the user's.
        with _scratch_cwd():
            # graph optimisation first (ORT's advice): measured 1.2x -> 1.5x faster int8
            quant_pre_process(str(fp32_path.resolve()), str(pre.resolve()), skip_symbolic_shape=True)
            quantize_static(str(pre.resolve()), str(tmp.resolve()), Reader(), quant_format=QuantFormat.QDQ,
                            per_channel=True, activation_type=QuantType.QUInt8,
                            weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax)
        proto = onnx.load(str(tmp))
        source = {p.key: p.value for p in onnx.load(str(fp32_path)).metadata_props}
        del proto.metadata_props[:]
        for key, value in {**source, "micro_detector_precision": "int8"}.items():
            prop = proto.metadata_props.add()
            prop.key, prop.value = key, value
        onnx.save(proto, str(tmp))
        tmp.replace(out_path)
    finally:
        tmp.unlink(missing_ok=True)
        pre.unlink(missing_ok=True)
    return out_path
