"""The model file: one torch zip archive holding a plain dict, loaded with weights_only=True.

Keys: format, format_version, spec (ModelSpec as a dict), state_dict, metadata (free-form
training metadata: JSON-like values only). Nothing pickled is ever executed on load.

Format versions: 1 = the network took normalised input, which its runners computed from the
spec; 2 = the network normalises 0-255 pixels itself (its first layer, built from the same
spec fields). The stored tensors are the same, so a version 1 file loads into today's
network and gives the same outputs for the same pixels.
"""

from __future__ import annotations

import datetime as _dt
import zipfile
from pathlib import Path

import torch

from .spec import ModelFileError, ModelSpec
from .yolov12 import YOLOv12, build_model

FORMAT = "micro-detector-model"
FORMAT_VERSION = 2


def save_model(model: YOLOv12, path: str | Path, metadata: dict | None = None, half: bool = False) -> Path:
    """Write `model` with its spec and metadata; written to a temporary name, then renamed."""
    path = Path(path)
    if getattr(model, "fused", False):
        raise ValueError("this model had its BatchNorm folded for inference; save the unfused model")
    params = {name for name, _ in model.named_parameters()}
    state = {}
    for k, v in model.state_dict().items():
        v = v.detach().cpu().clone()
        # fp16 only for learned weights within its range; BN running stats stay fp32
        if half and k in params and v.is_floating_point() and v.abs().max() < 6e4:
            v = v.half()
        state[k] = v
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "spec": model.spec.to_dict(),
        "state_dict": state,
        "metadata": {"saved": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"), **(metadata or {})},
    }
    from ..diskio import atomic_file

    with atomic_file(path, what="saving the model") as tmp:
        torch.save(payload, tmp)
    return path


def is_zip_archive(path: str | Path) -> bool:
    """Whether `path` is a zip archive (a torch file); False, not an exception, for damaged
    ones (zipfile.is_zipfile raises BadZipFile on some: found by fuzzing)."""
    try:
        return zipfile.is_zipfile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def load_weights_only(path: str | Path, kind: str, error: type[ValueError] = ModelFileError) -> object:
    """torch.load of a file that holds only tensors and plain data (model files, training
    checkpoints): weights-only, so nothing pickled ever runs. `error` (naming the file as a
    `kind`) for a missing file, one that is not a torch archive, a refused pickle, or damage."""
    path = Path(path)
    if not path.is_file():
        raise error(f"{kind} not found: {path}")
    if not is_zip_archive(path):
        raise error(f"{path} is not a {kind} (not a torch archive: corrupt, truncated, or another kind of file)")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for foreign or damaged archives
        if "weights only load failed" in str(exc).lower():
            # a pickle that would run code when loaded: refused, and said so plainly
            raise error(
                f"{path} was refused: it holds Python objects that a safe (weights-only) load will "
                f"not run; a {kind} holds only tensors and plain data. Use one written by "
                "micro-detector"
            ) from None
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise error(f"{path} cannot be read as a {kind} (corrupt or truncated?): {first}") from None


def read_model_file(path: str | Path) -> dict:
    """The validated payload of a model file (spec as ModelSpec), without building the network."""
    payload = load_weights_only(path, "micro-detector model file")
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ModelFileError(f"{path} is a torch file but not a micro-detector model (expected format {FORMAT!r})")
    version = payload.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} has model format version {version!r}; this version of "
            f"micro-detector reads up to {FORMAT_VERSION}: upgrade it"
        )
    missing = {"spec", "state_dict"} - payload.keys()
    if missing:
        raise ModelFileError(f"{path} lacks {sorted(missing)}")
    state = payload["state_dict"]
    bad = [k for k, v in state.items() if not isinstance(v, torch.Tensor)] if isinstance(state, dict) else ["*"]
    if bad:
        raise ModelFileError(
            f"{path} is damaged: its weights must be tensors, but "
            f"{'the state dict is not a dict' if bad == ['*'] else repr(bad[0]) + ' is not'}"
        )
    try:
        payload["spec"] = ModelSpec.from_dict(payload["spec"])
    except (TypeError, ValueError) as error:
        raise ModelFileError(f"{path} has an invalid model description: {error}") from None
    payload.setdefault("metadata", {})
    return payload


def load_model(path: str | Path, device: str | torch.device = "cpu") -> YOLOv12:
    """Build the network described by the file and load its weights (eval mode, float32)."""
    payload = read_model_file(path)
    model = build_model(payload["spec"])
    state = payload["state_dict"]
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    wrong = sorted(k for k in set(own) & set(state) if own[k].shape != state[k].shape)
    if missing or unexpected or wrong:
        details = []
        if missing:
            details.append(f"{len(missing)} missing (e.g. {missing[0]})")
        if unexpected:
            details.append(f"{len(unexpected)} unexpected (e.g. {unexpected[0]})")
        if wrong:
            k = wrong[0]
            details.append(
                f"{len(wrong)} of another shape (e.g. {k}: file "
                f"{tuple(state[k].shape)}, scale {payload['spec'].scale} needs "
                f"{tuple(own[k].shape)})"
            )
        raise ModelFileError(
            f"{path}: weights do not match the YOLOv12{payload['spec'].scale} "
            f"network it describes: " + "; ".join(details)
        )
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    model.metadata = payload["metadata"]
    return model.to(device).eval()
