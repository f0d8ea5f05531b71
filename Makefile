# The README's commands. `make setup` once on a fresh Debian 12 machine, then `make test`.
.PHONY: setup test test-fast test-qgis-chroot lint format package wheel clean demo

setup:
	bash scripts/setup.sh

test: lint
	bash scripts/test.sh

# Lint: ruff's rules (pyproject.toml [tool.ruff]), the formatter's check, mypy over the core.
lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

format:
	.venv/bin/ruff format .

test-fast:
	bash scripts/test.sh -m "not slow"

# The plugin's tests on QGIS 3.40 (SUITE=trixie) or 3.44 (SUITE=sid) in a debootstrap chroot
# of Debian's packages, cached in .chroots/ (root and the Debian mirror). CI runs both
# (QGIS_CHROOT_SUITES in .ci/run).
SUITE ?= trixie
test-qgis-chroot:
	bash scripts/qgis_chroot.sh $(SUITE)

package:
	.venv/bin/python scripts/package.py

# The Python package (library + micro-detector command), for pip install elsewhere.
wheel:
	.venv/bin/python -m pip wheel --no-deps --no-build-isolation -w dist .

clean:
	rm -rf dist build .pytest_cache test-artifacts demo-output

# The main job in one command: the default model on the bundled demo raster.
demo:
	.venv/bin/python scripts/demo.py
