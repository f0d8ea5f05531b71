"""Detection over a folder of rasters: resumable, with a summary table kept up to date.

The unit of work is `process_raster`: one raster -> its output, written atomically (so an
output that exists is complete and a later run skips it) -> one summary row, recorded in
summary.py's `SummaryTable`. `detect_folder` runs it over a folder in this process; a distributed
runner can call the same pieces per raster. Outputs follow the rule of outputs.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from .catalog import list_items
from .engine import Cancelled, DetectOptions, detect
from .outputs import (
    DEFAULT_LAYER,
    OutputError,
    OutputTarget,
    check_format,
    check_output,
    clean_stale_partials,
    is_done,
    source_files,
)
from .remote import display_name, redact
from .summary import SummaryTable


def list_rasters(folder: str | Path, pattern: str = "*.tif") -> list[Path]:
    """The files of `folder` matching `pattern`, sorted; an error when there are none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"raster folder not found: {folder}")
    rasters = sorted(p for p in folder.glob(pattern) if p.is_file())
    if not rasters:
        raise ValueError(f"no raster matches {pattern} in {folder}")
    return rasters


def prepare_output_folder(output: str | Path) -> Path:
    """The output folder, made if missing, with what dead runs left in it removed. An
    existing file in its place is refused (before any work)."""
    output = Path(output)
    if output.exists() and not output.is_dir():
        raise OutputError(f"the output {output} is a file: detect-folder writes into a folder; give a folder name")
    output.mkdir(parents=True, exist_ok=True)
    clean_stale_partials(output)
    stale_summary = output / "summary.csv.part"
    if stale_summary.exists():
        stale_summary.unlink()
    return output


def plan_outputs(
    rasters: list, output: str | Path, fmt: str = "gpkg", layer: str = DEFAULT_LAYER, overwrite: bool = False
) -> list[OutputTarget]:
    """One output target per raster, `output`/<stem>.<fmt>, checked up front: the format
    once, then that no output is an input of the run."""
    ext = check_format(fmt)
    targets = [OutputTarget(Path(output) / f"{r.stem}.{ext}", layer, overwrite) for r in rasters]
    inputs = {p.resolve() for r in rasters for p in source_files(r)}
    clash = [t.path for t in targets if t.path.resolve() in inputs]
    if clash:
        raise OutputError(
            f"the output {clash[0]} would replace an input raster: choose another output folder or format"
        )
    return targets


def process_raster(
    raster: Path,
    target: OutputTarget,
    runner,
    summary: SummaryTable,
    options: DetectOptions | None = None,
    progress=None,
    log: Callable[[str], None] | None = None,
) -> dict:
    """Detect on one raster, write its output atomically, and record its row in `summary`
    (returned). A failure of this raster is recorded as an error row (the batch goes on); a
    cancel or Ctrl-C propagates."""
    log = log or (lambda message: None)
    try:
        check_output(target, [raster, options.mask if options else None])
        result = detect(raster, target, runner, options=options, progress=progress, log=log)
    except (ValueError, RuntimeError, OSError) as error:
        log(f"{raster.name}: error: {redact(error)}")
        return summary.record_error(raster, redact(error))
    warn_if_all_nodata(result.report, raster, log)
    return summary.record_ok(raster, target, result)


def warn_if_all_nodata(report: dict, raster, log: Callable[[str], None]) -> None:
    """A raster whose every tile was nodata ran nothing: say so rather than report 0 objects
    (unless the engine's report carries its own warnings, which it has logged already)."""
    if "warnings" in report:
        return
    tiles = report.get("tiles", 0)
    if tiles and report.get("tiles_skipped_nodata", 0) >= tiles:
        log(
            f"warning: {display_name(raster)}: every tile is nodata ({tiles} tiles skipped): "
            "no detection was run; check the nodata value and the bands"
        )


def detect_folder(
    folder: str | Path,
    output: str | Path,
    runner,
    *,
    options: DetectOptions | None = None,
    pattern: str = "*.tif",
    fmt: str = "gpkg",
    overwrite: bool = False,
    layer: str = DEFAULT_LAYER,
    asset: str | None = None,
    progress_for: Callable[[Path], Callable] | None = None,
    log: Callable[[str], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> tuple[list[dict], Path]:
    """Detect on every raster of `folder` matching `pattern` into `output`/<stem>.<fmt>;
    `folder` may also be a STAC ItemCollection/Item or a list of URLs (catalog.list_items,
    reading STAC asset `asset`): rows and outputs are then keyed by item id or file name.
    Returns the summary rows (one per raster, also for those done before; rows written in
    this run have `written_now`) and the CSV path.
    A raster that fails is recorded with its error and the run goes on; engine.Cancelled
    (from a progress callback) stops the run, leaving finished outputs in place."""
    log = log or (lambda message: None)
    rasters = list_items(folder, pattern, asset)
    targets = plan_outputs(rasters, output, fmt, layer, overwrite)
    output = prepare_output_folder(output)
    summary = SummaryTable(output / "summary.csv", list(runner.spec.class_names))
    for raster, target in zip(rasters, targets):
        if cancelled is not None and cancelled():
            raise Cancelled()
        if not overwrite and is_done(target):
            log(f"{raster.name}: done before, skipped")
            summary.record_done_before(raster, target)
            continue
        process_raster(raster, target, runner, summary, options, progress_for(raster) if progress_for else None, log)
    rows = summary.rows
    return [rows[r.name] for r in rasters if r.name in rows], summary.path
