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
# The installer's train, export and Dask groups, for its offline tests (tests/test_installer_*.py):
# the versions of torch's dependencies that Debian 12 lacks or has too old (sympy 1.11).
GROUP_WHEELS=(sympy==1.14.0 mpmath==1.3.0 networkx==3.6.1 filelock==4.3.1 typing_extensions==4.16.0
              fsspec==2026.9.0 onnx==1.23.2 protobuf==7.36.2 ml_dtypes==0.5.4 dask==2026.8.0
              distributed==2026.8.0 cloudpickle==3.1.3 toolz==1.2.0 partd==1.4.2 locket==1.0.0
              msgpack==1.2.4 psutil==7.2.2 tornado==6.6.1 zict==3.0.0 tblib==3.2.2
              sortedcontainers==2.4.0 importlib_metadata==10.2.0 zipp==4.1.2 lazy-importer==0.1.0)
ls "$ROOT/.wheels/"lazy_importer-*.whl "$ROOT/.wheels/"sympy-1.14.0-*.whl >/dev/null 2>&1 || \
  "$VENV/bin/python" -m pip download -q --disable-pip-version-check --no-deps -d "$ROOT/.wheels" "${GROUP_WHEELS[@]}"
if ! ls "$ROOT/.wheels/"torch-*.whl /opt/wheels/torch-*.whl >/dev/null 2>&1; then
  "$VENV/bin/python" -m pip download -q --disable-pip-version-check --no-deps -d "$ROOT/.wheels" \
    --index-url https://download.pytorch.org/whl/cpu "torch==2.13.0"
fi

if [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then
  chown -R "$SUDO_USER": "$VENV" "$ROOT/.wheels"
fi

# QGIS 3.40 LTR / 3.44 for `make test` (CI sets QGIS_CHROOT_SUITES="trixie sid"): their
# chroots of Debian's packages, built once and cached in .chroots/ (scripts/qgis_chroot.sh).
for suite in ${QGIS_CHROOT_SUITES:-}; do
  bash "$ROOT/scripts/qgis_chroot.sh" "$suite" --build-only
done

"$VENV/bin/python" - <<'PY'
import numpy, torch, onnxruntime
from osgeo import gdal
from qgis.core import Qgis
print(f"setup ok: QGIS {Qgis.QGIS_VERSION}, GDAL {gdal.__version__}, numpy {numpy.__version__}, "
      f"torch {torch.__version__}, onnxruntime {onnxruntime.__version__}")
PY
