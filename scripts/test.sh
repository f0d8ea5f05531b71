#!/usr/bin/env bash
# The whole test suite, headless, with real QGIS (pytest-qgis). Extra arguments go to pytest,
# e.g. `scripts/test.sh -m "not slow"` for the quick loop.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export QT_QPA_PLATFORM=offscreen
export PYTHONDONTWRITEBYTECODE=1
# Run the venv's pytest, not `python -m pytest`: the latter puts the plugin root on sys.path.
exec "$ROOT/.venv/bin/pytest" "$@"
