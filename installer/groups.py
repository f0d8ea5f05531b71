"""What each algorithm needs from the installer, as groups of packages, and the check that
proves a group works: a tiny real operation run in QGIS's own interpreter (no QGIS imports).

A package QGIS's Python already has is left out only when its version is recent enough
(torch 2.13 imports `equal_valued` from sympy 1.13, Debian 12 has sympy 1.11): the version is
read from the package's metadata, without importing it into QGIS.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
from dataclasses import dataclass

TESTED = {"onnxruntime": "1.32.0", "torch": "2.13.0", "onnx": "1.23.2", "dask": "2026.8.0", "openvino": "2026.4.1"}
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


@dataclass(frozen=True)
class Package:
    """One pip package: requirement name, import name, minimum version, sizes in MB."""

    name: str
    module: str
    minimum: str = ""
    download_mb: float = 1
    disk_mb: float = 2
    pin: str = ""  # the requirement's version part when it is not `>=minimum`


def _pkg(name, module, minimum="", download_mb=1, disk_mb=2, pin=""):
    return Package(name, module, minimum, download_mb, disk_mb, pin)


# the groups, in the dialog's order; sizes: the Linux x86-64 wheels (download, installed)
GROUPS: dict[str, list[Package]] = {
    "detect": [_pkg("onnxruntime", "onnxruntime", "1.10", 28, 78)],
    "train": [
        _pkg("torch", "torch", "2.1", 192, 863, f">=2.1,<={TESTED['torch']}"),
        _pkg("sympy", "sympy", "1.13.3", 6, 80),
        _pkg("mpmath", "mpmath", "1.1.0", 1, 6),
        _pkg("networkx", "networkx", "2.5.1", 2, 19),
        _pkg("jinja2", "jinja2"),
        _pkg("markupsafe", "markupsafe"),
        _pkg("fsspec", "fsspec", "0.8.5", 1, 3),
        _pkg("filelock", "filelock"),
        _pkg("typing-extensions", "typing_extensions", "4.10.0", 1, 1),
    ],
    "export": [
        _pkg("onnx", "onnx", "1.14", 16, 31, f">=1.14,<={TESTED['onnx']}"),
        _pkg("protobuf", "google.protobuf", "4.25.1", 1, 3),
        _pkg("ml-dtypes", "ml_dtypes", "0.5.0", 5, 24),
        _pkg("typing-extensions", "typing_extensions", "4.10.0", 1, 1),
    ],
    "dask": [
        _pkg("dask", "dask", "2024.1", 1, 17, f"=={TESTED['dask']}"),
        _pkg("distributed", "distributed", "2024.1", 1, 8, f"=={TESTED['dask']}"),
        _pkg("cloudpickle", "cloudpickle", "3.0.0"),
        _pkg("toolz", "toolz", "0.12.0"),
        _pkg("partd", "partd", "1.4.0"),
        _pkg("locket", "locket", "1.0.0"),
        _pkg("msgpack", "msgpack", "1.0.2"),
        _pkg("psutil", "psutil", "5.8.0"),
        _pkg("tornado", "tornado", "6.2.0", 1, 6),
        _pkg("zict", "zict", "3.0.0"),
        _pkg("tblib", "tblib", "1.6.0"),
        _pkg("sortedcontainers", "sortedcontainers", "2.0.5"),
        _pkg("fsspec", "fsspec", "2021.9.0", 1, 3),
        _pkg("click", "click", "8.1"),
        _pkg("pyyaml", "yaml", "5.4.1"),
        _pkg("packaging", "packaging", "20.0"),
        _pkg("jinja2", "jinja2", "2.10.3"),
        _pkg("importlib-metadata", "importlib_metadata", "4.13.0"),
        _pkg("zipp", "zipp", "3.20"),
        _pkg("lazy-importer", "lazy_importer", "0.1"),
    ],
    "openvino": [
        _pkg("openvino", "openvino", "2024.0", 45, 150, f">=2024.0,<={TESTED['openvino']}"),
        _pkg("openvino-telemetry", "openvino_telemetry", "2023.2.1"),
        _pkg("packaging", "packaging", "20.0"),
    ],
}
INDEX = {"torch": TORCH_CPU_INDEX}  # everything else from PyPI (or the wheel folder)


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text.split("+")[0])[:4])


def installed_version(package: Package) -> str | None:
    """The version of `package` the running Python would import (from its metadata, without
    importing it), "" when importable but of unknown version, None when not importable."""
    try:
        if importlib.util.find_spec(package.module.split(".")[0]) is None:
            return None
    except (ImportError, ValueError):
        return None
    try:
        return importlib.metadata.version(package.name)
    except importlib.metadata.PackageNotFoundError:
        return ""


def satisfied(package: Package, version: str | None) -> bool:
    """True when an importable `version` meets the package's minimum (an unknown version
    counts as too old: Debian ships some packages with no or "0.0.0" metadata)."""
    if version is None:
        return False
    if not package.minimum:
        return True
    return bool(version) and _version_tuple(version) >= _version_tuple(package.minimum)


# The check of each group, run by `python -c` with the new folder first on sys.path.
CHECKS = {
    "detect": """
