"""The plugin loads in real QGIS, registers its provider, and unloads cleanly."""

import importlib
import textwrap

import pytest
from conftest import qgis_without, run_python
from qgis.core import QgsApplication, QgsProcessingException

PROVIDER_ID = "micro_detector"


@pytest.fixture
def plugin(qgis_iface, qgis_processing):
    package = importlib.import_module("micro_object_detection")
    instance = package.classFactory(qgis_iface)
    yield instance
    instance.unload()


def test_init_processing_registers_provider(plugin):
    registry = QgsApplication.processingRegistry()
    assert registry.providerById(PROVIDER_ID) is None
    plugin.initProcessing()
    provider = registry.providerById(PROVIDER_ID)
    assert provider is not None
    assert provider.name() == "Micro Object Detection"
    assert not provider.icon().isNull()
    assert provider.svgIconPath().endswith("resources/icons/icon.svg")
    assert registry.algorithmById("micro_detector:detect") is not None


def test_init_gui_then_unload_removes_provider(plugin):
    registry = QgsApplication.processingRegistry()
    plugin.initGui()
    plugin.initGui()  # QGIS may call both initProcessing and initGui: one provider only
    assert [p.id() for p in registry.providers()].count(PROVIDER_ID) == 1
    plugin.unload()
    assert registry.providerById(PROVIDER_ID) is None
    assert registry.algorithmById("micro_detector:detect") is None


def test_detect_algorithm_metadata(plugin):
    plugin.initProcessing()
    alg = QgsApplication.processingRegistry().algorithmById("micro_detector:detect")
    assert alg.displayName()
    assert alg.shortHelpString()
    names = {p.name() for p in alg.parameterDefinitions()}
    assert {"INPUT", "MODEL", "OUTPUT"} <= names


def test_plugin_start_imports_nothing_heavy():
    """Loading the plugin and its provider must not import torch or onnxruntime."""
    result = run_python(
        textwrap.dedent("""
        import sys
        from qgis.core import QgsApplication
        app = QgsApplication([], False); app.initQgis()
        import micro_object_detection as pkg
        plugin = pkg.classFactory(None)
        plugin.initProcessing()
        alg = QgsApplication.processingRegistry().algorithmById("micro_detector:detect")
        assert alg is not None
        heavy = sorted(m for m in ("torch", "onnxruntime", "onnx") if m in sys.modules)
        print("HEAVY", heavy)
        plugin.unload()
    """)
    )
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stdout


def test_missing_torch_gives_install_instructions(tmp_path):
    """With torch unimportable, running detect fails with a message saying what to install."""
    result = run_python(
        qgis_without("torch", "onnxruntime")
        + textwrap.dedent(f"""
        from osgeo import gdal
        ds = gdal.GetDriverByName("GTiff").Create(r"{tmp_path}/r.tif", 8, 8, 3)
        from osgeo import osr
        srs = osr.SpatialReference(); srs.ImportFromEPSG(32632)
        ds.SetGeoTransform((0, 1, 0, 8, 0, -1)); ds.SetProjection(srs.ExportToWkt()); ds = None
        open(r"{tmp_path}/m.pt", "wb").write(b"not checked before the dependency")
        try:
            processing.run("micro_detector:detect", {{"INPUT": r"{tmp_path}/r.tif", "MODEL": r"{tmp_path}/m.pt",
                           "OUTPUT": r"{tmp_path}/out.gpkg"}})
        except QgsProcessingException as e:
            print("MESSAGE", e)
    """)
    )
    assert result.returncode == 0, result.stderr
    assert "MESSAGE" in result.stdout, result.stdout + result.stderr
    message = result.stdout.split("MESSAGE", 1)[1]
    assert "torch" in message and "pip install" in message
    assert "OSGeo4W" in message and "macOS" in message and "Debian" in message
    assert "Traceback" not in message


@pytest.mark.slow
def test_detect_through_processing_run_writes_a_layer(plugin, tmp_path):
    """The algorithm is wired to the engine: a real KIT AIS crop, a real (untrained) model."""
    import subprocess

    from conftest import KIT_RASTER, ROOT
    from qgis.core import QgsVectorLayer

    import processing

    plugin.initProcessing()
    model = tmp_path / "m.pt"
    subprocess.run(
        [str(ROOT / ".venv" / "bin" / "micro-detector"), "new-model", "--scale", "n", "-o", str(model)],
        check=True,
        capture_output=True,
    )
    out = tmp_path / "det.gpkg"
    result = processing.run(
        "micro_detector:detect", {"INPUT": str(KIT_RASTER), "MODEL": str(model), "CONF": 0.01, "OUTPUT": str(out)}
    )
    layer = QgsVectorLayer(result["OUTPUT"], "det", "ogr")
    assert layer.isValid()
    assert [f.name() for f in layer.fields()][-7:] == [
        "class_id",
        "class_name",
        "score",
        "source",
        "tile_row",
        "tile_col",
        "area_m2",
    ]
    assert layer.crs().authid() == "EPSG:32632"
    with pytest.raises(QgsProcessingException, match="not found|cannot"):
        processing.run(
            "micro_detector:detect",
            {"INPUT": str(KIT_RASTER), "MODEL": str(tmp_path / "missing.pt"), "OUTPUT": str(tmp_path / "x.gpkg")},
        )


def test_plugin_start_names_missing_packages_without_importing_them(qgis_iface, monkeypatch):
    import importlib.util

    package = importlib.import_module("micro_object_detection")
    plugin = package.classFactory(qgis_iface)
    assert plugin.warn_missing_dependencies() == []  # both installed here
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name in ("torch", "onnxruntime") else real(name, *a)
    )
    assert plugin.warn_missing_dependencies() == ["torch", "onnxruntime"]
    plugin.unload()
