"""Where the Processing algorithms put their work: the train dialog's defaults in the
profile, the start-from choice and its small-data warning, evaluate's declared files, and
one line per error through qgis_process."""

from __future__ import annotations

import importlib
import textwrap
from pathlib import Path

import pytest
from conftest import PLUGIN_NAME, run_python, run_qgis_process, venv_site_packages
from qgis.core import QgsApplication, QgsProcessingContext, QgsProcessingFeedback
from synthetic import make_scene, write_mapping, write_xview


@pytest.fixture(scope="module")
def labels(tmp_path_factory):
    """Three small synthetic scenes with xView labels (90 objects): a dataset far too small to
    train from random weights."""
    folder = tmp_path_factory.mktemp("labelled")
    rows = []
    for i in range(3):
        raster, boxes, classes = make_scene(folder, f"scene{i}.tif", size=256, count=30, seed=i)
        rows.append((raster.name, boxes, classes))
    return {
        "geojson": write_xview(folder / "labels.geojson", rows),
        "mapping": write_mapping(folder / "map.json"),
        "folder": folder,
    }


class Recorder(QgsProcessingFeedback):
    """Keeps what an algorithm says, by kind."""

    def __init__(self):
        super().__init__()
        self.infos, self.warnings, self.errors = [], [], []

    def pushInfo(self, info):  # noqa: N802 (QGIS API)
        self.infos.append(info)

    def pushWarning(self, warning):  # noqa: N802 (QGIS API)
        self.warnings.append(warning)

    def reportError(self, error, fatalError=False):  # noqa: N802 (QGIS API)
        self.errors.append(error)


def test_train_dialog_defaults_to_named_folders_in_the_profile(plugin):
    registry = QgsApplication.processingRegistry()
    first = registry.createAlgorithmById("micro_detector:train")
    profile = Path(QgsApplication.qgisSettingsDirPath()) / "micro_detector"
    model = Path(first.parameterDefinition("OUTPUT").defaultValue())
    run = Path(first.parameterDefinition("RUN_FOLDER").defaultValue())
    assert model.parent == profile / "models" and model.name.startswith("model-") and model.suffix == ".pt"
    assert run.parent == profile / "runs" and run.name == model.stem[len("model-") :]
    start = first.parameterDefinition("START")
    assert start.defaultValue() == 0 and "bundled model" in start.options()[0]
    assert "fine-tuning" in start.options()[1]


