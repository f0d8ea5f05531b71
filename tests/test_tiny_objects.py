"""Issue 14, training side: NWD maths, the assigner on boxes smaller than a cell, the
dataset config (absent classes, spatial split), GSD-range chips, and a run that learns
objects of 6-10 px."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from conftest import tiny_config
from synthetic import make_scene, write_mapping, write_xview

from micro_detector.training.chips import ChipConfig, build_chips
from micro_detector.training.config import TrainConfig
from micro_detector.training.dataset import AugmentConfig, ChipDataset
from micro_detector.training.dataset_config import DatasetConfig, prepare_split
from micro_detector.training.labels import ClassMap, LabelError, load_xview
from micro_detector.training.loss import LossWeights, TaskAlignedAssigner, box_nwd


def test_nwd_matches_hand_computed_values():
    a = torch.tensor([0.0, 0.0, 10.0, 10.0])
    # identical boxes: W2 = 0, NWD = 1
    assert box_nwd(a, a).item() == pytest.approx(1.0, abs=1e-5)
    # shifted by (3, 4): W2 = 5 -> exp(-5 / 12.8)
    b = torch.tensor([3.0, 4.0, 13.0, 14.0])
    assert box_nwd(a, b).item() == pytest.approx(math.exp(-5 / 12.8), rel=1e-6)
    # same centre (5, 5), 10x10 against 4x2: W2^2 = ((10-4)/2)^2 + ((10-2)/2)^2 = 9 + 16 -> W2 = 5
    c = torch.tensor([3.0, 4.0, 7.0, 6.0])
    assert box_nwd(a, c, constant=5.0).item() == pytest.approx(math.exp(-1), rel=1e-6)
    # disjoint tiny boxes: IoU is 0, NWD still ranks the nearer one higher
    near, far = torch.tensor([12.0, 0.0, 22.0, 10.0]), torch.tensor([40.0, 0.0, 50.0, 10.0])
    assert box_nwd(a, near) > box_nwd(a, far) > 0
    # broadcasting (M, 1, 4) x (1, A, 4)
    assert box_nwd(torch.stack([a, b])[:, None], torch.stack([a, b, c])[None]).shape == (2, 3)


def _cells(n=16, stride=8.0):
    ys, xs = torch.meshgrid(torch.arange(n) + 0.5, torch.arange(n) + 0.5, indexing="ij")
    return torch.stack([xs.flatten(), ys.flatten()], -1) * stride, torch.full((n * n, 1), stride)


@pytest.mark.parametrize("metric", ["ciou", "nwd"])
def test_assigner_gives_a_box_smaller_than_a_cell_a_positive(metric):
    """A 5 px box centred between stride-8 cell centres has no centre inside it; it must still
    get a positive anchor (the nearest cells), or it could never be learned."""
    anchors, strides = _cells()
    gt = torch.tensor([[[13.5, 13.5, 18.5, 18.5]]])  # centre 16,16: midway between cells
    pd_boxes = gt.expand(1, anchors.shape[0], 4)  # every prediction right: only candidacy decides
    pd_scores = torch.full((1, anchors.shape[0], 2), 0.5)
    assigner = TaskAlignedAssigner(topk=10, metric=metric)
    _, scores, fg = assigner(pd_scores, pd_boxes, anchors, torch.tensor([[1]]), gt, torch.tensor([[True]]), strides)
    assert fg.sum() == 4  # the four cells around the centre
    assert (anchors[fg[0]] - 16).abs().max() == 4
    assert scores[0, fg[0], 1].min() > 0 and scores[..., 0].max() == 0
    # without the stride information (the old rule) nothing is assigned
    _, _, fg_old = assigner(pd_scores, pd_boxes, anchors, torch.tensor([[1]]), gt, torch.tensor([[True]]))
    assert fg_old.sum() == 0


def test_nwd_assignment_gives_signal_where_iou_gives_none():
    """Predictions a few pixels off a tiny object do not overlap it: the CIoU alignment is 0
    and the targets carry no weight, while NWD still ranks and weights the nearest ones."""
    anchors, strides = _cells()
    gt = torch.tensor([[[13.5, 13.5, 18.5, 18.5]]])
    pd_boxes = torch.cat([anchors - 2, anchors + 2], -1).unsqueeze(0)  # 4 px boxes on the cells
    pd_scores = torch.full((1, anchors.shape[0], 2), 0.5)
    args = (pd_scores, pd_boxes, anchors, torch.tensor([[1]]), gt, torch.tensor([[True]]), strides)
    _, ciou_scores, _ = TaskAlignedAssigner(metric="ciou")(*args)
    _, nwd_scores, nwd_fg = TaskAlignedAssigner(metric="nwd")(*args)
    assert ciou_scores.max() == 0
    assert nwd_scores.max() > 0 and nwd_fg.sum() == 4


def test_loss_options_are_checked():
    with pytest.raises(ValueError, match="assign"):
        LossWeights(assign="giou")
    with pytest.raises(ValueError, match="nwd share"):
        LossWeights(nwd=1.5)


@pytest.fixture()
def labelled(tmp_path):
    rows = []
    for i, source in enumerate(["a", "a", "b"]):
        raster, boxes, classes = make_scene(tmp_path, f"{source}{i}.tif", size=128, count=8, seed=i)
        rows.append((raster.name, boxes, classes))
    geojson = write_xview(tmp_path / "labels.geojson", rows)
    (tmp_path / "images.json").write_text(
        json.dumps(
            [{"image_id": name, "source": name[0], "annotated_groups": ["vehicle", "boat"]} for name, _, _ in rows]
        )
    )
    labels = load_xview(
        geojson, tmp_path, ClassMap.from_file(write_mapping(tmp_path / "map.json")), tmp_path / "images.json"
    )
    for im in labels.images:
        im.source = im.name[0]
    return labels, rows


def test_dataset_config_negatives_and_spatial_split(labelled, tmp_path):
    labels, rows = labelled
    labels.class_names.append("plane")  # a third class, absent from source a
    for im in labels.images:
        im.annotated = np.append(im.annotated, False)
    config_path = tmp_path / "dataset.json"
    config_path.write_text(
        json.dumps(
            {
                "absent_classes": {"by_source": {"a": ["plane"]}, "by_image": {"b2.tif": ["plane"]}},
                "spatial_splits": [{"image": "b2.tif", "axis": "y", "val_from": 0.5, "gap_px": 8}],
            }
        )
    )
    config = DatasetConfig.from_file(config_path)
    train, val = prepare_split(labels, config, tmp_path / "work", val_names=["a1.tif"])
    assert sorted(im.name for im in train.images) == ["a0.tif", "b2__train.vrt"]
    assert sorted(im.name for im in val.images) == ["a1.tif", "b2__val.vrt"]
    assert all(im.annotated[2] for im in train.images + val.images)  # plane taught as absent

    # the bands: real rasters of the right size, georeferenced, with the boxes moved with them
    from osgeo import gdal

    _, boxes, _ = rows[2]
    band = next(im for im in val.images if im.name == "b2__val.vrt")
    ds = gdal.Open(band.path)
    assert (ds.RasterXSize, ds.RasterYSize) == (128, 64)
    assert ds.GetGeoTransform()[3] == pytest.approx(5335000.0 - 64 * 0.5)
    full = gdal.Open(str(tmp_path / "b2.tif")).ReadAsArray()
    assert np.array_equal(ds.ReadAsArray(), full[:, 64:, :])
    inside = boxes[(boxes[:, 1] >= 64)]
    assert len(band.boxes) >= len(inside)
    assert np.allclose(np.sort(band.boxes[: len(band.boxes), 1])[-len(inside) :].max(), inside[:, 1].max() - 64)
    top = next(im for im in train.images if im.name == "b2__train.vrt")
    assert top.height == 56 and (top.boxes[:, 3] <= 56).all()

    # a class labelled in an image cannot be declared absent there
    config_path.write_text(json.dumps({"absent_classes": {"by_source": {"a": ["vehicle"]}}}))
    with pytest.raises(LabelError, match="absent from a0.tif"):
        prepare_split(labels, DatasetConfig.from_file(config_path), tmp_path / "w2")
    config_path.write_text(json.dumps({"absent_classes": {"by_source": {"a": ["ship"]}}}))
    with pytest.raises(LabelError, match="unknown class"):
        prepare_split(labels, DatasetConfig.from_file(config_path), tmp_path / "w3")


def test_gsd_range_chips_keep_boxes_on_the_drawn_objects(labelled, tmp_path):
    """Shrunk and tiled chips: every box still frames a drawn object (its pixels differ from
    the background grey), and objects really get smaller."""
    labels, _ = labelled
    store = build_chips(labels.images, 2, ChipConfig(size=128, overlap=0.25), tmp_path / "cache")
    chip_gsd = np.full(len(store), 0.1)
    ds = ChipDataset(
        store,
        augment_config=AugmentConfig(
            mosaic=0, rot90=False, flip=0, hsv_h=0, hsv_s=0, hsv_v=0, gsd_range=(0.25, 0.4), gsd_prob=1.0
        ),
        chip_gsd=chip_gsd,
    )
    native = np.median([np.sqrt(np.prod(b[:, 2:] - b[:, :2], 1)).mean() for b in store.boxes if len(b)])
    sizes = []
    for n in range(len(ds)):
        image, targets, _ = ds[n]
        image = image.numpy().astype(float)
        for _, x0, y0, x1, y1 in targets.numpy():
            patch = image[:, int(y0) : int(np.ceil(y1)), int(x0) : int(np.ceil(x1))]
            assert patch.size and np.abs(patch - 110).max() > 40  # an object, not background
            sizes.append(np.sqrt((x1 - x0) * (y1 - y0)))
    assert len(sizes) > len(ds)  # tiling shows more objects per input
    assert np.median(sizes) < 0.5 * native


@pytest.mark.parametrize("sizes", [(4.0, 5.0), (24.0, 32.0)])
def test_object_size_zoom_brings_objects_to_the_drawn_sizes(labelled, tmp_path, sizes):
    """`object_sizes` zooms each chip so that its objects (native median about 8-10 px) come
    out in the range, shrunk and tiled or enlarged, with no GSD known; boxes stay on objects."""
    labels, _ = labelled
    store = build_chips(labels.images, 2, ChipConfig(size=128, overlap=0.25), tmp_path / "cache")
    config = AugmentConfig(
        mosaic=0,
        rot90=False,
        flip=0,
        scale=0,
        hsv_h=0,
        hsv_s=0,
        hsv_v=0,
        object_sizes=sizes,
        gsd_prob=1.0,
        min_zoom=0.05,
        max_zoom=5.0,
    )
    ds = ChipDataset(store, augment_config=config)  # no chip_gsd: sizes need none
    medians = []
    for epoch, n in np.ndindex(8, len(ds)):
        if not len(store.boxes[n]):
            continue
        ds.set_epoch(epoch)
        image, targets, _ = ds[n]
        image = image.numpy().astype(float)
        sides = []
        for _, x0, y0, x1, y1 in targets.numpy():
            patch = image[:, int(y0) : int(np.ceil(y1)), int(x0) : int(np.ceil(x1))]
            assert patch.size and np.abs(patch - 110).max() > 40  # an object, not background
            sides.append(np.sqrt((x1 - x0) * (y1 - y0)))
        if sides:
            medians.append(np.median(sides))
    assert len(medians) >= 12
    # the chip's own median lands in the range; tiled neighbours differ a little in size
    assert sizes[0] * 0.6 <= np.median(medians) <= sizes[1] * 1.4
    assert all(sizes[0] * 0.3 <= m <= sizes[1] * 2 for m in medians)


def test_object_sizes_mix_with_the_gsd_range(labelled, tmp_path):
    """With both, about half the zooms come from each: the chips' zoom factors fall in two
    separate clusters here, the GSD range's (x0.5) and the sizes' (about x3)."""
    labels, _ = labelled
    store = build_chips(labels.images, 2, ChipConfig(size=128, overlap=0.25), tmp_path / "cache")
    config = AugmentConfig(gsd_range=(0.2, 0.2), object_sizes=(30.0, 30.0), gsd_prob=1.0, max_zoom=5.0)
    ds = ChipDataset(store, augment_config=config, chip_gsd=np.full(len(store), 0.1))
    with_objects = [i for i in range(len(store)) if len(store.boxes[i])]
    zooms = np.array([ds._zoom(i, np.random.default_rng([0, k])) for k in range(200) for i in with_objects[:1]])
    assert np.allclose(zooms[zooms < 1], 0.5)
    side = ds.chip_side[with_objects[0]]
    assert np.allclose(zooms[zooms > 1], 30.0 / side)
    assert 0.35 < (zooms < 1).mean() < 0.65
    with pytest.raises(ValueError, match="object sizes"):
        TrainConfig(augment=AugmentConfig(object_sizes=(10.0, 5.0)))


def test_model_spec_states_the_gsd_range(tmp_path):
    from micro_detector.model.spec import ModelSpec

    spec = ModelSpec(scale="n", gsd=0.3, gsd_min=0.15, gsd_max=0.6)
    assert spec.gsd_range() == (0.15, 0.6)
    assert ModelSpec(scale="n", gsd=0.3).gsd_range() == (0.3, 0.3)
    assert ModelSpec(scale="n").gsd_range() is None
    with pytest.raises(ValueError, match="both"):
        ModelSpec(scale="n", gsd_min=0.1)
    with pytest.raises(ValueError, match="gsd_min <= gsd_max"):
        ModelSpec(scale="n", gsd_min=0.6, gsd_max=0.1)


@pytest.mark.slow
def test_training_learns_objects_of_6_to_10_px(tmp_path, monkeypatch):
    """A YOLOv12n trained from scratch on scenes of 6-10 px objects finds them on a scene it
    never saw (recall and precision >= 0.8 at IoU 0.5)."""
    import synthetic

    from micro_detector import engine
    from micro_detector.boxes import box_iou
    from micro_detector.model.io import load_model
    from micro_detector.model.runner import TorchRunner
    from micro_detector.training.labels import split_by_image
    from micro_detector.training.trainer import train

    monkeypatch.setattr(synthetic, "SIZES", {0: (6, 6), 1: (6, 10)})
    rows = []
    for i in range(3):
        raster, boxes, classes = make_scene(tmp_path, f"s{i}.tif", size=256, count=40, seed=10 + i)
        rows.append((raster.name, boxes, classes))
    geojson = write_xview(tmp_path / "labels.geojson", rows)
    labels = load_xview(geojson, tmp_path, ClassMap.from_file(write_mapping(tmp_path / "map.json")))
    train_set, val_set = split_by_image(labels, val_names=["s2.tif"])
    torch.manual_seed(0)
    run = tmp_path / "run"
    train(tiny_config(80, val_every=80), train_set, val_set, run, model_path=run / "model.pt")
    det = engine.detect(
        tmp_path / "s2.tif",
        None,
        TorchRunner(load_model(run / "model.pt")),
        options=engine.DetectOptions(conf=0.25, pixel_coordinates=True),
    )
    _, true_boxes, true_classes = rows[2]
    assert np.sqrt(np.prod(true_boxes[:, 2:] - true_boxes[:, :2], 1)).max() <= 8
    hit = (box_iou(true_boxes.astype(float), det.boxes) >= 0.5) & (true_classes[:, None] == det.class_ids[None])
    recall, precision = hit.any(1).mean(), hit.any(0).mean() if len(det) else 0.0
    assert recall >= 0.8 and precision >= 0.8, (recall, precision, len(det))
