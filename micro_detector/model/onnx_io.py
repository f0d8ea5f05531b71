"""ONNX export with the box decode inside the graph; the model spec travels as metadata."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from .spec import ModelFileError, ModelSpec

SPEC_KEY = "micro_detector_spec"
# "pixels": the graph takes 0-255 pixels and normalises them itself. Exports made before the
# model held its normalisation lack this key; their runners normalise outside the graph.
INPUT_KEY = "micro_detector_input"
SOURCE_KEY = "micro_detector_source_sha256"  # SHA-256 of the .pt file the export was made from


def export_onnx(
    model,
    path: str | Path,
    imgsz: int | None = None,
    dynamic_spatial: bool = True,
    opset: int = 17,
    batch: int = 1,
    source_sha256: str | None = None,
) -> Path:
    """Write `model` as ONNX: input `images` (B, bands, H, W) float pixels in the 0-255 range
    (the graph normalises them as the spec says); output `pred` (B, 4 + nc, A): xyxy boxes in
    input pixels and class probabilities. Batch is always dynamic; H and W too unless
    `dynamic_spatial` is False. Written under a unique temporary name, then renamed, so two
    processes exporting to the same path never mix their bytes."""
    import os
    import uuid

    import onnx
    import torch

    from .fuse import fuse_model

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
    # unique per process and call (not mkstemp: that would leave the file readable by us only)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.part")
    x = torch.zeros(batch, spec.bands, imgsz, imgsz)
    try:
        with warnings.catch_warnings():
            # shape checks in forward are traced as constants; the exported graph stays dynamic
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            # BatchNorm folded first: conv biases become initializers (quantization needs that)
            torch.onnx.export(
                Decoded(fuse_model(model)),
                (x,),
                str(tmp),
                dynamo=False,
                opset_version=opset,
                input_names=["images"],
                output_names=["pred"],
                dynamic_axes=axes,
            )
        model.train(was_training)
        proto = onnx.load(str(tmp))
        meta = {SPEC_KEY: json.dumps(spec.to_dict()), INPUT_KEY: "pixels"}
        if source_sha256:
            meta[SOURCE_KEY] = source_sha256
        for key, value in meta.items():
            prop = proto.metadata_props.add()
            prop.key, prop.value = key, value
        onnx.save(proto, str(tmp))
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def open_session(path: str | Path, options=None, providers=None):
    """An ONNX Runtime session for `path`, with a clear error for a missing or damaged file."""
    import onnxruntime as ort

    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"ONNX model not found: {path}")
    try:
        return ort.InferenceSession(str(path), options, providers=providers or ["CPUExecutionProvider"])
    except Exception as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
        raise ModelFileError(f"{path} is not a readable ONNX model (corrupt or truncated?): {first}") from None


def spec_from_session(session, path: str | Path) -> ModelSpec:
    """The ModelSpec stored in an exported model's metadata."""
    props = session.get_modelmeta().custom_metadata_map
    if SPEC_KEY not in props:
        raise ModelFileError(f"{path} is an ONNX model but was not exported by micro-detector (no {SPEC_KEY} metadata)")
    try:
        return ModelSpec.from_dict(json.loads(props[SPEC_KEY]))
    except (TypeError, ValueError, AttributeError) as error:  # damaged or hand-edited metadata
        raise ModelFileError(
            f"{path} has invalid {SPEC_KEY} metadata (not a model description micro-detector can read): {error}"
        ) from None


def read_onnx_spec(path: str | Path) -> ModelSpec:
    """The ModelSpec stored in an exported .onnx file; ModelFileError when it has none or a damaged one."""
    return spec_from_session(open_session(path), path)
