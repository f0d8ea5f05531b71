"""Build the many-source training corpus and the out-of-distribution (OOD) corpus.

Reads the fetched repository snapshots (`--mirror`, default /work/.mirror; fetching them is
the user's job: a missing repository or commit is named), checks every image's SHA-256
against its source manifest (micro_detector/training/datasets/corpus/*.json), applies the
reserved-data rules (reserved_blocklist.json there), and writes micro4-format folders outside
git: `--out` (default /work/corpus: micro4 unchanged plus the training sources) and `--ood-out`
(default /work/corpus_ood: the OOD sources only, so no training command picks them up).
Re-running gives the same labels and hashes.

    python scripts/build_corpus.py [--out DIR] [--ood-out DIR] [--only SRC,...]
    python scripts/build_corpus.py --update-manifests   # refill files/SHA-256/counts from the snapshots
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from micro_detector.training.corpus.build import BuildConfig, BuildError, build  # noqa: E402
from micro_detector.training.corpus.manifest import ManifestError, load_manifests  # noqa: E402
from micro_detector.training.corpus.mirror import MirrorError  # noqa: E402
from micro_detector.training.corpus.readme import write_readme  # noqa: E402

MANIFESTS = ROOT / "micro_detector" / "training" / "datasets" / "corpus"


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mirror", type=Path, default=Path("/work/.mirror"))
    p.add_argument(
        "--micro4",
        type=Path,
        default=next(
            (d for d in (ROOT.parent / "shared/data/micro4", Path("/work/shared/data/micro4")) if d.is_dir()),
            ROOT.parent / "shared/data/micro4",
        ),
    )
    p.add_argument("--manifests", type=Path, default=MANIFESTS)
    p.add_argument("--out", type=Path, default=Path("/work/corpus"))
    p.add_argument("--ood-out", type=Path, default=Path("/work/corpus_ood"))
    p.add_argument("--only", type=lambda s: s.split(","), help="build these source ids only")
    p.add_argument("--max-side", type=int, default=2048, help="larger images are cut into pieces")
    p.add_argument("--update-manifests", action="store_true")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    cfg = BuildConfig(
        args.manifests,
        args.mirror,
        args.micro4,
        args.out,
        args.ood_out,
        args.update_manifests,
        args.only,
        args.max_side,
    )
    try:
        report = build(cfg)
    except (BuildError, MirrorError, ManifestError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    drops = report["dropped"]
    print(f"reserved rules dropped {len(drops.dropped)} candidate files: {drops.by_reason()}")
    for source, path, reason in drops.dropped:
        print(f"  dropped {source}: {path}: {reason}")
    if not args.update_manifests:
        manifests = [m for m in load_manifests(args.manifests) if not args.only or m.source in args.only]
        for folder, split, title in ((args.out, "train", "Training corpus"), (args.ood_out, "ood", "OOD corpus")):
            chosen = [m for m in manifests if m.split == split]
            size = subprocess.run(["du", "-sh", str(folder)], capture_output=True, text=True).stdout.split("\t")[0]
            note = (
                f"Built by scripts/build_corpus.py. {'micro4 unchanged plus ' if split == 'train' else ''}"
                f"{len(chosen)} public sources; {size} on disk. Never use the OOD corpus for training or validation."
            )
            print(write_readme(folder, title, chosen, drops, note))
    return 0


if __name__ == "__main__":
    sys.exit(main())
