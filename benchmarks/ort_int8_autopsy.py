"""Why the ONNX Runtime int8 attempt (commit 82741eb, removed) lost 0.34 mAP50: its recipe
again, then the same recipe with parts of the graph kept in float, each against fp32 on
real tiles.

    .venv/bin/python benchmarks/ort_int8_autopsy.py [--model resources/models/default.pt]
        [--raster resources/demo/kit_MunichStreet02-MOS93.tif] [--tiles 16]

The removed recipe (micro_detector/model/quantize.py before 82741eb): `quant_pre_process`,
then `quantize_static` in QDQ format, weights int8 per channel, activations uint8 with one
min/max scale per tensor, every op type ORT can quantize (no exclusion), calibrated on 16
chips of the demo raster. Variants here:
- `all` (the removed recipe);
- `no-decode`: the head from its last convolutions to the output (DFL softmax, anchor
  decode, sigmoid, concat) left in float;
- `no-decode-no-attn`: also every attention softmax and matmul left in float;
- `conv-only`: only convolutions quantized;
- `openvino-nncf`: for comparison, this project's int8 (quantize_ov.py: NNCF, decode and
  attention in float) on OpenVINO, against the same fp32 reference.
For each: which op types got quantized inputs, the quantization step of each input of the
output node (boxes in pixels and probabilities joined there), and on the tiles, the share of fp32's
detections (conf 0.25) it finds again (same class, IoU >= 0.5), its score error on those,
and the largest box-coordinate and probability differences of the raw output.
Writes benchmarks/ort_int8_autopsy.txt.
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VARIANTS = ("all", "no-decode", "no-decode-no-attn", "conv-only", "openvino-nncf")


class OpenVinoSession:
    """Our NNCF int8 model (quantize_ov.py) behind the two calls `compare` makes of an ORT session."""

    def __init__(self, xml: Path):
        import openvino as ov

        self.compiled = ov.Core().compile_model(str(xml), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})

    def run(self, _outputs, feeds):
        return [self.compiled(feeds["images"])[0]]


def decode_nodes(proto) -> list[str]:
    """Nodes from the head's last convolutions (box and class logits) to the graph output."""
    from micro_detector.model.quantize_ov import HEAD_LOGITS

    consumers = collections.defaultdict(list)
    for node in proto.graph.node:
        for name in node.input:
            consumers[name].append(node)
    todo = [n for n in proto.graph.node if HEAD_LOGITS.match(n.name)]
    seen = {}
    while todo:
        node = todo.pop()
        if node.name in seen:
            continue
        seen[node.name] = node
        for out in node.output:
            todo += consumers[out]
    return sorted(seen)


def quantize(fp32: Path, out: Path, tiles: np.ndarray, variant: str) -> Path:
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.items = iter([{"images": t[None]} for t in tiles])

        def get_next(self):
            return next(self.items, None)

    pre = out.with_suffix(".pre.onnx")
    quant_pre_process(str(fp32), str(pre), skip_symbolic_shape=True)
    proto = onnx.load(str(pre))
    exclude = []
    if variant in ("no-decode", "no-decode-no-attn"):
        exclude += decode_nodes(proto)
    if variant == "no-decode-no-attn":
        exclude += [n.name for n in proto.graph.node if "/attn/" in n.name and n.op_type in ("MatMul", "Softmax")]
    types = ["Conv"] if variant == "conv-only" else None
    quantize_static(
        str(pre),
        str(out),
        Reader(),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        calibrate_method=CalibrationMethod.MinMax,
        nodes_to_exclude=exclude,
        op_types_to_quantize=types,
    )
    return out


def quantized_op_types(path: Path) -> dict[str, int]:
    """Op types (other than Q/DQ) with at least one input coming from a DequantizeLinear."""
    import onnx

    proto = onnx.load(str(path))
    dq_out = {o for n in proto.graph.node if n.op_type == "DequantizeLinear" for o in n.output}
    count = collections.Counter(
        n.op_type
        for n in proto.graph.node
        if n.op_type not in ("QuantizeLinear", "DequantizeLinear") and any(i in dq_out for i in n.input)
    )
    return dict(sorted(count.items()))


