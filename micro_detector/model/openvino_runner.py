"""The OpenVINO runner: the model's ONNX export compiled by OpenVINO (CPU, Intel GPU or NPU).

Why: on x86 CPUs OpenVINO ran the default model 1.3x faster than ONNX Runtime in fp32 and
2.2x in bf16 where the CPU has it (issue 24), and it reaches Intel GPUs and NPUs.

Compiling takes seconds (2.6 s for the default model on a 2-core CPU against 0.6 s to import
a compiled one), so the compiled blob is kept in the export cache (cache.py), under
`openvino/`, keyed by the ONNX file's SHA-256, the precision, the OpenVINO device and the
OpenVINO version; it is written under a unique temporary name and renamed (race-safe), and
a damaged blob is compiled again. `runner.compiled_from_cache` says which happened.

Precision is always set explicitly: OpenVINO's CPU plugin otherwise runs bf16 on CPUs that
have it (AVX512-BF16, AMX), which would be a reduced precision applied silently. fp32 also
turns off the plugin's dynamic activation quantization. Which precision a run asks for is
decided by precision.py; int8 models come from quantize_ov.py (NNCF).
"""

from __future__ import annotations

import io
import os
import uuid
from pathlib import Path

import numpy as np

from .onnx_meta import onnx_metadata, spec_from_metadata
from .runner import export_input, legacy_normalisation

HINTS = {"fp32": "f32", "bf16": "bf16", "fp16": "f16", "int8": "f32"}  # int8: the rest in f32
OV_DEVICES = {"cpu": "CPU", "auto": "CPU", "intel:cpu": "CPU", "intel:gpu": "GPU", "intel:npu": "NPU"}
KEEP_BLOBS = 16


def ov_device(device: str) -> str:
    """OpenVINO's device name for ours: cpu/auto/intel:cpu -> CPU, intel:gpu -> GPU,
    intel:gpu.1 -> GPU.1, intel:npu -> NPU; ValueError for others (cuda, mps)."""
    device = device.lower()
    if device in OV_DEVICES:
        return OV_DEVICES[device]
    if device.startswith("intel:gpu."):
        return "GPU." + device.split(".", 1)[1]
    raise ValueError(f"device {device!r} is not an OpenVINO device: use cpu, intel:gpu or intel:npu")


def available_devices(core=None) -> list[str]:
    """The devices OpenVINO sees here (e.g. ['CPU', 'GPU']); [] without openvino."""
    try:
        import openvino as ov
    except ImportError:
        return []
    return list((core or ov.Core()).available_devices)


def native_precisions(core, device: str) -> set[str]:
    """Precisions the device computes natively: fp32 always; bf16/fp16/int8 from OpenVINO's
    OPTIMIZATION_CAPABILITIES (a CPU without AVX512-BF16 emulates or ignores bf16)."""
    caps = set(core.get_property(device, "OPTIMIZATION_CAPABILITIES"))
    names = {"BF16": "bf16", "FP16": "fp16", "INT8": "int8"}
    return {"fp32"} | {ours for theirs, ours in names.items() if theirs in caps}


def blob_path(cache_dir: Path, onnx_sha: str, precision: str, device: str) -> Path:
    """Where the compiled blob of an export lives: keyed by the export's content, precision,
    device and OpenVINO version (a new OpenVINO compiles afresh)."""
    import openvino as ov

    version = ov.__version__.split("-")[0]
    return cache_dir / "openvino" / f"{onnx_sha}-{precision}-{device.replace('.', '_')}-ov{version}.blob"


