"""Detection over a folder of rasters: resumable, with a summary table kept up to date.

The unit of work is `process_raster`: one raster -> its output, written atomically (so an
output that exists is complete and a later run skips it) -> one summary row, recorded by
`SummaryTable.record`. `detect_folder` runs it over a folder in this process; a distributed
runner can call the same pieces per raster. Outputs follow the rule of outputs.py.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Callable

from .engine import DetectOptions, detect
from .outputs import (DEFAULT_LAYER, OutputError, OutputTarget, check_format, check_output,
                      clean_stale_partials, is_done, source_files)


def list_rasters(folder: str | Path, pattern: str = "*.tif") -> list[Path]:
    """The files of `folder` matching `pattern`, sorted; an error when there are none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"raster folder not found: {folder}")
    rasters = sorted(p for p in folder.glob(pattern) if p.is_file())
    if not rasters:
        raise ValueError(f"no raster matches {pattern} in {folder}")
    return rasters


def summary_fields(class_names: list[str]) -> list[str]:
    """The columns of summary.csv: one count column per class, and the error last."""
    return ["raster", "status", "output", "objects", "seconds", *[f"n_{k}" for k in class_names], "error"]


def prepare_output_folder(output: str | Path) -> Path:
    """The output folder, made if missing, with what dead runs left in it removed. An
    existing file in its place is refused (before any work)."""
    output = Path(output)
    if output.exists() and not output.is_dir():
        raise OutputError(f"the output {output} is a file: detect-folder writes into a folder; "
                          "give a folder name")
    output.mkdir(parents=True, exist_ok=True)
    clean_stale_partials(output)
    stale_summary = output / "summary.csv.part"
    if stale_summary.exists():
        stale_summary.unlink()
    return output


def plan_outputs(rasters: list[Path], output: str | Path, fmt: str = "gpkg", layer: str = DEFAULT_LAYER,
                 overwrite: bool = False) -> list[OutputTarget]:
    """One output target per raster, `output`/<stem>.<fmt>, checked up front: the format
    once, then that no output is an input of the run."""
    ext = check_format(fmt)
    targets = [OutputTarget(Path(output) / f"{r.stem}.{ext}", layer, overwrite) for r in rasters]
    inputs = {p.resolve() for r in rasters for p in source_files(r)}
    clash = [t.path for t in targets if t.path.resolve() in inputs]
    if clash:
        raise OutputError(f"the output {clash[0]} would replace an input raster: choose another "
                          "output folder or format")
    return targets


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

    def record(self, row: dict) -> None:
        """Add or replace the row of `row["raster"]` and write the table."""
        self.rows[row["raster"]] = row
        from .diskio import atomic_file

        with atomic_file(self.path) as tmp, open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=self.fields, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(self.rows.values())

    def record_done_before(self, raster: Path, target: OutputTarget) -> None:
        """A raster skipped because its output exists: its row stays as recorded, or, when the
        run that wrote the output was killed before its row, is rebuilt from the output."""
        if raster.name not in self.rows:
            self.record(row_from_output(raster, target, self.class_names))


def process_raster(raster: Path, target: OutputTarget, runner, options: DetectOptions | None = None,
                   progress=None, log: Callable[[str], None] | None = None, weights=None) -> dict:
    """Detect on one raster and write its output atomically; return its summary row. A
    failure of this raster is returned as an error row (the batch goes on); a cancel or
    Ctrl-C propagates. `weights` is ignored: the runner carries its own source."""
    log = log or (lambda message: None)
    names = list(runner.spec.class_names)
    try:
        check_output(target, [raster, options.mask if options else None])
        result = detect(raster, target, runner, options=options, progress=progress, log=log)
    except (ValueError, RuntimeError, OSError) as error:
        log(f"{raster.name}: error: {error}")
        return {"raster": raster.name, "status": "error", "output": "", "objects": "", "seconds": "",
                **{f"n_{k}": "" for k in names}, "error": " ".join(str(error).split())}
    warn_if_all_nodata(result.report, raster, log)
    return {"raster": raster.name, "status": "ok", "output": target.path.name, "objects": len(result),
            "seconds": result.report["seconds"], **{f"n_{k}": v for k, v in result.counts().items()},
            "error": "", "written_now": True}


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
    return {"raster": raster.name, "status": "ok", "output": target.path.name, "objects": sum(counts.values()),
            "seconds": "", **{f"n_{k}": v for k, v in counts.items()}, "error": ""}


def warn_if_all_nodata(report: dict, raster, log: Callable[[str], None]) -> None:
    """A raster whose every tile was nodata ran nothing: say so rather than report 0 objects
    (unless the engine's report carries its own warnings, which it has logged already)."""
    if "warnings" in report:
        return
    tiles = report.get("tiles", 0)
    if tiles and report.get("tiles_skipped_nodata", 0) >= tiles:
        log(f"warning: {Path(raster).name}: every tile is nodata ({tiles} tiles skipped): "
            "no detection was run; check the nodata value and the bands")


def detect_folder(folder: str | Path, output: str | Path, runner, *, options: DetectOptions | None = None,
                  pattern: str = "*.tif", fmt: str = "gpkg", overwrite: bool = False, weights=None,
                  layer: str = DEFAULT_LAYER,
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
    targets = plan_outputs(rasters, output, fmt, layer, overwrite)
    output = prepare_output_folder(output)
    summary = SummaryTable(output / "summary.csv", list(runner.spec.class_names))
    for raster, target in zip(rasters, targets):
        if cancelled is not None and cancelled():
            from .engine import Cancelled

            raise Cancelled()
        if not overwrite and is_done(target):
            log(f"{raster.name}: done before, skipped")
            summary.record_done_before(raster, target)
            continue
        summary.record(process_raster(raster, target, runner, options,
                                      progress_for(raster) if progress_for else None, log, weights))
    rows = summary.rows
    return [rows[r.name] for r in rasters if r.name in rows], summary.path
