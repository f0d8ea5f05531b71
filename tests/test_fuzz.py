"""Fuzzing of everything we parse, a short time-bounded run (scripts/fuzz.py runs long ones).

Every input to every target (tests/fuzz_targets.py: label files of each format, model files,
manifests and configs, option strings) must give a result or one of the project's errors
naming the file: never a traceback of another type, never a hang. Inputs come from Hypothesis
(raw bytes, and mutations of each target's seeds), and every crashing input found so far is
replayed from tests/data/fuzz/<target>/.
"""

from __future__ import annotations

import random
import signal
import tempfile
from contextlib import contextmanager
from pathlib import Path

import hypothesis_setup  # noqa: F401  (profiles)
import pytest
from fuzz_mutate import any_mutation as mutate
from fuzz_targets import FIXTURES, check, seeds_from_disk, targets
from hypothesis import given, settings
from hypothesis import strategies as st

TARGETS = targets()
HANG_S = 10


@contextmanager
def time_limit(seconds: int):
    """A hang is a failure: SIGALRM interrupts the call after `seconds`."""

    def alarm(signum, frame):
        raise TimeoutError(f"no answer within {seconds} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def run_one(name: str, data: bytes) -> str | None:
    with tempfile.TemporaryDirectory() as folder, time_limit(HANG_S):
        try:
            return check(TARGETS[name], data, Path(folder))
        except TimeoutError as error:
            return f"hang: {error}"


def inputs(name: str):
    seeds = TARGETS[name].seeds + seeds_from_disk(name)
    mutants = st.builds(
        lambda i, s: mutate(seeds[i % len(seeds)], random.Random(s)), st.integers(0, 1000), st.integers(0, 2**32 - 1)
    )
    return st.one_of(mutants, mutants, st.binary(max_size=512))


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_seeds_parse(name):
    """Each seed is a valid input: fuzzing starts from things that parse."""
    for seed in TARGETS[name].seeds:
        assert run_one(name, seed) is None


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_fuzz(name):
    """A short fuzz run of one target (the ci profile's examples; more with HYPOTHESIS_PROFILE=long)."""

    @settings(max_examples=max(settings().max_examples * 2, 60))
    @given(data=inputs(name))
    def fuzz(data):
        problem = run_one(name, data)
        assert problem is None, f"{name}: {problem} on input {data[:200]!r}"

    fuzz()


FOUND = sorted((p.parent.name, p) for p in FIXTURES.glob("*/*") if p.is_file())


@pytest.mark.parametrize("name, path", FOUND, ids=[f"{n}/{p.name}" for n, p in FOUND])
def test_crashing_inputs_found_before_are_handled(name, path):
    """Regression fixtures: inputs that once crashed a parser (see tests/data/fuzz/README.md)."""
    assert run_one(name, path.read_bytes()) is None
