"""Fuzz targets: everything the project parses, each as `run(data: bytes, folder: Path)` with the
errors it may raise and a few valid seed inputs. Used by tests/test_fuzz.py (a short run in
CI, plus every saved crashing input in tests/data/fuzz/<target>/) and scripts/fuzz.py (long
runs that save new crashing inputs there).

The rule checked: every input gives a result or one of the project's errors whose message
names the file it read; anything else (a traceback of another type, a hang) is a bug.
"""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "data" / "fuzz"


@dataclass
class Target:
    """A parser under fuzzing: `run(data, folder)`, the errors it may raise, seed inputs, and
    whether its messages must name the file (`names_file`: the file is `folder / filename`)."""

    name: str
    run: Callable[[bytes, Path], object]
    errors: tuple = ()
    seeds: list[bytes] = field(default_factory=list)
    filename: str | None = None


def _file(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


# --- label files ---


def _yolo(data: bytes, folder: Path):
    from micro_detector.training.importers import parse_yolo
    from micro_detector.training.importers.errors import read_label_text

    return parse_yolo(
        read_label_text(_file(folder, "a.txt", data)), 640, 480, ["car", "boat", "plane"], folder / "a.txt"
    )


def _yolo_yaml(data: bytes, folder: Path):
    from micro_detector.training.importers import read_names

    return read_names(_file(folder, "data.yaml", data))


def _dota(data: bytes, folder: Path):
    from micro_detector.training.importers import parse_dota
    from micro_detector.training.importers.errors import read_label_text

    return parse_dota(read_label_text(_file(folder, "P0001.txt", data)), folder / "P0001.txt")


def _coco(data: bytes, folder: Path):
    from micro_detector.training.importers import read_coco

    return read_coco(_file(folder, "instances.json", data))


def _voc(data: bytes, folder: Path):
    from micro_detector.training.importers import parse_voc

    return parse_voc(data, folder / "0001.xml")


def _xview(data: bytes, folder: Path):
    from osgeo import gdal

    from micro_detector.training.labels import ClassMap, load_xview

    (folder / "map.json").write_text(json.dumps({"vehicle": [18], "boat": [40]}))
    gdal.GetDriverByName("GTiff").Create(str(folder / "a.tif"), 64, 48, 1)  # closed when dropped
    return load_xview(_file(folder, "labels.geojson", data), folder, ClassMap.from_file(folder / "map.json"))


def _class_map(data: bytes, folder: Path):
    from micro_detector.training.labels import ClassMap

    return ClassMap.from_file(_file(folder, "classes.json", data))


def _class_mapping(data: bytes, folder: Path):
    from micro_detector.training.importers import load_class_mapping

    return load_class_mapping(_file(folder, "class_map.json", data))


# --- dataset manifests and configs ---


def _dataset_config(data: bytes, folder: Path):
    from micro_detector.training.dataset_config import DatasetConfig

    return DatasetConfig.from_file(_file(folder, "dataset.json", data))


def _manifest(data: bytes, folder: Path):
    from micro_detector.training.corpus.manifest import load_manifest

    return load_manifest(_file(folder, "source.json", data))


# --- model files ---


def _pt_model(data: bytes, folder: Path):
    from micro_detector.model.io import read_model_file

    return read_model_file(_file(folder, "model.pt", data))


def _pt_spec(data: bytes, folder: Path):
    """A well-formed .pt archive whose spec is the fuzzed JSON (structure-aware)."""
    import torch

    from micro_detector.model.io import FORMAT, read_model_file

    try:
        spec = json.loads(data)
    except ValueError:
        spec = data.decode("latin-1")
    path = folder / "model.pt"
    torch.save({"format": FORMAT, "format_version": 2, "spec": spec, "state_dict": {}, "metadata": {}}, path)
    return read_model_file(path)


def _onnx_spec(data: bytes, folder: Path):
    """A tiny valid ONNX graph whose micro_detector_spec metadata is the fuzzed text."""
    import onnx
    from onnx import TensorProto, helper

    from micro_detector.model.onnx_io import SPEC_KEY, read_onnx_spec

    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(model, {SPEC_KEY: data.decode("utf-8", "replace")})
    onnx.save(model, folder / "model.onnx")
    return read_onnx_spec(folder / "model.onnx")


def _onnx_file(data: bytes, folder: Path):
    from micro_detector.model.onnx_io import read_onnx_spec

    return read_onnx_spec(_file(folder, "model.onnx", data))


def _checkpoint(data: bytes, folder: Path):
    from micro_detector.training.checkpoint import Checkpoint

    return Checkpoint.read(_file(folder, "last.ckpt", data))


# --- option strings ---


def _detect_options(data: bytes, folder: Path):
    """--extent, --bands, --classes (and an overlap) as a user may type them, through the CLI
    parser and the options' own checks, then placed on a raster by the plan."""
    from micro_detector.cli import build_parser
    from micro_detector.cli_args import detect_options

    text = data.decode("utf-8", "replace").replace("\0", "")
    parts = (text.split("\n") + ["", "", "", ""])[:4]
    argv = ["detect", "r.tif", "-o", "o.gpkg"]
    for flag, value in zip(("--extent", "--bands", "--classes", "--overlap"), parts):
        if value:
            argv += [f"{flag}={value}"]
    parser = build_parser()
    parser.exit = _no_exit
    parser.error = _usage
    for action in parser._subparsers._group_actions[0].choices.values():
        action.exit, action.error = _no_exit, _usage
    options = detect_options(parser.parse_args(argv))
    return _plan_on_a_raster(options)


class ArgparseUsage(Exception):
    """argparse's usage error (the CLI prints it as one line and exits 2)."""


def _usage(message):
    raise ArgparseUsage(message)


def _no_exit(status=0, message=None):
    raise ArgparseUsage(message or f"exit {status}")


def _plan_on_a_raster(options):
    from osgeo import osr

    from micro_detector.model.spec import ModelSpec
    from micro_detector.plan import plan_tiles
    from micro_detector.raster import RasterInfo

    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32632)
    info = RasterInfo(
        "r.tif",
        500,
        400,
        3,
        "byte",
        (690000.0, 0.5, 0.0, 5335000.0, 0.0, -0.5),
        srs.ExportToWkt(),
        [None] * 3,
        [""] * 3,
        True,
        0.5,
        1.0,
    )
    return plan_tiles(info, ModelSpec(scale="n", imgsz=64, class_names=["car", "boat"]), options)


