"""Detection over a folder of rasters: resumable, with a summary table kept up to date.

Each output is written atomically by the engine, so an output that exists is complete and
a second run skips it. The summary (CSV) is rewritten after every raster.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Callable

from .engine import DetectOptions, detect


def list_rasters(folder: str | Path, pattern: str = "*.tif") -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"raster folder not found: {folder}")
    rasters = sorted(p for p in folder.glob(pattern) if p.is_file())
    if not rasters:
        raise ValueError(f"no raster matches {pattern} in {folder}")
    return rasters


def summary_fields(class_names: list[str]) -> list[str]:
    return ["raster", "status", "output", "objects", "seconds", *[f"n_{k}" for k in class_names], "error"]


def detect_folder(folder: str | Path, output: str | Path, runner, *, options: DetectOptions | None = None,
                  pattern: str = "*.tif", fmt: str = "gpkg", overwrite: bool = False, weights=None,
                  progress_for: Callable[[Path], Callable] | None = None,
                  log: Callable[[str], None] | None = None,
                  cancelled: Callable[[], bool] | None = None) -> tuple[list[dict], Path]:
    """Detect on every raster of `folder` matching `pattern` into `output`/<stem>.<fmt>.
    Returns the summary rows (one per raster, also for those done before; rows written in
    this run have `written_now`) and the CSV path.
    A raster that fails is recorded with its error and the run goes on; engine.Cancelled
    (from a progress callback) stops the run, leaving finished outputs in place."""
    log = log or (lambda message: None)
    rasters = list_rasters(folder, pattern)
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    names = list(runner.spec.class_names)
    summary_path = output / "summary.csv"
    rows: dict[str, dict] = {}
    if summary_path.exists():
        with open(summary_path, newline="") as f:
            rows = {r["raster"]: r for r in csv.DictReader(f)}
    for raster in rasters:
        if cancelled is not None and cancelled():
            from .engine import Cancelled

            raise Cancelled()
        out = output / f"{raster.stem}.{fmt}"
        if out.exists() and not overwrite:
            log(f"{raster.name}: done before, skipped")
            rows.setdefault(raster.name, {"raster": raster.name, "status": "ok", "output": out.name})
            continue
        try:
            result = detect(raster, out, runner=runner, weights=weights, options=options,
                            progress=progress_for(raster) if progress_for else None, log=log)
            row = {"raster": raster.name, "status": "ok", "output": out.name, "objects": len(result),
                   "seconds": result.report["seconds"],
                   **{f"n_{k}": v for k, v in result.counts().items()}, "error": "", "written_now": True}
        except (ValueError, RuntimeError, OSError) as error:
            log(f"{raster.name}: error: {error}")
            row = {"raster": raster.name, "status": "error", "output": "", "objects": "", "seconds": "",
                   **{f"n_{k}": "" for k in names}, "error": str(error)}
        rows[raster.name] = row
        tmp = summary_path.with_name(summary_path.name + ".part")
        with open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=summary_fields(names), extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows.values())
        os.replace(tmp, summary_path)
    return [rows[r.name] for r in rasters if r.name in rows], summary_path
