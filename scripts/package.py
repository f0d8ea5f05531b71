"""Build the installable plugin zip: dist/micro_object_detection.zip.

One top folder (`micro_object_detection/`), only what the plugin needs at run time:
no tests, benchmarks, caches, virtual environment or CI files.
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLUGIN_DIR = "micro_object_detection"
INCLUDE = [
    "metadata.txt",
    "README.md",
    "LICENSE",
    "__init__.py",
    "plugin.py",
    "micro_detector",
    "processing",
    "installer",
    "resources",
    "i18n",
]
SKIP_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache"}
SKIP_SUFFIXES = {".pyc", ".pyo", ".ts", ".orig", ".rej"}


def plugin_files(root: Path = ROOT):
    """Yield (absolute path, path inside the zip) for every file the plugin ships."""
    for name in INCLUDE:
        path = root / name
        if path.is_file():
            yield path, f"{PLUGIN_DIR}/{name}"
        elif path.is_dir():
            for file in sorted(path.rglob("*")):
                rel = file.relative_to(root)
                if file.is_dir() or SKIP_DIRS.intersection(rel.parts):
                    continue
                if (
                    file.suffix in SKIP_SUFFIXES or file.name.startswith(".") or file.name.endswith(".aux.xml")
                ):  # GDAL side files are never data
                    continue
                yield file, f"{PLUGIN_DIR}/{rel.as_posix()}"


def build(output: Path) -> Path:
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, arcname in plugin_files():
            zf.write(path, arcname)
    tmp.replace(output)
    return output


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-o", "--output", type=Path, default=ROOT / "dist" / f"{PLUGIN_DIR}.zip")
    args = parser.parse_args(argv)
    out = build(args.output)
    print(f"{out} ({out.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
