"""The Processing provider in real QGIS: every algorithm through processing.run, styles,
batch, cancel, parameter checks, ONNX-only detection, a graphical model."""

from __future__ import annotations

import shutil

import pytest
from conftest import KIT_RASTER, MINI
from qgis.core import (
    QgsApplication,
    QgsCategorizedSymbolRenderer,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProject,
    QgsVectorLayer,
)

ALGORITHMS = ["detect", "detect_folder", "train", "evaluate", "export_onnx"]


def _layer(value, context):
    """processing.run hands back sink outputs as layers or as ids in the context."""
    return value if isinstance(value, QgsVectorLayer) else context.getMapLayer(value)


def test_every_algorithm_is_registered_with_help_group_and_icon(plugin):
    registry = QgsApplication.processingRegistry()
    for name in ALGORITHMS:
        alg = registry.algorithmById(f"micro_detector:{name}")
        assert alg is not None, name
        assert alg.displayName() and len(alg.shortHelpString()) > 80 and alg.group() and alg.groupId()
        assert not alg.icon().isNull()
        assert all(p.description() for p in alg.parameterDefinitions())


def test_invalid_parameters_are_rejected_with_a_clear_message(plugin, tmp_path):
    import processing

    raster = str(KIT_RASTER)
    cases = [
        (
            "detect",
            {"INPUT": raster, "MODEL": str(tmp_path / "missing.pt"), "OUTPUT": str(tmp_path / "o.gpkg")},
            "Model file not found",
        ),
        ("detect", {"INPUT": raster, "MODEL": raster, "OUTPUT": str(tmp_path / "o.gpkg")}, ".pt model file"),
        (
            "detect",
            {
                "INPUT": raster,
                "MODEL": str(tmp_path / "missing.pt"),
                "BANDS": "1,x",
                "OUTPUT": str(tmp_path / "o.gpkg"),
            },
            "Model file not found",
        ),
        (
            "detect_folder",
            {"FOLDER": str(tmp_path), "MODEL": raster, "OUTPUT_FOLDER": str(tmp_path / "o"), "SUMMARY": "memory:"},
            "No file in",
        ),
        (
            "train",
            {"IMGSZ": 320, "OUTPUT": str(tmp_path / "m.pt"), "RUN_FOLDER": str(tmp_path / "r")},
            "Give one kind of labels: xView labels",
        ),
        (
            "train",
            {
                "XVIEW": str(MINI / "micro4_mini.geojson"),
                "IMGSZ": 100,
                "OUTPUT": str(tmp_path / "m.pt"),
                "RUN_FOLDER": str(tmp_path / "r"),
            },
            "multiple of 32",
        ),
        (
            "train",
            {
                "XVIEW": str(MINI / "micro4_mini.geojson"),
                "OUTPUT": str(tmp_path / "m.pt"),
                "RUN_FOLDER": str(tmp_path / "r"),
            },
            "folder of their images",
        ),
        ("export_onnx", {"MODEL": str(tmp_path / "x.onnx"), "OUTPUT": str(tmp_path / "y.onnx")}, "already an ONNX"),
    ]
    (tmp_path / "x.onnx").write_bytes(b"0")
    for alg, params, message in cases:
        with pytest.raises(QgsProcessingException, match=message):
            processing.run(f"micro_detector:{alg}", params)


def test_not_georeferenced_raster_is_refused_before_running(plugin, tmp_path):
    from osgeo import gdal

    import processing

    gdal.GetDriverByName("GTiff").Create(str(tmp_path / "plain.tif"), 64, 64, 3).FlushCache()
    (tmp_path / "m.pt").write_bytes(b"0")
    with pytest.raises(QgsProcessingException, match="not georeferenced"):
        processing.run(
            "micro_detector:detect",
            {"INPUT": str(tmp_path / "plain.tif"), "MODEL": str(tmp_path / "m.pt"), "OUTPUT": str(tmp_path / "o.gpkg")},
        )


