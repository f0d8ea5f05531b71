"""Soak run of detect-folder (issue 27, item 5): many small rasters, random faults, rerun until
done; then every raster is either done exactly as in a clean run or reported failed with a
reason, no litter is left, and memory stays flat.

    .venv/bin/python scripts/soak.py --rasters 500 [--weights M] [--seed 1] [--work DIR]

Faults, one drawn per round: SIGKILL of the run at a random moment (a killed process),
SIGTERM at a random moment, a killed Dask worker (the round runs with `--workers 2`, an
embedded LocalCluster, and one of its worker processes is SIGKILLed: mid-task, its nanny
restarts it and the scheduler runs its tasks again; as the client finishes, the run must still
succeed; as the cluster starts, the run may fail with one clear line), a full disk (the output folder is
a small tmpfs, filled up for that round; needs root, else this fault is left out and said
so), none. The killed-worker round comes first, while every raster is still to do; each
other fault follows at least once, in random order. Some rasters are corrupt from the start
(truncated files): they must end up reported as failed with a reason.
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

import psutil  # noqa: E402
from bad_input_kit import ENV, PYTHON, layer_rows, litter, make_raster  # noqa: E402

WORKER_KILL = "killed Dask worker"


def run(
    folder: Path,
    out: Path,
    model: Path,
    fault: str,
    rng: random.Random,
    disk: Path | None,
    moment: str = "mid-task",
    outputs: int = 0,
) -> dict:
    """One detect-folder run with `fault` injected; its exit status and peak RSS (MB). A
    killed Dask worker dies `moment`: "mid-task", or "at the end", once the output folder
    holds `outputs` outputs (every raster that can be done is: the client is finishing)."""
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
    if fault == WORKER_KILL:
        cmd += ["--workers", "2"]
    if fault == "full disk" and disk is not None:
        ballast = disk / "ballast"
        with open(ballast, "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\1" * 65536)
            except OSError:
                pass
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a chatty child never blocks
        started = time.time()
        proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=errors)
        pid, status, usage = 0, 0, None
        if fault == WORKER_KILL:
            status, usage, killed, workers, hung = kill_a_worker(proc, folder, out, rng, moment, outputs)
            pid = proc.pid
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
    result = {
        "fault": fault,
        "exit": proc.returncode,
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "traceback": "Traceback" in err,
    }
    if fault == WORKER_KILL:
        time.sleep(1.0)  # the cluster's processes are gone when the client is; a moment for init to reap
        alive = [p for p in workers if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
        rows = summary(out)
        result.update(
            work_done=len(list(out.glob("*.gpkg"))) >= outputs and written(out, started),
            killed=killed,
            hung=hung,
            workers_seen=len(workers),
            workers_left=alive,
            error_rows=sorted(k for k, r in rows.items() if r.get("status") != "ok"),
            rows=len(rows),
            run_error=next(
                (line for line in err.splitlines() if line.startswith("micro-detector detect-folder: error:")), ""
            ),
        )
    return result


def dask_workers(proc: subprocess.Popen) -> list[psutil.Process]:
    """The LocalCluster's worker processes under the run: multiprocessing children spawned by
    the nannies (`spawn_main ... --multiprocessing-fork`). The nannies themselves live in the
    run's own process (LocalCluster), and the resource tracker is no worker."""
    found = []
    try:
        children = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        return found
    for child in children:
        try:
            line = " ".join(child.cmdline())
        except psutil.Error:
            continue
        if "spawn_main" in line and "--multiprocessing-fork" in line:
            found.append(child)
    return found


def busy(worker: psutil.Process, folder: Path) -> bool:
    """The worker has an input raster or a model file (.pt, or its ONNX export) open: it is
    inside a task."""
    try:
        return any(Path(f.path).parent == folder or f.path.endswith((".pt", ".onnx")) for f in worker.open_files())
    except psutil.Error:
        return False


def kill_a_worker(proc, folder: Path, out: Path, rng: random.Random, moment: str, outputs: int, hang_s: float = 600.0):
    """Watch the run `proc` to its end and SIGKILL one of its Dask worker processes.
    "mid-task": from the first moment a worker is inside a task (it has a raster or the model
    open), wait a random 0-0.5 s, then kill the next worker seen inside a task (any worker
    when none has been for 60 s: the tiny tasks may slip between two looks). "at the end":
    kill a worker once `outputs` outputs exist and this run has written a summary row, while
    the client collects and closes. "at start": as soon as a worker process is seen, before
    it has joined the cluster. A run still
    going `hang_s` after the kill is a hang: its whole tree is killed. Returns wait4's
    (status, usage), what was killed (None: the run ended first), the pids of every worker
    seen (the restarted one too) and whether the run hung."""
    start, start_wall = time.monotonic(), time.time()
    before = {p.name for p in out.glob("*.gpkg")} if out.is_dir() else set()
    seen: set[int] = set()
    trigger = None  # when the kill is due
    killed = None
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)  # reaps only through wait4: keeps its rusage
        if pid:
            return status, usage, killed, seen, False
        now = time.monotonic()
        workers = dask_workers(proc)
        seen.update(w.pid for w in workers)
        if killed is not None:
            if now - start - killed["after_s"] > hang_s:
                for child in psutil.Process(proc.pid).children(recursive=True):
                    child.kill()
                proc.kill()
                _, status, usage = os.wait4(proc.pid, 0)
                return status, usage, killed, seen, True
            time.sleep(0.1)
            continue
        working = [w for w in workers if busy(w, folder)]
        if moment == "at start":
            due = True
        elif moment == "at the end":  # every output there, and a summary row written by this run
            due = len(list(out.glob("*.gpkg"))) >= outputs and written(out, start_wall)
        else:
            if trigger is None and working:
                trigger = now + rng.uniform(0.0, 0.5)
            due = (trigger is not None and now >= trigger and working) or now - start > 60
        if workers and due:
            victim = rng.choice(working or workers)
            try:
                line = " ".join(victim.cmdline())
                rss = round(victim.memory_info().rss / 2**20)
                victim.send_signal(signal.SIGKILL)
            except psutil.Error:
                continue  # it ended just now: pick again
            killed = {
                "pid": victim.pid,
                "process": "a Dask worker process (its nanny runs inside the client, not killed)",
                "moment": moment,
                "cmdline": line,
                "in_task": victim in working,
                "rss_mb": rss,
                "after_s": round(now - start, 2),
                "outputs_by_then": len({p.name for p in out.glob("*.gpkg")} - before),
            }
        time.sleep(0.01)


