"""The engine's log lines (micro_detector, English f-strings, no QGIS) in the user's QGIS
language: each known line shape is matched and its sentence translated; values stay as they
are; a line of unknown shape is shown unchanged. A group marked for it (a warning's text,
the reason inside the tile plan's line) is itself translated the same way."""

from __future__ import annotations

import re

from .translate import tr

# What a {} of a sentence matches in the engine's line
INT, NUMBER, GSD, NAME, TEXT = r"\d+", r"[\d.]+", r"[\d.e+-]+", r"[^:]+", r".+"

# (the sentence with {} for the values, what each value matches, indices of the values that
# are translated in turn); each line's pattern is its sentence, and the sentences go through
# tr() in _sentences()
SHAPES = [
    ("wrote {} objects to {}", (INT, TEXT), ()),
    ("warning: {}: {}", (NAME, TEXT), (1,)),
    ("{}: done before, skipped", (NAME,), ()),
    ("{}: error: {}", (NAME, TEXT), ()),
    ("{}: {} tiles in {} blocks", (NAME, INT, INT), ()),
    ("read {} MB in {} requests", (NUMBER, INT), ()),
    (
        "{} x {} px, {} tiles of {} px (model {} px, scale {}: {}), overlap {} px",
        (INT, INT, INT, INT, INT, NUMBER, TEXT, INT),
        (6,),
    ),
    (
        "every tile is nodata ({} tiles skipped): no detection was run; check the nodata value and the bands",
        (INT,),
        (),
    ),
    (
        "not a tiled (cloud-optimized) GeoTIFF: its blocks are whole rows ({} x {} px), so every window downloads "
        "full rows of {} px, up to {}x the bytes of 512 px tiles; convert it once with gdal_translate -of COG for "
        "window reads",
        (INT, INT, INT, INT),
        (),
    ),
    ("single grey band {} repeated to the model's {} bands (panchromatic imagery)", (INT, INT), ()),
    ("native pixels: raster GSD {} m within the model's {}", (GSD, TEXT), ()),
    (
        "native pixels: raster GSD {} m {}% finer than the model's {}, within the {}% left as is",
        (GSD, INT, TEXT, INT),
        (),
    ),
    (
        "native pixels: raster GSD {} m {}% coarser than the model's {}, within the {}% left as is",
        (GSD, INT, TEXT, INT),
        (),
    ),
    ("resampled from {} m to the model's {} m", (GSD, GSD), ()),
]


def _pattern(sentence: str, values: tuple[str, ...]) -> re.Pattern:
    """The whole-line pattern of `sentence`: its text literal, each {} a group of `values`."""
    parts = sentence.split("{}")
    if len(parts) != len(values) + 1:
        raise ValueError(f"{sentence!r} has {len(parts) - 1} values, {len(values)} patterns given")
    groups = [f"({v})" for v in values] + [""]
    return re.compile("^" + "".join(re.escape(part) + group for part, group in zip(parts, groups)) + "$")


PATTERNS = [(_pattern(sentence, values), sentence, nested) for sentence, values, nested in SHAPES]


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
    for pattern, sentence, nested in PATTERNS:
        match = pattern.match(line)
        if match:
            groups = [translated(g) if k in nested else g for k, g in enumerate(match.groups())]
            return _sentences()[sentence].format(*groups)
    return line


def translating(log):
    """A log callback for the engine that passes each line translated to `log`."""
    return lambda line: log(translated(str(line)))
