"""The engine's log lines (micro_detector, English f-strings, no QGIS) in the user's QGIS
language: each known line shape is matched and its sentence translated; values stay as they
are; a line of unknown shape is shown unchanged. A group marked for it (a warning's text,
the reason inside the tile plan's line) is itself translated the same way."""

from __future__ import annotations

import re

from .translate import tr

# (pattern, the sentence with {} for the groups, indices of groups translated in turn);
# the sentences go through tr() in _sentences()
SHAPES = [
    (re.compile(r"^wrote (\d+) objects to (.+)$"), "wrote {} objects to {}", ()),
    (re.compile(r"^warning: ([^:]+): (.+)$"), "warning: {}: {}", (1,)),
    (re.compile(r"^([^:]+): done before, skipped$"), "{}: done before, skipped", ()),
    (re.compile(r"^([^:]+): error: (.+)$"), "{}: error: {}", ()),
    (re.compile(r"^([^:]+): (\d+) tiles in (\d+) blocks$"), "{}: {} tiles in {} blocks", ()),
    (re.compile(r"^read ([\d.]+) MB in (\d+) requests$"), "read {} MB in {} requests", ()),
    (
        re.compile(
            r"^(\d+) x (\d+) px, (\d+) tiles of (\d+) px \(model (\d+) px, scale ([\d.]+): (.+)\), overlap (\d+) px$"
        ),
        "{} x {} px, {} tiles of {} px (model {} px, scale {}: {}), overlap {} px",
        (6,),
    ),
    (
        re.compile(
            r"^every tile is nodata \((\d+) tiles skipped\): no detection was run; check the nodata value and the bands$"
        ),
        "every tile is nodata ({} tiles skipped): no detection was run; check the nodata value and the bands",
        (),
    ),
    (
        re.compile(
            r"^not a tiled \(cloud-optimized\) GeoTIFF: its blocks are whole rows \((\d+) x (\d+) px\), so every "
            r"window downloads full rows of (\d+) px, up to (\d+)x the bytes of 512 px tiles; convert it once "
            r"with gdal_translate -of COG for window reads$"
        ),
        "not a tiled (cloud-optimized) GeoTIFF: its blocks are whole rows ({} x {} px), so every window downloads "
        "full rows of {} px, up to {}x the bytes of 512 px tiles; convert it once with gdal_translate -of COG for "
        "window reads",
        (),
    ),
    (
        re.compile(r"^single grey band (\d+) repeated to the model's (\d+) bands \(panchromatic imagery\)$"),
        "single grey band {} repeated to the model's {} bands (panchromatic imagery)",
        (),
    ),
    (
        re.compile(r"^native pixels: raster GSD ([\d.e+-]+) m within the model's (.+)$"),
        "native pixels: raster GSD {} m within the model's {}",
        (),
    ),
    (
        re.compile(
            r"^native pixels: raster GSD ([\d.e+-]+) m (\d+)% finer than the model's (.+), within the (\d+)% left as is$"
        ),
        "native pixels: raster GSD {} m {}% finer than the model's {}, within the {}% left as is",
        (),
    ),
    (
        re.compile(
            r"^native pixels: raster GSD ([\d.e+-]+) m (\d+)% coarser than the model's (.+), within the (\d+)% left as is$"
        ),
        "native pixels: raster GSD {} m {}% coarser than the model's {}, within the {}% left as is",
        (),
    ),
    (
        re.compile(r"^resampled from ([\d.e+-]+) m to the model's ([\d.e+-]+) m$"),
        "resampled from {} m to the model's {} m",
        (),
    ),
]


def _sentences() -> dict[str, str]:
    # literal tr() calls, so that scripts/update_translations.py collects them
    return {
        "wrote {} objects to {}": tr("wrote {} objects to {}"),
        "warning: {}: {}": tr("warning: {}: {}"),
        "{}: done before, skipped": tr("{}: done before, skipped"),
        "{}: error: {}": tr("{}: error: {}"),
        "{}: {} tiles in {} blocks": tr("{}: {} tiles in {} blocks"),
        "read {} MB in {} requests": tr("read {} MB in {} requests"),
        "{} x {} px, {} tiles of {} px (model {} px, scale {}: {}), overlap {} px": tr(
            "{} x {} px, {} tiles of {} px (model {} px, scale {}: {}), overlap {} px"
        ),
        "every tile is nodata ({} tiles skipped): no detection was run; check the nodata value and the bands": tr(
            "every tile is nodata ({} tiles skipped): no detection was run; check the nodata value and the bands"
        ),
        "not a tiled (cloud-optimized) GeoTIFF: its blocks are whole rows ({} x {} px), so every window downloads "
        "full rows of {} px, up to {}x the bytes of 512 px tiles; convert it once with gdal_translate -of COG for "
        "window reads": tr(
            "not a tiled (cloud-optimized) GeoTIFF: its blocks are whole rows ({} x {} px), so every window "
            "downloads full rows of {} px, up to {}x the bytes of 512 px tiles; convert it once with "
            "gdal_translate -of COG for window reads"
        ),
        "single grey band {} repeated to the model's {} bands (panchromatic imagery)": tr(
            "single grey band {} repeated to the model's {} bands (panchromatic imagery)"
        ),
        "native pixels: raster GSD {} m within the model's {}": tr(
            "native pixels: raster GSD {} m within the model's {}"
        ),
        "native pixels: raster GSD {} m {}% finer than the model's {}, within the {}% left as is": tr(
            "native pixels: raster GSD {} m {}% finer than the model's {}, within the {}% left as is"
        ),
        "native pixels: raster GSD {} m {}% coarser than the model's {}, within the {}% left as is": tr(
            "native pixels: raster GSD {} m {}% coarser than the model's {}, within the {}% left as is"
        ),
        "resampled from {} m to the model's {} m": tr("resampled from {} m to the model's {} m"),
    }


def translated(line: str) -> str:
    """`line` in the user's language when its shape is known, else unchanged."""
    for pattern, sentence, nested in SHAPES:
        match = pattern.match(line)
        if match:
            groups = [translated(g) if k in nested else g for k, g in enumerate(match.groups())]
            return _sentences()[sentence].format(*groups)
    return line


def translating(log):
    """A log callback for the engine that passes each line translated to `log`."""
    return lambda line: log(translated(str(line)))