@pytest.mark.slow
def test_train_with_default_outputs_keeps_model_and_run_in_the_profile(labels, tmp_path):
    """A fresh QGIS with its own profile: the train dialog opened, the labels chosen, the
    outputs left as the dialog fills them in, Run."""
    s = labels
    profile = tmp_path / "config"
    done = run_python(
        textwrap.dedent(f"""
        import sys
        sys.path.append("/usr/share/qgis/python/plugins")
        from qgis.core import QgsApplication
        app = QgsApplication([], True); app.initQgis()
        from processing.core.Processing import Processing
        Processing.initialize()
        import processing
        from processing.gui.AlgorithmDialog import AlgorithmDialog
        import {PLUGIN_NAME} as pkg
        plugin = pkg.classFactory(None); plugin.initProcessing()
        dialog = AlgorithmDialog(QgsApplication.processingRegistry().createAlgorithmById("micro_detector:train"))
        params = dialog.createProcessingParameters()
        params.update({{"XVIEW": r"{s["geojson"]}", "IMAGES": r"{s["folder"]}", "CLASS_MAP": r"{s["mapping"]}",
                        "VAL_FRACTION": 0.34, "START": 2, "EPOCHS": 1, "IMGSZ": 128, "BATCH": 8}})
        result = processing.run("micro_detector:train", params)
        print("MODEL", result["OUTPUT"]); print("RUN", result["RUN_FOLDER"])
    """),
        env={"QGIS_CUSTOM_CONFIG_PATH": str(profile)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    model = Path(done.stdout.split("MODEL ")[1].split()[0])
    run = Path(done.stdout.split("RUN ")[1].split()[0])
    work = profile / "profiles" / "default" / "micro_detector"
    assert model.is_file() and model.parent == work / "models"
    assert (run / "results.csv").is_file() and run.parent == work / "runs"


@pytest.mark.slow
def test_small_data_starts_from_the_bundled_model_and_scratch_is_warned(plugin, labels, tmp_path):
    import processing

    s = labels
    common = {
        "XVIEW": str(s["geojson"]),
        "IMAGES": str(s["folder"]),
        "CLASS_MAP": str(s["mapping"]),
        "VAL_FRACTION": 0.34,
        "EPOCHS": 1,
        "IMGSZ": 128,
        "BATCH": 8,
    }
    auto = Recorder()  # 3 images, 90 objects: automatic picks the bundled model
    processing.run(
        "micro_detector:train",
        {**common, "OUTPUT": str(tmp_path / "a.pt"), "RUN_FOLDER": str(tmp_path / "a")},
        feedback=auto,
    )
    assert any("bundled model (fine-tuning)" in m for m in auto.infos), auto.infos
    assert any(m.startswith("weights: ") and "default.pt" in m for m in auto.infos)
    assert not auto.warnings and (tmp_path / "a.pt").is_file()
    # the scale left at its default follows the bundled model's, said in the log
    from micro_detector.cli import default_model_path
    from micro_detector.model.io import read_model_file

    bundled = read_model_file(default_model_path())["spec"].scale
    assert bundled == "n" or any(f"training at scale {bundled}" in m for m in auto.infos), auto.infos

    scratch = Recorder()  # and with the advanced options: class balance, GSD range, object sizes
    processing.run(
        "micro_detector:train",
        {
            **common,
            "START": 2,
            "REPEAT_THRESHOLD": 0.9,
            "GSD_RANGE": "0.3,0.8",
            "OBJECT_SIZES": "6,20",
            "OUTPUT": str(tmp_path / "b.pt"),
            "RUN_FOLDER": str(tmp_path / "b"),
        },
        feedback=scratch,
    )
    assert any(m.startswith("class-balanced sampling: repeat ") for m in scratch.infos), scratch.infos
    assert "zoom: 80% of the chips shown at GSD 0.3-0.8 m or objects at 6-20 px" in scratch.infos
    assert not any(m.startswith(("class-balanced sampling", "zoom:")) for m in auto.infos)  # off by default
    from micro_detector.model.io import load_model

    assert load_model(tmp_path / "b.pt").spec.gsd_range() == (0.3, 0.8)  # the model serves its range
    assert len(scratch.warnings) == 1 and "too few to train from random weights" in scratch.warnings[0]
    assert "Only 3 images and 90 labelled objects" in scratch.warnings[0]
    assert not any(m.startswith("weights: ") for m in scratch.infos)


@pytest.mark.parametrize(
    "values, words",
    [
        ({"OBJECT_SIZES": "20,6"}, "Object sizes: give a minimum and a maximum"),
        ({"GSD_RANGE": "0,0.5"}, "GSD range: give a minimum and a maximum"),
        ({"GSD_RANGE": "a,b"}, "GSD range: give a minimum and a maximum"),
        ({"GSD_RANGE": "0.2,0.5", "GSD": 0.3}, "either one training GSD or a GSD range"),
    ],
)
def test_train_refuses_bad_zoom_ranges_before_any_work(plugin, labels, tmp_path, values, words):
    from qgis.core import QgsProcessingException

    import processing

    s = labels
    with pytest.raises(QgsProcessingException, match=words):
        processing.run(
            "micro_detector:train",
            {
                "XVIEW": str(s["geojson"]),
                "IMAGES": str(s["folder"]),
                "CLASS_MAP": str(s["mapping"]),
                "EPOCHS": 1,
                "IMGSZ": 128,
                **values,
                "OUTPUT": str(tmp_path / "m.pt"),
                "RUN_FOLDER": str(tmp_path / "r"),
            },
        )
    assert not (tmp_path / "m.pt").exists() and not (tmp_path / "r").exists()


@pytest.mark.slow
def test_evaluate_declares_its_files_in_its_folder(plugin, labels, tmp_path):
    """The bundled model (vehicle and boat among its classes) on the synthetic labels."""
    import processing

    s = labels
    context = QgsProcessingContext()
    folder = tmp_path / "evaluation"
    result = processing.run(
        "micro_detector:evaluate",
        {
            "XVIEW": str(s["geojson"]),
            "IMAGES": str(s["folder"]),
            "CLASS_MAP": str(s["mapping"]),
            "OUTPUT": "memory:",
            "FOLDER": str(folder),
        },
        context=context,
    )
    files = {
        "REPORT": "report.html",
        "METRICS_CSV": "metrics.csv",
        "METRICS_JSON": "metrics.json",
        "SIZES_CSV": "metrics_sizes.csv",
        "CONFUSION_CSV": "metrics_confusion.csv",
        "PR_CURVE": "PR_curve.png",
        "SAMPLES": "val_images.png",
    }
    assert {k: Path(result[k]) for k in files} == {k: folder / v for k, v in files.items()}
    assert all((folder / v).stat().st_size > 0 for v in files.values())
    assert sorted(p.name for p in folder.iterdir()) == sorted(files.values())  # nothing else, nowhere else
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evaluation"]
    assert "PR_curve.png" in (folder / "report.html").read_text()


def test_an_error_is_printed_once_through_qgis_process(plugins_dir, tmp_path):
    from osgeo import gdal, osr

    raster = tmp_path / "r.tif"
    ds = gdal.GetDriverByName("GTiff").Create(str(raster), 64, 64, 3)
    ds.SetGeoTransform((500000, 0.3, 0, 5000000, 0, -0.3))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32632)
    ds.SetProjection(srs.ExportToWkt())
    ds = None
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a model")
    assert (
        run_qgis_process(
            ["plugins", "enable", PLUGIN_NAME], config_dir=tmp_path / "cfg", plugin_path=plugins_dir
        ).returncode
        == 0
    )
    done = run_qgis_process(
        ["run", "micro_detector:detect", "--", f"INPUT={raster}", f"MODEL={bad}", f"OUTPUT={tmp_path / 'o.gpkg'}"],
        config_dir=tmp_path / "cfg",
        plugin_path=plugins_dir,
        extra_env={"PYTHONPATH": venv_site_packages()},
    )
    assert done.returncode != 0
    text = done.stdout + done.stderr
    assert text.count("is not a micro-detector model file") == 1, text
    assert f"ERROR:\t{bad} is not a micro-detector model file" in text
    assert not (tmp_path / "o.gpkg").exists()


def test_every_help_text_reads_in_french(qgis_app):
    from micro_object_detection.processing.algorithms.detect import DetectAlgorithm, DetectFolderAlgorithm
    from micro_object_detection.processing.algorithms.evaluate import EvaluateAlgorithm, ExportOnnxAlgorithm
    from micro_object_detection.processing.algorithms.training import TrainAlgorithm
    from qgis.PyQt.QtCore import QCoreApplication

    translator = importlib.import_module("micro_object_detection.plugin").load_translator("fr_FR")
    QCoreApplication.installTranslator(translator)
    try:
        for cls in (DetectAlgorithm, DetectFolderAlgorithm, TrainAlgorithm, EvaluateAlgorithm, ExportOnnxAlgorithm):
            french = cls().shortHelpString()
            assert french != cls.HELP and len(french) > 0.8 * len(cls.HELP), cls.NAME
        assert "partie de la carte visible" in DetectAlgorithm().shortHelpString()
    finally:
        QCoreApplication.removeTranslator(translator)
