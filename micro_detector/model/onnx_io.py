"""ONNX export with the box decode inside the graph; the model spec travels as metadata."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from .spec import ModelFileError, ModelSpec

SPEC_KEY = "micro_detector_spec"


def export_onnx(model, path: str | Path, imgsz: int | None = None, dynamic_spatial: bool = True,
                opset: int = 17, batch: int = 1) -> Path:
    """Write `model` as ONNX: input `images` (B, bands, H, W) float, normalised as the spec says;
    output `pred` (B, 4 + nc, A): xyxy boxes in input pixels and class probabilities.
    Batch is always dynamic; H and W too unless `dynamic_spatial` is False."""
    import onnx
    import torch

    path = Path(path)
    spec: ModelSpec = model.spec
    imgsz = imgsz or spec.imgsz

    class Decoded(torch.nn.Module):
        def __init__(self, net):
            super().__init__()
            self.net = net

        def forward(self, images):
            return self.net.forward_decoded(images)

    was_training = model.training
    model = model.eval().float().cpu()
    axes = {"images": {0: "batch"}, "pred": {0: "batch"}}
    if dynamic_spatial:
        axes["images"].update({2: "height", 3: "width"})
        axes["pred"][2] = "anchors"
    tmp = path.with_name(path.name + ".part")
    x = torch.zeros(batch, spec.bands, imgsz, imgsz)
    with warnings.catch_warnings():
        # shape checks in forward are traced as constants; the exported graph stays dynamic
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        torch.onnx.export(Decoded(model), (x,), str(tmp), dynamo=False, opset_version=opset,
                          input_names=["images"], output_names=["pred"], dynamic_axes=axes)
    model.train(was_training)
    proto = onnx.load(str(tmp))
    meta = proto.metadata_props.add()
    meta.key, meta.value = SPEC_KEY, json.dumps(spec.to_dict())
    onnx.save(proto, str(tmp))
    tmp.replace(path)
    return path


def open_session(path: str | Path, options=None, providers=None):
    """An ONNX Runtime session for `path`, with a clear error for a missing or damaged file."""
    import onnxruntime as ort

    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"ONNX model not found: {path}")
    try:
        return ort.InferenceSession(str(path), options,
                                    providers=providers or ["CPUExecutionProvider"])
    except Exception as error:
        raise ModelFileError(f"{path} is not a readable ONNX model (corrupt or truncated?): "
                             f"{str(error).splitlines()[0][:200]}") from None


def spec_from_session(session, path: str | Path) -> ModelSpec:
    """The ModelSpec stored in an exported model's metadata."""
    props = session.get_modelmeta().custom_metadata_map
    if SPEC_KEY not in props:
        raise ModelFileError(f"{path} is an ONNX model but was not exported by micro-detector "
                             f"(no {SPEC_KEY} metadata)")
    try:
        return ModelSpec.from_dict(json.loads(props[SPEC_KEY]))
    except (TypeError, ValueError, AttributeError) as error:  # damaged or hand-edited metadata
        raise ModelFileError(f"{path} has invalid {SPEC_KEY} metadata (not a model description "
                             f"micro-detector can read): {error}") from None


def read_onnx_spec(path: str | Path) -> ModelSpec:
    return spec_from_session(open_session(path), path)
