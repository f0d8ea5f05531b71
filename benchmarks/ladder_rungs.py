"""Rungs of the micro benchmark: the validation images of micro4, resampled so that each
class's median object side becomes a target size, with their labels, in xView form.

A rung folder holds `labels.geojson` (xView FeatureCollection, `bounds_imcoords` in the rung
image's pixels), `images.json` (per image: source, size, GSD, annotated classes, the factor
applied), `classes.json` (the data set's mapping), `images/` and `manifest.json`, so that
`micro-detector evaluate MODEL --xview RUNG/labels.geojson --images RUNG/images` scores it.

Scale rule (chosen and documented here): the factor is per CLASS over the whole validation
set: factor = median side of the class / target side, where side = sqrt(w * h) in native
pixels; each image takes the factor of its majority labelled class. A class therefore
appears at one resolution per rung, and the spread of object sizes inside the class (small
private planes and airliners) is kept. A class whose native median is already under the
target (beyond 10 %) is left out of that rung; within 10 % its images are kept at native
pixels. Downsampling is area averaging (GDAL warp `average`, which weights partial pixels);
the geotransform keeps the image's extent, so the pixel size (the GSD) grows by the factor.
Native images are VRTs that point at the micro4 files (exact pixels, no copy).
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
from osgeo import gdal, osr

gdal.UseExceptions()
KEEP_NATIVE = 1.1  # factors within 10 % of 1 keep native pixels


def sides(boxes: np.ndarray) -> np.ndarray:
    """Object side sqrt(w * h) of xyxy boxes, in their pixels."""
    return np.sqrt(np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None))


def primary_class(image) -> int | None:
    """The image's majority labelled class (lowest index on ties); None without labels."""
    if not len(image.classes):
        return None
    counts = np.bincount(image.classes)
    return int(counts.argmax())


def class_medians(labels) -> dict[str, float]:
    """Median object side per class over the label set, native pixels."""
    out = {}
    for k, name in enumerate(labels.class_names):
        s = np.concatenate([sides(im.boxes[im.classes == k]) for im in labels.images] or [np.zeros(0)])
        if len(s):
            out[name] = float(np.median(s))
    return out


def pick_images(labels, limit: int | None) -> list:
    """Images in name order; with `limit`, taken in turn from each majority class so that a
    small subset still covers the classes."""
    images = sorted((im for im in labels.images if primary_class(im) is not None), key=lambda im: im.name)
    if not limit:
        return images
    by_class: dict[int, list] = {}
    for im in images:
        by_class.setdefault(primary_class(im), []).append(im)
    queues = [by_class[k] for k in sorted(by_class)]
    picked = []
    while len(picked) < limit and any(queues):
        for q in queues:
            if q and len(picked) < limit:
                picked.append(q.pop(0))
    return sorted(picked, key=lambda im: im.name)


def plan_rung(images: list, class_names: list[str], medians: dict[str, float], target: float | None) -> list[dict]:
    """Per image of the rung: its factor (source px per rung px) and class; `target` None is
    the native rung. Images whose class is already smaller than the target are left out."""
    plan = []
    for im in images:
        name = class_names[primary_class(im)]
        factor = 1.0 if target is None else medians[name] / target
        if factor < 1 / KEEP_NATIVE:
            continue
        if factor <= KEEP_NATIVE:
            factor = 1.0
        plan.append({"image": im, "class": name, "factor": round(factor, 4)})
    return plan


def _write_image(src: str, dst: Path, factor: float) -> tuple[int, int, tuple]:
    """The image at 1/factor of its size by area averaging (a VRT of the source at 1)."""
    ds = gdal.Open(str(Path(src).resolve()))
    w, h, gt = ds.RasterXSize, ds.RasterYSize, ds.GetGeoTransform()
    if factor == 1.0:
        out = gdal.Translate(str(dst), ds, format="VRT")
    else:
        nw, nh = max(1, round(w / factor)), max(1, round(h / factor))
        bounds = (gt[0], gt[3] + gt[5] * h, gt[0] + gt[1] * w, gt[3])  # north-up: xmin, ymin, xmax, ymax
        out = gdal.Warp(
            str(dst),
            ds,
            format="GTiff",
            width=nw,
            height=nh,
            outputBounds=bounds,
            resampleAlg="average",
            multithread=False,
            creationOptions=["COMPRESS=DEFLATE", "PREDICTOR=2", "TILED=YES"],
        )
    size = (out.RasterXSize, out.RasterYSize, out.GetGeoTransform())
    out = None
    return size


