"""Opening a model on OpenVINO, and whether `--backend auto` should.

`open_openvino` finds the ONNX export of a model (the .onnx itself; for a .pt the export
beside it when made from that very file, else the cached export, see cache.py), resolves the
precision (precision.py) and opens an OpenVinoRunner, quantizing to int8 first when asked.

`auto_openvino` is the auto backend's question on a CPU: with OpenVINO installed, is it
faster here than ONNX Runtime? Both are timed once on the model (two warm-ups and five
forward passes each, on a tile of the model's size), and the answer is kept in
the cache folder (`backend-choice.json`), keyed by the export's hash, the precision, the
CPU, the thread count and both versions; the log quotes the two times. Without
onnxruntime, OpenVINO is simply the CPU path. MICRO_DETECTOR_AUTO_OPENVINO=0 keeps auto
off OpenVINO (as before it existed).
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import numpy as np

CHOICE_FILE = "backend-choice.json"
# "0": `--backend auto` never considers OpenVINO (reproducible runs, the test suite);
# `--backend openvino` and `--device intel:...` still use it
AUTO_ENV = "MICRO_DETECTOR_AUTO_OPENVINO"


def export_for(path: Path, cache_dir=None) -> tuple[Path, str]:
    """(the ONNX export to compile for the model file `path`, how it was found). A .pt
    needs torch and onnx only when no export of it exists yet."""
    from ..deps import require
    from .cache import cached_export, default_cache_dir, entry_path, file_sha256
    from .onnx_io import SOURCE_KEY
    from .onnx_meta import onnx_metadata

    if path.suffix.lower() == ".onnx":
        return path, f"{path.name}"
    sha = file_sha256(path)
    sibling = path.with_suffix(".onnx")
    if sibling.is_file() and onnx_metadata(sibling).get(SOURCE_KEY) == sha:
        return sibling, f"{sibling.name} beside the model (its export)"
    cached = entry_path(default_cache_dir(cache_dir), sha)
    if cached.is_file():
        return cached, f"the cached export of {path.name}"
    require("torch", "onnx")
    onnx_path, _ = cached_export(path, cache_dir)
    return onnx_path, f"the export of {path.name} made once in {onnx_path.parent}"


def model_sha(path: Path, onnx_path: Path) -> str:
    """The hash precision records are keyed by: the .pt's (an export records its source's)."""
    from .cache import file_sha256
    from .onnx_io import SOURCE_KEY
    from .onnx_meta import onnx_metadata

    if path.suffix.lower() != ".onnx":
        return file_sha256(path)
    return onnx_metadata(onnx_path).get(SOURCE_KEY) or file_sha256(onnx_path)


def resolve_precision(path: Path, onnx_path: Path, asked: str, device: str) -> tuple[str, str]:
    """(precision to run, why) for the model at `path` on OpenVINO `device` (ours)."""
    from .openvino_runner import native_precisions, ov_device
    from .precision import read_record, resolve

    if asked == "fp32":
        return "fp32", "fp32 as asked"
    import openvino as ov

    record = read_record(path, model_sha(path, onnx_path))
    return resolve(asked, record, native_precisions(ov.Core(), ov_device(device)))


def open_openvino(
    path: str | Path,
    device: str = "cpu",
    precision: str = "auto",
    threads=None,
    cache_dir=None,
    why: str = "asked for (--backend openvino)",
    calibration=None,
):
    """An OpenVinoRunner for the model file `path` (.pt or .onnx); `runner.backend_reason`
    says why OpenVINO runs, which export, the precision and whether the compiled blob was
    reused from the cache."""
    from ..deps import require
    from .cache import default_cache_dir, file_sha256
    from .openvino_runner import OpenVinoRunner

    require("openvino")
    path = Path(path)
    device = "cpu" if device == "auto" else device
    onnx_path, found = export_for(path, cache_dir)
    chosen, why_precision = resolve_precision(path, onnx_path, precision, device)
    xml = None
    if chosen == "int8":
        require("nncf")
        from .quantize_ov import cached_int8

        xml, _ = cached_int8(onnx_path, file_sha256(onnx_path), default_cache_dir(cache_dir), calibration)
    runner = OpenVinoRunner(
        onnx_path, device=device, precision=chosen, threads=threads, cache_dir=cache_dir, model_xml=xml
    )
    runner.model_file = Path(path)  # the file the user named (the .pt of an export)
    ran = (
        ""
        if runner.effective_precision == chosen
        else f" (this device has no native {chosen}: it ran {runner.effective_precision})"
    )
    runner.backend_reason = (
        f"{why}; {found}; {why_precision}{ran}; compiled model "
        f"{'reused from' if runner.compiled_from_cache else 'compiled once into'} "
        f"{runner.blob.parent}"
    )
    return runner


def _median_ms(predict, x, reps: int = 5) -> float:
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        predict(x)
        times.append((time.perf_counter() - t0) * 1000)
    return float(np.median(times))


def _probe(ov_runner, onnx_path: Path, threads) -> dict:
    from .runner import OnnxRunner

    ort_runner = OnnxRunner(onnx_path, device="cpu", threads=threads)
    spec = ov_runner.spec
    x = np.full((1, spec.bands, spec.imgsz, spec.imgsz), 114, np.uint8)
    for r in (ov_runner, ort_runner, ov_runner, ort_runner):
        r.predict(x)  # warm-up (OpenVINO prepares its kernels for a new shape on first use)
    return {"openvino_ms": _median_ms(ov_runner.predict, x), "onnx_ms": _median_ms(ort_runner.predict, x)}


def auto_openvino(path: Path, threads=None, cache_dir=None, precision: str = "auto"):
    """(runner, note): an OpenVINO runner when `--backend auto` on a CPU should take it
    (OpenVINO installed and faster here than ONNX Runtime, or ONNX Runtime missing); else
    None and a note for the log saying why ONNX Runtime stays (empty without OpenVINO)."""
    import os

    from .runner import _importable

    if os.environ.get(AUTO_ENV, "1") == "0" or not _importable("openvino"):
        return None, ""
    from ..deps import MissingDependencyError

    try:
        if not _importable("onnxruntime"):
            return open_openvino(
                path, "cpu", precision, threads, cache_dir, "OpenVINO is installed and onnxruntime is not"
            ), ""
        return _measured_choice(path, threads, cache_dir, precision)
    except MissingDependencyError:  # no export yet and no torch to make one: the usual path says
        return None, ""
    except Exception as error:  # OpenVINO could not compile or run it: ONNX Runtime still can
        first = (str(error).splitlines() or [type(error).__name__])[0][:200]
        return None, f"OpenVINO failed on this model ({first})"


def _measured_choice(path: Path, threads, cache_dir, precision: str):
    from .cache import default_cache_dir, file_sha256

    onnx_path, _ = export_for(path, cache_dir)
    import onnxruntime
    import openvino

    chosen, _ = resolve_precision(path, onnx_path, precision, "cpu")
    from .cpu import compute_threads

    key = "|".join(
        [
            file_sha256(onnx_path),
            chosen,
            platform.processor() or platform.machine(),
            str(threads or compute_threads()),
            openvino.__version__,
            onnxruntime.__version__,
        ]
    )
    store = default_cache_dir(cache_dir) / CHOICE_FILE
    choices = _read_json(store)
    runner = None
    if key not in choices:
        runner = open_openvino(path, "cpu", precision, threads, cache_dir, "auto")
        choices[key] = _probe(runner, onnx_path, threads)
        _write_json(store, choices)
    times = choices[key]
    if times["openvino_ms"] >= times["onnx_ms"]:
        return None, (
            f"OpenVINO {chosen} was slower here ({times['openvino_ms']:.1f} against "
            f"{times['onnx_ms']:.1f} ms per tile, measured once, {store})"
        )
    why = (
        f"OpenVINO is faster here than ONNX Runtime ({times['openvino_ms']:.1f} against "
        f"{times['onnx_ms']:.1f} ms per tile, measured once on this machine, {store})"
    )
    if runner is None:
        return open_openvino(path, "cpu", precision, threads, cache_dir, why), ""
    runner.backend_reason = runner.backend_reason.replace("auto", why, 1)
    return runner, ""


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_json(path: Path, data: dict) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{time.time_ns()}.part")
        tmp.write_text(json.dumps(data, indent=1))
        tmp.replace(path)
    except OSError:  # a read-only cache: measured again next time
        pass
