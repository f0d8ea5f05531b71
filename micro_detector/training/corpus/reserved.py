"""The maintainers' held-out (reserved) data, kept out of the corpus by two checks:

- provenance: a reserved repository, a micro4 source repository (only what micro4 holds may
  be used, and that comes from micro4 itself), a Roboflow export whose README/data.yaml names
  a reserved dataset, a crowdAI Mapping Challenge tile, a DOTA image P0000-P0030 (any file
  name carrying that id, crops such as `P0012__1024__0___0.png` included);
- content: an image whose SHA-256, or whose dHash within `max_hamming` bits of any flip or
  rotation of a reserved image, is in the blocklist (`reserved_blocklist.json`, hashes only).

Each dropped file is reported with its reason.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .imagehash import dhash

DOTA_ID = re.compile(r"(?<![0-9A-Za-z])P(\d{4})(?![0-9])")


@dataclass
class Blocklist:
    """Provenance rules and image hashes of the reserved data."""

    repos: list[str]
    micro4_repos: list[str]
    text_patterns: list[str]  # lower-case substrings of reserved dataset names and URLs
    dota_last: int = 30  # DOTA ids P0000..P<dota_last> are reserved
    max_hamming: int = 4
    sha256: set[str] = field(default_factory=set)
    dhashes: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint64))
    dhash_from: list[str] = field(default_factory=list)  # the reserved file of each dHash

    @classmethod
    def from_file(cls, path: str | Path) -> Blocklist:
        """Read `reserved_blocklist.json`."""
        data = json.loads(Path(path).read_text())
        images = data.get("images", [])
        hashes, origin = [], []
        for rec in images:
            for h in rec["dhash"]:
                hashes.append(int(h, 16))
                origin.append(rec["from"])
        return cls(
            list(data["repos"]),
            list(data["micro4_repos"]),
            [p.lower() for p in data["text_patterns"]],
            int(data.get("dota_last", 30)),
            int(data.get("max_hamming", 4)),
            {rec["sha256"] for rec in images},
            np.array(hashes, np.uint64),
            origin,
        )

    def repo_reason(self, repo: str) -> str | None:
        """Why a whole repository may not be used, or None."""
        if repo.lower() in (r.lower() for r in self.repos):
            return f"reserved repository {repo}"
        if repo.lower() in (r.lower() for r in self.micro4_repos):
            return f"micro4 source repository {repo} (only micro4's own copy may be used)"
        return None

    def text_reason(self, name: str, text: str) -> str | None:
        """Why a source's README / data.yaml text marks it reserved, or None."""
        low = text.lower()
        for pattern in self.text_patterns:
            if pattern in low:
                return f"{name} names reserved data ({pattern!r})"
        return None

    def name_reason(self, path: str) -> str | None:
        """Why a file name is reserved (a DOTA id P0000..P0030 in any path part), or None."""
        for match in DOTA_ID.finditer(path):
            if int(match.group(1)) <= self.dota_last:
                return f"DOTA image P{match.group(1)} is reserved"
        return None

    def content_reason(self, digest: str, image) -> tuple[str | None, int]:
        """Why an image's content is reserved (same SHA-256, or a dHash within max_hamming of
        a reserved image's), or None; and the smallest dHash distance found (64 if none)."""
        if digest in self.sha256:
            return "same SHA-256 as a reserved image", 0
        if not len(self.dhashes):
            return None, 64
        best, where = _nearest(self.dhashes, dhash(image))
        if best <= self.max_hamming:
            return f"near-duplicate (dHash distance {best}) of reserved {self.dhash_from[where]}", best
        return None, best


def _nearest(table: np.ndarray, h: int) -> tuple[int, int]:
    """(smallest Hamming distance, its index) of hash `h` to the hashes of `table`."""
    x = np.bitwise_xor(table, np.uint64(h))
    bits = np.unpackbits(x.view(np.uint8).reshape(-1, 8), axis=1).sum(axis=1)
    i = int(bits.argmin())
    return int(bits[i]), i


@dataclass
class DropReport:
    """Every candidate file dropped by the reserved rules, with its reason."""

    dropped: list[tuple[str, str, str]] = field(default_factory=list)  # (source, file, reason)

    def add(self, source: str, path: str, reason: str) -> None:
        """Record one dropped file."""
        self.dropped.append((source, path, reason))

    def by_reason(self) -> dict[str, int]:
        """Counts per reason kind (the reason text before any detail in parentheses)."""
        return dict(Counter(re.sub(r"\s*\(.*|\s+of reserved .*| P\d{4} ", " ", r).strip() for _, _, r in self.dropped))
