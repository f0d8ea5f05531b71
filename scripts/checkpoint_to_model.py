"""A model file from a training checkpoint: the EMA weights (else the raw weights) of the
epoch `last_checkpoint.pt` holds, with the spec of a reference model of the same classes.

    .venv/bin/python scripts/checkpoint_to_model.py RUN/last_checkpoint.pt OUT.pt [--like MODEL.pt]
        [--metadata EXTRA.json]

For a run stopped between validations (best.pt is written only when a validation improves):
its last finished epoch becomes a model that `detect`, `evaluate` and the benchmarks take.
`--like` (default: the bundled default model) gives the spec (classes, scale, input, GSD
range); the checkpoint's config must agree with it on scale, input size and class count, else
the script stops and says which differs. `--metadata` adds keys to the file's metadata (the
recipe, train/val image names, a validation table measured apart). The output is written
atomically, never over an existing file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("checkpoint", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--like", type=Path, default=ROOT / "resources" / "models" / "default.pt")
    p.add_argument("--metadata", type=Path, help="a JSON object of metadata keys to add")
    args = p.parse_args(argv)
    if args.out.exists():
        p.error(f"{args.out} exists: give a new file name")
    extra = {}
    if args.metadata is not None:
        import json

        try:
            extra = json.loads(args.metadata.read_text())
        except (OSError, ValueError) as error:
            p.error(f"--metadata {args.metadata}: {error}")
        if not isinstance(extra, dict):
            p.error(f"--metadata {args.metadata}: a JSON object is needed")
    from micro_detector.model import io as model_io
    from micro_detector.training.checkpoint import CheckpointError, read_checkpoint

    try:
        ck = read_checkpoint(args.checkpoint)
    except CheckpointError as error:
        p.error(str(error))
    model = model_io.load_model(args.like)
    cfg, spec = ck.config, model.spec
    differs = [
        name
        for name, ours, theirs in (("scale", cfg.get("scale"), spec.scale), ("imgsz", cfg.get("imgsz"), spec.imgsz))
        if ours != theirs
    ]
    if differs:
        p.error(f"the checkpoint's {', '.join(differs)} differ from {args.like}'s: give a matching --like")
    state = ck.ema if ck.ema is not None else ck.model
    missing, unexpected = model.load_state_dict({k: v.float() for k, v in state.items()}, strict=False)
    if missing or unexpected:
        p.error(f"{args.like} does not fit the checkpoint: missing {missing[:3]}, unexpected {unexpected[:3]}")
    metadata = {
        **{k: v for k, v in model.metadata.items() if k in ("gsd_served_m", "scale", "imgsz")},
        "trained": True,
        "epoch": ck.epoch + 1,
        "epochs": cfg.get("epochs"),
        "from_checkpoint": str(args.checkpoint),
        "weights": "EMA" if ck.ema is not None else "raw",
        **extra,
    }
    model_io.save_model(model, args.out, metadata=metadata, half=True)
    print(f"{args.out}: epoch {ck.epoch + 1}/{cfg.get('epochs')} ({metadata['weights']} weights) of {args.checkpoint}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
