"""Carry out an install plan: pip into a staging folder, verify in a subprocess, move into
place, activate. Also uninstall. No QGIS imports: the QgsTask and the dialog call these."""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Callable

from .core import NO_WINDOW, InstallError, Plan, activate, explain_failure, pip_commands

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
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                encoding="utf-8", errors="replace", stdin=subprocess.DEVNULL,
                                env=dict(os.environ, PYTHONIOENCODING="utf-8"), **NO_WINDOW)
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


def verify(python: str, folder: Path, modules: list[str]) -> dict[str, str]:
    """Import `modules` from `folder` in a fresh interpreter (the one that runs pip, so QGIS's
    numpy); returns their versions. A crash or an import error raises InstallError."""
    code = ("import importlib, json, sys; sys.path.append(sys.argv[1]); out = {}\n"
            "for m in sys.argv[2:]:\n"
            "    mod = importlib.import_module(m)\n"
            "    out[m] = [getattr(mod, '__version__', '?'), mod.__file__]\n"
            "print(json.dumps(out))")
    done = subprocess.run([python, "-c", code, str(folder), *modules], capture_output=True, text=True,
                          timeout=300, stdin=subprocess.DEVNULL, **NO_WINDOW)
    if done.returncode != 0:
        raise InstallError("The installed packages do not import in QGIS's Python; nothing was "
                           "activated:\n" + "\n".join(done.stderr.strip().splitlines()[-6:]))
    found = json.loads(done.stdout.strip().splitlines()[-1])
    outside = [m for m, (_, path) in found.items() if not Path(path).resolve().is_relative_to(folder.resolve())]
    if outside:
        raise InstallError(f"{', '.join(outside)} imported from elsewhere, not from {folder}")
    return {m: version for m, (version, _) in found.items()}


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


def install(plan: Plan, log: Log = print, cancelled: Check = lambda: False,
            progress: Callable[[float], None] = lambda p: None) -> dict[str, str]:
    """Install `plan` and activate it. Returns {module: version}. The deps folder is only
    touched after the packages imported fine from the staging folder."""
    if not plan.items:
        return {}
    staging = plan.target.with_name(plan.target.name + ".staging")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        commands = pip_commands(plan, staging)
        for i, cmd in enumerate(commands):
            run_pip(cmd, log, cancelled, plan)
            progress(80 * (i + 1) / len(commands))
        if cancelled():
            raise Cancelled("Cancelled: nothing was installed.")
        versions = verify(plan.python, staging, [item.module for item in plan.items])
        log("verified: " + ", ".join(f"{m} {v}" for m, v in versions.items()))
        progress(90)
        _move_into(staging, plan.target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    activate(plan.target)
    progress(100)
    log(f"installed into {plan.target}")
    return versions


def uninstall(target: Path) -> str:
    """Remove the deps folder. Packages already imported stay loaded until QGIS restarts."""
    if not target.exists():
        return f"Nothing to remove: {target} does not exist."
    shutil.rmtree(target)
    return f"Removed {target}. Restart QGIS to unload packages already in use."