def _lonlat_rings(gt, wkt: str, boxes: np.ndarray) -> list:
    """The boxes' corners in EPSG:4326 (lon, lat), closed rings, as xView writes them."""
    srs = osr.SpatialReference(wkt=wkt)
    dst = osr.SpatialReference()
    dst.ImportFromEPSG(4326)
    for s in (srs, dst):
        s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    tr = osr.CoordinateTransformation(srs, dst)
    rings = []
    for x0, y0, x1, y1 in boxes:
        pts = [(x0, y0), (x0, y1), (x1, y1), (x1, y0), (x0, y0)]
        mapped = [
            tr.TransformPoint(gt[0] + px * gt[1] + py * gt[2], gt[3] + px * gt[4] + py * gt[5])[:2] for px, py in pts
        ]
        rings.append([[[round(a, 9), round(b, 9)] for a, b in mapped]])
    return rings


def write_rung(
    folder: Path,
    rung: str,
    plan: list[dict],
    class_names: list[str],
    type_ids: dict[str, int],
    classes_json: dict,
    manifest: dict,
) -> Path:
    """Write the rung into `folder` (built under a temporary name, renamed when complete; an
    existing rung with the same manifest is kept as is)."""
    done = folder / "manifest.json"
    if done.is_file() and json.loads(done.read_text()) == json.loads(json.dumps(manifest)):
        return folder
    tmp = folder.with_name(folder.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "images").mkdir(parents=True)
    features, records = [], []
    for item in plan:
        im, factor = item["image"], item["factor"]
        name = Path(im.name).stem + (".vrt" if factor == 1.0 else ".tif")
        w, h, gt = _write_image(im.path, tmp / "images" / name, factor)
        boxes = im.boxes.astype(np.float64) * np.array([w / im.width, h / im.height] * 2)
        wkt = gdal.Open(str(tmp / "images" / name)).GetProjection()
        for b, c, ring in zip(boxes, im.classes, _lonlat_rings(gt, wkt, boxes)):
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Polygon", "coordinates": ring},
                    "properties": {
                        "bounds_imcoords": ",".join(f"{v:.2f}" for v in b),
                        "type_id": type_ids[class_names[int(c)]],
                        "image_id": name,
                        "class_name": class_names[int(c)],
                    },
                }
            )
        records.append(
            {
                "image_id": name,
                "source": im.source,
                "width": w,
                "height": h,
                "gsd_m": _gsd(tmp / "images" / name),
                "annotated_groups": [n for n, a in zip(class_names, im.annotated) if a],
                "n_objects": len(boxes),
                "ladder": {"rung": rung, "class": item["class"], "factor": factor},
                "origin": im.name,
            }
        )
    (tmp / "labels.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    (tmp / "images.json").write_text(json.dumps(records, indent=1))
    (tmp / "classes.json").write_text(json.dumps(classes_json, indent=1))
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1))
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
    return folder


def _gsd(path: Path) -> float | None:
    """The GSD (metres per pixel) the engine reads from the written file."""
    from micro_detector.raster import read_info

    gsd = read_info(path).pixel_size_m
    return round(gsd, 6) if gsd else None


def representative_type_ids(geojson: Path, classes_json: dict) -> dict[str, int]:
    """Per class, its most frequent xView type id in the source labels (lowest on ties)."""
    groups = classes_json["groups"]
    counts: dict[str, Counter] = {name: Counter() for name in groups}
    group_of = {int(t): name for name, ids in groups.items() for t in ids}
    for f in json.loads(Path(geojson).read_text())["features"]:
        t = int(f["properties"]["type_id"])
        if t in group_of:
            counts[group_of[t]][t] += 1
    return {name: (min(c, key=lambda t: (-c[t], t)) if c else int(groups[name][0])) for name, c in counts.items()}
