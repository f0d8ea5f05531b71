#!/usr/bin/env bash
# The plugin's tests and a qgis_process run on newer QGIS from Debian's own packages, in a
# chroot (CI: built by make setup, run by make test, with QGIS_CHROOT_SUITES set).
#   scripts/qgis_chroot.sh trixie   # QGIS 3.40 LTR, Python 3.13, numpy 2, GDAL 3.10
#   scripts/qgis_chroot.sh sid      # QGIS 3.44, Python 3.14
#   scripts/qgis_chroot.sh trixie --build-only   # only build (cache) the chroot: make setup
# The chroot is built once with debootstrap into .chroots/<suite> (cached; delete it to
# rebuild) and reused; each run copies the working tree in and runs the QGIS tests (plugin,
# Processing provider, installer, Qt6 check, translations) with pytest-qgis and onnxruntime
# in a venv over Debian's packages (--system-site-packages: QGIS's numpy), the project
# installed in it as `make setup` does. torch comes from its CPU index when that is reachable;
# without it the tests that need torch are deselected, by name, and the run says so.
# Needs root (debootstrap, chroot, bind mounts) and the Debian mirror (DEBIAN_MIRROR).
set -euo pipefail
SUITE="${1:-trixie}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CHROOT="${CHROOT_DIR:-$ROOT/.chroots}/$SUITE"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
PACKAGES="qgis,python3-qgis,qgis-providers,python3-gdal,python3-venv,python3-pip,python3-setuptools,xvfb,xauth,qttools5-dev-tools,ca-certificates"
TESTS="${TESTS:-tests/test_plugin.py tests/test_qt6.py tests/test_install_deps.py tests/test_i18n.py tests/test_metadata.py}"
# The tests of $TESTS that import torch in the test process (deselected when torch is absent).
NEEDS_TORCH="tests/test_plugin.py::test_detect_through_processing_run_writes_a_layer
tests/test_plugin.py::test_plugin_start_names_missing_packages_without_importing_them"
TORCH_INDEX="https://download.pytorch.org/whl/cpu"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
# Every mount under the chroot, deepest first (also those a killed earlier run left behind).
unmount_all() {
  [ -d "$CHROOT" ] || return 0
  local m
  for m in $(awk -v root="$(realpath "$CHROOT")/" 'index($2, root) == 1 {print $2}' /proc/mounts | sort -r); do
    as_root umount -l "$m" 2>/dev/null || true
  done
}
start=$(date +%s)
if [ ! -f "$CHROOT/.ready" ]; then
  command -v debootstrap >/dev/null || { as_root apt-get update -qq; as_root apt-get install -y -qq debootstrap; }
  unmount_all  # never rm -rf through a /dev or /proc left mounted by a killed run
  as_root rm -rf --one-file-system "$CHROOT"
  as_root mkdir -p "$CHROOT"
  echo "qgis_chroot: debootstrap $SUITE into $CHROOT"
  as_root debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$CHROOT" "$MIRROR"
  as_root touch "$CHROOT/.ready"
  echo "qgis_chroot: chroot built in $(( $(date +%s) - start )) s"
fi
# `--build-only` (make setup, when QGIS_CHROOT_SUITES is set): the cached chroot is all
[ "${2:-}" = "--build-only" ] && exit 0

unmount_all
trap unmount_all EXIT
as_root mount -t proc proc "$CHROOT/proc"
as_root mount --bind /dev "$CHROOT/dev"
as_root mount --bind /dev/pts "$CHROOT/dev/pts"
as_root mount --bind /dev/shm "$CHROOT/dev/shm"  # POSIX semaphores and shared memory
as_root cp -L /etc/resolv.conf "$CHROOT/etc/resolv.conf"
# The host's own CAs (a TLS-inspecting proxy, a company mirror): pip inside must trust them too.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  as_root cp /usr/local/share/ca-certificates/*.crt "$CHROOT/usr/local/share/ca-certificates/"
  as_root chroot "$CHROOT" update-ca-certificates >/dev/null 2>&1
fi
as_root rm -rf --one-file-system "$CHROOT/src"
as_root mkdir -p "$CHROOT/src"
# The working tree as it is (tracked and new files, not ignored ones), not the last commit.
git -C "$ROOT" ls-files -z --cached --others --exclude-standard |
  (cd "$ROOT" && while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done) |
  (cd "$ROOT" && as_root xargs -0 cp --parents -t "$CHROOT/src")
