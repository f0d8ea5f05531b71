"""Detect on what is on the map: an XYZ layer of local tiles served from file:// (no network),
a GDAL TMS description, a virtual raster through the QGIS provider, the map canvas's visible
extent, and one layer per class. The web-tile run must find what the file run finds on the
same pixels. The pixels are a crop of the demo raster (a street with cars), placed on the tile
grid at the equator; the bundled model runs on them at native resolution."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import DEMO_RASTER
from osgeo import gdal, ogr
from qgis.core import (
    QgsCategorizedSymbolRenderer,
    QgsCoordinateReferenceSystem,
    QgsPointXY,
    QgsProcessingException,
    QgsProject,
    QgsRasterLayer,
    QgsRectangle,
    QgsVectorLayer,
)
from web_tiles import COLS, EXTENT, RES, ROWS, TOP, WIDTH, ZOOM, boxes_of, make_web_scene, matched, unmatched_iou


@pytest.fixture(scope="module")
def web_scene(tmp_path_factory):
    """The demo raster's crop as a GeoTIFF on the tile grid and as local XYZ tiles."""
    return make_web_scene(tmp_path_factory.mktemp("web"), DEMO_RASTER)


def xyz_layer(web_scene) -> QgsRasterLayer:
    layer = QgsRasterLayer(web_scene["xyz"], "local tiles", "wms")
    assert layer.isValid() and layer.crs().authid() == "EPSG:3857"
    return layer


def test_the_provider_source_reads_the_tiles_pixel_for_pixel(qgis_app, web_scene):
    from micro_object_detection.micro_detector.tiling import Window
    from micro_object_detection.processing.qgis_source import QgisLayerSource

    width, height = COLS * 256, ROWS * 256
    source = QgisLayerSource(xyz_layer(web_scene), QgsRectangle(0, 0, WIDTH, TOP), RES)
    assert (source.info.width, source.info.height) == (width, height) and source.info.count == 3
    assert source.info.pixel_size_m == pytest.approx(RES) and source.info.metres_per_unit == pytest.approx(1, 1e-6)
    assert source.select_bands([1, 2, 3]) == []
    twin = source.for_thread()  # the engine reads in its own thread
    image, valid = twin.read(Window(0, 0, 0, 0, width, height), width, height)
    assert valid.all() and np.array_equal(image, web_scene["pixels"])
    image, valid = twin.read(Window(0, 0, 100, 30, 64, 64), 32, 32)  # resampled to half size
    assert image.shape == (3, 32, 32) and valid.all()
    image, valid = twin.read(Window(0, 0, width - 32, 0, 64, 64), 64, 64)  # half beyond the tiles
    assert valid[:, :32].all() and not valid[:, 32:].any() and not image[:, :, 32:].any()


def test_a_virtual_raster_is_read_through_its_provider(qgis_app, web_scene):
    """A numeric, single-band layer that is not a file: QGIS's virtual raster provider."""
    from micro_object_detection.micro_detector.tiling import Window
    from micro_object_detection.processing.qgis_source import QgisLayerSource

    width, height = COLS * 256, ROWS * 256
    uri = (
        f"?crs=EPSG:3857&extent=0,0,{WIDTH},{TOP}&width={width}&height={height}&formula=%22s@2%22"
        f"&s:uri={web_scene['raster']}&s:provider=gdal"
    )
    layer = QgsRasterLayer(uri, "virtual", "virtualraster")
    assert layer.isValid(), layer.error().summary()
    source = QgisLayerSource(layer, layer.extent(), RES)
    assert source.info.count == 1 and source.info.dtype == "float64"
    notes = source.select_bands([1, 1, 1])  # a grey band fed as RGB
    assert notes and "stretched" in notes[0]
    image, valid = source.read(Window(0, 0, 0, 0, width, height), width, height)
    green = web_scene["pixels"][1].astype(float)
    lo, hi = source.stretch[0]
    expected = np.clip((green - lo) * 255 / (hi - lo), 0, 255)
    assert valid.all() and np.abs(image[0].astype(float) - expected).max() <= 1
    assert np.array_equal(image[0], image[2])


