#!/usr/bin/env bash
# One-command setup of a fresh Debian 12 machine: Debian's QGIS and geo stack, then .venv
# with the pinned packages Debian lacks. Idempotent; works as root and through sudo.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
APT_PACKAGES=(qgis python3-qgis qgis-providers python3-gdal gdal-bin python3-rasterio
              python3-geopandas python3-shapely python3-pyproj python3-venv python3-pip
              python3-matplotlib qttools5-dev-tools xvfb xauth)

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV"
  /usr/bin/python3 -m venv --system-site-packages "$VENV"
fi
mkdir -p "$VENV/share"
ln -sfn /usr/share/proj "$VENV/share/proj"

pip_args=(install -q --disable-pip-version-check -r "$ROOT/requirements.txt" -r "$ROOT/requirements-dev.txt")
# Where the machine keeps the CPU torch wheel on disk, make sure pip looks there first.
[ -d /opt/wheels ] && pip_args+=(--find-links /opt/wheels)
"$VENV/bin/python" -m pip "${pip_args[@]}"

# The project itself, editable: the packages micro_detector and training and the
# `micro-detector` command (pyproject.toml). setuptools maps only those packages, never the
# root itself: the root holds processing/, which would shadow QGIS's own `processing`.
site="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
for old in micro_detector training; do  # links made by the setup of earlier versions
  [ -L "$site/$old" ] && rm -f "$site/$old"
done
grep -qs 'exec .* -m micro_detector' "$VENV/bin/micro-detector" && rm -f "$VENV/bin/micro-detector"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e "$ROOT"

# A local wheel folder: the QGIS dependency installer's test installs onnxruntime from it
# (no network at test time), and so can an air-gapped QGIS (--find-links, see README).
ort="$(grep -E '^onnxruntime==' "$ROOT/requirements.txt")"
ls "$ROOT/.wheels/onnxruntime-${ort#onnxruntime==}-"*.whl >/dev/null 2>&1 || \
  "$VENV/bin/python" -m pip download -q --disable-pip-version-check --no-deps -d "$ROOT/.wheels" "$ort"

if [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then
  chown -R "$SUDO_USER": "$VENV" "$ROOT/.wheels"
fi

"$VENV/bin/python" - <<'PY'
import numpy, torch, onnxruntime
from osgeo import gdal
from qgis.core import Qgis
print(f"setup ok: QGIS {Qgis.QGIS_VERSION}, GDAL {gdal.__version__}, numpy {numpy.__version__}, "
      f"torch {torch.__version__}, onnxruntime {onnxruntime.__version__}")
PY
