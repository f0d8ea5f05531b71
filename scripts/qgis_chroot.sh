#!/usr/bin/env bash
# Opt-in: the plugin's tests on newer QGIS from Debian's own packages, in a chroot.
#   scripts/qgis_chroot.sh trixie   # QGIS 3.40 LTR, Python 3.13, numpy 2, GDAL 3.10
#   scripts/qgis_chroot.sh sid      # QGIS 3.44, Python 3.14
# The chroot is built once with debootstrap into .chroots/<suite> (cached; delete it to
# rebuild) and reused; each run copies the checkout in and runs the QGIS tests that need no
# torch (plugin, Processing provider, installer, Qt6 check, translations) with pytest-qgis
# and onnxruntime in a venv over Debian's packages (--system-site-packages: QGIS's numpy).
# Needs root (debootstrap, chroot, bind mounts) and the Debian mirror (DEBIAN_MIRROR).
set -euo pipefail
SUITE="${1:-trixie}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CHROOT="${CHROOT_DIR:-$ROOT/.chroots}/$SUITE"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
PACKAGES="qgis,python3-qgis,qgis-providers,python3-gdal,python3-venv,python3-pip,xvfb,xauth,qttools5-dev-tools,ca-certificates"
TESTS="${TESTS:-tests/test_plugin.py tests/test_qt6.py tests/test_install_deps.py tests/test_i18n.py tests/test_metadata.py}"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
start=$(date +%s)
if [ ! -f "$CHROOT/.ready" ]; then
  command -v debootstrap >/dev/null || { as_root apt-get update -qq; as_root apt-get install -y -qq debootstrap; }
  as_root rm -rf "$CHROOT"
  as_root mkdir -p "$CHROOT"
  echo "qgis_chroot: debootstrap $SUITE into $CHROOT"
  as_root debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$CHROOT" "$MIRROR"
  as_root touch "$CHROOT/.ready"
  echo "qgis_chroot: chroot built in $(( $(date +%s) - start )) s"
fi

cleanup() { for m in proc dev/shm dev; do as_root umount -l "$CHROOT/$m" 2>/dev/null || true; done; }
trap cleanup EXIT
as_root mount -t proc proc "$CHROOT/proc"
as_root mount --bind /dev "$CHROOT/dev"
as_root cp /etc/resolv.conf "$CHROOT/etc/resolv.conf"
as_root rm -rf "$CHROOT/src"
as_root mkdir -p "$CHROOT/src"
git -C "$ROOT" ls-files -z | (cd "$ROOT" && as_root xargs -0 cp --parents -t "$CHROOT/src")
as_root mkdir -p "$CHROOT/src/.wheels"
as_root chroot "$CHROOT" /bin/bash -euc "
  cd /src
  [ -x /opt/venv/bin/python ] || python3 -m venv --system-site-packages /opt/venv
  /opt/venv/bin/pip install -q --disable-pip-version-check pytest pytest-qgis onnxruntime
  /opt/venv/bin/pip download -q --disable-pip-version-check --no-deps -d .wheels onnxruntime
  /opt/venv/bin/python -c 'from qgis.core import Qgis; import sys, numpy; print(\"QGIS\", Qgis.QGIS_VERSION, \"Python\", sys.version.split()[0], \"numpy\", numpy.__version__)'
  QT_QPA_PLATFORM=offscreen /opt/venv/bin/pytest -q -p no:cacheprovider $TESTS
"
echo "qgis_chroot: $SUITE done in $(( $(date +%s) - start )) s"