def file_run(web_scene, path) -> list:
    """The bundled model on the GeoTIFF of the scene, read by GDAL at its own pixels."""
    import processing

    processing.run("micro_detector:detect", {"INPUT": str(web_scene["raster"]), "OUTPUT": str(path)})
    return boxes_of(path)


@pytest.mark.slow
def test_xyz_tiles_give_the_objects_of_the_file_run(plugin, web_scene, tmp_path):
    import processing

    from_file = file_run(web_scene, tmp_path / "file.gpkg")
    processing.run(
        "micro_detector:detect",
        {
            "INPUT": xyz_layer(web_scene),
            "EXTENT": EXTENT,
            "RESOLUTION": RES * 100,
            "OUTPUT": str(tmp_path / "xyz.gpkg"),
        },
    )
    from_tiles = boxes_of(tmp_path / "xyz.gpkg")
    assert len(from_file) >= 10  # a street full of cars
    assert len(from_tiles) == len(from_file)
    assert matched(from_tiles, from_file, 0.5 * RES) == len(from_file)
    layer = QgsVectorLayer(str(tmp_path / "xyz.gpkg"), "xyz", "ogr")
    assert layer.crs().authid() == "EPSG:3857" and isinstance(layer.renderer(), QgsCategorizedSymbolRenderer)
    assert {f["source"] for f in layer.getFeatures()} == {"local tiles"}


@pytest.mark.slow
def test_the_visible_map_extent_is_searched(plugin, qgis_iface, web_scene, tmp_path):
    import processing

    canvas = qgis_iface.mapCanvas()
    canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
    canvas.setExtent(QgsRectangle(0, 0, WIDTH, TOP))
    from_file = file_run(web_scene, tmp_path / "file.gpkg")
    processing.run(
        "micro_detector:detect",
        {"INPUT": xyz_layer(web_scene), "AREA": 1, "RESOLUTION": RES * 100, "OUTPUT": str(tmp_path / "seen.gpkg")},
    )
    seen = boxes_of(tmp_path / "seen.gpkg")
    # the canvas's grid need not fall on the tile pixels (resampled by a fraction of a pixel):
    # the same cars, matched as detection benchmarks match (same class, IoU >= 0.5); a box near
    # the threshold may come and go, and so may the views of cars cut by the scene's top and
    # bottom edges (a strip of 256 px)
    assert abs(len(seen) - len(from_file)) <= max(2, round(0.1 * len(from_file)))
    inner = [(c, e) for c, e in from_file if 30 * RES < (e[2] + e[3]) / 2 < TOP - 30 * RES]
    missed = [(c, [round(v / RES) for v in e]) for c, e in unmatched_iou(inner, seen)]
    assert len(inner) >= 10 and len(missed) <= 0.1 * len(inner), (len(inner), missed, [c for c, _ in seen])

    canvas.setExtent(QgsRectangle(0, 0, WIDTH / 2, TOP))  # zoomed on the left half
    processing.run(
        "micro_detector:detect",
        {"INPUT": xyz_layer(web_scene), "AREA": 1, "RESOLUTION": RES * 100, "OUTPUT": str(tmp_path / "zoom.gpkg")},
    )
    visible = canvas.extent()
    zoomed = boxes_of(tmp_path / "zoom.gpkg")
    assert 0 < len(zoomed) < len(seen)
    for _, (xmin, xmax, ymin, ymax) in zoomed:
        assert visible.contains(QgsPointXY((xmin + xmax) / 2, (ymin + ymax) / 2))


def test_a_whole_web_layer_is_refused_before_any_work(plugin, web_scene, tmp_path):
    import processing

    with pytest.raises(QgsProcessingException, match="the area is too large.*visible extent"):
        # the bundled model, at 30 cm/px over the whole world
        processing.run(
            "micro_detector:detect",
            {"INPUT": xyz_layer(web_scene), "RESOLUTION": 30, "OUTPUT": str(tmp_path / "o.gpkg")},
        )
    assert not (tmp_path / "o.gpkg").exists()


