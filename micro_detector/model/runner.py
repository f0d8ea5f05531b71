"""Runners: one interface over a torch model or an ONNX Runtime session.

`runner.predict(batch)` takes a (B, bands, H, W) array of 8-bit-range pixel values (uint8
or float; H and W divisible by 32) and returns per image a float32 (k, 6) array
x1, y1, x2, y2, score, class in input pixels. The network normalises its input itself.

`open_runner` picks the backend: on a CPU, OpenVINO when it is installed and measured faster
here (ov_open.py), else for a .pt with onnxruntime installed the cached ONNX export on ONNX
Runtime; `runner.backend` and `runner.backend_reason` say which ran and why. Precision
(fp32, bf16, fp16, int8; `auto` by precision.py) applies to OpenVINO; ONNX Runtime runs fp32.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .cpu import ort_session_options, set_torch_threads
from .spec import ModelSpec

BACKENDS = ("auto", "torch", "onnx", "openvino")


class TorchRunner:
    """A YOLOv12 torch model on CPU or CUDA (fp16/bf16 and channels_last on CUDA), with its
    BatchNorm folded into the convolutions (on a copy unless `copy=False`)."""

    backend = "torch"

    def __init__(
        self,
        model,
        device: str = "cpu",
        dtype: str = "auto",
        channels_last: bool | None = None,
        compile: bool = False,
        fuse: bool = True,
        threads: int | None = None,
        copy: bool = True,
    ):
        import torch

        from .fuse import fuse_model

        self.torch = torch
        self.device = torch.device(resolve_device(device))
        cuda = self.device.type == "cuda"
        self.dtype = {
            "auto": torch.float16 if cuda else torch.float32,
            "fp32": torch.float32,
            "fp16": torch.float16,
            "bf16": torch.bfloat16,
        }[dtype]
        if not cuda and self.dtype == torch.float16:
            raise ValueError("fp16 inference needs CUDA; use fp32 or bf16 on the CPU")
        self.threads = None if cuda else set_torch_threads(torch, threads)
        self.channels_last = cuda if channels_last is None else channels_last
        self.spec: ModelSpec = model.spec
        self.model_file: Path | None = getattr(model, "path", None)  # set by io.load_model
        self.backend_reason = "a torch model was given"
        if fuse:
            model = fuse_model(model, inplace=not copy)
        self.model = model.eval().to(self.device, self.dtype)
        if self.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self._forward = torch.compile(self.model.forward_decoded) if compile else self.model.forward_decoded

    @classmethod
    def from_file(cls, path: str | Path, **kwargs) -> TorchRunner:
        """A runner over the model file at `path` (keyword arguments as for the constructor);
        the runner carries the path, for reports and output labels."""
        from .io import load_model

        model = load_model(path)
        model.path = Path(path)  # type: ignore[assignment]  # an attribute of ours on the nn.Module
        return cls(model, copy=False, **kwargs)

    def predict(
        self,
        batch: np.ndarray,
        conf: float = 0.25,
        iou: float = 0.7,
        max_det: int = 3000,
        classes: list[int] | None = None,
    ) -> list[np.ndarray]:
        """Detections of a (B, bands, H, W) batch of 0-255 pixels: one (n, 6) float32 array
        [x1, y1, x2, y2, score, class] per image, in tile pixels, after NMS at `iou`."""
        from .nms import postprocess

        torch = self.torch
        check_batch(batch, self.spec)
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(batch)).to(self.device, non_blocking=True)
            x = x.to(self.dtype)  # 0-255 pixels: the model's first layer normalises them
            if self.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            pred = self._forward(x).float()
            dets = postprocess(pred, conf=conf, iou=iou, max_det=max_det, classes=classes)
        return [d.cpu().numpy().astype(np.float32) for d in dets]


def legacy_normalisation(spec, metadata: dict) -> tuple[np.ndarray, np.ndarray] | None:
    """(shift, scale) for an ONNX export made before the graph normalised its own input
    (its metadata lacks INPUT_KEY = "pixels"); None for a graph that takes 0-255 pixels."""
    from .onnx_io import INPUT_KEY

    if metadata.get(INPUT_KEY) == "pixels":
        return None
    scale = (np.asarray(spec.std, np.float32) * spec.input_scale).reshape(1, -1, 1, 1)
    shift = (np.asarray(spec.mean, np.float32) * spec.input_scale).reshape(1, -1, 1, 1)
    return shift, scale


def export_input(batch: np.ndarray, spec, legacy: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
    """The float32 input of an ONNX export (ONNX Runtime or OpenVINO) for a checked batch of
    pixels, normalised here when the export predates in-graph normalisation."""
    check_batch(batch, spec)
    x = np.ascontiguousarray(batch, dtype=np.float32)
    if legacy is not None:
        x = ((x - legacy[0]) / legacy[1]).astype(np.float32)
    return x


class OnnxRunner:
    """An exported model (decode inside the graph) on ONNX Runtime; NMS in numpy. No torch.
    Threads: `threads` intra-op (default: physical cores), none spinning while idle."""

    backend = "onnx"

    def __init__(self, path: str | Path, device: str = "cpu", threads: int | None = None):
        from ..deps import require
        from .onnx_io import open_session, spec_from_session

        ort = require("onnxruntime")
        self.path = Path(path)  # the file this session runs
        self.model_file: Path | None = self.path  # the file the user named (the .pt of an export)
        self.backend_reason = "the model is an ONNX file"
        options = ort_session_options(ort, threads)
        self.threads = options.intra_op_num_threads
        providers = ["CPUExecutionProvider"]
        self.device = resolve_device(device, onnx=True)
        if self.device == "cuda":
            providers.insert(0, "CUDAExecutionProvider")
        self.session = open_session(self.path, options, providers)
        self.spec = spec_from_session(self.session, self.path)
        self.input_name = self.session.get_inputs()[0].name
        self._legacy = legacy_normalisation(self.spec, self.session.get_modelmeta().custom_metadata_map)

    def predict(
        self,
        batch: np.ndarray,
        conf: float = 0.25,
        iou: float = 0.7,
        max_det: int = 3000,
        classes: list[int] | None = None,
    ) -> list[np.ndarray]:
        """As TorchRunner.predict: one (n, 6) [x1, y1, x2, y2, score, class] array per image."""
        from ..boxes import postprocess

        x = export_input(batch, self.spec, self._legacy)
        pred = self.session.run(None, {self.input_name: x})[0]
        return postprocess(pred, conf=conf, iou=iou, max_det=max_det, classes=classes)


def check_batch(batch: np.ndarray, spec: ModelSpec) -> None:
    """Raise ValueError unless `batch` is (B, spec.bands, H, W) with H and W multiples of 32."""
    if batch.ndim != 4 or batch.shape[1] != spec.bands:
        raise ValueError(
            f"expected a (B, {spec.bands}, H, W) batch for this {spec.bands}-band model, got shape {batch.shape}"
        )
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


def open_runner(
    path: str | Path,
    backend: str = "auto",
    device: str = "auto",
    *,
    cache_dir: str | Path | None = None,
    threads: int | None = None,
    precision: str = "auto",
    **kwargs,
):
    """A runner for a model file (.pt) or an exported model (.onnx).

    backend "auto": an .onnx runs on ONNX Runtime; a .pt runs on torch on a CUDA GPU, else on
    ONNX Runtime through the export beside it (when made from this very file) or its cached
    export (see cache.py) when onnxruntime is installed, else on torch; without torch, an export beside the model or in the cache is used. "torch" and
    "onnx" force the choice; "openvino" (and the devices intel:gpu / intel:npu) runs the export
    on OpenVINO at `precision` (see precision.py). On a CPU, auto takes OpenVINO when it is
    installed and measured faster (ov_open.auto_openvino). `cache_dir`: where exports are kept
    (default: see cache.default_cache_dir). The runner's `backend` and `backend_reason` say
    which ran and why."""
    path = Path(path)
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}: choose one of {', '.join(BACKENDS)}")
    chosen, note = _openvino_first(path, backend, device, threads, cache_dir, precision)
    if chosen is not None:
        return chosen
    if path.suffix.lower() == ".onnx" and backend == "auto" and note:
        runner = OnnxRunner(path, device=device, threads=threads, **kwargs)
        runner.backend_reason += f"; {note}"
        return runner
    if path.suffix.lower() == ".onnx":
        if backend == "torch":
            raise ValueError(f"{path.name} is an ONNX model: use the onnx backend")
        return OnnxRunner(path, device=device, threads=threads, **kwargs)
    if backend == "torch":
        if precision in ("bf16", "fp16"):
            kwargs["dtype"] = precision
        return _torch_runner(path, device, threads, "asked for (--backend torch)", **kwargs)
    if backend == "onnx":
        return _cached_onnx_runner(path, device, threads, cache_dir, "asked for (--backend onnx)")
    runner = _auto_runner(path, device, threads, cache_dir, **kwargs)
    if note:
        runner.backend_reason += f"; {note}"
    return runner


def _openvino_first(path: Path, backend: str, device: str, threads, cache_dir, precision: str):
    """(an OpenVINO runner when OpenVINO is asked for or auto should take it, else None; a
    note for the log). Precisions other than fp32 are refused on the other backends."""
    from .ov_open import auto_openvino, open_openvino

    if backend == "openvino" or device.lower().startswith("intel:"):
        why = "asked for (--backend openvino)" if backend == "openvino" else f"device {device} runs on OpenVINO"
        return open_openvino(path, device, precision, threads, cache_dir, why), ""
    reduced = precision not in ("auto", "fp32")
    on_cpu = device == "cpu" or (device == "auto" and not _cuda_possible())
    if reduced and backend == "auto" and on_cpu and _importable("openvino"):
        return open_openvino(path, device, precision, threads, cache_dir, f"precision {precision} runs on OpenVINO"), ""
    if reduced and not (backend == "torch" and precision in ("bf16", "fp16")):
        raise ValueError(
            f"precision {precision} runs on the openvino backend (pip install openvino"
            f"{' nncf' if precision == 'int8' else ''}){' or on torch (--backend torch)' if precision != 'int8' else ''}; "
            f"{backend} runs fp32"
        )
    if backend != "auto" or (device not in ("cpu", "auto")) or (device == "auto" and _cuda_possible()):
        return None, ""
    if path.suffix.lower() != ".onnx" and not path.is_file():
        return None, ""  # the usual path names the missing file
    return auto_openvino(path, threads, cache_dir, precision)


def _importable(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a blocked or half-installed package
        return False


def _export_beside(path: Path, threads) -> OnnxRunner | None:
    """The .onnx next to the .pt (as shipped with the default model) when its metadata says it
    was made from this very file (same SHA-256); None otherwise."""
    from .cache import file_sha256
    from .onnx_io import SOURCE_KEY
    from .spec import ModelFileError

    sibling = path.with_suffix(".onnx")
    if not sibling.is_file():
        return None
    try:
        runner = OnnxRunner(sibling, device="cpu", threads=threads)
    except ModelFileError:
        return None
    if runner.session.get_modelmeta().custom_metadata_map.get(SOURCE_KEY) != file_sha256(path):
        return None
    runner.model_file = path
    runner.backend_reason = (
        f"onnxruntime is installed (the fastest CPU path); {sibling.name} beside the model is its export"
    )
    return runner


def _cuda_possible() -> bool:
    """Whether a CUDA GPU may be usable, known without importing torch (seconds and ~300 MB
    the ONNX Runtime path never needs): an NVIDIA driver is installed."""
    import os
    import sys

    if "torch" in sys.modules:
        return sys.modules["torch"].cuda.is_available()
    if sys.platform == "darwin":
        return False
    if sys.platform.startswith("win"):
        return Path(os.environ.get("SYSTEMROOT", r"C:\Windows"), "System32", "nvcuda.dll").exists()
    return Path("/proc/driver/nvidia/version").exists() or Path("/dev/nvidiactl").exists()


def _torch_runner(path: Path, device: str, threads, reason: str, **kwargs) -> TorchRunner:
    from ..deps import require

    require("torch")
    runner = TorchRunner.from_file(path, device=device, threads=threads, **kwargs)
    runner.backend_reason = reason
    return runner


def _cached_onnx_runner(path: Path, device: str, threads, cache_dir, why: str) -> OnnxRunner:
    from ..deps import require
    from .cache import cached_export
    from .spec import ModelFileError

    require("onnxruntime")
    onnx_path, reused = cached_export(path, cache_dir)
    try:
        runner = OnnxRunner(onnx_path, device=device, threads=threads)
    except ModelFileError:
        if not reused:
            raise
        onnx_path.unlink(missing_ok=True)  # a damaged cache entry (disk full, edited): make it again
        onnx_path, reused = cached_export(path, cache_dir)
        runner = OnnxRunner(onnx_path, device=device, threads=threads)
    runner.model_file = path
    runner.backend_reason = (
        f"{why}; fp32 ONNX export of {path.name} {'reused from' if reused else 'made once in'} {onnx_path.parent}"
    )
    return runner


def _auto_runner(path: Path, device: str, threads, cache_dir, **kwargs):
    if not _importable("torch"):
        from .cache import find_export

        found = find_export(path, cache_dir) if path.is_file() and _importable("onnxruntime") else None
        if found is None:
            return _torch_runner(path, device, threads, "")  # raises: names the missing torch
        runner = OnnxRunner(found, device=device, threads=threads)
        runner.model_file = path
        runner.backend_reason = f"torch is not installed; the model's ONNX export {found} was found"
        return runner
    if device != "cpu" and (device != "auto" or _cuda_possible()) and resolve_device(device) != "cpu":
        return _torch_runner(path, device, threads, "a CUDA GPU is usable: torch runs on it", **kwargs)
    if _importable("onnxruntime"):
        beside = _export_beside(path, threads)
        if beside is not None:
            return beside
    missing = [name for name in ("onnxruntime", "onnx") if not _importable(name)]
    if missing:
        names = " and ".join(missing)
        return _torch_runner(
            path,
            device,
            threads,
            f"{names} not installed (install {names} for the faster "
            "CPU path: the model exported to ONNX, run by onnxruntime)",
            **kwargs,
        )
    from .spec import ModelFileError

    try:
        return _cached_onnx_runner(path, "cpu", threads, cache_dir, "onnxruntime is installed (the fastest CPU path)")
    except ModelFileError:
        raise  # the model file itself is bad: the torch path would fail the same way
    except Exception as error:  # e.g. a read-only cache folder: torch still works
        first = (str(error).splitlines() or [type(error).__name__])[0][:200]
        return _torch_runner(path, device, threads, f"the ONNX export failed ({first})", **kwargs)