def _errors():
    from micro_detector.cli_args import CliError
    from micro_detector.model.spec import ModelFileError
    from micro_detector.options import OptionsError
    from micro_detector.plan import PlanError
    from micro_detector.raster import RasterError
    from micro_detector.training.checkpoint import CheckpointError
    from micro_detector.training.corpus.manifest import ManifestError
    from micro_detector.training.labels import LabelError

    return {
        "label": (LabelError,),
        "manifest": (ManifestError,),
        "model": (ModelFileError,),
        "checkpoint": (CheckpointError,),
        "options": (CliError, OptionsError, PlanError, RasterError, ArgparseUsage),
    }


def _seed_pt() -> bytes:
    import torch

    from micro_detector.model.io import FORMAT

    buf = io.BytesIO()
    torch.save(
        {
            "format": FORMAT,
            "format_version": 2,
            "spec": {"scale": "n", "class_names": ["car"], "imgsz": 64},
            "state_dict": {"w": torch.zeros(3)},
            "metadata": {"seed": 0},
        },
        buf,
    )
    return buf.getvalue()


def _seed_ckpt() -> bytes:
    import torch

    buf = io.BytesIO()
    torch.save(
        {
            "format": "micro-detector-checkpoint",
            "config": {"epochs": 1},
            "epoch": 0,
            "model": {},
            "optimizer": {},
            "ema": None,
            "ema_updates": 0,
            "scaler": None,
            "best_fitness": 0.0,
            "best_epoch": 0,
            "history": [],
        },
        buf,
    )
    return buf.getvalue()


def _seed_onnx() -> bytes:
    folder = Path(__import__("tempfile").mkdtemp())
    with contextlib.suppress(Exception):  # seed building only
        _onnx_spec(json.dumps({"scale": "n", "class_names": ["car"], "imgsz": 64}).encode(), folder)
    data = (folder / "model.onnx").read_bytes() if (folder / "model.onnx").exists() else b""
    __import__("shutil").rmtree(folder, ignore_errors=True)
    return data


def seeds_from_disk(name: str) -> list[bytes]:
    """The saved inputs of a target: its seeds and its regression fixtures (crashes found)."""
    folder = FIXTURES / name
    return [p.read_bytes() for p in sorted(folder.glob("*")) if p.is_file()] if folder.is_dir() else []


