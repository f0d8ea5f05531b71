"""The per-user cache of ONNX exports, keyed by the SHA-256 of the model file.

Why: ONNX Runtime is the fastest CPU path (1.5-2x torch), but users hold .pt model files.
The first run exports the model once into a cache folder the user owns (never beside the
model, whose folder may be read-only or shared); later runs reuse it. Because the key is the
file's content, a retrained or replaced model gets a fresh export and an unchanged one is
never exported twice, wherever it is copied. Exports are written under a unique temporary
name and renamed, so two processes racing to make the same entry both end with a whole file.

Where: the caller's folder (QGIS passes <profile>/micro_detector/onnx-cache unless
`MICRO_DETECTOR_CACHE` is set), else `MICRO_DETECTOR_CACHE`
when set, else the platform's cache folder (XDG_CACHE_HOME or ~/.cache on Linux,
%LOCALAPPDATA% on Windows, ~/Library/Caches on macOS) + /micro-detector.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

CACHE_ENV = "MICRO_DETECTOR_CACHE"
# Bumped whenever the exporter changes the graph it writes, so old entries are not reused.
GRAPH_VERSION = 2
KEEP_ENTRIES = 16  # oldest-used exports beyond this many are deleted


def default_cache_dir(cache_dir: str | Path | None = None) -> Path:
    """The cache folder: `cache_dir`, else MICRO_DETECTOR_CACHE, else the platform's."""
    if cache_dir is not None:
        return Path(cache_dir)
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    home = Path.home()
    if sys.platform.startswith("win"):
        base = Path(os.environ.get("LOCALAPPDATA", home / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = home / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or home / ".cache")
    return base / "micro-detector"


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's content (read in 1 MiB pieces)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def entry_path(cache_dir: Path, sha256: str) -> Path:
    """Where the export of the model with content `sha256` lives."""
    return cache_dir / "onnx" / f"{sha256}-fp32-g{GRAPH_VERSION}.onnx"


def cached_export(model_path: str | Path, cache_dir: str | Path | None = None) -> tuple[Path, bool]:
    """(path of the ONNX export of the .pt `model_path`, True when it was already cached).

    Exports it when missing (needs torch and onnx)."""
    folder = default_cache_dir(cache_dir)
    sha = file_sha256(model_path)
    target = entry_path(folder, sha)
    if target.is_file():
        os.utime(target)  # marks it recently used for pruning
        return target, True
    target.parent.mkdir(parents=True, exist_ok=True)
    from .io import load_model
    from .onnx_io import export_onnx

    export_onnx(load_model(model_path), target, source_sha256=sha)
    prune(folder)
    return target, False


def find_export(model_path: str | Path, cache_dir: str | Path | None = None) -> Path | None:
    """An fp32 ONNX export of the .pt `model_path` that needs no torch to find: the one beside
    it (same name, .onnx; refused when its recorded source hash is another file's), else the
    cached one. None when there is neither."""
    from .onnx_io import SOURCE_KEY

    model_path = Path(model_path)
    sha = file_sha256(model_path)
    sibling = model_path.with_suffix(".onnx")
    if sibling.is_file():
        source = _onnx_metadata(sibling).get(SOURCE_KEY)
        if source in (None, sha):
            return sibling
    cached = entry_path(default_cache_dir(cache_dir), sha)
    return cached if cached.is_file() else None


def _onnx_metadata(path: Path) -> dict:
    try:
        import onnxruntime as ort

        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return dict(session.get_modelmeta().custom_metadata_map)
    except Exception:  # unreadable: let the runner report it when it opens the file
        return {}


def prune(cache_dir: Path, keep: int = KEEP_ENTRIES) -> None:
    """Delete all but the `keep` most recently used exports (and stale temporary files)."""
    folder = cache_dir / "onnx"
    try:
        entries = sorted(folder.glob("*.onnx"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[keep:]:
            old.unlink(missing_ok=True)
    except OSError:  # another process pruned at the same time; nothing is lost
        pass
