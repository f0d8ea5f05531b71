"""Runners: one interface over a torch model or an ONNX Runtime session.

`runner.predict(batch)` takes a (B, bands, H, W) array of 8-bit-range pixel values (uint8
or float; H and W divisible by 32) and returns per image a float32 (k, 6) array
x1, y1, x2, y2, score, class in input pixels. Normalisation to the model's input follows
the model's spec, so callers never need to know it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .spec import ModelSpec


class TorchRunner:
    """A YOLOv12 torch model on CPU or CUDA (fp16/bf16 and channels_last on CUDA)."""

    def __init__(self, model, device: str = "cpu", dtype: str = "auto", channels_last: bool | None = None,
                 compile: bool = False):
        import torch

        self.torch = torch
        self.device = torch.device(resolve_device(device))
        cuda = self.device.type == "cuda"
        self.dtype = {"auto": torch.float16 if cuda else torch.float32, "fp32": torch.float32,
                      "fp16": torch.float16, "bf16": torch.bfloat16}[dtype]
        if not cuda and self.dtype == torch.float16:
            raise ValueError("fp16 inference needs CUDA; use fp32 or bf16 on the CPU")
        self.channels_last = cuda if channels_last is None else channels_last
        self.model = model.eval().to(self.device, self.dtype)
        if self.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.spec: ModelSpec = model.spec
        self._forward = torch.compile(self.model.forward_decoded) if compile else self.model.forward_decoded
        spec = self.spec
        self._scale = torch.tensor(spec.std, device=self.device).view(1, -1, 1, 1) * spec.input_scale
        self._shift = torch.tensor(spec.mean, device=self.device).view(1, -1, 1, 1) * spec.input_scale

    @classmethod
    def from_file(cls, path: str | Path, **kwargs) -> "TorchRunner":
        from .io import load_model

        return cls(load_model(path), **kwargs)

    def predict(self, batch: np.ndarray, conf: float = 0.25, iou: float = 0.7, max_det: int = 3000,
                classes: list[int] | None = None) -> list[np.ndarray]:
        from .nms import postprocess

        torch = self.torch
        check_batch(batch, self.spec)
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(batch)).to(self.device, non_blocking=True)
            x = ((x.float() - self._shift) / self._scale).to(self.dtype)
            if self.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            pred = self._forward(x).float()
            dets = postprocess(pred, conf=conf, iou=iou, max_det=max_det, classes=classes)
        return [d.cpu().numpy().astype(np.float32) for d in dets]


class OnnxRunner:
    """An exported model (decode inside the graph) on ONNX Runtime; NMS in numpy. No torch."""

    def __init__(self, path: str | Path, device: str = "cpu", threads: int | None = None):
        from ..deps import require
        from .onnx_io import open_session, spec_from_session

        ort = require("onnxruntime")
        self.path = Path(path)
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        providers = ["CPUExecutionProvider"]
        if resolve_device(device, onnx=True) == "cuda":
            providers.insert(0, "CUDAExecutionProvider")
        self.session = open_session(self.path, options, providers)
        self.spec = spec_from_session(self.session, self.path)
        self.input_name = self.session.get_inputs()[0].name
        spec = self.spec
        self._scale = (np.asarray(spec.std, np.float32) * spec.input_scale).reshape(1, -1, 1, 1)
        self._shift = (np.asarray(spec.mean, np.float32) * spec.input_scale).reshape(1, -1, 1, 1)

    def predict(self, batch: np.ndarray, conf: float = 0.25, iou: float = 0.7, max_det: int = 3000,
                classes: list[int] | None = None) -> list[np.ndarray]:
        from ..boxes import postprocess

        check_batch(batch, self.spec)
        x = ((batch.astype(np.float32) - self._shift) / self._scale).astype(np.float32)
        pred = self.session.run(None, {self.input_name: x})[0]
        return postprocess(pred, conf=conf, iou=iou, max_det=max_det, classes=classes)


def check_batch(batch: np.ndarray, spec: ModelSpec) -> None:
    if batch.ndim != 4 or batch.shape[1] != spec.bands:
        raise ValueError(f"expected a (B, {spec.bands}, H, W) batch for this {spec.bands}-band "
                         f"model, got shape {batch.shape}")
    if batch.shape[2] % 32 or batch.shape[3] % 32:
        raise ValueError(f"tile height and width must be divisible by 32, got {batch.shape[2:]}")


def resolve_device(device: str, onnx: bool = False) -> str:
    """'auto' -> 'cuda' when a GPU is usable, else 'cpu'; 'cuda' without a GPU is an error."""
    if onnx:
        import onnxruntime as ort

        has_cuda = "CUDAExecutionProvider" in ort.get_available_providers()
    else:
        import torch

        has_cuda = torch.cuda.is_available()
    if device == "auto":
        return "cuda" if has_cuda else "cpu"
    if device.startswith("cuda") and not has_cuda:
        raise RuntimeError(f"device {device!r} was asked for but no CUDA GPU is usable here")
    return device


def open_runner(path: str | Path, backend: str = "auto", device: str = "auto", **kwargs):
    """A runner for a model file (.pt) or an exported model (.onnx)."""
    path = Path(path)
    if backend == "auto":
        backend = "onnx" if path.suffix.lower() == ".onnx" else "torch"
    if backend == "onnx":
        if path.suffix.lower() != ".onnx":
            raise ValueError(f"the onnx backend needs an exported .onnx model, got {path.name}: "
                             "export it first (micro-detector export)")
        return OnnxRunner(path, device=device, **kwargs)
    if path.suffix.lower() == ".onnx":
        raise ValueError(f"{path.name} is an ONNX model: use the onnx backend")
    from ..deps import require

    require("torch")
    return TorchRunner.from_file(path, device=device, **kwargs)