@pytest.mark.slow
def test_detect_writes_a_styled_layer_with_fields_and_crs(plugin, synthetic_training, tmp_path):
    import processing

    scene = str(synthetic_training["folder"] / "scene2.tif")
    out = tmp_path / "det.gpkg"
    result = processing.run(
        "micro_detector:detect", {"INPUT": scene, "MODEL": str(synthetic_training["model"]), "OUTPUT": str(out)}
    )
    layer = QgsVectorLayer(result["OUTPUT"], "det", "ogr")  # loads the style stored in the GeoPackage
    assert layer.isValid() and layer.featureCount() >= 24  # 30 drawn objects
    assert {"class_id", "class_name", "score", "source", "tile_row", "tile_col", "area_m2"} <= set(
        layer.fields().names()
    )
    assert layer.crs().authid() == "EPSG:32632"
    renderer = layer.renderer()
    assert isinstance(renderer, QgsCategorizedSymbolRenderer) and renderer.classAttribute() == "class_name"
    assert [c.value() for c in renderer.categories()] == ["vehicle", "boat"]
    colours = {c.value(): c.symbol().symbolLayer(1).strokeColor().name() for c in renderer.categories()}
    assert colours == {"vehicle": "#ff1e78", "boat": "#00b4ff"}  # from resources/styles/*.qml

    # loaded into the project by Processing: styled by the post-processor
    project = QgsProject.instance()
    before = set(project.mapLayers())
    processing.runAndLoadResults(
        "micro_detector:detect",
        {
            "INPUT": scene,
            "MODEL": str(synthetic_training["model"]),
            "CLASSES": [3],  # vehicle only
            "OUTPUT": str(tmp_path / "det2.gpkg"),
        },
    )
    new = [project.mapLayer(i) for i in set(project.mapLayers()) - before]
    assert len(new) == 1 and isinstance(new[0].renderer(), QgsCategorizedSymbolRenderer)
    assert {f["class_name"] for f in new[0].getFeatures()} == {"vehicle"}
    project.removeAllMapLayers()


@pytest.mark.slow
def test_cancel_through_feedback_writes_nothing(plugin, synthetic_training, tmp_path):
    import processing

    class CancelAtOnce(QgsProcessingFeedback):
        def setProgress(self, progress):  # noqa: N802 (QGIS API)
            super().setProgress(progress)
            self.cancel()

    feedback = CancelAtOnce()
    out = tmp_path / "det.gpkg"
    result = processing.run(
        "micro_detector:detect",
        {
            "INPUT": str(synthetic_training["folder"] / "scene2.tif"),
            "MODEL": str(synthetic_training["model"]),
            "TILE": 64,
            "BATCH": 1,
            "OUTPUT": str(out),
        },
        feedback=feedback,
    )
    assert result == {} and not out.exists()


@pytest.mark.slow
def test_detect_folder_batch_of_two_is_resumable(plugin, synthetic_training, tmp_path):
    import processing

    folder = tmp_path / "rasters"
    folder.mkdir()
    for name in ("scene0.tif", "scene2.tif"):
        shutil.copy(synthetic_training["folder"] / name, folder / name)
    params = {
        "FOLDER": str(folder),
        "MODEL": str(synthetic_training["model"]),
        "OUTPUT_FOLDER": str(tmp_path / "out"),
        "SUMMARY": "memory:",
    }
    context = QgsProcessingContext()
    result = processing.run("micro_detector:detect_folder", params, context=context)
    summary = _layer(result["SUMMARY"], context)
    rows = {f["raster"]: f for f in summary.getFeatures()}
    assert set(rows) == {"scene0.tif", "scene2.tif"}
    assert all(r["status"] == "ok" and r["objects"] >= 20 for r in rows.values())
    assert rows["scene2.tif"]["n_vehicle"] + rows["scene2.tif"]["n_boat"] == rows["scene2.tif"]["objects"]
    out = QgsVectorLayer(str(tmp_path / "out" / "scene0.gpkg"), "s0", "ogr")
    assert out.isValid() and isinstance(out.renderer(), QgsCategorizedSymbolRenderer)
    stamp = (tmp_path / "out" / "scene0.gpkg").stat().st_mtime_ns
    (tmp_path / "out" / "scene2.gpkg").unlink()  # as if the run had stopped there
    feedback = QgsProcessingFeedback()
    messages = []
    feedback.pushInfo = messages.append
    processing.run("micro_detector:detect_folder", params, feedback=feedback)
    assert (tmp_path / "out" / "scene2.gpkg").is_file()
    assert any("scene0.tif: done before, skipped" in m for m in messages)
    assert (tmp_path / "out" / "scene0.gpkg").stat().st_mtime_ns == stamp  # not rewritten, even while open


@pytest.mark.slow
def test_export_onnx_then_detect_with_onnx_runtime(plugin, synthetic_training, tmp_path):
    import processing

    onnx = tmp_path / "model.onnx"
    processing.run("micro_detector:export_onnx", {"MODEL": str(synthetic_training["model"]), "OUTPUT": str(onnx)})
    assert onnx.is_file()
    result = processing.run(
        "micro_detector:detect",
        {
            "INPUT": str(synthetic_training["folder"] / "scene2.tif"),
            "MODEL": str(onnx),
            "OUTPUT": str(tmp_path / "d.gpkg"),
        },
    )
    assert QgsVectorLayer(result["OUTPUT"], "d", "ogr").featureCount() >= 24


