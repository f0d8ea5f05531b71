"""Writing a corpus folder in micro4's format: `images/*.tif` (RGB uint8, tiled 512, JPEG 90
YCbCr), one xView-style GeoJSON FeatureCollection (`bounds_imcoords`, `type_id`, `image_id`,
`feature_id`, `cat_id`, `class_name`; polygon in lon/lat), `images.json` (one record per
image), `classes.json` and `dataset_config.json` (absent classes for the trainer).
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np

TIFF_OPTIONS = [
    "TILED=YES",
    "BLOCKXSIZE=512",
    "BLOCKYSIZE=512",
    "COMPRESS=JPEG",
    "JPEG_QUALITY=90",
    "PHOTOMETRIC=YCBCR",
]


def write_geotiff(path: Path, pixels: np.ndarray, crs: str, gt: tuple) -> None:
    """An RGB uint8 GeoTIFF of (h, w, 3) pixels with a CRS ("EPSG:n") and geotransform."""
    from osgeo import gdal, osr

    h, w, _ = pixels.shape
    mem = gdal.GetDriverByName("MEM").Create("", w, h, 3, gdal.GDT_Byte)
    for b in range(3):
        mem.GetRasterBand(b + 1).WriteArray(np.ascontiguousarray(pixels[:, :, b]))
    srs = osr.SpatialReference()
    srs.SetFromUserInput(crs)  # "EPSG:n" or WKT
    mem.SetProjection(srs.ExportToWkt())
    mem.SetGeoTransform(gt)
    out = gdal.GetDriverByName("GTiff").CreateCopy(str(path), mem, options=TIFF_OPTIONS)
    out.FlushCache()
    out = None


def crs_name(crs: str) -> str:
    """ "EPSG:n" of a CRS given as "EPSG:n" or WKT (the WKT itself when it has no EPSG code)."""
    if crs.upper().startswith("EPSG:"):
        return crs
    from osgeo import osr

    srs = osr.SpatialReference(wkt=crs)
    srs.AutoIdentifyEPSG()
    code = srs.GetAuthorityCode(None)
    return f"EPSG:{code}" if code else crs


def _to_lonlat(crs: str):
    from osgeo import osr

    src, dst = osr.SpatialReference(), osr.SpatialReference()
    src.SetFromUserInput(crs)
    dst.ImportFromEPSG(4326)
    for s in (src, dst):
        s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return osr.CoordinateTransformation(src, dst)


def pixel_bounds(box, width: int, height: int) -> tuple[int, int, int, int]:
    """Integer pixel-edge bounds of a float box (rounded to the nearest edge, at least one pixel
    wide, inside the image)."""
    x0, y0, x1, y1 = (int(math.floor(v + 0.5)) for v in box)
    x0, y0 = min(max(x0, 0), width - 1), min(max(y0, 0), height - 1)
    return x0, y0, min(max(x1, x0 + 1), width), min(max(y1, y0 + 1), height)


class CorpusWriter:
    """Collects images and features and writes the corpus folder `out`."""

    def __init__(self, out: str | Path, name: str):
        self.out, self.name = Path(out), name
        if self.out.exists():
            shutil.rmtree(self.out)
        (self.out / "images").mkdir(parents=True)
        self.features: list[dict] = []
        self.records: list[dict] = []
        self.next_id = 1

    def add_micro4(self, micro4: Path) -> None:
        """micro4 unchanged: its GeoTIFFs copied byte for byte, its features and image records
        kept (records gain `split` and the SHA-256 of the copied file)."""
        from .imagehash import sha256

        features = json.loads((micro4 / "micro4_dev.geojson").read_text())["features"]
        records = json.loads((micro4 / "images.json").read_text())
        for rec in records:
            src = micro4 / "images" / rec["image_id"]
            shutil.copyfile(src, self.out / "images" / rec["image_id"])
            self.records.append(
                {**rec, "split": "train", "sha256": sha256(src.read_bytes()), "licence": "see micro4 README"}
            )
        self.features.extend(features)
        self.next_id = max(int(f["properties"]["feature_id"]) for f in features) + 1

    def add_image(
        self, image_id: str, pixels: np.ndarray, crs: str, gt: tuple, objects: list[tuple], record: dict
    ) -> None:
        """Write one image and its objects [(box, group, type_id)]; `record` gives the image
        record's source facts (source, gsd_m, georeferencing, annotated_groups, origin, ...)."""
        h, w, _ = pixels.shape
        write_geotiff(self.out / "images" / image_id, pixels, crs, gt)
        transform = _to_lonlat(crs)
        for box, group, type_id in objects:
            x0, y0, x1, y1 = pixel_bounds(box, w, h)
            ring = []
            for px, py in ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)):
                lon, lat, _ = transform.TransformPoint(gt[0] + px * gt[1] + py * gt[2], gt[3] + px * gt[4] + py * gt[5])
                ring.append([round(lon, 9), round(lat, 9)])
            fid = self.next_id
            self.next_id += 1
            self.features.append(
                {
                    "type": "Feature",
                    "properties": {
                        "bounds_imcoords": f"{x0},{y0},{x1},{y1}",
                        "type_id": type_id,
                        "image_id": image_id,
                        "feature_id": fid,
                        "cat_id": fid,
                        "class_name": group,
                    },
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                }
            )
        self.records.append(
            {
                "image_id": image_id,
                "width": w,
                "height": h,
                "bands": 3,
                "dtype": "uint8",
                "crs": crs_name(crs),
                **record,
                "n_objects": len(objects),
            }
        )

    def finish(self, micro4: Path | None, annotated_by_source: dict, config: dict) -> None:
        """Write the GeoJSON, images.json, classes.json and `config` as dataset_config.json."""
        lines = ",\n".join(json.dumps(f, ensure_ascii=False) for f in self.features)
        (self.out / f"{self.name}.geojson").write_text(
            '{"type": "FeatureCollection", "features": [\n' + lines + "\n]}\n"
        )
        (self.out / "images.json").write_text(json.dumps(self.records, indent=1, ensure_ascii=False) + "\n")
        classes = json.loads((micro4 / "classes.json").read_text()) if micro4 else {}
        classes["annotated_groups_by_source"] = {**classes.get("annotated_groups_by_source", {}), **annotated_by_source}
        (self.out / "classes.json").write_text(json.dumps(classes, indent=1, ensure_ascii=False) + "\n")
        (self.out / "dataset_config.json").write_text(json.dumps(config, indent=1) + "\n")