def written(out: Path, since: float) -> bool:
    """summary.csv was written after `since` (a time.time())."""
    try:
        return (out / "summary.csv").stat().st_mtime > since
    except OSError:
        return False


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


def tiny_model(path: Path) -> Path:
    """A tiny untrained model (two classes, 64 px) at `path`."""
    cmd = ["new-model", "--scale", "n", "--imgsz", "64", "--classes", "a,b", "-o", str(path)]
    subprocess.run([PYTHON, "-m", "micro_detector", *cmd], env=ENV, check=True, capture_output=True)
    return path


def soak(work: Path, n: int, seed: int, model: Path | None = None, max_rounds: int = 60, disk_mb: int = 64) -> dict:
    """Build the inputs, run clean, then soak with faults until done; return the report."""
    rng = random.Random(seed)
    folder = work / "in"
    folder.mkdir(parents=True, exist_ok=True)
    if model is None:
        model = tiny_model(work / "tiny.pt")
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
    faults = ["kill", "term", WORKER_KILL, "none"] + (["full disk"] if disk else [])
    # each fault at least once; the killed worker first, while every raster is still to do
    others = [f for f in faults if f not in ("none", WORKER_KILL)]
    first = [WORKER_KILL] + rng.sample(others, len(others))
    rounds = []
    try:
        for k in range(max_rounds):
            fault = first[k] if k < len(first) else ("none" if rng.random() < 0.5 else rng.choice(faults))
            # the first killed worker dies mid-task; a later one (the corrupt rasters are run
            # again each round) mid-task, as the client finishes, or as the cluster starts
            moment = "mid-task" if k == 0 else rng.choice(["mid-task", "at the end", "at start"])
            rounds.append(run(folder, out, model, fault, rng, disk, moment, n - len(corrupt)))
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
    misrecorded = sorted(
        s
        for s in names - bad
        if rows.get(f"{s}.tif", {}).get("status") != "ok"
        or rows[f"{s}.tif"].get("output") != f"{s}.gpkg"
        or rows[f"{s}.tif"].get("objects") != str(len(expected.get(s, ())))
    )
    # peak RSS of the runs that got to the end, serial and on workers apart (a Dask round's
    # peak is its largest process: the client or a worker)
    peaks = {
        mode: [r["peak_rss_mb"] for r in rounds if r["exit"] in (0, 1) and (r["fault"] == WORKER_KILL) == dask]
        for mode, dask in (("serial", False), ("dask", True))
    }
    flat = all(max(v) <= 1.2 * min(v) + 30 for v in peaks.values() if v)
    on_workers = [r for r in rounds if r["fault"] == WORKER_KILL]
    good = {f"{s}.tif" for s in names - bad}
    verdicts = {
        "finished": bool(rounds) and rounds[-1]["fault"] == "none" and len(rows) == n,
        "every good raster as in the clean run": not wrong,
        "every corrupt raster failed with a reason": not unreported and not (done & bad),
        "summary rows right (ok, output, object count)": not misrecorded,
        "no litter": not litter(out),
        "no traceback": not any(r["traceback"] for r in rounds),
        "memory flat (peak RSS of runs within 20 %)": flat,
        "a Dask worker was killed mid-task": any(r["killed"] and r["killed"]["in_task"] for r in on_workers),
        # Dask reruns the dead worker's tasks: the round ends as usual (exit 0, or 1 for the
        # corrupt rasters) and no good raster becomes an error row; or, with work left (e.g.
        # the cluster did not start), it fails with one clear error line and a later round
        # resumes. A run that did all its work and then fails (e.g. on a diagnostic call to the
        # dead worker) is a bug.
        "killed worker: round ended cleanly, no raster lost": all(
            not r["hung"]
            and not r["traceback"]
            and (
                (r["exit"] in (0, 1) and not r["run_error"] and r["rows"] == n and not good & set(r["error_rows"]))
                or (r["exit"] != 0 and r["run_error"] and not r["work_done"])
            )
            for r in on_workers
        ),
        "no Dask worker process left behind": not any(r["workers_left"] for r in on_workers),
    }
    return {
        "rasters": n,
        "corrupt": len(bad),
        "rounds": len(rounds),
        "full_disk_fault": full_disk,
        "faults": [r["fault"] for r in rounds],
        "peak_rss_mb": peaks,
        "killed_worker_rounds": [
            {
                k: r[k]
                for k in (
                    "exit",
                    "run_error",
                    "work_done",
                    "killed",
                    "workers_seen",
                    "workers_left",
                    "rows",
                    "error_rows",
                    "hung",
                )
            }
            for r in on_workers
        ],
        "wrong": wrong[:10],
        "misrecorded": misrecorded[:10],
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
