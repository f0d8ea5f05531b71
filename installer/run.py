"""Carry out an install plan: pip into a staging folder, verify in a subprocess, move into
place, activate. Also uninstall. No QGIS imports: the QgsTask and the dialog call these."""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Callable

from .core import NO_WINDOW, InstallError, Plan, activate, explain_failure, pip_commands
from .groups import check_code

Log = Callable[[str], None]
Check = Callable[[], bool]


class Cancelled(InstallError):
    """The user cancelled; nothing was activated."""


def _lines(stream, out: queue.Queue):
    for line in iter(stream.readline, ""):
        out.put(line)
    out.put(None)


def run_pip(cmd: list[str], log: Log, cancelled: Check, plan: Plan) -> str:
    """Run one pip command, streaming its output to `log`; stops pip when `cancelled()`.
    Returns the output; raises InstallError (with the offline route when it is a network
    failure) or Cancelled."""
    log("$ " + " ".join(cmd))
    try:
        # UTF-8 both ways: the reader must not die on a Windows code page character
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            stdin=subprocess.DEVNULL,
            env=dict(os.environ, PYTHONIOENCODING="utf-8"),
            **NO_WINDOW,
        )
    except OSError as error:
        raise InstallError(f"cannot run {cmd[0]}: {error}") from None
    lines: queue.Queue = queue.Queue()
    # a reader thread: pip may be silent for minutes (a large download), cancel must not wait
    threading.Thread(target=_lines, args=(proc.stdout, lines), daemon=True).start()
    output = []
    while True:
        if cancelled():
            proc.terminate()
            proc.wait(timeout=30)
            raise Cancelled("Cancelled: nothing was installed.")
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            continue
        if line is None:
            break
        output.append(line)
        log(line.rstrip())
    text = "".join(output)
    proc.stdout.close()
    if proc.wait() != 0:
        raise InstallError(explain_failure(text, plan))
    return text


def verify(
    python: str, folder: Path, modules: list[str], groups: list[str] = (), model: str | None = None
) -> dict[str, str]:
    """In a fresh interpreter (the one that runs QGIS, so QGIS's numpy), with `folder` first
    as the plugin puts it: import `modules` (each must come from `folder`), then run each
    group's tiny real operation (groups.CHECKS). Returns {module or group: version or what
    ran}. A crash, an import error or a failed operation raises InstallError."""
    code = check_code(list(groups)).replace("\nprint(json.dumps(results))\n", "") + (
        "\nimport importlib\n"
        "for m in sys.argv[3:]:\n"
        "    mod = importlib.import_module(m)\n"
        "    results[m] = [getattr(mod, '__version__', '?'), mod.__file__]\n"
        "print(json.dumps(results))\n"
    )
    done = subprocess.run(
        [python, "-c", code, str(folder), model or "", *modules],
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
        cwd=tempfile.gettempdir(),
        **NO_WINDOW,
    )
    if done.returncode != 0:
        failed = [line for line in done.stderr.splitlines() if line.startswith("CHECK FAILED")]
        tail = "\n".join((failed or done.stderr.strip().splitlines())[-6:])
        raise InstallError("The installed packages do not work in QGIS's Python; nothing was activated:\n" + tail)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    outside = [m for m in modules if not Path(found[m][1]).resolve().is_relative_to(folder.resolve())]
    if outside:
        raise InstallError(f"{', '.join(outside)} imported from elsewhere, not from {folder}")
    return {m: (value[0] if isinstance(value, list) else value) for m, value in found.items()}


def _move_into(staging: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for entry in staging.iterdir():
        dest = target / entry.name
        try:
            if dest.is_dir() and not dest.is_symlink():
                shutil.rmtree(dest)
            elif dest.exists() or dest.is_symlink():
                dest.unlink()
            shutil.move(str(entry), str(dest))
        except OSError as error:  # e.g. a library in use on Windows
            raise InstallError(f"Cannot replace {dest} ({error}); restart QGIS and install again.") from None


def install(
    plan: Plan, log: Log = print, cancelled: Check = lambda: False, progress: Callable[[float], None] = lambda p: None
) -> dict[str, str]:
    """Install `plan` and activate it. Returns {module: version}. The deps folder is only
    touched after the packages imported fine from the staging folder."""
    if not plan.items:
        return {}
    staging = plan.target.with_name(plan.target.name + ".staging")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        plan.check_space()
        commands = pip_commands(plan, staging)
        for i, cmd in enumerate(commands):
            run_pip(cmd, log, cancelled, plan)
            progress(80 * (i + 1) / len(commands))
        if cancelled():
            raise Cancelled("Cancelled: nothing was installed.")
        versions = verify(plan.python, staging, [item.module for item in plan.items], plan.groups, check_model())
        log("verified: " + ", ".join(f"{m} {v}" for m, v in versions.items() if not m.startswith("check ")))
        for key, text in versions.items():
            if key.startswith("check "):
                log(f"checked {key[6:]}: {text}")
        progress(90)
        _move_into(staging, plan.target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    activate(plan.target)
    progress(100)
    log(f"installed into {plan.target}")
    return versions


def check_model() -> str | None:
    """The bundled ONNX model, for the detect group's forward pass (None when absent)."""
    model = Path(__file__).resolve().parents[1] / "resources" / "models" / "default.onnx"
    return str(model) if model.is_file() else None


def uninstall(target: Path) -> str:
    """Remove the deps folder. Packages already imported stay loaded until QGIS restarts."""
    if not target.exists():
        return f"Nothing to remove: {target} does not exist."
    shutil.rmtree(target)
    return f"Removed {target}. Restart QGIS to unload packages already in use."
