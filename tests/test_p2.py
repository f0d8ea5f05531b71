"""The optional P2 (stride-4) level: its maps and anchors, weight transfer from a P3-P5
model, the model file and ONNX round trips, and a run through training and the engine."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import tiny_config

from micro_detector import engine
from micro_detector.model.head import make_anchors
from micro_detector.model.io import load_model, save_model
from micro_detector.model.runner import TorchRunner
from micro_detector.model.spec import ModelSpec
from micro_detector.model.yolov12 import build_model


def _models(imgsz=128):
    torch.manual_seed(0)
    return (
        build_model(ModelSpec(scale="n", imgsz=imgsz, class_names=["a", "b"])).eval(),
        build_model(ModelSpec(scale="n", imgsz=imgsz, class_names=["a", "b"], p2=True)).eval(),
    )


def test_p2_adds_a_stride_4_level_after_p5():
    plain, p2 = _models()
    x = torch.randint(0, 256, (2, 3, 128, 96)).float()
    with torch.inference_mode():
        raw = p2(x)
        decoded = p2.forward_decoded(x)
    assert [tuple(r.shape[2:]) for r in raw] == [(16, 12), (8, 6), (4, 3), (32, 24)]
    assert p2.detect.strides == [8, 16, 32, 4] and plain.detect.strides == [8, 16, 32]
    assert decoded.shape == (2, 4 + 2, 16 * 12 + 8 * 6 + 4 * 3 + 32 * 24)
    # the P2 anchors sit on the 4 px grid at cell centres, after the P3-P5 anchors
    anchors, strides = make_anchors([r.shape[2:] for r in raw], p2.detect.strides, x.device, x.dtype)
    tail = (anchors * strides)[-32 * 24 :]
    assert tail[0].tolist() == [2.0, 2.0] and tail[1].tolist() == [6.0, 2.0] and tail[-1].tolist() == [94.0, 126.0]


def test_a_p3_p5_model_loads_wholly_into_a_p2_model():
    plain, p2 = _models()
    a, b = plain.state_dict(), p2.state_dict()
    assert all(k in b and b[k].shape == v.shape for k, v in a.items())
    new = [k for k in b if k not in a]
    assert new and all(k.startswith(("n2.", "detect.cv2.3.", "detect.cv3.3.")) for k in new)
    # with the P3-P5 weights copied in, the P3-P5 maps are the plain model's exactly
    p2.load_state_dict(a, strict=False)
    x = torch.randint(0, 256, (1, 3, 128, 128)).float()
    with torch.inference_mode():
        for r_plain, r_p2 in zip(plain(x), p2(x)[:3]):
            assert torch.equal(r_plain, r_p2)


def test_p2_survives_the_model_file_and_onnx(tmp_path):
    pytest.importorskip("onnxruntime")
    from micro_detector.model.onnx_io import export_onnx
    from micro_detector.model.runner import OnnxRunner

    _, p2 = _models()
    save_model(p2, tmp_path / "p2.pt")
    loaded = load_model(tmp_path / "p2.pt")
    assert loaded.spec.p2 is True and loaded.detect.strides == [8, 16, 32, 4]
    # a model without P2 writes no p2 field: versions that predate the option still read it
    assert "p2" not in ModelSpec(scale="n").to_dict() and loaded.spec.to_dict()["p2"] is True
    export_onnx(loaded, tmp_path / "p2.onnx")
    batch = np.random.default_rng(1).integers(0, 256, (1, 3, 128, 128)).astype(np.uint8)
    t = TorchRunner(loaded).predict(batch, conf=0.01)
    o = OnnxRunner(tmp_path / "p2.onnx").predict(batch, conf=0.01)
    assert len(t[0]) == len(o[0]) > 0
    assert np.abs(t[0] - o[0]).max() < 1e-2


@pytest.mark.slow
def test_train_and_detect_with_p2(synthetic_training, tmp_path):
    """A P2 model fine-tuned from the session's P3-P5 model through the trainer, then run by
    the engine on a held-out raster: all levels work end to end."""
    from micro_detector.training.trainer import train

    s = synthetic_training
    lines = []
    train(
        tiny_config(3, p2=True, weights=str(s["model"])),
        s["train"],
        s["val"],
        tmp_path / "run",
        model_path=tmp_path / "p2.pt",
        log=lines.append,
    )
    assert any("tensors taken from" in line for line in lines), lines
    model = load_model(tmp_path / "p2.pt")
    assert model.spec.p2
    det = engine.detect(
        s["folder"] / "scene2.tif",
        None,
        TorchRunner(model),
        options=engine.DetectOptions(conf=0.25, pixel_coordinates=True),
    )
    assert len(det) > 0 and np.isfinite(det.boxes).all()
