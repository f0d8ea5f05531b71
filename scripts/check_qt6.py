#!/usr/bin/env python3
"""Qt6 check for QGIS 4: the plugin's code must run on PyQt5 and PyQt6 alike.

Flags, in plugin.py, processing/ and installer/:
- imports of PyQt5/PyQt6/sip directly (only `qgis.PyQt` is portable);
- APIs removed in Qt6: `exec_()`, `QRegExp`, `QDesktopWidget`, `QVariant.<Type>` field types,
  `QAction` from QtWidgets (QtGui in Qt6);
- unscoped enums: `QgsTask.CanCancel` instead of `QgsTask.Flag.CanCancel`. PyQt6 knows only
  the scoped form. Found by resolving each `Class.Member` of a class imported from qgis.* in
  the running QGIS: a member that is an enum value (not a nested enum type) is unscoped.

    .venv/bin/python scripts/check_qt6.py     # exit 1 and the list when something is found
"""

from __future__ import annotations

import ast
import importlib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [
    ROOT / "plugin.py",
    ROOT / "__init__.py",
    *sorted((ROOT / "processing").rglob("*.py")),
    *sorted((ROOT / "installer").rglob("*.py")),
]
REMOVED = [
    (re.compile(r"\.exec_\("), "exec_() is gone in Qt6: use exec()"),
    (re.compile(r"\bQRegExp\b"), "QRegExp is gone in Qt6: use QRegularExpression"),
    (re.compile(r"\bQDesktopWidget\b"), "QDesktopWidget is gone in Qt6: use QScreen"),
    (
        re.compile(r"\bQVariant\.(Int|Double|String|LongLong|Bool|Date|DateTime)\b"),
        "QVariant.Type is gone in Qt6: use processing.qt_compat.FIELD_TYPES",
    ),
    (re.compile(r"^\s*(from|import)\s+(PyQt5|PyQt6|sip)\b"), "import through qgis.PyQt only"),
]


def _imported_classes(tree: ast.Module) -> dict[str, object]:
    """{local name: class} for `from qgis.<module> import Class` in `tree`."""
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("qgis."):
            if (
                node.module == "qgis.PyQt.QtWidgets"
                and any(a.name == "QAction" for a in node.names)
                and "from qgis.PyQt.QtGui import QAction" not in ast.unparse(tree)
            ):
                found["__qaction__"] = node.lineno
            try:
                module = importlib.import_module(node.module)
            except ImportError:
                continue
            for alias in node.names:
                obj = getattr(module, alias.name, None)
                if isinstance(obj, type):
                    found[alias.asname or alias.name] = obj
    return found


def _is_enum_value(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and type(value).__name__ not in ("int",)


def check_file(path: Path) -> list[str]:
    """The Qt6 problems of one file, as `path:line: message`."""
    text = path.read_text()
    rel = path.relative_to(ROOT)
    problems = [
        f"{rel}:{n}: {message}"
        for n, line in enumerate(text.splitlines(), 1)
        for pattern, message in REMOVED
        if pattern.search(line)
    ]
    tree = ast.parse(text, str(path))
    classes = _imported_classes(tree)
    if "__qaction__" in classes:
        problems.append(f"{rel}:{classes.pop('__qaction__')}: QAction is in QtGui in Qt6 (try QtGui first)")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in classes:
            member = getattr(classes[node.value.id], node.attr, None)
            if _is_enum_value(member):
                problems.append(
                    f"{rel}:{node.lineno}: unscoped enum {node.value.id}.{node.attr}: use "
                    f"{node.value.id}.{type(member).__name__}.{node.attr}"
                )
        elif (
            isinstance(node, ast.Attribute)
            and re.fullmatch(r"Flag(Advanced|Optional|Hidden)", node.attr)
            and not (isinstance(node.value, ast.Attribute) and node.value.attr == "Flag")
        ):
            problems.append(
                f"{rel}:{node.lineno}: unscoped enum .{node.attr}: use "
                f"QgsProcessingParameterDefinition.Flag.{node.attr}"
            )
    return problems


def main() -> int:
    problems = [p for path in SOURCES for p in check_file(path)]
    print("\n".join(problems) or f"Qt6 check: {len(SOURCES)} files clean")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
