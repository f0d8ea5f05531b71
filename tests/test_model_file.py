"""Model file round trip, clear errors on bad files, ONNX export parity, CLI."""

import json
import subprocess
import zipfile

import numpy as np
import pytest
import torch
from conftest import ROOT
from synthetic import lively_model, real_crops

from micro_detector.model.io import ModelFileError, load_model, read_model_file, save_model
from micro_detector.model.onnx_io import export_onnx
from micro_detector.model.runner import OnnxRunner, TorchRunner

CLI = [str(ROOT / ".venv" / "bin" / "micro-detector")]


@pytest.fixture
def model_file(tmp_path):
    model = lively_model(gsd=0.3)
    return model, save_model(model, tmp_path / "m.pt", metadata={"epochs": 3, "note": "test"})


def test_round_trip_keeps_spec_metadata_and_outputs(model_file):
    model, path = model_file
    loaded = load_model(path)
    assert loaded.spec == model.spec
    assert loaded.metadata["epochs"] == 3 and "saved" in loaded.metadata
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(loaded.forward_decoded(x), model.forward_decoded(x))


def test_half_precision_file_is_smaller_and_exact_to_fp16(tmp_path, model_file):
    model, path = model_file
    half = save_model(model, tmp_path / "h.pt", half=True)
    assert half.stat().st_size < 0.6 * path.stat().st_size
    stored = torch.load(half, weights_only=True)["state_dict"]
    assert stored["b0.conv.weight"].dtype == torch.float16
    assert stored["b0.bn.running_var"].dtype == torch.float32  # statistics stay fp32
    loaded = load_model(half).state_dict()
    for name, value in model.state_dict().items():
        if value.is_floating_point():
            torch.testing.assert_close(loaded[name], value, rtol=1e-3, atol=1e-4)


def test_loading_never_unpickles_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    path = tmp_path / "evil.pt"
    torch.save({"format": "micro-detector-model", "x": Evil()}, path)
    with pytest.raises(ModelFileError, match="refused: it holds Python objects"):
        read_model_file(path)


def test_bad_files_get_clear_errors(tmp_path, model_file):
    _, good = model_file
    with pytest.raises(ModelFileError, match="not found"):
        read_model_file(tmp_path / "nope.pt")
    (tmp_path / "text.pt").write_text("hello")
    with pytest.raises(ModelFileError, match="not a micro-detector model file"):
        read_model_file(tmp_path / "text.pt")
    data = good.read_bytes()
    (tmp_path / "trunc.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="corrupt|truncated"):
        read_model_file(tmp_path / "trunc.pt")
    torch.save({"weights": torch.zeros(3)}, tmp_path / "other.pt")
    with pytest.raises(ModelFileError, match="not a micro-detector model"):
        read_model_file(tmp_path / "other.pt")


def test_newer_format_version_and_mismatched_weights(tmp_path, model_file):
    _, good = model_file
    payload = torch.load(good, weights_only=True)
    payload["format_version"] = 99
    torch.save(payload, tmp_path / "future.pt")
    with pytest.raises(ModelFileError, match="version 99"):
        read_model_file(tmp_path / "future.pt")
    payload = torch.load(good, weights_only=True)
    payload["spec"]["scale"] = "s"
    torch.save(payload, tmp_path / "mismatch.pt")
    with pytest.raises(ModelFileError, match="do not match the YOLOv12s"):
        load_model(tmp_path / "mismatch.pt")


def test_onnx_runner_gives_the_same_boxes_as_torch(tmp_path):
    model = lively_model(seed=3)
    onnx_path = export_onnx(model, tmp_path / "m.onnx", imgsz=128)
    torch_runner, onnx_runner = TorchRunner(model, device="cpu"), OnnxRunner(onnx_path)
    assert onnx_runner.spec == model.spec
    total = 0
    for n, h, w in [(2, 128, 128), (1, 96, 160)]:  # dynamic batch and spatial size
        batch = real_crops(n, h, w)
        a = torch_runner.predict(batch, conf=0.01, iou=0.5)
        b = onnx_runner.predict(batch, conf=0.01, iou=0.5)
        assert [len(d) for d in a] == [len(d) for d in b]
        total += sum(len(d) for d in a)
        for da, db in zip(a, b):
            if not len(da):
                continue
            # pair the boxes (near-tied scores may come out in another order): same class,
            # corners within 1 px, scores within 5e-3, one to one
            diff = np.abs(da[:, None, :4] - db[None, :, :4]).max(-1)
            diff[da[:, None, 5] != db[None, :, 5]] = np.inf
            pair = diff.argmin(1)
            assert len(set(pair.tolist())) == len(pair)
            assert diff[np.arange(len(da)), pair].max(initial=0) <= 1.0  # pixels
            np.testing.assert_allclose(da[:, 4], db[pair, 4], atol=5e-3)  # scores
    assert total >= 10


def test_cli_info_new_model_and_errors(tmp_path):
    out = tmp_path / "new.pt"
    run = subprocess.run(
        [*CLI, "new-model", "--scale", "n", "--classes", "boat,plane", "--gsd", "0.5", "-o", str(out)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    info = json.loads(subprocess.run([*CLI, "info", str(out)], capture_output=True, text=True, check=True).stdout)
    assert info["scale"] == "n" and info["class_names"] == ["boat", "plane"]
    assert info["gsd"] == 0.5 and info["bands"] == 3 and info["metadata"]["trained"] is False
    untrained = json.loads(
        subprocess.run([*CLI, "info", "--scale", "s"], capture_output=True, text=True, check=True).stdout
    )
    assert untrained["params"] == pytest.approx(9.284e6, rel=0.01)
    assert untrained["gflops"] == pytest.approx(21.4, rel=0.01)
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"\0" * 100)
    run = subprocess.run([*CLI, "info", str(bad)], capture_output=True, text=True)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "not a micro-detector model file" in run.stderr
    assert zipfile.is_zipfile(out)
