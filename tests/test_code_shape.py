"""The size rule of ARCHITECTURE.md holds: no function over about 60 lines, no file over
about 400 (unless a `# size: reason` comment says why), and every public function of the
core has a docstring. scripts/check_sizes.py is the one implementation of the rule."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def test_the_code_keeps_the_size_rule():
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "check_sizes.py")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_check_reports_a_long_function(tmp_path):
    """The check is not blind: a 70-line function in a scanned folder is reported."""
    pkg = tmp_path / "micro_detector"
    pkg.mkdir()
    body = "\n".join(f"    x{i} = {i}" for i in range(70))
    (pkg / "long.py").write_text(f'def long_one():\n    """Doc."""\n{body}\n    return 0\n')
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "check_sizes.py"), "--root", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1 and "long_one" in done.stdout + done.stderr
