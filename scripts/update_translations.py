#!/usr/bin/env python3
"""Update the translation sources in i18n/ from the code, then compile them with lrelease.

Strings are collected from `tr("...")` / `self.tr("...")` calls and from the DISPLAY, GROUP
and HELP class attributes of the Processing algorithms (translated where they are shown).
Existing translations are kept; new strings are added as unfinished; strings no longer in
the code are marked vanished. `--check` only reports whether the .ts files are up to date.

    python3 scripts/update_translations.py            # update .ts, compile .qm
    python3 scripts/update_translations.py --check    # exit 1 when a .ts misses strings
"""

from __future__ import annotations

import argparse
import ast
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONTEXT = "MicroDetector"
SOURCES = [
    ROOT / "plugin.py",
    *sorted((ROOT / "processing").rglob("*.py")),
    *sorted((ROOT / "installer").rglob("*.py")),
]
ATTRIBUTES = {"DISPLAY", "GROUP", "HELP", "MENU"}


def collect() -> list[str]:
    """Every translatable string of the plugin, in order of first appearance."""
    found: dict[str, None] = {}
    for path in SOURCES:
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                args = node.args
                if name == "translate" and len(args) >= 2:
                    args = args[1:]
                elif name != "tr":
                    continue
                if args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
                    found.setdefault(args[0].value)
            elif isinstance(node, ast.Assign) and isinstance(node.value, (ast.Constant, ast.BinOp)):
                targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
                if any(t in ATTRIBUTES for t in targets):
                    value = (
                        ast.literal_eval(node.value) if isinstance(node.value, ast.Constant) else _concat(node.value)
                    )
                    if value:
                        found.setdefault(value)
    return list(found)


def _concat(node) -> str | None:
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


def read_ts(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    out = {}
    for message in ET.parse(path).getroot().iter("message"):
        source = message.findtext("source")
        translation = message.find("translation")
        if (
            source is not None
            and translation is not None
            and translation.text
            and translation.get("type") not in ("unfinished", "vanished", "obsolete")
        ):
            out[source] = translation.text
    return out


def write_ts(path: Path, language: str, strings: list[str], translations: dict[str, str]) -> None:
    ts = ET.Element("TS", version="2.1", language=language)
    context = ET.SubElement(ts, "context")
    ET.SubElement(context, "name").text = CONTEXT
    for s in strings:
        message = ET.SubElement(context, "message")
        ET.SubElement(message, "source").text = s
        t = ET.SubElement(message, "translation")
        if s in translations:
            t.text = translations[s]
        else:
            t.set("type", "unfinished")
    for s in sorted(set(translations) - set(strings)):
        message = ET.SubElement(context, "message")
        ET.SubElement(message, "source").text = s
        t = ET.SubElement(message, "translation", type="vanished")
        t.text = translations[s]
    ET.indent(ts)
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n' + ET.tostring(ts, encoding="unicode") + "\n"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    strings = collect()
    files = sorted((ROOT / "i18n").glob("micro_object_detection_*.ts"))
    stale = []
    for ts in files:
        present = {m.findtext("source") for m in ET.parse(ts).getroot().iter("message")}
        missing = [s for s in strings if s not in present]
        if args.check:
            if missing:
                stale.append(f"{ts.name}: {len(missing)} string(s) missing, e.g. {missing[0]!r}")
            continue
        language = ts.stem.rsplit("_", 1)[1]
        write_ts(ts, language, strings, read_ts(ts))
        lrelease = shutil.which("lrelease")
        if lrelease is None:
            print("lrelease not found: install Debian's qttools5-dev-tools to compile .qm files", file=sys.stderr)
            return 1
        subprocess.run([lrelease, "-silent", str(ts), "-qm", str(ts.with_suffix(".qm"))], check=True)
        done = len(read_ts(ts).keys() & set(strings))
        print(f"{ts.name}: {len(strings)} strings, {done} translated -> {ts.with_suffix('.qm').name}")
    if stale:
        print("\n".join(stale) + "\nrun: python3 scripts/update_translations.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
