"""A source manifest: the facts of one public source of the corpus, in
`training/datasets/corpus/<source>.json`.

Written by hand: `source` (id, no `_`), `title`, `repository`, `commit`, `licence`, `split`
(`train` or `ood`), `format` and its `labels` settings, `select` (glob patterns of the image
files to take), `class_overrides`, `type_ids`, `gsd`, `georef`, `annotated_groups`,
`absent_classes` (+ `absent_checked`: how it was checked), `scene`, `notes`.
Filled by `build_corpus.py --update-manifests`: `files` (image path -> SHA-256 of each image
taken), `counts`, and `dropped` (selected files the reserved rules dropped, with the reason).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

FORMATS = ("yolo", "coco", "dota", "voc", "xyz-geojson")
GROUPS = ("boat", "building", "plane", "vehicle")
DEFAULT_TYPE_IDS = {"boat": 40, "building": 73, "plane": 11, "vehicle": 18}


class ManifestError(ValueError):
    """A manifest is malformed: names the file and the field."""


@dataclass
class SourceManifest:
    source: str
    title: str
    repository: str
    commit: str
    licence: dict
    split: str
    format: str
    labels: dict
    select: dict
    gsd: dict
    georef: dict
    annotated_groups: list[str]
    absent_classes: list[str] = field(default_factory=list)
    absent_checked: str = ""
    scene: str = ""
    class_overrides: dict = field(default_factory=dict)
    type_ids: dict = field(default_factory=dict)
    notes: str = ""
    files: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)
    dropped: dict = field(default_factory=dict)  # file -> reason, recorded when the manifest was made
    path: str = ""

    def __post_init__(self):
        where = self.path or self.source
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", self.source):
            raise ManifestError(f"{where}: source id {self.source!r} must be lower-case letters, digits and '-'")
        if self.split not in ("train", "ood"):
            raise ManifestError(f"{where}: split must be 'train' or 'ood', got {self.split!r}")
        if self.format not in FORMATS:
            raise ManifestError(f"{where}: format must be one of {FORMATS}, got {self.format!r}")
        if not re.fullmatch(r"[0-9a-f]{40}", self.commit):
            raise ManifestError(f"{where}: commit must be 40 hex digits")
        bad = set(self.annotated_groups + self.absent_classes) - set(GROUPS)
        if bad or set(self.annotated_groups) & set(self.absent_classes):
            raise ManifestError(f"{where}: annotated_groups / absent_classes must be disjoint subsets of {GROUPS}")

    def type_id(self, source_name: str, group: str) -> int:
        """The xView type id written for an object: by its source name, else the group's."""
        from ..importers import normalise

        by_name = {normalise(k): v for k, v in self.type_ids.items()}
        return int(by_name.get(normalise(source_name), DEFAULT_TYPE_IDS[group]))


def load_manifest(path: str | Path) -> SourceManifest:
    """A manifest file; ManifestError naming the file for bad JSON or fields."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ManifestError(f"{path}: {error}") from None
    if not isinstance(data, dict):
        raise ManifestError(f"{path}: expected a JSON object of manifest fields")
    known = set(SourceManifest.__dataclass_fields__) - {"path"}
    unknown = set(data) - known
    if unknown:
        raise ManifestError(f"{path}: unknown fields {sorted(unknown)}")
    try:
        return SourceManifest(**data, path=str(path))
    except ManifestError as error:
        raise error if str(path) in str(error) else ManifestError(f"{path}: {error}") from None
    except (TypeError, ValueError, AttributeError, KeyError) as error:  # a field of the wrong kind
        raise ManifestError(f"{path}: {error}") from None


def load_manifests(folder: str | Path) -> list[SourceManifest]:
    """Every source manifest of a folder (not the blocklist), sorted by source id."""
    found = [load_manifest(p) for p in sorted(Path(folder).glob("*.json")) if p.name != "reserved_blocklist.json"]
    ids = [m.source for m in found]
    if len(set(ids)) != len(ids):
        raise ManifestError(f"{folder}: source ids are not unique: {ids}")
    return sorted(found, key=lambda m: m.source)


def save_manifest(manifest: SourceManifest) -> None:
    """Write a manifest back to its file (keys in a stable order)."""
    data = {k: getattr(manifest, k) for k in SourceManifest.__dataclass_fields__ if k != "path"}
    Path(manifest.path).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