import numpy as np, onnxruntime as ort
from onnxruntime import InferenceSession
model = sys.argv[2]
if model:
    session = InferenceSession(model, providers=["CPUExecutionProvider"])
    shape = [d if isinstance(d, int) else 64 for d in session.get_inputs()[0].shape]
    session.run(None, {session.get_inputs()[0].name: np.zeros(shape, np.float32)})
report("detect", "onnxruntime " + ort.__version__ + (": one forward pass" if model else ""))
""",
    "train": """
import torch, torch._dynamo, sympy
from torch.utils._sympy.functions import FloorDiv  # torch's sympy symbols (sympy >= 1.13)
net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(144, 2))
opt = torch.optim.AdamW(net.parameters(), lr=1e-3)
loss = torch.nn.functional.cross_entropy(net(torch.rand(2, 3, 8, 8)), torch.tensor([0, 1]))
loss.backward(); opt.step()
report("train", "torch %s, sympy %s: one training step" % (torch.__version__, sympy.__version__))
""",
    "export": """
import io, onnx
try:
    import torch
except ImportError:
    report("export", "onnx " + onnx.__version__ + " (torch not installed: no export tried)")
else:
    buffer = io.BytesIO()
    torch.onnx.export(torch.nn.Conv2d(3, 4, 3).eval(), (torch.zeros(1, 3, 8, 8),), buffer, dynamo=False,
                      opset_version=17)
    onnx.checker.check_model(onnx.load_from_string(buffer.getvalue()))
    report("export", "onnx %s: one export" % onnx.__version__)
""",
    "dask": """
import dask, distributed
with distributed.Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None) as c:
    assert c.submit(sum, [1, 2]).result(timeout=60) == 3
report("dask", "dask %s, distributed %s: one task" % (dask.__version__, distributed.__version__))
""",
    "openvino": """
import numpy as np, openvino as ov
core = ov.Core()
model = sys.argv[2]
if model:
    compiled = core.compile_model(model, "CPU")
    shape = [d.get_length() if d.is_static else 64 for d in compiled.inputs[0].get_partial_shape()]
    compiled(np.zeros(shape, np.float32))
report("openvino", "openvino %s on %s" % (ov.__version__, ", ".join(core.available_devices))
       + (": one forward pass" if model else ""))
""",
}

CHECK_HEAD = """
import json, os, sys
folder = sys.argv[1]
# the plugin's folder goes first, as activate() puts it (before site-/dist-packages)
where = next((i for i, p in enumerate(sys.path) if p.endswith(("site-packages", "dist-packages"))), len(sys.path))
sys.path.insert(where, folder)
results = {}
def report(group, text):
    results["check " + group] = text
"""


def check_code(groups: list[str]) -> str:
    """The Python code that imports and runs a tiny real operation of each of `groups`;
    it prints one JSON line {group: what ran} and raises on the first failure."""
    body = "".join(
        f"\ntry:\n{_indent(CHECKS[g])}\nexcept Exception as error:\n"
        f"    print('CHECK FAILED: {g}: %s: %s' % (type(error).__name__, error), file=sys.stderr)\n"
        f"    raise\n"
        for g in groups
    )
    return CHECK_HEAD + body + "\nprint(json.dumps(results))\n"


def _indent(code: str) -> str:
    return "\n".join("    " + line for line in code.strip().splitlines())
