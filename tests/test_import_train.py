"""YOLO, DOTA, COCO and VOC labels as a product feature: `train` and `evaluate` (CLI and QGIS)
read each format from the small real label fixtures (tests/data/importers) over drawn images
(dark ground, a bright rectangle on every labelled object), map classes, count the unmapped
ones, and refuse a malformed file naming the file and the line before any training starts.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT
from osgeo import gdal

from micro_detector.training import cli
from micro_detector.training.importers import guess_format, load_imported
from micro_detector.training.labels import LabelError

DATA = Path(__file__).parent / "data" / "importers"
COCO_MAP = {"classes": ["boat", "building", "plane", "vehicle"], "map": {"0": "plane", "aircrafts": None}}


def draw(path: Path, width: int, height: int, boxes=()) -> Path:
    """A plain (not georeferenced) 3-band image: dark ground, bright boxes."""
    arr = np.full((3, height, width), 30, np.uint8)
    for x0, y0, x1, y1 in np.asarray(boxes, float).reshape(-1, 4):
        arr[:, int(y0) : int(np.ceil(y1)), int(x0) : int(np.ceil(x1))] = 220
    mem = gdal.GetDriverByName("MEM").Create("", width, height, 3)
    for b in range(3):
        mem.GetRasterBand(b + 1).WriteArray(arr[b])
    driver = {".png": "PNG", ".jpg": "JPEG"}[path.suffix.lower()]
    gdal.GetDriverByName(driver).CreateCopy(str(path), mem)
    return path


def make_set(fmt: str, root: Path, bad: bool = False) -> tuple[Path, list[str]]:
    """A data set of `fmt` in `root` from the fixtures (`bad`: with the malformed file of the
    format in place of a good one): (the --labels path, the other label arguments)."""
    root.mkdir(parents=True, exist_ok=True)
    images, extra = root / "images", []
    images.mkdir(exist_ok=True)
    if fmt == "yolo":  # SIMD lines; normalised, so the images may be smaller than SIMD's 1024 x 768
        shutil.copytree(DATA / "yolo", root, dirs_exist_ok=True)
        if bad:
            shutil.copy(DATA / "bad/yolo_bad_number.txt", root / "labels/0001.txt")
        sizes, labels = {"0001.png": (512, 384), "0011.png": (512, 384)}, root
    elif fmt == "dota":  # DOTA P1888 (712 x 557), header GSD 0.266
        shutil.copytree(DATA / "dota", root / "labelTxt")
        if bad:
            shutil.copy(DATA / "bad/dota_bad.txt", root / "labelTxt/P1888.txt")
        sizes, labels, extra = {"P1888.png": (712, 557)}, root / "labelTxt", ["--images", str(images)]
    elif fmt == "coco":  # HRPlanes Roboflow export: class "0" under "Aircrafts" (mapped by COCO_MAP)
        labels = root / "images" / "_annotations.coco.json"
        shutil.copy(DATA / ("bad/coco_bad.json" if bad else "coco/_annotations.coco.json"), labels)
        records = json.loads((DATA / "coco/_annotations.coco.json").read_text())["images"]
        sizes = {r["file_name"]: (r["width"], r["height"]) for r in records}
        (root / "map.json").write_text(json.dumps(COCO_MAP))
        extra = ["--class-map", str(root / "map.json")]
    else:  # HRRSD VOC files, images beside them
        labels = images
        for name in ("00001.xml", "00064.xml"):
            shutil.copy(DATA / "voc" / name, images / name)
        if bad:
            shutil.copy(DATA / "bad/voc_bad_value.xml", images / "00001.xml")
        sizes, extra = {"00001.jpg": (1272, 1504), "00064.jpg": (900, 900)}, ["--labels-format", "voc"]
    for name, (w, h) in sizes.items():
        draw(images / name, w, h)
    if not bad:  # draw the objects where the labels put them
        for im in load_imported(labels, fmt, images, root / "map.json" if fmt == "coco" else None).images:
            draw(Path(im.path), im.width, im.height, im.boxes)
    return labels, extra


def test_formats_are_guessed_from_the_path(tmp_path):
    for fmt in ("yolo", "dota", "coco", "voc"):
        labels, _ = make_set(fmt, tmp_path / fmt)
        assert guess_format(labels) == fmt
    coco_folder = tmp_path / "coco" / "images"  # a Roboflow split folder: images and one json
    assert guess_format(coco_folder) == "coco"
    assert len(load_imported(coco_folder, class_map=tmp_path / "coco/map.json").images) == 2
    (tmp_path / "simd_labels").mkdir()
    shutil.copy(DATA / "yolo/labels/0001.txt", tmp_path / "simd_labels")
    with pytest.raises(LabelError, match="need their data.yaml"):  # YOLO txt without names
        guess_format(tmp_path / "simd_labels")
    (tmp_path / "x.geojson").write_text("{}")
    with pytest.raises(LabelError, match="--xview"):
        guess_format(tmp_path / "x.geojson")
    with pytest.raises(LabelError, match="labels not found"):
        guess_format(tmp_path / "nowhere")


def test_unmapped_classes_are_skipped_counted_and_logged(tmp_path):
    labels, _ = make_set("yolo", tmp_path / "simd")
    (tmp_path / "map.json").write_text(json.dumps({"classes": ["vehicle"], "map": {"van": "vehicle", "truck": None}}))
    lines = []
    label_set = load_imported(labels, None, class_map=tmp_path / "map.json", log=lines.append)
    # the two SIMD files hold 6 car, 2 van and 2 airliner lines
    assert label_set.instances() == {"vehicle": 2}
    unmapped = label_set.report["unmapped"]
    assert unmapped == {"car": 6, "airliner": 2}
    assert any(
        line.startswith(f"labels: {sum(unmapped.values())} objects of unmapped classes skipped") and "'car'" in line
        for line in lines
    ), lines
    assert label_set.images[0].source == "simd" and label_set.images[0].gsd is None  # plain PNG


def test_classes_annotated_are_those_the_source_can_label(tmp_path):
    coco, _ = make_set("coco", tmp_path / "coco")
    label_set = load_imported(coco, "coco", class_map=tmp_path / "coco/map.json", image_gsd=0.5)
    assert label_set.images[0].annotated.tolist() == [False, False, True, False]  # planes only
    assert {im.gsd for im in label_set.images} == {0.5}
    dota, extra = make_set("dota", tmp_path / "dota")
    assert load_imported(dota, images=extra[1], image_gsd=0.5).images[0].gsd == pytest.approx(0.26617, 1e-4)


def _run(argv: list[str], capsys) -> tuple[int, dict | None, str]:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 and out.strip() else None), err


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["yolo", "dota", "coco", "voc"])
def test_cli_trains_and_evaluates_on_each_format(fmt, tmp_path, capsys):
    labels, extra = make_set(fmt, tmp_path / fmt)
    model = tmp_path / "model.pt"
    code, out, err = _run(
        [
            "train",
            "--labels",
            str(labels),
            *extra,
            "--scale",
            "n",
            "--epochs",
            "1",
            "--imgsz",
            "128",
            "--batch",
            "4",
            "--workers",
            "0",
            "--mosaic",
            "0",
            "--out",
            str(tmp_path / "run"),
            "-o",
            str(model),
        ],
        capsys,
    )
    assert code == 0, err
    assert out["epochs_run"] == 1 and model.is_file() and out["train_images"] + out["val_images"] >= 1
    assert f"{fmt.upper()} labels {labels}" in err and "classes annotated in this source" in err
    code, out, err = _run(
        ["evaluate", str(model), "--labels", str(labels), *extra, "--out", str(tmp_path / "eval")], capsys
    )
    assert code == 0, err
    assert out["images"] == {"yolo": 2, "dota": 1, "coco": 2, "voc": 2}[fmt]
    assert (tmp_path / "eval" / "metrics.csv").is_file() and "mAP50" in err


@pytest.mark.slow
def test_the_default_model_evaluates_a_plain_png_set_at_the_given_gsd(tmp_path):
    """The bundled model serves a GSD range: plain PNGs need --image-gsd (refused, named,
    without it); through the `micro-detector` entry point."""
    labels, _ = make_set("yolo", tmp_path / "simd")
    exe = ROOT / ".venv" / "bin" / "micro-detector"
    model = ROOT / "resources" / "models" / "default.pt"
    base = [str(exe), "evaluate", str(model), "--labels", str(labels), "--tile", "256"]
    done = subprocess.run(base, capture_output=True, text=True, timeout=600)
    assert done.returncode == 2 and "GSD" in done.stderr and "0001.png" in done.stderr, done.stderr
    done = subprocess.run(base + ["--image-gsd", "0.3"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["images"] == 2 and 0 <= out["mAP50"] <= 1


@pytest.mark.parametrize(
    "fmt, where",
    [
        ("yolo", "0001.txt, line 3"),
        ("dota", "P1888.txt, line 6"),
        ("coco", "_annotations.coco.json, at annotations[1].bbox"),
        ("voc", "00001.xml, at object[0].bndbox.xmax"),
    ],
)
@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_a_bad_file_is_named_before_training_starts(fmt, where, command, tmp_path, capsys):
    labels, extra = make_set(fmt, tmp_path / fmt, bad=True)
    run = tmp_path / "run"
    argv = (
        ["train", "--labels", str(labels), *extra, "--epochs", "1", "--out", str(run)]
        if command == "train"
        else ["evaluate", str(ROOT / "resources/models/default.pt"), "--labels", str(labels), *extra]
    )
    code, _, err = _run(argv, capsys)
    assert code == 2 and where in err and "Traceback" not in err, err
    assert not run.exists()  # nothing cut, nothing written


def test_one_kind_of_labels_at_a_time(tmp_path, capsys):
    labels, _ = make_set("yolo", tmp_path / "simd")
    code, _, err = _run(
        ["train", "--labels", str(labels), "--xview", str(tmp_path / "x.geojson"), "--out", str(tmp_path / "run")],
        capsys,
    )
    assert code == 2 and "not --xview and --labels" in err


@pytest.mark.slow
def test_qgis_train_and_evaluate_on_a_yolo_folder(plugin, tmp_path):
    from qgis.core import QgsProcessingContext

    import processing
    from micro_detector.model.spec import SCALES

    labels, _ = make_set("yolo", tmp_path / "simd")
    model = tmp_path / "m.pt"
    result = processing.run(
        "micro_detector:train",
        {
            "LABELS": str(labels),
            "LABELS_FORMAT": 0,
            "START": 2,
            "SCALE": list(SCALES).index("n"),
            "EPOCHS": 1,
            "IMGSZ": 128,
            "BATCH": 4,
            "VAL_FRACTION": 0.0,
            "OUTPUT": str(model),
            "RUN_FOLDER": str(tmp_path / "run"),
        },
    )
    assert model.is_file() and (tmp_path / "run" / "results.csv").is_file() and result["OUTPUT"] == str(model)
    context = QgsProcessingContext()
    result = processing.run(
        "micro_detector:evaluate",
        {
            "MODEL": str(model),
            "LABELS": str(labels / "data.yaml"),
            "LABELS_FORMAT": 1,
            "ONLY_VAL": False,
            "OUTPUT": "memory:",
            "FOLDER": str(tmp_path / "eval"),
        },
        context=context,
    )
    layer = result["OUTPUT"] if not isinstance(result["OUTPUT"], str) else context.getMapLayer(result["OUTPUT"])
    table = {f["class"]: f for f in layer.getFeatures()}
    assert table["all"]["instances"] == 10  # 8 vehicles and 2 planes in the two SIMD files
