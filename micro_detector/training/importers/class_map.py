"""Class mapping: a source dataset's class names (small-vehicle, car, ship, airplane, ...) onto
the model's classes.

The file is JSON: `{"classes": ["boat", ...], "map": {"ship": "boat", "harbor": null, ...}}`.
Names are matched after normalisation (case, spaces, `_` and `-` are alike). A name mapped to
`null` is ignored on purpose; a name absent from `map` is unmapped. Both are ignored and
counted by the importers, never an error.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import LabelFormatError

DEFAULT_MAP = Path(__file__).with_name("class_map.json")


def normalise(name: str) -> str:
    """A class name in comparable form: lower case, words joined by `-` (`Small_Vehicle` ->
    `small-vehicle`)."""
    return re.sub(r"[\s_\-]+", "-", str(name).strip().lower()).strip("-")


@dataclass
class ClassMapping:
    """Our class names (class-index order) and normalised source name -> our class name or
    None (ignored on purpose)."""

    classes: list[str]
    names: dict[str, str | None] = field(default_factory=dict)

    def __post_init__(self):
        self.names = {normalise(k): v for k, v in self.names.items()}
        unknown = {v for v in self.names.values() if v is not None and v not in self.classes}
        if unknown:
            raise ValueError(f"class mapping targets unknown classes {sorted(unknown)}; classes are {self.classes}")

    def index(self, source_name: str) -> int | None:
        """Our class index of a source class name, None when ignored or unmapped."""
        target = self.names.get(normalise(source_name))
        return None if target is None else self.classes.index(target)

    def status(self, source_name: str) -> str:
        """`mapped`, `ignored` (mapped to null) or `unmapped` (not in the file)."""
        key = normalise(source_name)
        if key not in self.names:
            return "unmapped"
        return "ignored" if self.names[key] is None else "mapped"

    def with_overrides(self, overrides: dict[str, str | None]) -> ClassMapping:
        """A copy where `overrides` (source name -> class or None) replace or add entries."""
        merged = dict(self.names)
        merged.update({normalise(k): v for k, v in overrides.items()})
        return ClassMapping(list(self.classes), merged)


def load_class_mapping(path: str | Path | None = None) -> ClassMapping:
    """The mapping of a JSON file (default: the package's `class_map.json`); a malformed file
    raises LabelFormatError naming the JSON path of the problem."""
    path = Path(path) if path else DEFAULT_MAP
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise LabelFormatError(path, f"cannot read the class mapping: {error}") from None
    if not isinstance(data, dict):
        raise LabelFormatError(path, "expected an object with `classes` and `map`", json_path="$")
    classes, names = data.get("classes"), data.get("map")
    if not isinstance(classes, list) or not classes or not all(isinstance(c, str) for c in classes):
        raise LabelFormatError(path, "`classes` must be a non-empty list of names", json_path="classes")
    if not isinstance(names, dict):
        raise LabelFormatError(path, "`map` must be an object of source name -> class or null", json_path="map")
    for key, value in names.items():
        if value is not None and value not in classes:
            raise LabelFormatError(path, f"maps to {value!r}, not one of {classes}", json_path=f"map.{key}")
    return ClassMapping(list(classes), dict(names))
