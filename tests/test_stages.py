"""The engine's stages used apart: a plan pickles, blocks of windows predicted separately and
finished together give exactly the single run's objects."""

import pickle

import numpy as np
from synthetic import BlobRunner, write_raster

from micro_detector.engine import DetectOptions, RawBoxes, detect, finish, plan_raster, predict_block


def test_blocks_of_windows_finish_to_the_single_run(tmp_path):
    objects = [(60, 10, 72, 22, 0), (120, 118, 136, 140, 1), (5, 150, 15, 160, 2), (190, 60, 200, 70, 0)]
    raster = write_raster(tmp_path / "b.tif", 220, 200, objects)
    options = DetectOptions(tile=32, batch=2, extent=(500000 + 2, 5000000 - 25, 500000 + 50, 5000000 - 1))
    single = detect(raster, None, BlobRunner(), options=options)

    plan = pickle.loads(pickle.dumps(plan_raster(raster, BlobRunner().spec, options)))
    assert plan.region() is not None and len(plan.windows) > 3
    cut = len(plan.windows) // 2
    parts = [
        predict_block(raster, BlobRunner(), plan, options, plan.windows[:cut]),
        predict_block(raster, BlobRunner(), plan, options, plan.windows[cut:]),
    ]
    assert parts[0].tiles == cut and parts[1].tiles == len(plan.windows) - cut
    joined = finish(RawBoxes.concat(parts), plan, list(BlobRunner().spec.class_names), options)
    np.testing.assert_array_equal(joined.boxes, single.boxes)
    np.testing.assert_array_equal(joined.class_ids, single.class_ids)
    assert [tuple(b) for b in single.boxes] == [(60, 10, 72, 22)]  # the clip kept the region's only
    assert joined.report["tiles"] == single.report["tiles"] == len(plan.windows)
