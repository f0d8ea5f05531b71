"""The engine's log lines (micro_detector, English f-strings, no QGIS) in the user's QGIS
language: each known line shape is matched and its sentence translated; values stay as they
are; a line of unknown shape is shown unchanged."""

from __future__ import annotations

import re

from .translate import tr

# (pattern, the sentence with {} for the groups); the sentences go through tr() in translated()
SHAPES = [
    (re.compile(r"^wrote (\d+) objects to (.+)$"), "wrote {} objects to {}"),
    (re.compile(r"^warning: ([^:]+): (.+)$"), "warning: {}: {}"),
    (re.compile(r"^([^:]+): done before, skipped$"), "{}: done before, skipped"),
    (re.compile(r"^([^:]+): error: (.+)$"), "{}: error: {}"),
    (re.compile(r"^([^:]+): (\d+) tiles in (\d+) blocks$"), "{}: {} tiles in {} blocks"),
]


def _sentences() -> dict[str, str]:
    # literal tr() calls, so that scripts/update_translations.py collects them
    return {
        "wrote {} objects to {}": tr("wrote {} objects to {}"),
        "warning: {}: {}": tr("warning: {}: {}"),
        "{}: done before, skipped": tr("{}: done before, skipped"),
        "{}: error: {}": tr("{}: error: {}"),
        "{}: {} tiles in {} blocks": tr("{}: {} tiles in {} blocks"),
    }


def translated(line: str) -> str:
    """`line` in the user's language when its shape is known, else unchanged."""
    for pattern, sentence in SHAPES:
        match = pattern.match(line)
        if match:
            return _sentences()[sentence].format(*match.groups())
    return line


def translating(log):
    """A log callback for the engine that passes each line translated to `log`."""
    return lambda line: log(translated(str(line)))
