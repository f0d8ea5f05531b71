"""The fast paths: normalisation inside the model (old files still equal), BatchNorm folding,
the backend choice and its ONNX cache, thread policy, GDAL's cache cap."""

import copy
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import KIT_RASTER, ROOT
from synthetic import lively_model, real_crops

from micro_detector.model import cache
from micro_detector.model.fuse import fuse_model
from micro_detector.model.io import FORMAT, load_model, save_model
from micro_detector.model.onnx_io import INPUT_KEY, export_onnx
from micro_detector.model.runner import OnnxRunner, TorchRunner, open_runner

SPEC = dict(mean=[0.1, 0.2, 0.3], std=[0.5, 0.6, 0.7], input_scale=200.0)  # not the defaults


def assert_same_boxes(a, b, score_atol, px=1.0):
    """Per image the same number of boxes, paired one to one: same class, corners within `px`,
    scores within `score_atol` (near-tied scores may come out in another order)."""
    assert [len(d) for d in a] == [len(d) for d in b]
    for da, db in zip(a, b):
        if not len(da):
            continue
        diff = np.abs(da[:, None, :4] - db[None, :, :4]).max(-1)
        diff[da[:, None, 5] != db[None, :, 5]] = np.inf
        pair = diff.argmin(1)
        assert len(set(pair.tolist())) == len(pair)
        assert diff[np.arange(len(da)), pair].max(initial=0) <= px
        np.testing.assert_allclose(da[:, 4], db[pair, 4], atol=score_atol)


def old_pipeline(model, pixels: np.ndarray) -> torch.Tensor:
    """What format-version-1 code computed: the runner normalised, the network did not."""
    spec = model.spec
    net = copy.deepcopy(model)
    net.norm = torch.nn.Identity()
    shift = torch.tensor(spec.mean).view(1, -1, 1, 1) * spec.input_scale
    scale = torch.tensor(spec.std).view(1, -1, 1, 1) * spec.input_scale
    with torch.no_grad():
        return net.forward_decoded((torch.from_numpy(pixels).float() - shift) / scale)


def assert_same_decoded(a: torch.Tensor, b: torch.Tensor) -> None:
    """Decoded outputs equal to float rounding: boxes within 0.05 px, probabilities 1e-4."""
    torch.testing.assert_close(a[:, :4], b[:, :4], rtol=0, atol=0.05)
    torch.testing.assert_close(a[:, 4:], b[:, 4:], rtol=0, atol=1e-4)


def test_model_normalises_pixels_of_any_dtype():
    model = lively_model(**SPEC)
    x = real_crops(2, 64, 64)
    with torch.no_grad():
        as_uint8 = model.forward_decoded(torch.from_numpy(x))
        as_float = model.forward_decoded(torch.from_numpy(x).float())
    torch.testing.assert_close(as_uint8, as_float)
    assert_same_decoded(as_float, old_pipeline(model, x))


def test_old_format_file_loads_and_gives_the_same_outputs(tmp_path):
    model = lively_model(**SPEC)
    old = tmp_path / "v1.pt"  # as the version 1 code wrote it: same keys, version 1
    torch.save(
        {
            "format": FORMAT,
            "format_version": 1,
            "spec": model.spec.to_dict(),
            "state_dict": {k: v.clone() for k, v in model.state_dict().items()},
            "metadata": {"saved": "2026-01-01T00:00:00+00:00"},
        },
        old,
    )
    assert not any(k.startswith("norm.") for k in model.state_dict())
    loaded = load_model(old)
    x = real_crops(2, 96, 96, seed=5)
    with torch.no_grad():
        now = loaded.forward_decoded(torch.from_numpy(x))
    assert_same_decoded(now, old_pipeline(model, x))
    new = save_model(loaded, tmp_path / "v2.pt")
    assert torch.load(new, weights_only=True)["format_version"] == 2


def test_old_onnx_export_is_normalised_outside_the_graph(tmp_path):
    import onnx

    model = lively_model(seed=2, **SPEC)
    new = OnnxRunner(export_onnx(model, tmp_path / "new.onnx", imgsz=128))
    legacy_net = copy.deepcopy(model)
    legacy_net.norm = torch.nn.Identity()  # the graph old exports had
    path = export_onnx(legacy_net, tmp_path / "old.onnx", imgsz=128)
    proto = onnx.load(str(path))
    kept = [p for p in proto.metadata_props if p.key != INPUT_KEY]
    del proto.metadata_props[:]
    proto.metadata_props.extend(kept)
    onnx.save(proto, str(path))
    old = OnnxRunner(path)
    assert old._legacy is not None and new._legacy is None
    batch = real_crops(2, 128, 128, seed=7)
    expected = new.predict(batch, conf=0.001)
    assert sum(len(d) for d in expected) >= 10
    assert_same_boxes(expected, old.predict(batch, conf=0.001), 1e-3)