class OpenVinoRunner:
    """An exported model (.onnx, decode inside the graph; or an int8 OpenVINO IR made from
    one) compiled by OpenVINO; NMS in numpy. No torch, no onnxruntime."""

    backend = "openvino"
    source: Path | None = None  # the model file the export was made from, when not the export

    def __init__(
        self,
        onnx_path: str | Path,
        device: str = "cpu",
        precision: str = "fp32",
        threads: int | None = None,
        cache_dir: str | Path | None = None,
        model_xml: str | Path | None = None,
    ):
        from ..deps import require
        from .cache import default_cache_dir, file_sha256
        from .cpu import compute_threads

        ov = require("openvino")
        self.path = Path(onnx_path)
        self.model_file: Path | None = self.path  # the Runner protocol's file; ov_open names the .pt
        meta = onnx_metadata(self.path)
        self.spec = spec_from_metadata(meta, self.path)
        self.device, self.precision = device, precision
        self.ov_device = ov_device(device)
        self.core = ov.Core()
        if self.ov_device.split(".")[0] not in {d.split(".")[0] for d in self.core.available_devices}:
            raise RuntimeError(
                f"device {device!r} ({self.ov_device}) was asked for but OpenVINO "
                f"sees only {', '.join(self.core.available_devices) or 'no device'} here"
            )
        self.threads = (threads or compute_threads()) if self.ov_device == "CPU" else None
        self.backend_reason = "the OpenVINO backend"
        sha = file_sha256(self.path)
        self.blob = blob_path(default_cache_dir(cache_dir), sha, precision, self.ov_device)
        self.compiled_from_cache = False
        self.compiled = self._load_or_compile(Path(model_xml) if model_xml else self.path)
        self.request = self.compiled.create_infer_request()
        self.effective_precision = self._effective_precision()
        self._legacy = legacy_normalisation(self.spec, meta)

    def config(self) -> dict[str, object]:
        """Compile properties: the precision hint always; on the CPU the thread count, one
        stream, latency mode, no core pinning (QGIS and the reader thread share the cores),
        and, for fp32, no dynamic activation quantization."""
        config: dict[str, object] = {"INFERENCE_PRECISION_HINT": HINTS[self.precision], "PERFORMANCE_HINT": "LATENCY"}
        if self.ov_device == "CPU":
            config.update({"INFERENCE_NUM_THREADS": self.threads, "NUM_STREAMS": 1, "ENABLE_CPU_PINNING": False})
            if self.precision == "fp32":
                config["DYNAMIC_QUANTIZATION_GROUP_SIZE"] = 0
        return config

    def _load_or_compile(self, source: Path):
        if self.blob.is_file():
            try:
                compiled = self.core.import_model(self.blob.read_bytes(), self.ov_device, self.config())
                self.compiled_from_cache = True
                os.utime(self.blob)  # recently used, for pruning
                return compiled
            except Exception:  # damaged or from an incompatible build: compile again
                self.blob.unlink(missing_ok=True)
        model = self.core.read_model(str(source))
        if self.ov_device == "NPU":  # the NPU compiles static shapes only
            model.reshape([1, self.spec.bands, self.spec.imgsz, self.spec.imgsz])
        compiled = self.core.compile_model(model, self.ov_device, self.config())
        self._save_blob(compiled)
        return compiled

    def _save_blob(self, compiled) -> None:
        tmp = self.blob.with_name(f"{self.blob.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.part")
        try:
            self.blob.parent.mkdir(parents=True, exist_ok=True)
            stream = io.BytesIO()
            compiled.export_model(stream)
            tmp.write_bytes(stream.getbuffer())
            tmp.replace(self.blob)
            prune_blobs(self.blob.parent)
        except (OSError, RuntimeError, TypeError):  # a read-only cache or a device without export: run anyway
            pass
        finally:
            tmp.unlink(missing_ok=True)

    def _effective_precision(self) -> str:
        try:
            hint = self.compiled.get_property("INFERENCE_PRECISION_HINT")
            hint = hint.get_type_name() if hasattr(hint, "get_type_name") else str(hint)
        except Exception:  # some devices do not report it
            return self.precision
        ran = {
            "f32": "fp32",
            "float32": "fp32",
            "bf16": "bf16",
            "bfloat16": "bf16",
            "f16": "fp16",
            "float16": "fp16",
        }.get(hint.lower(), hint)
        return "int8" if self.precision == "int8" else ran

    def forward(self, x: np.ndarray) -> np.ndarray:
        """The raw decoded output (B, 4 + nc, A) of a float32 pixel batch."""
        if self.ov_device == "NPU" and x.shape[2:] != (self.spec.imgsz,) * 2:
            return self._forward_padded(x)
        self.request.infer({0: x})
        return self.request.get_output_tensor(0).data.copy()

    def _forward_padded(self, x: np.ndarray) -> np.ndarray:
        size = self.spec.imgsz
        outs = []
        for image in x:  # the static NPU graph: one padded image at a time
            padded = np.zeros((1, image.shape[0], size, size), np.float32)
            padded[0, :, : image.shape[1], : image.shape[2]] = image[:, :size, :size]
            self.request.infer({0: padded})
            outs.append(self.request.get_output_tensor(0).data.copy())
        return np.concatenate(outs)

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
        return postprocess(self.forward(x), conf=conf, iou=iou, max_det=max_det, classes=classes)


def prune_blobs(folder: Path, keep: int = KEEP_BLOBS) -> None:
    """Delete all but the `keep` most recently used compiled blobs."""
    try:
        blobs = sorted(folder.glob("*.blob"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in blobs[keep:]:
            old.unlink(missing_ok=True)
    except OSError:  # another process pruned at the same time
        pass
