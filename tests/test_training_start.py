"""Where a training run starts: one policy (micro_detector/training/start.py) for the CLI's
`train --start` and QGIS's "Start from", on the real bundled model."""

from __future__ import annotations

import pytest
from conftest import ROOT, run_python

from micro_detector.model.files import read_spec
from micro_detector.training.start import SCRATCH_MIN_IMAGES, SCRATCH_MIN_OBJECTS, choose_start

BUNDLED = ROOT / "resources" / "models" / "default.pt"


def test_small_data_on_auto_starts_from_the_bundled_model_at_its_scale():
    bundled_scale = read_spec(BUNDLED).scale
    other = "n" if bundled_scale != "n" else "s"
    start = choose_start("auto", None, other, images=3, objects=90, bundled=BUNDLED)
    assert (start.weights, start.scale, start.bundled) == (str(BUNDLED), bundled_scale, True)
    assert start.asked_scale == other and not start.too_small
    said = " ".join(text for _, text in start.messages(3, 90))
    assert f"training at scale {bundled_scale}, not {other}" in said and "fine-tuning" in said


def test_enough_data_on_auto_and_scratch_start_from_random_weights():
    enough = choose_start("auto", None, "n", SCRATCH_MIN_IMAGES, SCRATCH_MIN_OBJECTS, bundled=BUNDLED)
    assert (enough.weights, enough.scale, enough.too_small) == (None, "n", False)
    assert enough.messages(SCRATCH_MIN_IMAGES, SCRATCH_MIN_OBJECTS) == []
    small = choose_start("scratch", None, "n", 3, 90, bundled=BUNDLED)
    assert small.weights is None and small.too_small
    [(level, text)] = small.messages(3, 90)
    assert level == "warning" and "only 3 images and 90 labelled objects" in text


def test_the_users_model_file_wins_over_every_choice(tmp_path):
    for choice in ("auto", "bundled", "scratch"):
        start = choose_start(choice, tmp_path / "mine.pt", "m", 1, 1, bundled=BUNDLED)
        assert (start.weights, start.scale, start.bundled) == (str(tmp_path / "mine.pt"), "m", False)


def test_bad_choice_and_missing_bundled_model_are_refused(tmp_path):
    with pytest.raises(ValueError, match="auto, bundled, scratch"):
        choose_start("pretrained", None, "n", 3, 90)
    with pytest.raises(ValueError, match="not found"):  # a bundled model that is not there
        choose_start("bundled", None, "n", 3, 90, bundled=tmp_path / "gone.pt")


def test_the_policy_imports_no_torch_and_the_cli_offers_it():
    done = run_python(
        "import sys\nfrom micro_detector.training import cli, start\n"
        "print('torch' in sys.modules)\n"
        "cli.main(['train', '--help'])"
    )
    assert done.stdout.startswith("False") and "--start {auto,bundled,scratch}" in done.stdout, done.stderr
