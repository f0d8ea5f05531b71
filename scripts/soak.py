"""Soak run of detect-folder (issue 27, item 5): many small rasters, random faults, rerun until
done; then every raster is either done exactly as in a clean run or reported failed with a
reason, no litter is left, and memory stays flat.

    .venv/bin/python scripts/soak.py --rasters 500 [--weights M] [--seed 1] [--work DIR]

Faults, one drawn per round: SIGKILL of the run at a random moment (a killed worker),
SIGTERM at a random moment, a full disk (the output folder is a small tmpfs, filled up for
that round; needs root, else this fault is left out and said so), none. Some rasters are
corrupt from the start (truncated files): they must end up reported as failed with a reason.
tests/test_soak.py runs a short variant. Prints one JSON report; exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # not ROOT: its processing/ would shadow QGIS's

from bad_input_kit import ENV, PYTHON, layer_rows, litter, make_raster  # noqa: E402


def run(folder: Path, out: Path, model: Path, fault: str, rng: random.Random, disk: Path | None) -> dict:
    """One detect-folder run with `fault` injected; its exit status and peak RSS (MB)."""
    cmd = [
        PYTHON,
        "-m",
        "micro_detector",
        "detect-folder",
        str(folder),
        "-o",
        str(out),
        "--weights",
        str(model),
        "-q",
        "--tile",
        "64",
    ]
    ballast = None
    if fault == "full disk" and disk is not None:
        ballast = disk / "ballast"
        with open(ballast, "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\1" * 65536)
            except OSError:
                pass
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a chatty child never blocks
        proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=errors)
        pid, status, usage = 0, 0, None
        if fault in ("kill", "term"):
            # reap only through wait4 (proc.poll() would reap the child and lose its rusage)
            deadline = time.monotonic() + rng.uniform(0.5, 8.0)
            while not pid and time.monotonic() < deadline:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                time.sleep(0.05)
            if not pid:
                proc.send_signal(signal.SIGKILL if fault == "kill" else signal.SIGTERM)
        if not pid:
            _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        err = errors.read().decode(errors="replace")
    if ballast is not None:
        ballast.unlink()
    return {
        "fault": fault,
        "exit": proc.returncode,
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "traceback": "Traceback" in err,
    }


def summary(out: Path) -> dict[str, dict]:
    """summary.csv rows by raster name ({} when absent)."""
    path = out / "summary.csv"
    if not path.is_file():
        return {}
    with open(path, newline="") as f:
        return {r["raster"]: r for r in csv.DictReader(f)}


def mount_small_disk(folder: Path, mb: int) -> bool:
    folder.mkdir(parents=True, exist_ok=True)
    return (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={mb}m", "tmpfs", str(folder)], capture_output=True
        ).returncode
        == 0
    )


def soak(work: Path, n: int, seed: int, model: Path | None = None, max_rounds: int = 60, disk_mb: int = 64) -> dict:
    """Build the inputs, run clean, then soak with faults until done; return the report."""
    rng = random.Random(seed)
    folder = work / "in"
    folder.mkdir(parents=True, exist_ok=True)
    if model is None:
        model = work / "tiny.pt"
        subprocess.run(
            [
                PYTHON,
                "-m",
                "micro_detector",
                "new-model",
                "--scale",
                "n",
                "--imgsz",
                "64",
                "--classes",
                "a,b",
                "-o",
                str(model),
            ],
            env=ENV,
            check=True,
            capture_output=True,
        )
    corrupt = set(rng.sample(range(n), max(1, n // 50)))
    for i in range(n):
        path = make_raster(folder / f"r{i:04d}.tif", size=rng.choice([64, 96, 128]))
        if i in corrupt:
            path.write_bytes(path.read_bytes()[:300])
    clean = work / "clean"
    run(folder, clean, model, "none", rng, None)
    expected = {p.stem: layer_rows(p) for p in clean.glob("*.gpkg")}
    out = work / "soak"
    disk = out if mount_small_disk(out, disk_mb) else None
    faults = ["kill", "term", "none"] + (["full disk"] if disk else [])
    first = rng.sample([f for f in faults if f != "none"], len(faults) - 1)  # each fault at least once
    rounds = []
    try:
        for k in range(max_rounds):
            fault = first[k] if k < len(first) else ("none" if rng.random() < 0.5 else rng.choice(faults))
            rounds.append(run(folder, out, model, fault, rng, disk))
            rows = summary(out)
            if fault == "none" and rounds[-1]["exit"] in (0, 1) and len(rows) == n:
                break
        report = check(out, n, corrupt, expected, rounds, disk is not None)
    finally:
        if disk is not None:
            shutil.copytree(out, work / "soak-kept", dirs_exist_ok=True)
            subprocess.run(["umount", "-l", str(out)], check=False)
    return report


def check(out: Path, n: int, corrupt: set, expected: dict, rounds: list, full_disk: bool) -> dict:
    """The soak's verdicts over its output folder and rounds."""
    rows = summary(out)
    names = {f"r{i:04d}" for i in range(n)}
    bad = {f"r{i:04d}" for i in corrupt}
    done = {p.stem for p in out.glob("*.gpkg")}
    wrong = sorted(s for s in names - bad if s not in done or layer_rows(out / f"{s}.gpkg") != expected.get(s))
    unreported = sorted(s for s in bad if not rows.get(f"{s}.tif", {}).get("error"))
    peaks = [r["peak_rss_mb"] for r in rounds if r["exit"] in (0, 1)] or [0.0]  # runs that got to the end
    verdicts = {
        "finished": bool(rounds) and rounds[-1]["fault"] == "none" and len(rows) == n,
        "every good raster as in the clean run": not wrong,
        "every corrupt raster failed with a reason": not unreported and not (done & bad),
        "no litter": not litter(out),
        "no traceback": not any(r["traceback"] for r in rounds),
        "memory flat (peak RSS of runs within 20 %)": max(peaks) <= 1.2 * min(peaks) + 30,
    }
    return {
        "rasters": n,
        "corrupt": len(bad),
        "rounds": len(rounds),
        "full_disk_fault": full_disk,
        "faults": [r["fault"] for r in rounds],
        "peak_rss_mb": peaks,
        "wrong": wrong[:10],
        "unreported": unreported[:10],
        "litter": litter(out)[:10],
        "verdicts": verdicts,
    }


def main(argv=None) -> int:
    """Run the soak and print its report."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rasters", type=int, default=500)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--weights", type=Path, help="model (default: a tiny untrained one, made here)")
    p.add_argument("--work", type=Path, help="work folder (default: a temporary one, removed)")
    p.add_argument("--max-rounds", type=int, default=200)
    args = p.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="soak-"))
    try:
        report = soak(work, args.rasters, args.seed, args.weights, args.max_rounds)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(report, indent=1))
    return 0 if all(report["verdicts"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
