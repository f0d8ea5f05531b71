"""The README of a built corpus folder: per-source table (images, objects per class, GSD,
licence, scene), totals, licences (the most restrictive term governs), georeferencing, and
what the reserved rules dropped."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

GROUPS = ("boat", "building", "plane", "vehicle")
MICRO4 = {  # licence and scene of micro4's sources (from micro4's README)
    "airbus": ("CC BY-NC-SA 4.0 (Airbus aircraft sample, Pleiades)", "airports worldwide"),
    "dota": ("DOTA academic use only; Google Earth", "marina, bus depot"),
    "joplin": (
        "imagery likely NAIP (public domain, unverified); footprints likely ODbL",
        "tornado-hit suburb, Joplin MO",
    ),
    "kit": ("CC BY 3.0 (KIT AIS)", "Munich streets, aerial 0.13 m"),
}
MOST_RESTRICTIVE = (
    "Mixed licences; the most restrictive terms govern the corpus as a whole: non-commercial "
    "research use only (Airbus CC BY-NC-SA 4.0, DOTA academic use, SIMD research use), share-alike "
    "where a source says so (CC BY-NC-SA 4.0; SpaceNet CC BY-SA 4.0), ODbL for labels derived from "
    "OpenStreetMap, and Google Earth's terms for Google Earth imagery. Keep the attributions below."
)


def _rows(records: list[dict], features: list[dict]) -> dict:
    """Per source: images, objects per group, GSD range."""
    per: dict = {}
    source_of = {r["image_id"]: r["source"] for r in records}
    for r in records:
        row = per.setdefault(r["source"], {"images": 0, "objects": Counter(), "gsd": []})
        row["images"] += 1
        if r.get("gsd_m"):
            row["gsd"].append(float(r["gsd_m"]))
    for f in features:
        per[source_of[f["properties"]["image_id"]]]["objects"][f["properties"]["class_name"]] += 1
    return per


def write_readme(folder: Path, title: str, manifests: list, drops, extra: str = "") -> str:
    """Write README.md into a built corpus folder and return its text."""
    records = json.loads((folder / "images.json").read_text())
    gj = next(folder.glob("*.geojson"))
    features = json.loads(gj.read_text())["features"]
    per = _rows(records, features)
    by_source = {m.source: m for m in manifests}
    lines = [
        f"# {title}",
        "",
        extra,
        "",
        "| source | split | images | boat | building | plane | vehicle | total | GSD m | licence | scene |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    total = Counter()
    for source in sorted(per):
        row, m = per[source], by_source.get(source)
        g = row["gsd"]
        gsd = f"{min(g):.3g}-{max(g):.3g}" if g and min(g) != max(g) else (f"{g[0]:.3g}" if g else "?")
        lic = m.licence.get("summary", "") if m else "micro4: " + MICRO4.get(source, ("see micro4's README", ""))[0]
        scene = m.scene if m else MICRO4.get(source, ("", "micro4 source"))[1]
        objs = row["objects"]
        total.update(objs)
        lines.append(
            f"| {source} | {m.split if m else 'train'} | {row['images']} | "
            + " | ".join(str(objs.get(k, 0)) for k in GROUPS)
            + f" | {sum(objs.values())} | {gsd} | {lic} | {scene} |"
        )
    lines.append(
        f"| **all** | | {len(records)} | "
        + " | ".join(str(total.get(k, 0)) for k in GROUPS)
        + f" | {sum(total.values())} | | | |"
    )
    lines += [
        "",
        f"Labels: `{gj.name}` (xView style), `images.json`, `classes.json`, `dataset_config.json` "
        "(absent classes: pass it as `--dataset-config`).",
        "",
        "## Sources and licences",
        "",
        MOST_RESTRICTIVE,
        "",
    ]
    for m in manifests:
        lines.append(
            f"- **{m.source}** ({m.title}): github.com/{m.repository} @ {m.commit}. Licence: "
            f"{m.licence.get('data', '')} / repository: {m.licence.get('repository', '')}. GSD: {m.gsd.get('how', '')}. "
            f"Georeferencing: {m.georef.get('mode')}{' (' + m.georef.get('site', '') + ')' if m.georef.get('site') else ''}. "
            f"Annotated: {', '.join(m.annotated_groups)}; absent (checked): {', '.join(m.absent_classes) or 'none'}."
        )
    lines += ["", "## Reserved data", "", _drops_text(drops, {m.source for m in manifests})]
    text = "\n".join(lines) + "\n"
    (folder / "README.md").write_text(text)
    return text


def _drops_text(drops, sources: set) -> str:
    mine = [d for d in drops.dropped if d[0] in sources]
    if not mine:
        return "No candidate file of these sources was dropped by the reserved rules."
    counts = Counter(reason for _, _, reason in mine)
    return f"{len(mine)} candidate files dropped by the reserved rules:\n\n" + "\n".join(
        f"- {n} x {reason}" for reason, n in counts.most_common()
    )
