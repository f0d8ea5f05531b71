"""summary.csv of a folder run: one row per raster (ok, error, or done before), one home.

The serial run (batch.py) and the Dask run (distributed/) record their rows here, so both
write the same columns and a rerun of either resumes the other's folder.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

from .diskio import atomic_file
from .remote import redact

if TYPE_CHECKING:
    from .outputs import OutputTarget
    from .result import Detections


def summary_fields(class_names: list[str]) -> list[str]:
    """The columns of summary.csv: one count column per class, and the error last."""
    return ["raster", "status", "output", "objects", "seconds", *[f"n_{k}" for k in class_names], "error"]


class SummaryTable:
    """summary.csv of an output folder: one row per raster, rewritten atomically on each record."""

    def __init__(self, path: str | Path, class_names: list[str]):
        self.path = Path(path)
        self.class_names = list(class_names)
        self.fields = summary_fields(self.class_names)
        self.rows: dict[str, dict] = {}
        if self.path.exists():
            with open(self.path, newline="") as f:
                self.rows = {r["raster"]: r for r in csv.DictReader(f)}

    def record(self, row: dict) -> dict:
        """Add or replace the row of `row["raster"]`, write the table, return the row."""
        self.rows[row["raster"]] = row
        with atomic_file(self.path) as tmp, open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=self.fields, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(self.rows.values())
        return row

    def record_ok(self, raster: Path, target: OutputTarget, detections: Detections) -> dict:
        """The row of a raster whose output this run has just written (`written_now`)."""
        report = detections.report
        return self.record(
            {
                "raster": raster.name,
                "status": "ok",
                "output": target.path.name,
                "objects": len(detections),
                "seconds": report.get("seconds", ""),
                "tiles": report.get("tiles", 0),
                **{f"n_{k}": v for k, v in detections.counts().items()},
                "error": "",
                "written_now": True,
            }
        )

    def record_error(self, raster: Path, error: object) -> dict:
        """The row of a raster that failed, with its error on one line (URL secrets hidden)."""
        row = dict.fromkeys(self.fields, "")
        row.update(raster=raster.name, status="error", error=" ".join(redact(error).split()))
        return self.record(row)

    def record_done_before(self, raster: Path, target: OutputTarget) -> None:
        """A raster skipped because its output exists: its row stays as recorded, or, when the
        run that wrote the output was killed before its row, is rebuilt from the output."""
        if raster.name not in self.rows:
            self.record(row_from_output(raster, target, self.class_names))


def row_from_output(raster: Path, target: OutputTarget, class_names: list[str]) -> dict:
    """The summary row of a raster whose finished output exists but whose row was never
    recorded (the run was killed between the two): its counts per class, read back from the
    output's features. The seconds are unknown and left empty."""
    from osgeo import ogr

    counts = dict.fromkeys(class_names, 0)
    ds = ogr.Open(str(target.path))
    layer = ds.GetLayerByName(target.layer) or ds.GetLayer(0)  # a shapefile's layer is named for the file
    for feature in layer:
        name = feature.GetField("class_name")
        if name in counts:
            counts[name] += 1
    ds = None
    return {
        "raster": raster.name,
        "status": "ok",
        "output": target.path.name,
        "objects": sum(counts.values()),
        "seconds": "",
        **{f"n_{k}": v for k, v in counts.items()},
        "error": "",
    }