def test_torch_and_onnx_agree_on_real_pixels_with_normalisation_in_the_graph(tmp_path):
    # the shipped, trained model: an untrained net amplifies float32 rounding differences
    model = load_model(ROOT / "resources" / "models" / "default.pt")
    onnx_runner = OnnxRunner(export_onnx(model, tmp_path / "m.onnx"))
    batch = real_crops(2, 256, 256, seed=9)
    a = TorchRunner(model, fuse=False).predict(batch, conf=0.05)
    assert sum(len(d) for d in a) >= 10
    assert_same_boxes(a, onnx_runner.predict(batch, conf=0.05), 1e-4, px=0.01)


def test_batchnorm_folding_is_exact_and_gives_the_same_boxes():
    model = lively_model(seed=3)
    fused = fuse_model(model)
    assert fused.fused_blocks > 100 and not getattr(model, "fused", False)  # a copy
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fused.modules())
    with pytest.raises(ValueError, match="folded"):
        save_model(fused, "never-written.pt")
    # the algebra, free of float32 rounding (which this chaotic untrained net amplifies)
    x = torch.from_numpy(real_crops(2, 64, 64)).double()
    with torch.no_grad():
        torch.testing.assert_close(
            fuse_model(model.double()).forward_decoded(x), model.forward_decoded(x), rtol=0, atol=1e-7
        )
    # the shipped model at float32 through the runners, on real pixels
    default = load_model(ROOT / "resources" / "models" / "default.pt")
    batch = real_crops(2, 256, 256)
    plain = TorchRunner(default, fuse=False).predict(batch, conf=0.05)
    folded = TorchRunner(default).predict(batch, conf=0.05)
    assert sum(len(d) for d in plain) >= 10
    assert_same_boxes(plain, folded, 1e-4, px=1e-2)


@pytest.fixture
def pt_file(tmp_path):
    (tmp_path / "models").mkdir()
    return save_model(lively_model(seed=3), tmp_path / "models" / "m.pt")


def test_auto_backend_exports_once_to_the_cache_and_says_why(tmp_path, pt_file):
    folder = tmp_path / "cache"
    pt_file.parent.chmod(0o555)  # the model's folder is read-only: nothing may go there
    try:
        first = open_runner(pt_file, device="cpu", cache_dir=folder)
        second = open_runner(pt_file, device="cpu", cache_dir=folder)
    finally:
        pt_file.parent.chmod(0o755)
    assert first.backend == second.backend == "onnx"
    assert "onnxruntime is installed" in first.backend_reason and "made once" in first.backend_reason
    assert "reused" in second.backend_reason and first.path == second.path
    assert first.path == cache.entry_path(folder, cache.file_sha256(pt_file))
    assert sorted(p.name for p in pt_file.parent.iterdir()) == ["m.pt"]
    assert not list(folder.rglob("*.part"))
    first.path.write_bytes(b"damaged")  # a broken entry is made again, not an error
    assert "made once" in open_runner(pt_file, device="cpu", cache_dir=folder).backend_reason
    forced = open_runner(pt_file, backend="torch", device="cpu", cache_dir=folder)
    assert forced.backend == "torch" and "--backend torch" in forced.backend_reason
    batch = real_crops(2, 128, 128, seed=11)
    assert_same_boxes(forced.predict(batch, conf=0.01), first.predict(batch, conf=0.01), 5e-3)


def test_an_export_beside_the_model_is_used_only_when_made_from_it(tmp_path, pt_file):
    sibling = pt_file.with_suffix(".onnx")
    export_onnx(load_model(pt_file), sibling, source_sha256=cache.file_sha256(pt_file))
    runner = open_runner(pt_file, device="cpu", cache_dir=tmp_path / "cache")
    assert runner.path == sibling and "beside the model" in runner.backend_reason
    assert not (tmp_path / "cache").exists()  # nothing exported
    save_model(lively_model(seed=8), pt_file)  # the .pt changed: the .onnx is stale
    runner = open_runner(pt_file, device="cpu", cache_dir=tmp_path / "cache")
    assert runner.path != sibling and "made once" in runner.backend_reason


def test_a_changed_model_file_gets_a_new_export(tmp_path, pt_file):
    folder = tmp_path / "cache"
    before = open_runner(pt_file, device="cpu", cache_dir=folder)
    save_model(lively_model(seed=8), pt_file)  # retrained in place
    after = open_runner(pt_file, device="cpu", cache_dir=folder)
    assert after.path != before.path and "made once" in after.backend_reason
    batch = real_crops(1, 128, 128, seed=12)
    raw_before = before.session.run(None, {"images": batch.astype(np.float32)})[0]
    raw_after = after.session.run(None, {"images": batch.astype(np.float32)})[0]
    assert not np.allclose(raw_before, raw_after)
    fresh = OnnxRunner(export_onnx(load_model(pt_file), tmp_path / "fresh.onnx"))
    np.testing.assert_array_equal(
        fresh.session.run(None, {"images": batch.astype(np.float32)})[0], raw_after
    )  # the new file's export, not the old one's


