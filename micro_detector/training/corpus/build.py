"""The corpus build: every source manifest, through the reserved rules, into the training corpus
(with micro4) or the out-of-distribution (OOD) corpus. `update=True` fills the manifests'
`files` (SHA-256 per image) and `counts` from the snapshots instead of checking them.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from ..importers import load_class_mapping
from .extract import Labelled, estimate_gsd, label_reader, select_files, source_georef, xyz_mosaic
from .imagehash import decode_rgb, sha256
from .manifest import SourceManifest, load_manifests, save_manifest
from .mirror import GitMirror
from .placement import assigned_geotransform, pieces, shift_geotransform
from .reserved import Blocklist, DropReport
from .writer import CorpusWriter

ROBOFLOW_FILES = ("README.roboflow.txt", "README.dataset.txt", "data.yaml")
MIN_VISIBLE = 0.3  # a box cut by a piece edge is kept when this share of its area stays
MIN_FILLED = 0.05  # a mosaic piece with less source pixels than this share is not written


class BuildError(RuntimeError):
    """The build cannot go on: a changed image, a reserved source, a missing snapshot."""


@dataclass
class SourceResult:
    source: str
    split: str
    images: int = 0
    objects: Counter = field(default_factory=Counter)
    labels: Counter = field(default_factory=Counter)  # outcome of every source object
    gsd: list = field(default_factory=list)


@dataclass
class BuildConfig:
    manifests: Path
    mirror: Path
    micro4: Path
    out_train: Path
    out_ood: Path
    update: bool = False
    only: list[str] | None = None
    max_side: int = 2048


def build(cfg: BuildConfig, log=print) -> dict:
    """Build both corpora (or, with `update`, refresh the manifests); returns the report."""
    blocklist = Blocklist.from_file(cfg.manifests / "reserved_blocklist.json")
    manifests = [m for m in load_manifests(cfg.manifests) if not cfg.only or m.source in cfg.only]
    drops, results = DropReport(), []
    writers = (
        {}
        if cfg.update
        else {"train": CorpusWriter(cfg.out_train, "corpus"), "ood": CorpusWriter(cfg.out_ood, "corpus_ood")}
    )
    if writers:
        writers["train"].add_micro4(cfg.micro4)
    for m in manifests:
        log(f"{m.source}: {m.repository}@{m.commit[:8]} ({m.split})")
        results.append(build_source(m, cfg, blocklist, writers.get(m.split), drops, log))
        if cfg.update:
            save_manifest(m)
    if writers:
        _finish(writers, manifests, cfg)
    return {"sources": results, "dropped": drops}


def _finish(writers: dict, manifests: list[SourceManifest], cfg: BuildConfig) -> None:
    micro4_config = json.loads((Path(__file__).parent.parent / "datasets" / "micro4.json").read_text())
    for split, writer in writers.items():
        chosen = [m for m in manifests if m.split == split]
        absent = {m.source: m.absent_classes for m in chosen if m.absent_classes}
        config = {
            "description": f"Absent classes per source of the {split} corpus, from the source manifests "
            "(training/datasets/corpus/) and, for micro4's images, training/datasets/micro4.json.",
            "absent_classes": {"by_source": absent, "by_image": {}},
            "spatial_splits": [],
        }
        if split == "train":
            config["absent_classes"]["by_source"].update(micro4_config["absent_classes"]["by_source"])
            config["absent_classes"]["by_image"] = micro4_config["absent_classes"]["by_image"]
            config["spatial_splits"] = micro4_config.get("spatial_splits", [])
        writer.finish(cfg.micro4, {m.source: m.annotated_groups for m in chosen}, config)


def build_source(
    m: SourceManifest, cfg: BuildConfig, blocklist: Blocklist, writer: CorpusWriter | None, drops: DropReport, log
) -> SourceResult:
    """One source: provenance rules, SHA-256 check, content check, labels, placement, writing."""
    reason = blocklist.repo_reason(m.repository)
    if reason:
        raise BuildError(f"{m.path}: {reason}: this source may not be used")
    mirror = GitMirror(cfg.mirror, m.repository, m.commit)
    listing = mirror.files()
    paths = select_files(m, listing) if cfg.update else sorted(m.files)
    _check_roboflow_texts(m, mirror, listing, paths, blocklist)
    kept = []
    for p in paths:
        why = blocklist.name_reason(p)
        if why:
            drops.add(m.source, p, why)
        else:
            kept.append(p)
    result = SourceResult(m.source, m.split)
    if cfg.update:
        m.files = {}
    else:  # drops recorded when the manifest was made are reported again
        for path, why in sorted(m.dropped.items()):
            drops.add(m.source, path, f"{why} (when the manifest was made)")
    images = _checked_images(m, mirror, kept, blocklist, drops, cfg.update)
    mapping = load_class_mapping().with_overrides(m.class_overrides)
    for labelled in _labelled(m, mirror, images):
        _place_and_write(m, labelled, mapping, writer, result, cfg.max_side)
    if cfg.update:
        m.counts = {
            "images": result.images,
            "objects": dict(sorted(result.objects.items())),
            "labels": dict(sorted(result.labels.items())),
        }
        m.dropped = {p: r for s, p, r in drops.dropped if s == m.source}
    log(f"  {result.images} images, objects {dict(result.objects)}")
    return result


def _check_roboflow_texts(m, mirror, listing, paths, blocklist) -> None:
    """Refuse a source whose Roboflow README / data.yaml near the taken images names reserved data."""
    folders = {str(PurePosixPath(p).parent) for p in paths}
    ancestors = {str(a) for f in folders for a in [PurePosixPath(f), *PurePosixPath(f).parents]}
    for path in listing:
        parent = str(PurePosixPath(path).parent)
        if PurePosixPath(path).name in ROBOFLOW_FILES and parent in ancestors and listing[path][1] is not None:
            why = blocklist.text_reason(path, mirror.read(path).decode("utf-8", "replace"))
            if why:
                raise BuildError(f"{m.path}: {why}: this source may not be used")


def _checked_images(m, mirror, paths, blocklist, drops, update) -> dict:
    """path -> (bytes, PIL image) of the images that pass the SHA-256 and content checks."""
    out = {}
    for start in range(0, len(paths), 200):
        chunk = paths[start : start + 200]
        for path, data in mirror.read_many(chunk).items():
            digest = sha256(data)
            if not update and m.files[path] != digest:
                raise BuildError(
                    f"{m.repository}@{m.commit[:8]}:{path}: SHA-256 {digest} differs from the "
                    f"manifest's {m.files[path]} ({m.path}); the image changed, refusing to build"
                )
            image = decode_rgb(data)
            why, _ = blocklist.content_reason(digest, image)
            if why:
                drops.add(m.source, path, why)
                continue
            if update:
                m.files[path] = digest  # the manifest lists the files taken
            out[path] = (digest, image, data)
    return out


def _labelled(m: SourceManifest, mirror, images: dict):
    """The Labelled images of a source (one per file, or one mosaic of XYZ tiles)."""
    if m.format == "xyz-geojson":
        if images:
            yield xyz_mosaic(m, {p: v[1] for p, v in images.items()}, {p: v[0] for p, v in images.items()}, mirror.read)
        return
    reader = label_reader(m, mirror.read)
    for path, (digest, image, data) in sorted(images.items()):
        objects = reader(path, *image.size)
        crs, gt = source_georef(data) if m.georef.get("mode") == "source" else (None, None)
        if m.georef.get("mode") == "source" and gt is None:
            raise BuildError(f"{m.path}: {path} has no georeferencing but georef.mode is 'source'")
        yield Labelled(
            PurePosixPath(path).stem,
            image,
            objects,
            [path],
            [digest],
            crs,
            gt,
            abs(gt[1]) if gt and m.gsd.get("m") is None else None,
        )


def _place_and_write(m: SourceManifest, item: Labelled, mapping, writer, result: SourceResult, max_side: int) -> None:
    """Map classes, estimate GSD, cut into pieces, place each piece and write it."""
    boxes = []
    for obj in item.objects:
        status = mapping.status(obj.name)
        result.labels[f"{status}:{obj.name}" if status != "mapped" else f"mapped:{obj.name}"] += 1
        if status == "mapped":
            group = mapping.classes[mapping.index(obj.name)]
            if group in m.annotated_groups:
                boxes.append((obj.box, group, m.type_id(obj.name, group)))
    gsd = item.gsd or estimate_gsd(m, item.objects)
    pixels = np.asarray(item.image)
    h, w = pixels.shape[:2]
    windows = pieces(w, h, max_side)
    for k, (x0, y0, pw, ph) in enumerate(windows):
        if item.valid is not None and item.valid[y0 : y0 + ph, x0 : x0 + pw].mean() < MIN_FILLED:
            continue  # a mosaic piece that is (nearly) all hole
        kept = _window_boxes(boxes, x0, y0, pw, ph, item.valid)
        name = f"{m.source}_{item.name}" + (f"_{k}" if len(windows) > 1 else "") + ".tif"
        if item.geotransform:
            crs, gt, kind = item.crs, shift_geotransform(item.geotransform, x0, y0), "true"
        else:
            crs, gt = assigned_geotransform(m.georef, name, gsd)
            kind = "assigned"
        result.images += 1
        result.objects.update(g for _, g, _ in kept)
        result.gsd.append(gsd)
        if writer is not None:
            writer.add_image(name, pixels[y0 : y0 + ph, x0 : x0 + pw], crs, gt, kept, _record(m, item, kind, gsd))


def _window_boxes(boxes, x0, y0, pw, ph, valid) -> list:
    """The boxes of a window, shifted and clipped; dropped when less than MIN_VISIBLE of the box
    stays in it, or (mosaics) when the box centre is on a hole."""
    out = []
    for (bx0, by0, bx1, by1), group, type_id in boxes:
        if valid is not None:
            cx, cy = int((bx0 + bx1) / 2), int((by0 + by1) / 2)
            if not (0 <= cy < valid.shape[0] and 0 <= cx < valid.shape[1]) or not valid[cy, cx]:
                continue
        area = (bx1 - bx0) * (by1 - by0)
        cx0, cy0 = max(bx0 - x0, 0.0), max(by0 - y0, 0.0)
        cx1, cy1 = min(bx1 - x0, float(pw)), min(by1 - y0, float(ph))
        if cx1 > cx0 and cy1 > cy0 and area > 0 and (cx1 - cx0) * (cy1 - cy0) >= MIN_VISIBLE * area:
            out.append(((cx0, cy0, cx1, cy1), group, type_id))
    return out


def _record(m: SourceManifest, item: Labelled, kind: str, gsd: float | None) -> dict:
    note = (
        "true: from the source's own georeferencing"
        if kind == "true"
        else f"ASSIGNED, NOT TRUE: north-up {m.georef.get('epsg')} at a plausible site ({m.georef.get('site', '')})"
    )
    return {
        "source": m.source,
        "gsd_m": None if gsd is None else round(float(gsd), 4),
        "georeferencing": kind,
        "georeferencing_note": note,
        "annotated_groups": list(m.annotated_groups),
        "absent_groups": list(m.absent_classes),
        "split": m.split,
        "origin": [f"{m.repository}@{m.commit[:8]}:{p}" for p in item.origins],
        "sha256": list(item.sha256),
        "licence": m.licence.get("summary", ""),
    }
