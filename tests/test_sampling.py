"""Class-balanced chip sampling (repeat factors): hand-computed factors, what one epoch
holds, distinct augmentation per copy, and a real training run that uses it."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from conftest import tiny_config
from synthetic import make_scene, write_mapping, write_xview

from micro_detector.training.chips import ChipConfig, build_chips
from micro_detector.training.config import TrainConfig
from micro_detector.training.dataset import AugmentConfig, ChipDataset
from micro_detector.training.labels import ClassMap, load_xview, split_by_image
from micro_detector.training.sampling import RepeatFactorSampler, chip_repeat_factors, class_repeat_factors

# 10 chips: class 0 in 8 of them, class 1 in 1, class 2 in none; 1 empty chip
CHIPS = [np.array([0, 0])] * 7 + [np.array([0, 1]), np.array([], np.int64), np.array([0])]


def test_factors_by_hand():
    per_class = class_repeat_factors(CHIPS, 3, 0.4)
    # f0 = 0.8 -> sqrt(0.5) < 1 -> 1; f1 = 0.1 -> sqrt(4) = 2; class 2 is in no chip -> 1
    assert per_class == pytest.approx([1.0, 2.0, 1.0])
    per_chip = chip_repeat_factors(CHIPS, per_class)
    assert per_chip == pytest.approx([1.0] * 7 + [2.0, 1.0, 1.0])  # a chip takes its rarest class
    with pytest.raises(ValueError, match="repeat threshold"):
        class_repeat_factors(CHIPS, 3, 0.0)


def test_an_epoch_repeats_each_chip_floor_or_ceil_times_with_distinct_copies():
    factors = np.array([1.0, 2.5, 1.0, 4.0, 1.2])
    sampler = RepeatFactorSampler(factors, seed=3)
    assert len(sampler) == round(factors.sum()) == 10
    seen_epochs = []
    for epoch in range(20):
        sampler.set_epoch(epoch)
        idx = np.array(list(sampler))
        assert len(idx) == 10 and len(set(idx.tolist())) == 10  # every copy has its own index
        counts = np.bincount(idx % len(factors), minlength=len(factors))
        # stochastic rounding, then the fixed length trims or pads by at most a chip or two
        assert abs(counts[3] - 4) <= 1 and counts[1] >= 1 and counts.sum() == 10
        seen_epochs.append(tuple(idx))
    assert len(set(seen_epochs)) > 10  # epochs differ
    mean = np.mean([np.bincount(np.array(e) % 5, minlength=5) for e in seen_epochs], 0)
    assert mean[3] / mean[0] == pytest.approx(4.0, rel=0.35)


def test_ranks_split_one_epoch_without_overlap():
    factors = np.array([1.0, 3.0, 1.5, 1.0, 2.0, 1.0, 1.0])
    parts = []
    for rank in range(2):
        s = RepeatFactorSampler(factors, seed=1, rank=rank, world=2)
        s.set_epoch(4)
        parts.append(list(s))
        assert len(parts[-1]) == math.ceil(round(factors.sum()) / 2)
    assert not set(parts[0]) & set(parts[1])
    with pytest.raises(ValueError, match="repeat factors"):
        RepeatFactorSampler(np.array([0.5, 1.0]))


def test_a_repeated_copy_is_the_same_chip_with_its_own_augmentation(tmp_path):
    raster, boxes, classes = make_scene(tmp_path, "s.tif", size=160, count=14, seed=4)
    labels = load_xview(
        write_xview(tmp_path / "l.geojson", [(raster.name, boxes, classes)]),
        tmp_path,
        ClassMap.from_file(write_mapping(tmp_path / "m.json")),
    )
    store = build_chips(labels.images, 2, ChipConfig(size=96), tmp_path / "cache")
    n = len(store)
    plain = ChipDataset(store)
    assert plain[1 + n][1].tolist() == plain[1][1].tolist()  # copy k of chip i reads chip i
    aug = ChipDataset(store, augment_config=AugmentConfig(mosaic=0.0, scale=0.2))
    a, b = aug[1][0], aug[1 + n][0]
    assert a.shape == b.shape and not np.array_equal(a.numpy(), b.numpy())


def test_config_checks_the_threshold():
    with pytest.raises(ValueError, match="repeat_threshold must be in"):
        TrainConfig(repeat_threshold=2.0)


@pytest.mark.slow
def test_training_with_class_balanced_sampling(tmp_path):
    """A rare class (one object of class 1 in a scene of class-0 objects) is repeated: the
    run logs its factor, the epoch grows by the repeats, and training completes a model."""
    from micro_detector.training.trainer import train

    rows = []
    for i in range(3):
        raster, boxes, classes = make_scene(tmp_path, f"scene{i}.tif", size=192, count=16, seed=20 + i)
        keep = (classes == 0) | (np.arange(len(classes)) == int(np.argmax(classes == 1)))
        rows.append((raster.name, boxes[keep], classes[keep]))
    labels = load_xview(
        write_xview(tmp_path / "l.geojson", rows), tmp_path, ClassMap.from_file(write_mapping(tmp_path / "m.json"))
    )
    train_set, val_set = split_by_image(labels, val_names=["scene2.tif"])
    lines = []
    result = train(
        tiny_config(1, repeat_threshold=0.9),
        train_set,
        val_set,
        tmp_path / "run",
        model_path=tmp_path / "model.pt",
        log=lines.append,
    )
    balanced = [s for s in lines if s.startswith("class-balanced sampling")]
    assert balanced, lines
    m = re.fullmatch(
        r"class-balanced sampling: repeat vehicle x([\d.]+), boat x([\d.]+); "
        r"(\d+) chips -> (\d+) per epoch",
        balanced[0],
    )
    assert m, balanced[0]
    vehicle, boat, chips, per_epoch = float(m[1]), float(m[2]), int(m[3]), int(m[4])
    assert vehicle == pytest.approx(1.0) and boat > 1.0 and per_epoch > chips
    assert (tmp_path / "model.pt").is_file() and len(result.history) == 1


def test_source_balanced_sampling_gives_each_source_its_share():
    """Sources of 60, 30 and 10 chips with T = 0.5: factors max(1, sqrt(T / f)) = 1, 1.29 and
    2.24, so over many epochs the small source's chips are drawn 2.24 times as often as the
    large one's and the sources hold 60 : 38.7 : 22.4 of each epoch, as make_sampler logs."""
    from types import SimpleNamespace

    from micro_detector.training.labels import LabeledImage, LabelSet
    from micro_detector.training.loader import make_sampler

    sizes = {"airports": 60, "marina": 30, "town": 10}
    names = [f"{s}_{k}.tif" for s, n in sizes.items() for k in range(n)]
    source_of = np.array([name.split("_")[0] for name in names])
    empty = np.zeros((0, 4), np.float32)
    train = LabelSet(
        ["vehicle"],
        [LabeledImage(n, 64, 64, empty, np.zeros(0, np.int64), np.ones(1, bool), n.split("_")[0]) for n in names],
    )
    store = _Sized([np.zeros(1, np.int64)] * len(names), [{"image": n} for n in names])
    lines = []
    sampler = make_sampler(
        SimpleNamespace(repeat_threshold=0.0, source_balance=0.5, seed=7),
        store,
        None,
        SimpleNamespace(nc=1, class_names=["vehicle"]),
        0,
        1,
        lines.append,
        train,
    )
    expected = {s: max(1.0, math.sqrt(0.5 / (n / len(names)))) for s, n in sizes.items()}
    assert expected["airports"] == 1.0 and expected["town"] == pytest.approx(2.236, abs=1e-3)
    assert lines == [
        "source-balanced sampling: repeat airports x1.00, marina x1.29, town x2.24; "
        f"100 chips -> {round(sum(n * expected[s] for s, n in sizes.items()))} per epoch"
    ]
    drawn = {s: 0 for s in sizes}
    epochs = 300
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        for i in sampler:
            drawn[source_of[i % len(names)]] += 1
    total = sum(drawn.values())
    want = {s: n * expected[s] for s, n in sizes.items()}
    for s in sizes:  # each source's share of the draws, and each chip's draws per epoch
        assert drawn[s] / total == pytest.approx(want[s] / sum(want.values()), rel=0.03), (s, drawn)
        assert drawn[s] / sizes[s] / epochs == pytest.approx(expected[s], rel=0.03), (s, drawn)


class _Sized:
    """A chip store's sampling view: classes, origins and a length."""

    def __init__(self, classes, origin):
        self.classes, self.origin = classes, origin

    def __len__(self):
        return len(self.classes)
