"""The OpenVINO backend: same detections as ONNX Runtime on a real raster, the compiled blob
cached and reused, the auto choice measured once, precision rules, devices, clear errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from micro_detector.model import precision as prec
from micro_detector.model.onnx_meta import onnx_metadata
from micro_detector.model.spec import ModelFileError
from micro_detector.options import DetectOptions, OptionsError

ov = pytest.importorskip("openvino", reason="openvino is not installed (requirements.txt installs it)")

ROOT = Path(__file__).resolve().parent.parent
ONNX = ROOT / "resources" / "models" / "default.onnx"
DEMO = ROOT / "resources" / "demo" / "kit_MunichStreet02-MOS93.tif"

BLOCK = """
import sys
class Block:  # makes the modules look uninstalled
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {modules!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}")
        return None
sys.meta_path.insert(0, Block())
"""


def _detect(backend: str, cache: Path, **kw):
    from micro_detector.engine import detect
    from micro_detector.model.runner import open_runner

    runner = open_runner(ONNX, backend=backend, device="cpu", cache_dir=cache, threads=2, **kw)
    return runner, detect(DEMO, None, runner)


@pytest.mark.slow
def test_openvino_fp32_finds_what_onnxruntime_finds_on_a_real_raster(tmp_path):
    ort_runner, ref = _detect("onnx", tmp_path)
    ov_runner, got = _detect("openvino", tmp_path)
    assert ov_runner.backend == "openvino" and ov_runner.effective_precision == "fp32"
    assert len(ref) >= 20  # the demo frame holds about 50 cars
    assert len(got) == len(ref)
    # each reference box against its nearest OpenVINO box: same class, corners within 0.5 px
    dist = np.abs(ref.boxes[:, None, :] - got.boxes[None, :, :]).max(-1)
    nearest = dist.argmin(1)
    assert dist[np.arange(len(ref)), nearest].max() < 0.5
    assert len(set(nearest.tolist())) == len(ref)  # one to one
    assert (ref.class_ids == got.class_ids[nearest]).all()
    assert np.abs(ref.scores - got.scores[nearest]).max() < 2e-3


@pytest.mark.slow
def test_compiled_blob_is_cached_and_reused(tmp_path):
    from micro_detector.model.ov_open import open_openvino

    first = open_openvino(ONNX, "cpu", "fp32", 2, tmp_path)
    assert not first.compiled_from_cache and first.blob.is_file()
    assert first.blob.parent == tmp_path / "openvino" and "-fp32-CPU-" in first.blob.name
    assert "compiled once into" in first.backend_reason
    second = open_openvino(ONNX, "cpu", "fp32", 2, tmp_path)
    assert second.compiled_from_cache and second.blob == first.blob
    assert "reused from" in second.backend_reason
    x = np.full((1, 3, 256, 256), 90, np.uint8)
    np.testing.assert_allclose(first.forward(x.astype(np.float32)), second.forward(x.astype(np.float32)), atol=1e-3)
    first.blob.write_bytes(b"damaged")  # a damaged blob is compiled again, never fatal
    third = open_openvino(ONNX, "cpu", "fp32", 2, tmp_path)
    assert not third.compiled_from_cache and third.blob.stat().st_size > 1000


@pytest.mark.slow
def test_auto_measures_once_and_says_why(tmp_path, monkeypatch):
    from micro_detector.model.runner import open_runner

    monkeypatch.setenv("MICRO_DETECTOR_AUTO_OPENVINO", "1")
    runner = open_runner(ONNX, backend="auto", device="cpu", cache_dir=tmp_path, threads=2)
    choices = json.loads((tmp_path / "backend-choice.json").read_text())
    (times,) = choices.values()
    assert times["openvino_ms"] > 0 and times["onnx_ms"] > 0
    faster = "openvino" if times["openvino_ms"] < times["onnx_ms"] else "onnx"
    assert runner.backend == faster
    assert "measured once" in runner.backend_reason
    again = open_runner(ONNX, backend="auto", device="cpu", cache_dir=tmp_path, threads=2)
    assert again.backend == faster
    assert json.loads((tmp_path / "backend-choice.json").read_text()) == choices  # not measured again
    monkeypatch.setenv("MICRO_DETECTOR_AUTO_OPENVINO", "0")  # the switch for reproducible runs
    assert open_runner(ONNX, backend="auto", device="cpu", cache_dir=tmp_path, threads=2).backend == "onnx"


def test_backend_openvino_without_openvino_names_the_install(tmp_path):
    code = BLOCK.format(modules=("openvino",)) + (
        "from micro_detector.cli import main\n"
        f"sys.exit(main(['detect', {str(DEMO)!r}, '-o', {str(tmp_path / 'out.gpkg')!r}, "
        "'--backend', 'openvino', '-q']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={"MICRO_DETECTOR_CACHE": str(tmp_path), "PATH": "/usr/bin:/bin", "MICRO_DETECTOR_AUTO_OPENVINO": "1"},
    )
    assert done.returncode == 2, done.stderr
    assert "openvino" in done.stderr and "pip install" in done.stderr
    assert not (tmp_path / "out.gpkg").exists()


def test_auto_without_openvino_stays_on_onnxruntime(tmp_path):
    code = BLOCK.format(modules=("openvino",)) + (
        "from micro_detector.model.runner import open_runner\n"
        f"r = open_runner({str(ONNX)!r}, device='cpu', cache_dir={str(tmp_path)!r})\n"
        "print(r.backend)\n"
    )
    env = {**os.environ, "MICRO_DETECTOR_AUTO_OPENVINO": "1"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["onnx"]


def test_openvino_alone_runs_without_onnxruntime_or_torch(tmp_path):
    code = BLOCK.format(modules=("onnxruntime", "onnx", "torch")) + (
        "from micro_detector.model.runner import open_runner\n"
        f"r = open_runner({str(ONNX)!r}, device='cpu', cache_dir={str(tmp_path)!r})\n"
        "import numpy as np\n"
        "print(r.backend, len(r.predict(np.full((1, 3, 256, 256), 90, np.uint8))[0]) >= 0)\n"
        "print(r.backend_reason)\n"
        "assert not {'onnxruntime', 'torch'} & set(sys.modules)\n"
    )
    env = {**os.environ, "MICRO_DETECTOR_AUTO_OPENVINO": "1"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr
    first, reason = done.stdout.splitlines()[:2]
    assert first == "openvino True" and "onnxruntime is not" in reason


@pytest.mark.slow
def test_reduced_precision_unmeasured_warns_and_says_so(tmp_path):
    from micro_detector.model.ov_open import open_openvino

    with pytest.warns(prec.PrecisionWarning, match="not measured"):
        runner = open_openvino(ONNX, "cpu", "bf16", 2, tmp_path)
    assert "warning: bf16 was not measured" in runner.backend_reason
    assert runner.precision == "bf16" and "-bf16-CPU-" in runner.blob.name
    native = "bf16" in set(ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")) or "BF16" in set(
        ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    )
    assert runner.effective_precision == ("bf16" if native else "fp32")
    unmeasured = tmp_path / "copy" / "mine.onnx"  # the same weights with no record beside them
    unmeasured.parent.mkdir()
    shutil.copyfile(ONNX, unmeasured)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # auto on an unmeasured model: fp32, silently correct
        auto = open_openvino(unmeasured, "cpu", "auto", 2, tmp_path)
        shipped = open_openvino(ONNX, "cpu", "auto", 2, tmp_path)  # measured: int8 lost too much
    assert auto.precision == "fp32" and "no accuracy measurement" in auto.backend_reason
    assert shipped.precision == "fp32" and "no measured reduced precision within 0.005" in shipped.backend_reason


def _record(sha, **losses):
    ref = {"native": 0.72, "16px": 0.56}
    measured = {"fp32": {"mAP50": ref, "ms_per_tile": 20.0}}
    for name, (lost, ms) in losses.items():
        measured[name] = {"mAP50": {k: v - lost for k, v in ref.items()}, "ms_per_tile": ms}
    return {"model_sha256": sha, "measured": measured}


def test_auto_precision_takes_the_fastest_measured_within_the_bound(tmp_path):
    rec = _record("abc", bf16=(0.002, 12.0), int8=(0.004, 10.0), fp16=(0.001, 11.0))
    assert prec.resolve("auto", rec, {"fp32", "bf16", "int8"})[0] == "int8"
    assert prec.resolve("auto", rec, {"fp32", "bf16"})[0] == "bf16"  # no native int8
    assert prec.resolve("auto", rec, {"fp32"})[0] == "fp32"  # bf16 emulated: not taken
    slow_int8 = _record("abc", bf16=(0.002, 12.0), int8=(0.004, 16.0))  # 1.25x: not kept
    assert prec.resolve("auto", slow_int8, {"fp32", "bf16", "int8"})[0] == "bf16"
    lossy = _record("abc", bf16=(0.006, 12.0))
    assert prec.resolve("auto", lossy, {"fp32", "bf16"})[0] == "fp32"
    with pytest.warns(prec.PrecisionWarning, match="lost 0.0060"):
        assert prec.resolve("bf16", lossy, {"fp32", "bf16"})[0] == "bf16"
    # a row the measuring device ran as another precision measured nothing about this one
    emulated = _record("abc", bf16=(0.0, 12.0))
    emulated["measured"]["bf16"]["ran"] = "fp32"
    assert prec.loss(emulated, "bf16") is None
    assert prec.resolve("auto", emulated, {"fp32", "bf16"})[0] == "fp32"
    # a record is read only for the very model it measured
    model = tmp_path / "mine.onnx"
    model.write_bytes(b"x")
    prec.record_path(model).write_text(json.dumps(_record("other", bf16=(0.0, 10.0))))
    assert prec.read_record(model, "mine") is None
    assert prec.read_record(model, "other")["measured"]["bf16"]["ms_per_tile"] == 10.0


def test_other_backends_refuse_reduced_precision_and_devices_are_checked(tmp_path):
    from micro_detector.model.runner import open_runner

    with pytest.raises(ValueError, match="precision int8 runs on the openvino backend"):
        open_runner(ONNX, backend="onnx", precision="int8", cache_dir=tmp_path)
    with pytest.raises(OptionsError, match="precision"):
        DetectOptions(precision="int4")
    assert DetectOptions(device="intel:gpu", backend="openvino", precision="fp16").device == "intel:gpu"
    if "NPU" not in ov.Core().available_devices:
        with pytest.raises(RuntimeError, match="OpenVINO sees only"):
            open_runner(ONNX, device="intel:npu", cache_dir=tmp_path)


@pytest.mark.parametrize("device", ["intel:gpu", "intel:npu"])
def test_intel_accelerators_match_the_cpu_where_present(tmp_path, device):
    from micro_detector.model.ov_open import open_openvino

    name = device.split(":")[1].upper()
    if name not in {d.split(".")[0] for d in ov.Core().available_devices}:
        pytest.skip(f"no Intel {name} here (OpenVINO sees {ov.Core().available_devices})")
    cpu = open_openvino(ONNX, "cpu", "fp32", 2, tmp_path)
    acc = open_openvino(ONNX, device, "fp16", None, tmp_path)
    x = np.full((1, 3, 256, 256), 90, np.float32)
    a, b = cpu.forward(x), acc.forward(x)
    assert np.abs(a[:, :4] - b[:, :4]).max() < 2.0 and np.abs(a[:, 4:] - b[:, 4:]).max() < 0.02


def test_onnx_metadata_without_onnx_packages(tmp_path):
    import onnxruntime as ort

    meta = onnx_metadata(ONNX)
    session = ort.InferenceSession(str(ONNX), providers=["CPUExecutionProvider"])
    assert meta == dict(session.get_modelmeta().custom_metadata_map)
    cut = tmp_path / "cut.onnx"
    cut.write_bytes(ONNX.read_bytes()[:5000])
    with pytest.raises(ModelFileError, match="not a readable ONNX model"):
        onnx_metadata(cut)


def test_installer_offers_openvino(tmp_path):
    from micro_object_detection.installer import core

    plan = core.plan_install(
        tmp_path,
        groups=["detect", "openvino"],
        python=sys.executable,
        numpy_version="1.24.2",
        is_importable=lambda m: False,
    )
    names = [i.name for i in plan.items]
    assert "openvino" in names and "numpy" not in names
    assert core.plan_install(
        tmp_path, python=sys.executable, numpy_version="1.24.2", is_importable=lambda m: False
    ).missing == ["onnxruntime"]


@pytest.mark.slow
def test_int8_quantizes_once_from_real_tiles_and_keeps_the_decode_in_float(tmp_path, capfd):
    pytest.importorskip("nncf", reason="nncf is not installed (requirements.txt installs it)")
    from micro_detector.model.ov_open import open_openvino
    from micro_detector.model.quantize_ov import calibration_tiles, ignored_names

    names = ignored_names(ov.Core().read_model(str(ONNX)))
    assert "/dfl/Softmax" in names and "/Sigmoid" in names and "/Sub" in names
    spec = open_openvino(ONNX, "cpu", "fp32", 2, tmp_path).spec
    tiles = calibration_tiles(spec, count=8)
    assert tiles.shape == (8, 3, 256, 256) and tiles.std() > 10  # real pixels, not zeros
    capfd.readouterr()
    with pytest.warns(prec.PrecisionWarning):
        runner = open_openvino(ONNX, "cpu", "int8", 2, tmp_path)
    # NNCF logs and draws on stdout, where the CLI's JSON report goes: kept off it
    assert capfd.readouterr().out == ""
    assert runner.effective_precision == "int8"
    assert list((tmp_path / "openvino").glob("*-int8-q*.xml"))
    fp32 = open_openvino(ONNX, "cpu", "fp32", 2, tmp_path)
    image = tiles[:1]
    a, b = fp32.predict(image)[0], runner.predict(image)[0]
    assert len(b) > 0 and abs(len(a) - len(b)) <= max(2, len(a) // 4)
    with pytest.warns(prec.PrecisionWarning):
        again = open_openvino(ONNX, "cpu", "int8", 2, tmp_path)
    assert again.compiled_from_cache


@pytest.mark.slow
def test_qgis_detect_takes_precision_and_intel_devices(plugin, tmp_path, monkeypatch):
    from micro_object_detection.processing.algorithms.detect_options import DETECT_DEVICES
    from qgis.core import QgsApplication, QgsProcessingContext, QgsProcessingFeedback

    import processing
    from micro_detector.options import PRECISIONS

    alg = QgsApplication.processingRegistry().algorithmById("micro_detector:detect")
    precisions = alg.parameterDefinition("PRECISION").options()  # readable labels, in PRECISIONS' order
    assert len(precisions) == len(PRECISIONS) and precisions[0] == "Automatic"
    assert all(f"({p})" in label for p, label in zip(PRECISIONS[1:], precisions[1:]))
    devices = alg.parameterDefinition("DEVICE").options()
    assert len(devices) == len(DETECT_DEVICES) and devices[3:] == ["Intel GPU (OpenVINO)", "Intel NPU (OpenVINO)"]
    assert DETECT_DEVICES[:3] == ["auto", "cpu", "cuda"]  # saved indexes keep their meaning
    monkeypatch.setenv("MICRO_DETECTOR_CACHE", str(tmp_path / "cache"))
    feedback = QgsProcessingFeedback()
    log = []
    feedback.pushInfo = log.append
    out = tmp_path / "bf16.gpkg"
    # the plugin's own copy of the package: its PrecisionWarning is another class object
    with pytest.warns(UserWarning, match="bf16 was not measured"):
        processing.run(
            "micro_detector:detect",
            {
                "INPUT": str(DEMO),
                "MODEL": str(ONNX),
                "PRECISION": PRECISIONS.index("bf16"),
                "DEVICE": DETECT_DEVICES.index("cpu"),
                "OUTPUT": str(out),
            },
            context=QgsProcessingContext(),
            feedback=feedback,
        )
    backend = [line for line in log if line.startswith("Backend:")]
    assert backend and "openvino" in backend[0] and "precision bf16 runs on OpenVINO" in backend[0]
    assert out.is_file()
