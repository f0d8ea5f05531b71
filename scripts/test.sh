#!/usr/bin/env bash
# The whole test suite, headless, with real QGIS (pytest-qgis). Extra arguments go to pytest,
# e.g. `scripts/test.sh -m "not slow"` for the quick loop.
# QGIS_CHROOT_SUITES="trixie sid" (set by .ci/run) then runs the plugin's QGIS tests on QGIS
# 3.40 LTR and 3.44 too, in chroots of Debian's packages (scripts/qgis_chroot.sh: root and the
# Debian mirror needed; about 5 minutes per suite to build on 2 cores, cached in .chroots/).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export QT_QPA_PLATFORM=offscreen
export PYTHONDONTWRITEBYTECODE=1
# Run the venv's pytest, not `python -m pytest`: the latter puts the plugin root on sys.path.
rc=0
"$ROOT/.venv/bin/pytest" "$@" || rc=$?
for suite in ${QGIS_CHROOT_SUITES:-}; do
  echo "test.sh: the QGIS tests on Debian $suite's QGIS (scripts/qgis_chroot.sh $suite)"
  bash "$ROOT/scripts/qgis_chroot.sh" "$suite" || { echo "test.sh: QGIS on $suite failed"; rc=1; }
done
exit "$rc"
