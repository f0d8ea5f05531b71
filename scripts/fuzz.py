"""A long fuzz run of every parser (the targets of tests/fuzz_targets.py), for a night or a
quiet machine; CI runs a short one (tests/test_fuzz.py).

    .venv/bin/python scripts/fuzz.py --minutes 30 [--target coco_json ...] [--seed 1] [--save]

Targets take turns in rounds of a few seconds each. Each input is a mutation of a seed, of a
saved input or of an input that found a new kind of problem. An input that breaks the rule
(a result, or one of the project's errors naming the file) or hangs past --hang seconds is
reported with its problem; --save keeps it as a regression fixture in
tests/data/fuzz/<target>/crash-<sha>.bin (one per distinct problem), which test_fuzz.py replays.
Prints executions and problems per target, and exits 1 when any problem was found.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import re
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # not ROOT: its processing/ would shadow QGIS's

from fuzz_mutate import any_mutation as mutate  # noqa: E402
from fuzz_targets import FIXTURES, check, seeds_from_disk, targets  # noqa: E402


class Hang(Exception):
    """The target did not answer within the time limit."""


def _alarm(signum, frame):
    raise Hang()


def run_input(target, data: bytes, hang_s: int) -> str | None:
    """The problem of one input, or None."""
    with tempfile.TemporaryDirectory() as folder:
        signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(hang_s)
        try:
            return check(target, data, Path(folder))
        except Hang:
            return f"hang: no answer within {hang_s} s"
        finally:
            signal.alarm(0)


def problem_kind(problem: str) -> str:
    """A problem without its variable parts (numbers, quoted text, paths): one fixture per kind."""
    text = re.sub(r"'[^']*'|\"[^\"]*\"|/\S+", "_", problem)
    return re.sub(r"\d+", "N", text)[:120]


def save(name: str, data: bytes, problem: str) -> Path:
    """Keep a crashing input as a regression fixture (and its problem beside it in the README)."""
    folder = FIXTURES / name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"crash-{hashlib.sha256(data).hexdigest()[:12]}.bin"
    path.write_bytes(data)
    return path


def fuzz_target(target, seconds: float, rng: random.Random, hang_s: int, found: dict, do_save: bool) -> int:
    """Fuzz one target for `seconds`; new problem kinds go into `found`. Returns executions."""
    pool = list(target.seeds) + seeds_from_disk(target.name) or [b""]
    runs, stop = 0, time.monotonic() + seconds
    while time.monotonic() < stop:
        data = mutate(rng.choice(pool), rng) if rng.random() < 0.9 else rng.randbytes(rng.randint(0, 256))
        runs += 1
        problem = run_input(target, data, hang_s)
        if problem is None:
            continue
        kind = problem_kind(problem)
        if (target.name, kind) in found:
            continue
        found[(target.name, kind)] = (problem, data)
        pool.append(data)
        where = save(target.name, data, problem) if do_save else None
        print(f"  {target.name}: {problem[:160]}" + (f" -> {where.relative_to(ROOT)}" if where else ""), flush=True)
    return runs


def main(argv=None) -> int:
    """Run the fuzzing loop; exit 1 when a problem was found."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--target", action="append", help="only these targets (repeat)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--round", type=float, default=5.0, help="seconds per target per turn")
    parser.add_argument("--hang", type=int, default=10, help="seconds after which an input is a hang")
    parser.add_argument("--save", action="store_true", help="keep crashing inputs in tests/data/fuzz/")
    args = parser.parse_args(argv)
    all_targets = targets()
    unknown = set(args.target or []) - set(all_targets)
    if unknown:
        parser.error(f"unknown targets {sorted(unknown)}; known: {', '.join(sorted(all_targets))}")
    chosen = [all_targets[n] for n in (args.target or sorted(all_targets))]
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    rng = random.Random(seed)
    print(f"fuzz: {len(chosen)} targets, {args.minutes:g} min, seed {seed}", flush=True)
    runs = dict.fromkeys((t.name for t in chosen), 0)
    found: dict = {}
    stop = time.monotonic() + args.minutes * 60
    while time.monotonic() < stop:
        for target in chosen:
            left = stop - time.monotonic()
            if left <= 0:
                break
            runs[target.name] += fuzz_target(target, min(args.round, left), rng, args.hang, found, args.save)
    for name, n in runs.items():
        kinds = sum(1 for (t, _) in found if t == name)
        print(f"{name:18s} {n:8d} executions  {kinds} problem kinds")
    print(f"total {sum(runs.values())} executions, {len(found)} problem kinds", flush=True)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