@pytest.mark.slow
def test_train_and_evaluate_through_processing(plugin, synthetic_training, tmp_path):
    import processing

    s = synthetic_training
    result = processing.run(
        "micro_detector:train",
        {
            "XVIEW": str(s["geojson"]),
            "IMAGES": str(s["folder"]),
            "CLASS_MAP": str(s["mapping"]),
            "VAL_FRACTION": 0.34,
            "EPOCHS": 1,
            "IMGSZ": 128,
            "BATCH": 8,
            "OUTPUT": str(tmp_path / "m.pt"),
            "RUN_FOLDER": str(tmp_path / "run"),
        },
    )
    assert (tmp_path / "m.pt").is_file() and (tmp_path / "run" / "results.csv").is_file()
    assert (tmp_path / "m_metrics.csv").is_file() and (tmp_path / "m_results.png").is_file()  # next to the model
    assert "MAP50" in result

    context = QgsProcessingContext()
    result = processing.run(
        "micro_detector:evaluate",
        {
            "MODEL": str(s["model"]),
            "XVIEW": str(s["geojson"]),
            "IMAGES": str(s["folder"]),
            "CLASS_MAP": str(s["mapping"]),
            "ONLY_VAL": False,
            "OUTPUT": "memory:",
            "FOLDER": str(tmp_path / "eval"),
        },
        context=context,
    )
    table = {f["class"]: f for f in _layer(result["OUTPUT"], context).getFeatures()}
    assert set(table) == {"all", "vehicle", "boat"}
    assert table["all"]["instances"] == 90 and table["all"]["mAP50"] > 0.8
    assert "mAP50-95" in (tmp_path / "eval" / "report.html").read_text()


@pytest.mark.slow
def test_detect_runs_inside_a_graphical_model(plugin, synthetic_training, tmp_path):
    """A model built as in the graphical modeler: one raster input feeding detect."""
    from qgis.core import (
        QgsProcessingModelAlgorithm,
        QgsProcessingModelChildAlgorithm,
        QgsProcessingModelChildParameterSource,
        QgsProcessingModelOutput,
        QgsProcessingModelParameter,
        QgsProcessingParameterRasterLayer,
    )

    import processing

    model = QgsProcessingModelAlgorithm("find", "tests")
    model.addModelParameter(
        QgsProcessingParameterRasterLayer("raster", "Raster"), QgsProcessingModelParameter("raster")
    )
    child = QgsProcessingModelChildAlgorithm("micro_detector:detect")
    child.setChildId("detect")
    child.addParameterSources("INPUT", [QgsProcessingModelChildParameterSource.fromModelParameter("raster")])
    child.addParameterSources(
        "MODEL", [QgsProcessingModelChildParameterSource.fromStaticValue(str(synthetic_training["model"]))]
    )
    output = QgsProcessingModelOutput("detections")
    output.setChildOutputName("OUTPUT")
    child.setModelOutputs({"detections": output})
    model.addChildAlgorithm(child)
    result = processing.run(
        model,
        {"raster": str(synthetic_training["folder"] / "scene2.tif"), "detect:detections": str(tmp_path / "m.gpkg")},
    )
    layer = QgsVectorLayer(result["detect:detections"], "m", "ogr")
    assert layer.isValid() and layer.featureCount() >= 24


@pytest.mark.slow
def test_onnx_model_runs_where_torch_is_missing(synthetic_training, tmp_path):
    """With ONNX Runtime alone (torch unimportable), detect runs an exported model."""
    import textwrap

    from conftest import qgis_without, run_python

    from micro_detector.model.io import load_model
    from micro_detector.model.onnx_io import export_onnx

    onnx = export_onnx(load_model(synthetic_training["model"]), tmp_path / "m.onnx")
    scene = synthetic_training["folder"] / "scene2.tif"
    result = run_python(
        qgis_without("torch")
        + textwrap.dedent(f"""
        out = processing.run("micro_detector:detect", {{"INPUT": r"{scene}", "MODEL": r"{onnx}",
                                                        "OUTPUT": r"{tmp_path / "o.gpkg"}"}})["OUTPUT"]
        print("COUNT", QgsVectorLayer(out, "o", "ogr").featureCount(), "TORCH", "torch" in sys.modules)
    """)
    )
    assert result.returncode == 0, result.stderr[-3000:]
    count = int(result.stdout.split("COUNT")[1].split()[0])
    assert count >= 24 and "TORCH False" in result.stdout
