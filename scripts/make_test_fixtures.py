"""Regenerate tests/data/micro4_mini: one KIT AIS frame and a crop of another from the micro4 set, with
their labels in the same xView form (one GeoJSON, images.json, classes.json).

Only KIT AIS imagery is used (CC BY 3.0, attribution in tests/data/README.md); the other
micro4 sources are non-commercial or of unclear licence. Run from the repository root:

    .venv/bin/python scripts/make_test_fixtures.py [--micro4 ../shared/data/micro4]

The output is committed; tests never read the full set unless it is present (see
tests/conftest.py, MICRO4_REQUIRED).
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from osgeo import gdal, osr

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "data" / "micro4_mini"
# (source frame, name here, column, row, width, height): street scenes full of cars. The first
# is the whole frame, copied byte for byte (tests calibrate untrained models on its pixels).
CROPS = [
    ("kit_MOS155.tif", "kit_MOS155.tif", 0, 0, 1764, 430),
    ("kit_MOS170.tif", "kit_MOS170_crop.tif", 900, 0, 640, 430),
]


def _to_lonlat(gt, wkt):
    """A function mapping pixel (col, row) to (lon, lat) through geotransform `gt`."""
    src = osr.SpatialReference()
    src.ImportFromWkt(wkt)
    dst = osr.SpatialReference()
    dst.ImportFromEPSG(4326)
    dst.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    src.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    tr = osr.CoordinateTransformation(src, dst)

    def f(col, row):
        x = gt[0] + col * gt[1] + row * gt[2]
        y = gt[3] + col * gt[4] + row * gt[5]
        lon, lat, _ = tr.TransformPoint(x, y)
        return [round(lon, 9), round(lat, 9)]

    return f


def _crop_features(features, name, crop, box):
    """The features of one source image that fall in the crop window, moved to crop pixels."""
    col, row, width, height = box
    gt = crop.GetGeoTransform()
    lonlat = _to_lonlat(gt, crop.GetProjection())
    out = []
    for feat in features:
        x0, y0, x1, y1 = (int(v) for v in feat["properties"]["bounds_imcoords"].split(","))
        x0, x1, y0, y1 = x0 - col, x1 - col, y0 - row, y1 - row
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        if not (0 <= cx < width and 0 <= cy < height):
            continue  # the object's centre is outside the crop
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
        props = dict(feat["properties"], bounds_imcoords=f"{x0},{y0},{x1},{y1}", image_id=name)
        ring = [lonlat(x0, y0), lonlat(x0, y1), lonlat(x1, y1), lonlat(x1, y0), lonlat(x0, y0)]
        out.append({"type": "Feature", "properties": props, "geometry": {"type": "Polygon", "coordinates": [ring]}})
    return out


def make(micro4: Path, out: Path = OUT) -> None:
    """Write the crops, their labels, images.json and classes.json into `out`."""
    (out / "images").mkdir(parents=True, exist_ok=True)
    labels = json.loads((micro4 / "micro4_dev.geojson").read_text())["features"]
    infos = {im["image_id"]: im for im in json.loads((micro4 / "images.json").read_text())}
    features, images = [], []
    for source, name, col, row, width, height in CROPS:
        target = out / "images" / name
        if name == source:
            shutil.copyfile(micro4 / "images" / source, target)
        else:
            gdal.Translate(
                str(target),
                str(micro4 / "images" / source),
                srcWin=[col, row, width, height],
                creationOptions=["TILED=YES", "COMPRESS=JPEG", "JPEG_QUALITY=85", "PHOTOMETRIC=YCBCR"],
            )
        crop = gdal.Open(str(target))
        own = [f for f in labels if f["properties"]["image_id"] == source]
        found = _crop_features(own, name, crop, (col, row, width, height))
        features += found
        info = dict(infos[source], image_id=name, width=width, height=height, n_objects=len(found))
        if name != source:
            info["origin"] = f"{info['origin']} (micro4 {source}, crop col {col} row {row})"
        images.append(info)
        crop = None
    (out / "micro4_mini.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": features}, indent=0))
    (out / "images.json").write_text(json.dumps(images, indent=1))
    (out / "classes.json").write_text((micro4 / "classes.json").read_text())
    print(f"wrote {len(images)} images, {len(features)} objects into {out}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--micro4", type=Path, default=ROOT.parent / "shared" / "data" / "micro4")
    gdal.SetConfigOption("GDAL_PAM_ENABLED", "NO")  # no .aux.xml beside the source images
    make(parser.parse_args().micro4)