@pytest.mark.slow
def test_a_gdal_tms_description_of_local_tiles_is_read_like_a_file(plugin, web_scene, tmp_path):
    """A WMS-like service offline: GDAL's TMS driver over the same file:// tiles (a layer of
    the gdal provider with a file: read by GDAL in the engine)."""
    import processing

    first_x, first_y = web_scene["first_tile"]
    xml = tmp_path / "tiles.xml"
    xml.write_text(f"""<GDAL_WMS>
  <Service name="TMS"><ServerUrl>{(web_scene["folder"] / "tiles").as_uri()}/${{z}}/${{x}}/${{y}}.png</ServerUrl></Service>
  <DataWindow><UpperLeftX>0</UpperLeftX><UpperLeftY>{TOP}</UpperLeftY><LowerRightX>{WIDTH}</LowerRightX>
    <LowerRightY>0</LowerRightY><TileLevel>{ZOOM}</TileLevel><SizeX>{COLS * 256}</SizeX><SizeY>{ROWS * 256}</SizeY>
    <TileX>{first_x}</TileX><TileY>{first_y}</TileY><YOrigin>top</YOrigin></DataWindow>
  <Projection>EPSG:3857</Projection><BlockSizeX>256</BlockSizeX><BlockSizeY>256</BlockSizeY>
  <BandsCount>3</BandsCount>
</GDAL_WMS>""")
    ds = gdal.Open(str(xml))
    assert (ds.RasterXSize, ds.RasterYSize) == (COLS * 256, ROWS * 256)
    assert np.array_equal(ds.ReadAsArray(), web_scene["pixels"])
    ds = None
    from_file = file_run(web_scene, tmp_path / "file.gpkg")
    processing.run("micro_detector:detect", {"INPUT": str(xml), "OUTPUT": str(tmp_path / "tms.gpkg")})
    from_tms = boxes_of(tmp_path / "tms.gpkg")
    assert len(from_tms) == len(from_file) and matched(from_tms, from_file, 0.5 * RES) == len(from_file)


@pytest.mark.slow
def test_one_layer_per_class_beside_the_single_layer_each_styled(plugin, web_scene, tmp_path):
    import processing

    scene = str(web_scene["raster"])
    out = tmp_path / "det.gpkg"
    result = processing.run("micro_detector:detect", {"INPUT": scene, "PER_CLASS": True, "OUTPUT": str(out)})
    classes = ["boat", "building", "plane", "vehicle"]  # the bundled model's: every one gets its layer
    names = sorted(layer.GetName() for layer in ogr.Open(str(out)) if layer.GetName() != "layer_styles")
    assert names == ["detections"] + [f"detections_{c}" for c in classes]
    everything = boxes_of(out, "detections")
    for name in classes:
        part = boxes_of(out, f"detections_{name}")
        assert part == [b for b in everything if b[0] == name]
        layer = QgsVectorLayer(f"{out}|layername=detections_{name}", name, "ogr")  # loads the stored style
        assert isinstance(layer.renderer(), QgsCategorizedSymbolRenderer)
        assert [c.value() for c in layer.renderer().categories()] == [name]
    assert len(boxes_of(out, "detections_vehicle")) >= 10
    assert result["CLASS_LAYERS"] == [f"{out}|layername=detections_{c}" for c in classes]

    project = QgsProject.instance()
    before = set(project.mapLayers())
    processing.runAndLoadResults(
        "micro_detector:detect",
        {"INPUT": scene, "PER_CLASS": True, "CLASSES": [3], "OUTPUT": str(tmp_path / "det2.gpkg")},
    )  # vehicle
    loaded = sorted(project.mapLayer(i).name() for i in set(project.mapLayers()) - before)
    assert loaded == ["Detections scene", "vehicle (scene)"]
    project.removeAllMapLayers()

    with pytest.raises(QgsProcessingException, match="GeoPackage"):
        processing.run(
            "micro_detector:detect", {"INPUT": scene, "PER_CLASS": True, "OUTPUT": str(tmp_path / "det.shp")}
        )
