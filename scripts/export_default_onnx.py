"""Write resources/models/default.onnx: the ONNX export of resources/models/default.pt.

The shipped .onnx lets detection, detect-folder and evaluate run with onnxruntime alone (no
torch). It is the project's own export (micro_detector.model.onnx_io.export_onnx); its large
weights are then stored as float16, each followed by a Cast to float32: the file is half the
size (the .pt stores float16 weights too), and ONNX Runtime folds the casts when the session
opens, computing in float32 as before. The export folds BatchNorm into the convolutions, so
the folded weights are rounded to float16 once (relative error below 1e-3).
tests/test_install.py checks that the .onnx belongs to the current .pt (the .pt's SHA-256
is in its metadata) and that both find the same boxes on the demo raster.

    .venv/bin/python scripts/export_default_onnx.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MIN_ELEMENTS = 64  # small tensors (scales, shapes) stay float32: not worth a Cast


def weights_to_float16(proto) -> int:
    """Store each large float32 initializer of `proto` as float16 plus a Cast back to float32.
    Returns the number of tensors converted."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    graph, casts, kept, count = proto.graph, [], [], 0
    for init in graph.initializer:
        array = numpy_helper.to_array(init)
        if init.data_type != TensorProto.FLOAT or array.size < MIN_ELEMENTS:
            kept.append(init)
            continue
        half = numpy_helper.from_array(array.astype(np.float16), init.name + "__fp16")
        kept.append(half)
        casts.append(
            helper.make_node("Cast", [half.name], [init.name], to=TensorProto.FLOAT, name=init.name + "__cast")
        )
        count += 1
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = casts + list(graph.node)  # the casts first: the graph stays topologically sorted
    del graph.node[:]
    graph.node.extend(nodes)
    return count


def export_default(pt: Path, out: Path) -> Path:
    """Export `pt` to `out` (float16-stored weights, the .pt's SHA-256 in the metadata: the
    runner then takes this file as the .pt's export, see model/runner.py)."""
    import onnx

    from micro_detector.model.cache import file_sha256
    from micro_detector.model.io import load_model
    from micro_detector.model.onnx_io import export_onnx

    tmp = export_onnx(load_model(pt), out.with_name(out.name + ".full"), source_sha256=file_sha256(pt))
    proto = onnx.load(str(tmp))
    converted = weights_to_float16(proto)
    onnx.checker.check_model(proto)
    part = out.with_name(out.name + ".part")
    onnx.save(proto, str(part))
    part.replace(out)
    tmp.unlink()
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, {converted} weight tensors as float16)")
    return out


if __name__ == "__main__":
    from micro_detector import resources

    source = resources.default_model("pt")
    if source is None:
        sys.exit("no resources/models/default.pt to export")
    export_default(source, source.with_suffix(".onnx"))
