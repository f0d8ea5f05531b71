"""The xView class mapping: xView type ids -> our class index (labels.load_xview)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass
class ClassMap:
    """xView type ids -> class index; names in class-index order."""

    names: list[str]
    type_to_class: dict[int, int]

    @classmethod
    def from_file(cls, path: str | Path, all_xview: bool = False) -> ClassMap:
        """A mapping file: micro4/xView style `classes.json` (`type_id_to_group` + `groups`),
        or a plain {"class name": [type ids]} object. `all_xview` keeps the 60 xView classes
        (names from `xview_type_names`)."""
        from .labels import LabelError

        try:
            return cls._from_data(json.loads(Path(path).read_text()), path, all_xview)
        except LabelError:
            raise
        except (OSError, ValueError, TypeError, AttributeError, KeyError) as error:  # entries of the wrong kind too
            raise LabelError(f"cannot read the class mapping {path}: {type(error).__name__}: {error}") from None

    @classmethod
    def _from_data(cls, data, path, all_xview: bool) -> ClassMap:
        from .labels import LabelError

        if all_xview:
            names_by_id = data.get("xview_type_names")
            if not names_by_id:
                raise LabelError(f"{path} has no xview_type_names to keep all xView classes")
            ids = sorted(int(k) for k in names_by_id)
            return cls([names_by_id[str(i)] for i in ids], {t: k for k, t in enumerate(ids)})
        groups = data.get("groups") if "type_id_to_group" in data else data
        if not isinstance(groups, dict) or not groups:
            raise LabelError(f"{path}: expected `groups` or an object of class name -> type ids")
        names = list(groups)
        mapping = {}
        for k, name in enumerate(names):
            for t in groups[name]:
                if int(t) in mapping:
                    raise LabelError(f"{path}: type id {t} is in two classes")
                mapping[int(t)] = k
        return cls(names, mapping)