as_root mkdir -p "$CHROOT/src/.wheels"
# The versions the project pins (requirements.txt): the installer's test expects exactly these.
pin() { grep -E "^$1==" "$ROOT/requirements.txt"; }
# A clean environment: the host's PIP_*, PYTHON*, QGIS_* and PATH mean nothing inside; proxies do.
keep=(HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TERM=dumb
      DEBIAN_FRONTEND=noninteractive "PACKAGES=$PACKAGES" "TESTS=$TESTS" "NEEDS_TORCH=$NEEDS_TORCH"
      "TORCH_INDEX=$TORCH_INDEX" "PINS=$(pin pytest) $(pin pytest-qgis) $(pin onnxruntime)"
      "ORT=$(pin onnxruntime)" "TORCH=$(pin torch)" "TORCH_EXTRAS=$(pin onnx) $(pin onnxscript)")
for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY PIP_INDEX_URL; do
  [ -n "${!v:-}" ] && keep+=("$v=${!v}")
done
rc=0
as_root chroot "$CHROOT" /usr/bin/env -i "${keep[@]}" /bin/bash -eu <<'INSIDE' || rc=$?
cd /src
# packages added to PACKAGES after the chroot was built
missing=$(for p in ${PACKAGES//,/ }; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || echo "$p"; done)
if [ -n "$missing" ]; then
  echo "qgis_chroot: installing" $missing
  apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
[ -x /opt/venv/bin/python ] || python3 -m venv --system-site-packages /opt/venv
pip=(/opt/venv/bin/python -m pip -q --disable-pip-version-check)
"${pip[@]}" install $PINS
"${pip[@]}" download --no-deps -d .wheels $ORT
# torch (CPU build only: never the CUDA one from PyPI), then what it needs from PyPI
if ! /opt/venv/bin/python -c "import torch" 2>/dev/null; then
  "${pip[@]}" install --no-deps --retries 1 --timeout 30 --index-url "$TORCH_INDEX" $TORCH 2>/dev/null ||
    echo "qgis_chroot: torch not installable from $TORCH_INDEX"
fi
if /opt/venv/bin/python -c "import torch" 2>/dev/null; then
  "${pip[@]}" install $TORCH $TORCH_EXTRAS
fi
# the project, editable, as `make setup` does: micro_detector and the micro-detector command
"${pip[@]}" install --no-deps --no-build-isolation -e /src
ln -sfn /opt/venv /src/.venv  # the tests call $ROOT/.venv/bin/micro-detector
/opt/venv/bin/python -c 'from qgis.core import Qgis; import sys, numpy; print("QGIS", Qgis.QGIS_VERSION, "Python", sys.version.split()[0], "numpy", numpy.__version__)'
deselect=()
if ! /opt/venv/bin/python -c "import torch" 2>/dev/null; then
  for t in $NEEDS_TORCH; do deselect+=(--deselect "$t"); done
  echo "qgis_chroot: no torch: deselected" $NEEDS_TORCH
fi
t0=$(date +%s)
rc=0
QT_QPA_PLATFORM=offscreen /opt/venv/bin/pytest -q -p no:cacheprovider "${deselect[@]}" $TESTS || rc=$?
echo "qgis_chroot: tests ran in $(( $(date +%s) - t0 )) s"
# qgis_process as a user scripts it: the plugin enabled in a fresh profile, the bundled
# model (its ONNX export: onnxruntime, no torch) on the demo raster, the cars counted.
qp=$(mktemp -d)
mkdir -p "$qp/plugins" && ln -sfn /src "$qp/plugins/micro_object_detection"
site=$(/opt/venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
export QT_QPA_PLATFORM=offscreen QGIS_PLUGINPATH="$qp/plugins" PYTHONPATH="$site" HOME="$qp"
if qgis_process plugins enable micro_object_detection >"$qp/enable.log" 2>&1 &&
   qgis_process run micro_detector:detect -- INPUT=/src/resources/demo/kit_MunichStreet02-MOS93.tif \
     OUTPUT="$qp/cars.gpkg" >"$qp/run.log" 2>&1 &&
   /opt/venv/bin/python -c "
from osgeo import ogr; import sys; ogr.UseExceptions()
ds = ogr.Open(sys.argv[1]); n = ds.GetLayer(0).GetFeatureCount()
print(f'qgis_chroot: qgis_process detect on the demo raster: {n} objects')
sys.exit(n < 30)" "$qp/cars.gpkg"; then
  :
else
  echo "qgis_chroot: qgis_process detect failed:"; tail -n 20 "$qp/enable.log" "$qp/run.log"; rc=1
fi
exit $rc
INSIDE
echo "qgis_chroot: $SUITE done in $(( $(date +%s) - start )) s (exit $rc)"
exit "$rc"
