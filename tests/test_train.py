"""End to end: train a tiny YOLOv12n on a synthetic scene; it must learn to find the objects.

Also: resume from the checkpoint, the CLI (train, evaluate), outputs next to the model.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest
import torch
from conftest import ROOT, tiny_config

from micro_detector import engine
from micro_detector.boxes import box_iou
from micro_detector.model.io import load_model
from micro_detector.model.runner import TorchRunner
from micro_detector.training.labels import ClassMap, load_xview, split_by_image
from micro_detector.training.trainer import train

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scenes(synthetic_training):
    s = synthetic_training
    return s["folder"], s["geojson"], s["mapping"], s["rows"]


def test_training_learns_to_find_the_drawn_objects(synthetic_training):
    result = synthetic_training["result"]
    folder, rows, run = synthetic_training["folder"], synthetic_training["rows"], synthetic_training["run"]
    first, last = result.history[0], result.history[-1]
    loss = lambda h: h["train/box"] + h["train/cls"] + h["train/dfl"]  # noqa: E731
    assert loss(last) < 0.6 * loss(first)

    # the model finds the objects of the scene it never saw, where they are, with their class
    model = load_model(synthetic_training["model"])
    assert model.spec.class_names == ["vehicle", "boat"] and model.spec.gsd == pytest.approx(0.5)
    det = engine.detect(
        folder / "scene2.tif", None, TorchRunner(model), options=engine.DetectOptions(conf=0.25, pixel_coordinates=True)
    )
    _, true_boxes, true_classes = rows[2]
    iou = box_iou(true_boxes.astype(float), det.boxes)
    same_class = true_classes[:, None] == det.class_ids[None, :]
    recall = ((iou >= 0.5) & same_class).any(1).mean()
    precision = ((iou >= 0.5) & same_class).any(0).mean() if len(det) else 0.0
    assert recall >= 0.8 and precision >= 0.8, (recall, precision, len(det))

    # what a run leaves: metrics table, per-epoch results, plots, report, resumable checkpoint
    for name in (
        "best.pt",
        "last_checkpoint.pt",
        "results.csv",
        "results.png",
        "metrics.csv",
        "metrics.json",
        "PR_curve.png",
        "val_images.png",
        "report.html",
        "train_config.json",
        "labels_report.json",
    ):
        assert (run / name).is_file(), name
    table = list(csv.DictReader(open(run / "metrics.csv")))
    assert [r["class"] for r in table] == ["all", "vehicle", "boat"]
    assert float(table[0]["mAP50"]) == pytest.approx(result.metrics.overall()["mAP50"])
    assert model.metadata["val_table"][0]["class"] == "all"


def test_resume_continues_from_the_checkpoint(scenes, tmp_path):
    folder, geojson, mapping, _ = scenes
    labels = load_xview(geojson, folder, ClassMap.from_file(mapping))
    train_set, val_set = split_by_image(labels, val_names=["scene2.tif"])
    run = tmp_path / "run"
    train(tiny_config(2), train_set, val_set, run)
    ck = torch.load(run / "last_checkpoint.pt", weights_only=True)
    assert ck["epoch"] == 1 and len(ck["history"]) == 2
    result = train(tiny_config(3), train_set, val_set, run, resume=run / "last_checkpoint.pt")
    assert [h["epoch"] for h in result.history] == [1, 2, 3]
    assert torch.load(run / "last_checkpoint.pt", weights_only=True)["epoch"] == 2
    # the learning rate follows the schedule of the resumed run, not a restarted one
    assert result.history[-1]["lr"] < result.history[0]["lr"]


def test_cli_train_and_evaluate(scenes, tmp_path):
    folder, geojson, mapping, _ = scenes
    exe = ROOT / ".venv" / "bin" / "micro-detector"
    args = [
        str(exe),
        "train",
        "--xview",
        str(geojson),
        "--images",
        str(folder),
        "--class-map",
        str(mapping),
        "--val-list",
        str(_write(tmp_path / "val.txt", "scene2.tif\n")),
        "--scale",
        "n",
        "--epochs",
        "2",
        "--imgsz",
        "128",
        "--batch",
        "8",
        "--workers",
        "0",
        "--out",
        str(tmp_path / "run"),
        "-o",
        str(tmp_path / "model.pt"),
    ]
    done = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["train_images"] == 2 and out["val_images"] == 1 and (tmp_path / "model.pt").is_file()
    assert "mAP50-95" in done.stderr  # the results table

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "micro_detector.training",
            "evaluate",
            str(tmp_path / "model.pt"),
            "--xview",
            str(geojson),
            "--images",
            str(folder),
            "--class-map",
            str(mapping),
            "--out",
            str(tmp_path / "eval"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["images"] == 3
    assert (tmp_path / "eval" / "report.html").read_text().count("<tr>") == 4  # header, all, 2 classes

    bad = subprocess.run(
        [
            str(exe),
            "train",
            "--xview",
            str(tmp_path / "nope.geojson"),
            "--images",
            str(folder),
            "--class-map",
            str(mapping),
            "--out",
            str(tmp_path / "x"),
        ],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "nope.geojson" in bad.stderr and "Traceback" not in bad.stderr


def _write(path, text):
    path.write_text(text)
    return path


def test_ddp_with_two_processes_on_the_cpu(scenes, tmp_path):
    """torchrun with two processes (gloo backend): rank 0 cuts the chips and writes the run,
    both ranks train on their half of each batch."""
    folder, geojson, mapping, _ = scenes
    args = [
        str(ROOT / ".venv" / "bin" / "torchrun"),
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "micro_detector.training",
        "train",
        "--xview",
        str(geojson),
        "--images",
        str(folder),
        "--class-map",
        str(mapping),
        "--val-list",
        str(_write(tmp_path / "val.txt", "scene2.tif\n")),
        "--scale",
        "n",
        "--epochs",
        "2",
        "--imgsz",
        "128",
        "--batch",
        "8",
        "--workers",
        "0",
        "--device",
        "cpu",
        "--out",
        str(tmp_path / "run"),
    ]
    env = {**__import__("os").environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(args, capture_output=True, text=True, timeout=900, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "world 2" in done.stderr
    ck = torch.load(tmp_path / "run" / "last_checkpoint.pt", weights_only=True)
    assert ck["epoch"] == 1 and ck["config"]["batch"] == 8
    assert (tmp_path / "run" / "best.pt").is_file()


def test_training_progress_is_reported_in_a_log_file():
    """Not a terminal: one line per minute with the run's share and what is left, so a run
    in the background is never silent for a whole epoch; the last batch is always said."""
    import io

    from micro_detector.training.cli import TrainProgress

    now = [0.0]
    out = io.StringIO()
    report = TrainProgress(out, every=60, clock=lambda: now[0])
    report(0.0, "cutting training chips")
    for batch in range(1, 101):  # 100 batches, 2 s each, the first one 30 s (start-up)
        now[0] += 30 if batch == 1 else 2
        report(batch / 100, f"epoch 1/1 batch {batch}/100 loss 1.000")
    lines = out.getvalue().splitlines()
    assert lines[0] == "cutting training chips"
    assert lines[1].startswith("epoch 1/1 batch 1/100 ") and "left" not in lines[1]
    assert lines[2].startswith("epoch 1/1 batch 31/100 ") and "about 0:02:18 left" in lines[2]
    assert lines[-1].startswith("epoch 1/1 batch 100/100 ") and "100.0% of the run, 0:03:48 so far" in lines[-1]
    assert "left" not in lines[-1] and len(lines) == 6  # chips, batches 1, 31, 61, 91 and 100


@pytest.mark.slow
def test_checkpoint_to_model_gives_the_runs_weights(synthetic_training, tmp_path):
    """scripts/checkpoint_to_model.py: the last checkpoint's EMA weights become a model file
    that detect takes; it never overwrites a file, and refuses a reference model of another
    scale."""
    import subprocess
    import sys

    import torch

    from micro_detector import engine
    from micro_detector.model import io as model_io
    from micro_detector.model.runner import open_runner
    from micro_detector.training.checkpoint import read_checkpoint

    run, script = synthetic_training["run"], ROOT / "scripts" / "checkpoint_to_model.py"
    out = tmp_path / "from_ck.pt"
    cmd = [sys.executable, str(script), str(run / "last_checkpoint.pt"), str(out), "--like", str(run / "model.pt")]
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "EMA weights" in done.stdout
    ema = read_checkpoint(run / "last_checkpoint.pt").ema
    state = model_io.load_model(out).state_dict()
    assert set(state) == set(ema)
    for name, value in ema.items():
        if value.is_floating_point():
            torch.testing.assert_close(state[name].float(), value.float(), rtol=2e-3, atol=2e-3)  # stored fp16
    result = engine.detect(synthetic_training["folder"] / "scene2.tif", None, open_runner(out, backend="torch"))
    assert result.report["tiles"] > 0
    again = subprocess.run(cmd, capture_output=True, text=True)
    assert again.returncode == 2 and "exists" in again.stderr
    other = subprocess.run(cmd[:3] + [str(tmp_path / "x.pt")], capture_output=True, text=True)  # --like: the s default
    assert other.returncode == 2 and "scale" in other.stderr and not (tmp_path / "x.pt").exists()
