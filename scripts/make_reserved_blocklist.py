"""Write micro_detector/training/datasets/corpus/reserved_blocklist.json: the hashes (never the
images) of the maintainers' reserved data, and the provenance rules the corpus builder applies.

Hashed: every image blob reachable in the snapshots of the reserved repositories, and every
image of micro4's source repositories that micro4 itself does not hold (micro4's images.json
`origin` says which files it holds). Per image: SHA-256 of the file and the 64-bit dHash of
each of its 8 flips / quarter turns. Labels of reserved images are never read.

    python scripts/make_reserved_blocklist.py [--mirror /work/.mirror] [--micro4 DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from micro_detector.training.corpus.imagehash import decode_rgb, dihedral_dhashes, sha256, to_hex  # noqa: E402

RESERVED_REPOS = [
    "Sararhm/DOTA-dataset-project",
    "Donkeys-United/CV-S-emulation",
    "bryceag11/yolov5_obb",
    "Akhileshramks/DiffVector",
    "CATS-Lab/Field-data-Drone-View-Vehicle-Image-Set",
]
MICRO4_REPOS = [
    "miko7879/pytorch-remote-sensing",
    "CAPTAIN-WHU/DOTA_devkit",
    "DIUx-xView/xView2-deploy",
    "jekhor/aerial-cars-dataset",
]
TEXT_PATTERNS = [
    "kaggle-ships-in-google-earth",
    "ships in google earth",
    "ships-in-google-earth",
    "gdit aerial airport",
    "gdit-aerial-airport",
    "aerial airport",
    "aerial-airport",
    "crowdai",
    "mapping challenge",
    "mapping-challenge",
    "drone-view-vehicle",
    "cats-lab",
]
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp")


def git_dir(mirror: Path, repo: str) -> Path:
    base = mirror / repo.replace("/", "+") / "repo"
    return base / ".git" if (base / ".git").is_dir() else base


def image_blobs(gd: Path) -> dict[str, list[str]]:
    """Blob id -> paths of every image file reachable from any ref of a snapshot (history too)."""
    out = subprocess.run(
        ["git", "--git-dir", str(gd), "rev-list", "--objects", "--all", "--missing=allow-any"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    blobs: dict[str, list[str]] = {}
    for line in out.splitlines():
        oid, _, path = line.partition(" ")
        if path.lower().endswith(IMAGE_SUFFIXES):
            blobs.setdefault(oid, []).append(path)
    return blobs


def read_blob(gd: Path, oid: str) -> bytes | None:
    done = subprocess.run(["git", "--git-dir", str(gd), "cat-file", "blob", oid], capture_output=True)
    return done.stdout if done.returncode == 0 else None


def micro4_keep(micro4: Path) -> dict[str, set[str]]:
    """repo -> the files micro4 holds whole (its images.json `origin`; a part such as
    `P0706.png (columns 0-560)` leaves the rest of the file reserved, so it stays hashed)."""
    keep: dict[str, set[str]] = {}
    for rec in json.loads((micro4 / "images.json").read_text()):
        repo, _, path = rec["origin"].partition(":")
        if " (" not in path:
            keep.setdefault(repo, set()).add(path)
    return keep


def hash_repo(mirror: Path, repo: str, skip_paths: set[str], skip_sha: set[str], log) -> tuple[list, dict]:
    """Blocklist entries of a repository's images (except those micro4 holds) and counts."""
    gd = git_dir(mirror, repo)
    entries, counts = [], {"images": 0, "absent_from_snapshot": 0, "undecodable": 0, "kept_by_micro4": 0}
    for oid, paths in sorted(image_blobs(gd).items(), key=lambda kv: kv[1][0]):
        if set(paths) & skip_paths:
            counts["kept_by_micro4"] += 1
            continue
        data = read_blob(gd, oid)
        if data is None:
            counts["absent_from_snapshot"] += 1
            continue
        digest = sha256(data)
        if digest in skip_sha:
            counts["kept_by_micro4"] += 1
            continue
        try:
            image = decode_rgb(data)
        except Exception:  # not an image PIL or GDAL can read (e.g. an LFS pointer)
            counts["undecodable"] += 1
            continue
        entries.append(
            {
                "from": f"{repo}:{sorted(paths)[0]}",
                "sha256": digest,
                "dhash": [to_hex(h) for h in dihedral_dhashes(image)],
            }
        )
        counts["images"] += 1
    counts["too_large_in_snapshot"] = large_images_absent(gd)
    log(f"{repo}: {counts}")
    return entries, counts


def large_images_absent(gd: Path) -> int:
    """Image files of the snapshot's HEAD whose content the snapshot lacks (4 MiB and more):
    they cannot be hashed; the name rules still apply to them."""
    out = subprocess.run(
        ["git", "--git-dir", str(gd), "ls-tree", "-r", "-l", "HEAD"], capture_output=True, text=True
    ).stdout
    return sum(
        1
        for line in out.splitlines()
        if not line.split("\t")[0].split()[-1].isdigit() and line.lower().endswith(IMAGE_SUFFIXES)
    )


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mirror", type=Path, default=Path("/work/.mirror"))
    p.add_argument("--micro4", type=Path, default=Path("/work/shared/data/micro4"))
    p.add_argument("--out", type=Path, default=ROOT / "micro_detector/training/datasets/corpus/reserved_blocklist.json")
    args = p.parse_args(argv)
    keep = micro4_keep(args.micro4)
    micro4_sha = {sha256(f.read_bytes()) for f in (args.micro4 / "images").glob("*.tif")}
    images, summary = [], {}
    for repo in RESERVED_REPOS + MICRO4_REPOS:
        entries, counts = hash_repo(args.mirror, repo, keep.get(repo, set()), micro4_sha, print)
        images += entries
        commit = subprocess.run(
            ["git", "--git-dir", str(git_dir(args.mirror, repo)), "rev-parse", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        summary[repo] = {"commit": commit, **counts}
    doc = {
        "description": "Reserved (held-out) data of the maintainers: never in the corpus. Provenance rules "
        "(repositories, Roboflow dataset names/URLs, crowdAI, DOTA P0000-P0030) and, per reserved image, the "
        "SHA-256 and the 64-bit dHash (9x8 grey thumbnail) of its 8 flips/rotations. Made by "
        "scripts/make_reserved_blocklist.py from the snapshots named in `hashed`; hashes only.",
        "repos": RESERVED_REPOS,
        "micro4_repos": MICRO4_REPOS,
        "text_patterns": TEXT_PATTERNS,
        "dota_last": 30,
        "max_hamming": 4,
        "hashed": summary,
        "images": images,
    }
    args.out.write_text(json.dumps(doc, indent=0) + "\n")
    print(f"{len(images)} reserved images hashed into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
