"""The window-source interface: the GDAL source reads the same pixels from any thread."""

import threading

import numpy as np
from osgeo import gdal

from micro_detector.source import GdalSource, WindowSource, open_source
from micro_detector.tiling import Window

from test_engine import write_raster


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
    raster = write_raster(tmp_path / "u.tif", 64, 64, [(5, 5, 15, 15, 0)], dtype=gdal.GDT_UInt16,
                          background=400, value=3000)
    with GdalSource(raster) as source:
        notes = source.select_bands([1, 1, 1])
        assert "stretched" in notes[0] and source.describe()["stretch"]
        image, _ = source.read(Window(0, 0, 0, 0, 64, 64), 32, 32)
        assert image.shape == (3, 32, 32) and np.array_equal(image[0], image[2])
