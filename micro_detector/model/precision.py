"""Inference precision: fp32, bf16, fp16, int8, and the rule `auto` follows.

Reduced precision is applied only where its accuracy was measured. The measurement is a
small JSON beside the model file, `<stem>.precision.json` (for the shipped model
`resources/models/default.precision.json`), written by `benchmarks/precision_ladder.py`: the
micro ladder's mAP50 per rung for each precision on the same backend, the model's SHA-256,
and the time per tile. A record whose hash is another file's is ignored.

- `auto`: the fastest precision whose mAP50 loss against fp32 is at most AUTO_MAX_LOSS on
  every measured rung and which the device computes natively; int8 in addition only when
  it was kept (INT8_MIN_SPEEDUP faster than fp32, loss at most INT8_MAX_LOSS). Otherwise fp32,
  and always fp32 for a model with no record (a user's own model).
- an explicit bf16/fp16/int8 runs as asked, with a warning when it was not measured for this
  model or lost more than the bound.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

PRECISIONS = ("auto", "fp32", "bf16", "fp16", "int8")
AUTO_MAX_LOSS = 0.005  # mAP50, any rung of the micro ladder, against fp32
INT8_MAX_LOSS = 0.01
INT8_MIN_SPEEDUP = 1.5
SPEED_ORDER = ("int8", "bf16", "fp16")  # fastest first where no time per tile was recorded


class PrecisionWarning(UserWarning):
    """A reduced precision runs without a measurement that bounds its accuracy loss."""


def record_path(model_path: str | Path) -> Path:
    """Where the precision measurement of a model file is kept (beside it)."""
    model_path = Path(model_path)
    return model_path.with_name(f"{model_path.stem}.precision.json")


def read_record(model_path: str | Path, sha256: str | None) -> dict | None:
    """The precision record beside `model_path` when it was measured on this very model
    (its `model_sha256` is `sha256`); None otherwise or when unreadable."""
    path = record_path(model_path)
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or not sha256 or record.get("model_sha256") != sha256:
        return None
    if record.get("limit"):  # a partial ladder (a check of the script) is not a measurement
        return None
    return record


def loss(record: dict | None, precision: str) -> float | None:
    """The largest mAP50 loss of `precision` against fp32 over the recorded rungs; None when
    not measured, or when the measuring device ran it as another precision (bf16 asked of a
    CPU without bf16 runs fp32: that row measured nothing about bf16)."""
    measured = (record or {}).get("measured", {})
    if measured.get(precision, {}).get("ran", precision) != precision:
        return None
    ref, got = measured.get("fp32", {}).get("mAP50"), measured.get(precision, {}).get("mAP50")
    if not ref or not got or set(ref) - set(got):
        return None
    return max(ref[rung] - got[rung] for rung in ref)


def speedup(record: dict | None, precision: str) -> float | None:
    """fp32 time per tile over `precision`'s, as recorded; None when not measured."""
    measured = (record or {}).get("measured", {})
    ref, got = measured.get("fp32", {}).get("ms_per_tile"), measured.get(precision, {}).get("ms_per_tile")
    return ref / got if ref and got else None


def acceptable(record: dict | None, precision: str) -> bool:
    """Whether `auto` may take `precision` for this record (see the module rule)."""
    lost = loss(record, precision)
    if lost is None or lost > AUTO_MAX_LOSS:
        return False
    if precision == "int8":
        fast = speedup(record, "int8")
        return fast is not None and fast >= INT8_MIN_SPEEDUP and lost <= INT8_MAX_LOSS
    return True


def resolve(asked: str, record: dict | None, native: set[str]) -> tuple[str, str]:
    """(precision to run, why) for `asked` given the model's record and the precisions the
    device computes natively. Warns (PrecisionWarning) for an explicit, unmeasured or
    out-of-bound reduced precision; the reason says so too."""
    if asked not in PRECISIONS:
        raise ValueError(f"unknown precision {asked!r}: choose one of {', '.join(PRECISIONS)}")
    if asked == "fp32":
        return "fp32", "fp32 as asked"
    if asked == "auto":
        if record is None:
            return "fp32", "precision auto: fp32 (no accuracy measurement of a reduced precision for this model)"
        ok = [p for p in SPEED_ORDER if p in native and acceptable(record, p)]
        ok.sort(key=lambda p: -(speedup(record, p) or 0))
        if not ok:
            return "fp32", (
                "precision auto: fp32 (no measured reduced precision within "
                f"{AUTO_MAX_LOSS} mAP50 that this device computes natively)"
            )
        return ok[0], (
            f"precision auto: {ok[0]} (mAP50 loss {loss(record, ok[0]):.4f} <= {AUTO_MAX_LOSS} "
            f"on the micro ladder, {speedup(record, ok[0]) or 0:.2f}x fp32)"
        )
    lost = loss(record, asked)
    if lost is None:
        note = (
            f"{asked} was not measured on the micro ladder for this model: its accuracy loss "
            "is unknown (benchmarks/precision_ladder.py measures it)"
        )
    elif lost > (INT8_MAX_LOSS if asked == "int8" else AUTO_MAX_LOSS):
        note = f"{asked} lost {lost:.4f} mAP50 against fp32 on the micro ladder for this model"
    else:
        return asked, f"{asked} as asked (mAP50 loss {lost:.4f} on the micro ladder)"
    warnings.warn(note, PrecisionWarning, stacklevel=3)
    return asked, f"{asked} as asked; warning: {note}"