def targets() -> dict[str, Target]:
    """Every fuzz target by name."""
    e = _errors()
    spec = json.dumps({"scale": "n", "class_names": ["car", "boat"], "imgsz": 64, "gsd": 0.3}).encode()
    coco = json.dumps(
        {
            "images": [{"id": 1, "file_name": "a.png", "width": 64, "height": 48}],
            "categories": [{"id": 3, "name": "car"}],
            "annotations": [
                {
                    "id": 1,
                    "image_id": 1,
                    "category_id": 3,
                    "bbox": [1, 2, 10, 5],
                    "segmentation": [[1, 2, 11, 2, 11, 7]],
                }
            ],
        }
    ).encode()
    voc = (
        b"<annotation><filename>a.png</filename><size><width>64</width><height>48</height></size>"
        b"<object><name>car</name><bndbox><xmin>2</xmin><ymin>3</ymin><xmax>20</xmax><ymax>9</ymax></bndbox>"
        b"</object><object><name>boat</name><robndbox><cx>30</cx><cy>20</cy><w>8</w><h>4</h><angle>0.5</angle>"
        b"</robndbox></object></annotation>"
    )
    xview = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": None,
                    "properties": {"bounds_imcoords": "1,2,30,40", "type_id": 18, "image_id": "a.tif"},
                }
            ],
        }
    ).encode()
    manifest = (ROOT / "micro_detector" / "training" / "datasets" / "corpus" / "dota8.json").read_bytes()
    dataset = (ROOT / "micro_detector" / "training" / "datasets" / "micro4.json").read_bytes()
    class_map = (ROOT / "micro_detector" / "training" / "importers" / "class_map.json").read_bytes()
    listed = [
        Target("yolo_txt", _yolo, e["label"], [b"0 0.5 0.5 0.2 0.1\n1 0.1 0.1 0.3 0.1 0.3 0.3 0.1 0.3\n"], "a.txt"),
        Target(
            "yolo_yaml",
            _yolo_yaml,
            e["label"],
            [b"path: .\ntrain: images/train\nnames: [car, boat]\n", b"names:\n  0: car\n  1: boat\n"],
            "data.yaml",
        ),
        Target(
            "dota_txt",
            _dota,
            e["label"],
            [b"imagesource:GoogleEarth\ngsd:0.146\n1 2 30 2 30 20 1 20 plane 0\n"],
            "P0001.txt",
        ),
        Target("coco_json", _coco, e["label"], [coco], "instances.json"),
        Target("voc_xml", _voc, e["label"], [voc], "0001.xml"),
        Target("xview_geojson", _xview, e["label"], [xview], "labels.geojson"),
        Target("xview_class_map", _class_map, e["label"], [b'{"vehicle": [17, 18], "boat": [40]}'], "classes.json"),
        Target("class_mapping", _class_mapping, e["label"], [class_map], "class_map.json"),
        Target("dataset_config", _dataset_config, e["label"], [dataset], "dataset.json"),
        Target("corpus_manifest", _manifest, e["manifest"], [manifest], "source.json"),
        Target("pt_model", _pt_model, e["model"], [_seed_pt()], "model.pt"),
        Target("pt_spec", _pt_spec, e["model"], [spec], "model.pt"),
        Target("onnx_spec", _onnx_spec, e["model"], [spec], "model.onnx"),
        Target("onnx_file", _onnx_file, e["model"], [_seed_onnx()], "model.onnx"),
        Target("checkpoint", _checkpoint, e["checkpoint"], [_seed_ckpt()], "last.ckpt"),
        Target(
            "detect_options",
            _detect_options,
            e["options"],
            [b"690000,5334850,690100,5335000\n1,2,3\ncar,boat\n0.2", b"11.1,48.1,11.2,48.2,4326\n3,2,1\ncar\n16"],
        ),
    ]
    return {t.name: t for t in listed}


def check(target: Target, data: bytes, folder: Path) -> str | None:
    """Run one input; None when it behaved (a result, or one of its errors naming the file),
    else the problem (the unexpected exception, or an error that does not name the file)."""
    try:
        target.run(data, folder)
    except target.errors as error:
        message = str(error)
        if not message.strip():
            return f"empty {type(error).__name__} message"
        if target.filename and target.filename not in message:
            return f"{type(error).__name__} does not name the file: {message[:200]}"
        return None
    except Exception as error:  # noqa: BLE001  (that is what is looked for)
        return f"{type(error).__name__}: {str(error)[:300]}"
    return None


__all__ = ["Target", "targets", "check", "seeds_from_disk", "FIXTURES"]
