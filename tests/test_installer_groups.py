"""The installer's groups on Debian's QGIS Python (sympy 1.11.1, no torch, no onnx, no Dask):
the plan takes a sympy new enough for torch by version, not by import; the check runs the
training path (torch._dynamo and torch's sympy symbols, one training step) and one export,
so an old sympy fails in the installer, not later in `train`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT
from micro_object_detection.installer import core, run  # noqa: E402

DEBIAN_PYTHON = "/usr/bin/python3"
WHEELS = [ROOT / ".wheels", Path("/opt/wheels")]


def _debian(code: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT.parent), "PYTHONNOUSERSITE": "1", "HOME": "/tmp"}
    return subprocess.run([DEBIAN_PYTHON, "-c", code], capture_output=True, text=True, timeout=300, env=env, cwd="/tmp")


def test_plan_on_debian_takes_a_newer_sympy_for_torch():
    plugin = ROOT.name
    done = _debian(
        f"import json, sys; sys.path.insert(0, {str(ROOT.parent)!r})\n"
        f"from {plugin}.installer import core\nfrom pathlib import Path\n"
        "plan = core.plan_install(Path('/tmp/x'), groups=['train', 'export', 'dask'], python='py')\n"
        "print(json.dumps({i.name: [i.requirement, i.reason] for i in plan.items}))"
    )
    assert done.returncode == 0, done.stderr
    items = json.loads(done.stdout)
    # Debian 12's python3-sympy is 1.11.1: importable, but too old for torch 2.13
    assert items["sympy"] == ["sympy>=1.13.3", "QGIS's Python has 1.11.1, 1.13.3 or later is needed"]
    assert "numpy" not in items and items["torch"][0] == "torch>=2.1,<=2.13.0"
    assert {"onnx", "protobuf", "ml-dtypes", "dask", "distributed", "msgpack"} <= set(items)


def _wheel(name: str) -> Path:
    for folder in WHEELS:
        found = sorted(folder.glob(f"{name}-*.whl"))
        if found:
            return found[-1]
    pytest.fail(f"no {name} wheel in {WHEELS}: run `make setup`")


def _pip_target(folder: Path, *names: str):
    done = subprocess.run(
        [
            DEBIAN_PYTHON,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            "--target",
            str(folder),
            *map(str, map(_wheel, names)),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.fixture(scope="module")
def torch_folder(tmp_path_factory):
    """torch and its small dependencies, but not sympy: as the installer did before."""
    folder = tmp_path_factory.mktemp("deps")
    _pip_target(folder, "torch", "filelock", "typing_extensions", "networkx", "fsspec")
    return folder


@pytest.mark.slow
def test_check_catches_an_old_sympy_then_passes_with_the_new_one(torch_folder):
    # Debian's sympy 1.11.1: `import torch` alone works, the training path does not
    with pytest.raises(core.InstallError, match="CHECK FAILED: train: ImportError.*equal_valued"):
        run.verify(DEBIAN_PYTHON, torch_folder, ["torch"], ["train"])
    _pip_target(torch_folder, "sympy", "mpmath", "onnx", "protobuf", "ml_dtypes")
    found = run.verify(DEBIAN_PYTHON, torch_folder, ["torch", "sympy", "onnx"], ["train", "export"])
    assert found["sympy"] == "1.14.0" and found["torch"].startswith("2.13")
    assert found["check train"].endswith("sympy 1.14.0: one training step")
    assert found["check export"].endswith(": one export")


def test_dask_workers_in_qgis_without_dask_name_the_setting_and_the_installer(tmp_path):
    import textwrap

    from conftest import KIT_RASTER, qgis_without, run_python

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.tif").symlink_to(KIT_RASTER)
    done = run_python(
        qgis_without("dask", "distributed")
        + textwrap.dedent(f"""
        try:
            processing.run("micro_detector:detect_folder", {{"FOLDER": r"{folder}", "WORKERS": 2,
                           "OUTPUT_FOLDER": r"{tmp_path / "out"}", "SUMMARY": "TEMPORARY_OUTPUT"}})
        except QgsProcessingException as error:
            print("ERROR", error)
    """)
    )
    message = next((line for line in done.stdout.splitlines() if line.startswith("ERROR")), done.stdout + done.stderr)
    assert "Workers" in message and "Install dependencies" in message and "tick Dask" in message, message
    assert "--workers" not in message and "pip install" not in message


def test_pt_model_without_onnx_names_onnx_as_the_missing_package(tmp_path):
    import shutil

    from conftest import run_python

    model = tmp_path / "mine.pt"  # a user's .pt: no ONNX export beside it
    shutil.copy(ROOT / "resources" / "models" / "default.pt", model)
    done = run_python(f"""
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "onnx":
            raise ModuleNotFoundError(name)
sys.meta_path.insert(0, Block())
from micro_object_detection.micro_detector.model.runner import open_runner
runner = open_runner(r"{model}", backend="auto", device="cpu", cache_dir=r"{tmp_path}")
print("REASON", runner.backend_reason)
""")
    assert done.returncode == 0, done.stderr[-2000:]
    reason = next(line for line in done.stdout.splitlines() if line.startswith("REASON"))
    assert "onnx not installed (install onnx for the faster CPU path" in reason, reason
    assert "install onnxruntime" not in reason