def output_scales(path: Path) -> str:
    """The quantization steps of the tensors entering the graph's last node (the output
    concat of boxes in pixels and class probabilities); '-' when they stay float."""
    import onnx
    from onnx import numpy_helper

    proto = onnx.load(str(path))
    inits = {i.name: numpy_helper.to_array(i) for i in proto.graph.initializer}
    producer = {o: n for n in proto.graph.node for o in n.output}
    last = producer[proto.graph.output[0].name]
    while last.op_type in ("DequantizeLinear", "QuantizeLinear", "Reshape", "Transpose"):
        last = producer[last.input[0]]
    steps = []
    for name in last.input:
        node = producer.get(name)
        if node is not None and node.op_type == "DequantizeLinear" and node.input[1] in inits:
            steps.append(f"{float(inits[node.input[1]].max()):.4g}")
        else:
            steps.append("-")
    return f"{last.op_type} {last.name}: " + ", ".join(steps)


def compare(ref_sess, sess, tiles: np.ndarray) -> dict:
    from micro_detector.boxes import box_iou, postprocess

    found = total = 0
    score_err, box_diff, prob_diff = [], 0.0, 0.0
    for tile in tiles:
        a = ref_sess.run(None, {"images": tile[None]})[0]
        b = sess.run(None, {"images": tile[None]})[0]
        box_diff = max(box_diff, float(np.abs(a[:, :4] - b[:, :4]).max()))
        prob_diff = max(prob_diff, float(np.abs(a[:, 4:] - b[:, 4:]).max()))
        da, db = postprocess(a, conf=0.25)[0], postprocess(b, conf=0.25)[0]
        total += len(da)
        if len(da) and len(db):
            iou = box_iou(da[:, :4], db[:, :4]) * (da[:, None, 5] == db[None, :, 5])
            best = iou.argmax(1)
            hit = iou[np.arange(len(da)), best] >= 0.5
            found += int(hit.sum())
            score_err += list(np.abs(da[hit, 4] - db[best[hit], 4]))
    return {
        "fp32_objects": total,
        "found_again": found / total if total else float("nan"),
        "score_err": float(np.mean(score_err)) if score_err else float("nan"),
        "max_box_px": box_diff,
        "max_prob": prob_diff,
    }


def main(argv=None) -> int:
    import onnxruntime as ort

    from micro_detector.model.cache import cached_export
    from micro_detector.model.onnx_meta import onnx_metadata, spec_from_metadata
    from micro_detector.model.quantize_ov import calibration_tiles

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, default=ROOT / "resources" / "models" / "default.pt")
    p.add_argument("--raster", type=Path, default=ROOT / "resources" / "demo" / "kit_MunichStreet02-MOS93.tif")
    p.add_argument("--tiles", type=int, default=16)
    p.add_argument("--variants", default=",".join(VARIANTS))
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "ort_int8_autopsy.txt")
    args = p.parse_args(argv)
    warnings.simplefilter("ignore")
    fp32, _ = cached_export(args.model)
    spec = spec_from_metadata(onnx_metadata(fp32), fp32)
    tiles = calibration_tiles(spec, [args.raster], count=args.tiles)
    ref = ort.InferenceSession(str(fp32), providers=["CPUExecutionProvider"])
    lines = [
        f"model {args.model.name} (fp32 export), {len(tiles)} real tiles of {args.raster.name} "
        "(calibration and comparison)",
        "",
        "| variant | found again | score error | max box diff px | max prob diff | output node input steps | quantized op inputs |",
        "|---|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory(prefix="ort-int8-") as tmp:
        for variant in args.variants.split(","):
            if variant == "openvino-nncf":
                from micro_detector.model.quantize_ov import quantize_int8

                xml = quantize_int8(fp32, Path(tmp) / "nncf" / "int8.xml", tiles)
                r, steps, ops = compare(ref, OpenVinoSession(xml), tiles), "-", "NNCF MIXED, see quantize_ov.py"
            else:
                path = quantize(fp32, Path(tmp) / f"{variant}.onnx", tiles, variant)
                sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
                r, steps = compare(ref, sess, tiles), output_scales(path)
                ops = ", ".join(f"{k} {v}" for k, v in quantized_op_types(path).items())
            lines.append(
                f"| {variant} | {r['found_again']:.3f} of {r['fp32_objects']} | {r['score_err']:.3f} | "
                f"{r['max_box_px']:.1f} | {r['max_prob']:.3f} | {steps} | {ops} |"
            )
            print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
