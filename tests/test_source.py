"""The window-source interface: the GDAL source reads the same pixels from any thread."""

import threading

import numpy as np
from osgeo import gdal, osr
from synthetic import write_raster

from micro_detector.source import GdalSource, WindowSource, open_source
from micro_detector.tiling import Window


def test_gdal_source_reads_windows_with_facts_and_mask(tmp_path):
    raster = write_raster(tmp_path / "s.tif", 80, 60, [(10, 10, 20, 20, 1)], nodata=0)
    ds = gdal.Open(str(raster), gdal.GA_Update)
    ds.GetRasterBand(1).WriteArray(np.zeros((5, 5)), 0, 0)  # a nodata corner
    ds = None
    source = open_source(raster)
    assert isinstance(source, WindowSource) and open_source(source) is source
    info = source.info
    assert (info.width, info.height, info.count, info.dtype) == (80, 60, 3, "byte")
    assert info.georeferenced and info.pixel_size_m == 0.5
    assert source.select_bands([1, 2, 3]) == []
    image, valid = source.read(Window(0, 0, 0, 0, 40, 40), 40, 40)
    assert image.dtype == np.uint8 and image.shape == (3, 40, 40) and valid.shape == (40, 40)
    assert valid[15, 15] and not valid[0, 0] and image[0, 15, 15] == 255
    other = []
    thread = threading.Thread(target=lambda: other.append(source.for_thread().read(Window(0, 0, 0, 0, 40, 40), 40, 40)))
    thread.start()
    thread.join()
    assert np.array_equal(other[0][0], image) and np.array_equal(other[0][1], valid)
    source.close()


def test_gdal_source_stretches_16_bit_and_repeats_a_band(tmp_path):
    raster = write_raster(
        tmp_path / "u.tif", 64, 64, [(5, 5, 15, 15, 0)], dtype=gdal.GDT_UInt16, background=400, value=3000
    )
    with GdalSource(raster) as source:
        notes = source.select_bands([1, 1, 1])
        assert "stretched" in notes[0] and source.describe()["stretch"]
        image, _ = source.read(Window(0, 0, 0, 0, 64, 64), 32, 32)
        assert image.shape == (3, 32, 32) and np.array_equal(image[0], image[2])


class ArraySource(WindowSource):
    """A source that is no file: an in-memory array with a geotransform (as a QGIS provider
    source is, from the engine's point of view)."""

    def __init__(self, data, gt):
        from micro_detector.raster import RasterInfo

        srs = osr.SpatialReference()
        srs.ImportFromEPSG(32632)
        self.data = data
        self.info = RasterInfo(
            path="memory",
            width=data.shape[2],
            height=data.shape[1],
            count=data.shape[0],
            dtype="byte",
            geotransform=gt,
            crs_wkt=srs.ExportToWkt(),
            nodata=[None] * 3,
            color_interp=["Red", "Green", "Blue"],
            georeferenced=True,
            pixel_size_m=gt[1],
            metres_per_unit=1.0,
        )

    def select_bands(self, bands):
        self.bands = bands
        return []

    def read(self, window, out_w, out_h):
        assert (window.w, window.h) == (out_w, out_h)
        x0, y0, x1, y1 = window.bounds
        image = self.data[[b - 1 for b in self.bands], y0:y1, x0:x1]
        return np.ascontiguousarray(image), np.ones((out_h, out_w), bool)


def test_detect_reads_any_window_source_and_equals_the_file_run(tmp_path):
    from synthetic import BlobRunner

    from micro_detector.engine import DetectOptions, detect

    gt = (500000.0, 0.5, 0.0, 5000000.0, 0.0, -0.5)
    raster = write_raster(tmp_path / "f.tif", 150, 100, [(20, 20, 30, 30, 0), (60, 50, 75, 66, 2)], gt=gt)
    ds = gdal.Open(str(raster))
    source = ArraySource(ds.ReadAsArray(), gt)
    options = DetectOptions(tile=64)
    from_memory = detect(source, tmp_path / "m.gpkg", BlobRunner(), options=options)
    from_file = detect(raster, None, BlobRunner(), options=options)
    np.testing.assert_array_equal(from_memory.boxes, from_file.boxes)
    np.testing.assert_array_equal(from_memory.rings, from_file.rings)
    assert len(from_memory) == 2 and (tmp_path / "m.gpkg").exists()
