"""The end of a run: merged raster-pixel boxes -> map polygons (`Detections`), report, file.

`make_detections` turns boxes into rings in map coordinates through the full affine
geotransform; `write_result` is the write stage (the output rules live in writer.py and
outputs.py); `run_report` is the summary every front end prints or logs.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from . import __version__
from .georef import box_areas_m2, box_polygons
from .plan import TilePlan
from .predict import RawBoxes

if TYPE_CHECKING:
    from .model.protocol import Runner

__all__ = ["Detections", "make_detections", "run_report", "write_result", "model_label"]


@dataclass
class Detections:
    """Merged detections of one raster: boxes in source pixels and polygons in map units."""

    boxes: np.ndarray  # (n, 4) xyxy source pixels
    scores: np.ndarray
    class_ids: np.ndarray
    class_names: list[str]
    tile_rows: np.ndarray
    tile_cols: np.ndarray
    rings: np.ndarray  # (n, 5, 2) map coordinates
    areas_m2: np.ndarray
    crs_wkt: str | None
    report: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.boxes)

    def counts(self) -> dict[str, int]:
        """Objects per class name (every class of the model, zeros included)."""
        return {name: int((self.class_ids == k).sum()) for k, name in enumerate(self.class_names)}

    def records(self, source: str) -> list[dict]:
        """One attribute dict per object, in the output layer's field order."""
        return [
            {
                "class_id": int(c),
                "class_name": self.class_names[int(c)],
                "score": float(s),
                "source": source,
                "tile_row": int(r),
                "tile_col": int(q),
                "area_m2": float(a),
            }
            for c, s, r, q, a in zip(self.class_ids, self.scores, self.tile_rows, self.tile_cols, self.areas_m2)
        ]


def make_detections(raw: RawBoxes, plan: TilePlan, class_names: list[str]) -> Detections:
    """Merged, clipped RawBoxes -> Detections with map rings and ground areas."""
    info = plan.info
    gt = info.geotransform
    return Detections(
        boxes=raw.boxes,
        scores=raw.scores.astype(np.float32),
        class_ids=raw.classes,
        class_names=list(class_names),
        tile_rows=raw.windows[:, 0],
        tile_cols=raw.windows[:, 1],
        rings=box_polygons(gt, raw.boxes),
        areas_m2=box_areas_m2(gt, raw.boxes, info.metres_per_unit),
        crs_wkt=info.crs_wkt,
    )


def run_report(plan: TilePlan, raw: RawBoxes, detections: Detections, source_facts: dict, seconds: float) -> dict:
    """The run's summary: plan, tiles run and skipped, objects per class, times, warnings."""
    info = plan.info
    warnings = []
    if raw.tiles and raw.skipped >= raw.tiles:
        warnings.append(
            f"every tile is nodata ({raw.tiles} tiles skipped): no detection was "
            "run; check the nodata value and the bands"
        )
    warnings += source_facts.get("warnings", [])
    return {
        "raster": info.label,
        "width": info.width,
        "height": info.height,
        "tiles": raw.tiles,
        "tiles_skipped_nodata": raw.skipped,
        "scale": plan.scale,
        "tile_source_px": plan.src_tile,
        "overlap_px": plan.overlap,
        "bands": plan.bands,
        "stretch": source_facts.get("stretch"),
        "raster_gsd_m": plan.raster_gsd,
        "boxes_before_merge": None,
        "objects": len(detections),
        "counts": detections.counts(),
        "seconds": round(seconds, 3),
        "forward_seconds": round(raw.forward_s, 3),
        "notes": list(plan.notes),
        "warnings": warnings,
        **({"network": source_facts["network"]} if "network" in source_facts else {}),
    }


def model_label(runner: Runner) -> str:
    """What the output's metadata names as the model: the file the runner came from (the .pt
    also when its ONNX export ran), or "in-memory"."""
    return str(runner.model_file) if runner.model_file is not None else "in-memory"


def write_result(output, detections: Detections, plan: TilePlan, options, model: str) -> None:
    """The write stage: the detections and the run's metadata to `output` (atomically)."""
    from .writer import write_detections

    meta = {
        "model": model,
        "model_classes": ",".join(detections.class_names),
        "run_date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "micro_detector_version": __version__,
        **{f"option_{k}": v for k, v in asdict(options).items() if v is not None},
        "tiles": len(plan.windows),
        "scale": plan.scale,
    }
    source = detections.report.get("raster", plan.info.label)
    write_detections(output, detections.rings, detections.records(str(source)), plan.info.crs_wkt, meta)