def run_python(code: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """`code` in a fresh interpreter; `env` entries set to None are removed."""
    full = {**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)}
    full = {k: v for k, v in full.items() if v is not None}
    return subprocess.run(
        [sys.executable, "-c", code], env=full, capture_output=True, text=True, timeout=600, cwd=str(ROOT)
    )


BLOCK_TORCH = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "torch":
            raise ModuleNotFoundError(f"No module named {name!r}")
sys.meta_path.insert(0, Block())
"""


def test_without_torch_the_cached_export_is_used(tmp_path, pt_file):
    folder = tmp_path / "cache"
    cache.cached_export(pt_file, folder)
    run = run_python(
        BLOCK_TORCH
        + f"""
from micro_detector.model.runner import open_runner
r = open_runner({str(pt_file)!r}, cache_dir={str(folder)!r})
print(r.backend, '|', r.backend_reason)
assert 'torch' not in sys.modules
"""
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("onnx | torch is not installed")
    run = run_python(
        BLOCK_TORCH
        + f"""
from micro_detector.model.runner import open_runner
open_runner({str(pt_file)!r}, cache_dir={str(tmp_path / "empty")!r})
"""
    )
    assert run.returncode != 0 and "torch" in run.stderr and "pip install" in run.stderr


def test_cpu_auto_path_does_not_load_torch_once_exported(tmp_path, pt_file):
    folder = tmp_path / "cache"
    cache.cached_export(pt_file, folder)
    run = run_python(f"""
import sys
from micro_detector.model.runner import _cuda_possible, open_runner
r = open_runner({str(pt_file)!r}, cache_dir={str(folder)!r})  # device auto, as the CLI
print(r.backend, _cuda_possible(), 'torch' in sys.modules)
""")
    assert run.returncode == 0, run.stderr
    backend, cuda, torch_loaded = run.stdout.split()
    if cuda == "False":  # no NVIDIA driver: torch (seconds, ~300 MB) is never imported
        assert (backend, torch_loaded) == ("onnx", "False")


@pytest.mark.slow
def test_two_processes_racing_to_export_both_get_a_whole_file(tmp_path, pt_file):
    folder = tmp_path / "cache"
    code = f"""
from micro_detector.model.runner import open_runner
r = open_runner({str(pt_file)!r}, device='cpu', cache_dir={str(folder)!r})
print(r.path)
"""
    full = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code], env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), [e for _, e in outs]
    assert [p.name for p in (folder / "onnx").iterdir()] == [cache.entry_path(folder, cache.file_sha256(pt_file)).name]
    assert OnnxRunner(outs[0][0].strip()).spec.scale == "n"


def test_thread_policy_is_passive_and_capped():
    run = run_python(
        """
import os
import micro_detector
assert os.environ['OMP_WAIT_POLICY'] == 'PASSIVE'
import onnxruntime as ort
from micro_detector.model.cpu import compute_threads, ort_session_options
o = ort_session_options(ort)
assert o.intra_op_num_threads == compute_threads() and o.inter_op_num_threads == 1
assert o.get_session_config_entry('session.intra_op.allow_spinning') == '0'
import torch
from micro_detector.model.runner import TorchRunner
from micro_detector.model.yolov12 import build_model
from micro_detector.model.spec import ModelSpec
r = TorchRunner(build_model(ModelSpec(scale='n')), device='cpu', threads=1)
assert torch.get_num_threads() == 1 and r.threads == 1
print('ok')
""",
        env={"OMP_WAIT_POLICY": None, "OMP_NUM_THREADS": None},
    )
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr
    run = run_python(
        "import os, micro_detector; print(os.environ['OMP_WAIT_POLICY'])", env={"OMP_WAIT_POLICY": "ACTIVE"}
    )
    assert run.stdout.strip() == "ACTIVE"  # the user's choice wins


def test_reader_caps_gdal_block_cache():
    from osgeo import gdal

    from micro_detector.raster import GDAL_CACHE_MB, WindowReader, read_info

    before = gdal.GetCacheMax()
    gdal.SetCacheMax(4 * 1024**3)
    try:
        WindowReader(read_info(KIT_RASTER), [1, 2, 3])
        assert gdal.GetCacheMax() == GDAL_CACHE_MB * 1024 * 1024
        gdal.SetCacheMax(16 * 1024 * 1024)  # a smaller cap someone chose is kept
        WindowReader(read_info(KIT_RASTER), [1, 2, 3])
        assert gdal.GetCacheMax() == 16 * 1024 * 1024
    finally:
        gdal.SetCacheMax(before)
