"""Every augmentation keeps the boxes on the objects: a drawn scene (bright rectangles on a
plain ground), each augmentation of augment.py and sensor.py alone at its strongest setting,
each resampling kernel, and the whole ChipDataset pipeline (mosaic, quarter turns, flips,
scale, colour, sensor jitter, GSD and object-size zooms). After each one, every box must
frame an object (>= 80 % of the pixels inside it are object pixels) and every object must be
boxed (>= 97 % of the object pixels lie in a box).
"""

from __future__ import annotations

import numpy as np
import pytest

from micro_detector.training import augment, sensor
from micro_detector.training.chips import ChipStore
from micro_detector.training.dataset import AugmentConfig, ChipDataset

SIZE, GROUND, OBJECT = 128, augment.PAD, 250  # ground = the padding grey: padding is ground too


def scene(rng: np.random.Generator, count: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """(3, SIZE, SIZE) uint8 ground with `count` bright rectangles of 10-26 px, at least 6 px
    apart, and their pixel-edge boxes."""
    image = np.full((3, SIZE, SIZE), GROUND, np.uint8)
    boxes = []
    while len(boxes) < count:
        w, h = rng.integers(10, 27, 2)
        x, y = rng.integers(2, SIZE - 2 - w), rng.integers(2, SIZE - 2 - h)
        box = np.array([x, y, x + w, y + h], np.float32)
        if all(box[0] >= b[2] + 6 or b[0] >= box[2] + 6 or box[1] >= b[3] + 6 or b[1] >= box[3] + 6 for b in boxes):
            boxes.append(box)
            image[:, y : y + h, x : x + w] = OBJECT
    return image, np.stack(boxes)


def check_boxes_on_objects(image: np.ndarray, boxes: np.ndarray, what: str, every_object: bool = True) -> None:
    """Every box (of 3+ px; thinner ones are slivers of cut objects) frames object pixels
    (>= 80 % of the pixels in it), and (`every_object`) the boxes hold every object pixel
    (>= 97 %). Object pixels: brighter than halfway between the ground and the objects as
    this image shows them (after any colour change). The one-pixel rim that blur and
    resampling soften is not judged: purity is taken inside the box less 1 px (a quarter of
    a side for small boxes), coverage within the box plus 1 px."""
    grey = image.astype(np.float32).mean(0)
    lo, hi = np.percentile(grey, 30), np.percentile(grey, 99)
    assert hi - lo > 20, f"{what}: objects no longer stand out ({lo:.0f} vs {hi:.0f})"
    objects = grey > lo + 0.5 * (hi - lo)
    h, w = grey.shape
    ys, xs = np.mgrid[0:h, 0:w] + 0.5  # pixel centres
    covered = np.zeros_like(objects)
    for b in boxes:
        covered |= (xs >= b[0] - 1) & (xs <= b[2] + 1) & (ys >= b[1] - 1) & (ys <= b[3] + 1)
        if min(b[2] - b[0], b[3] - b[1]) < 3:
            continue
        mx, my = min(1.0, (b[2] - b[0]) / 4), min(1.0, (b[3] - b[1]) / 4)
        inside = (xs >= b[0] + mx) & (xs <= b[2] - mx) & (ys >= b[1] + my) & (ys <= b[3] - my)
        if inside.any():
            purity = objects[inside].mean()
            assert purity >= 0.8, f"{what}: box {np.round(b, 1).tolist()} holds {purity:.0%} object pixels"
    if every_object and objects.any():
        held = covered[objects].mean()
        assert held >= 0.97, f"{what}: {1 - held:.1%} of the object pixels lie in no box"


def test_the_check_fails_on_a_shifted_or_missing_box():
    image, boxes = scene(np.random.default_rng(0))
    check_boxes_on_objects(image, boxes, "drawn")
    with pytest.raises(AssertionError, match="object pixels"):
        check_boxes_on_objects(image, boxes + np.array([8, 0, 8, 0], np.float32), "shifted")
    with pytest.raises(AssertionError, match="lie in no box"):
        check_boxes_on_objects(image, boxes[1:], "one missing")
    rotated, _ = augment.rot90(image, boxes, 1)
    with pytest.raises(AssertionError):
        check_boxes_on_objects(rotated, boxes, "image turned, boxes not")


GEOMETRIC = {
    "rot90 x1": lambda im, b, rng: augment.rot90(im, b, 1),
    "rot90 x2": lambda im, b, rng: augment.rot90(im, b, 2),
    "rot90 x3": lambda im, b, rng: augment.rot90(im, b, 3),
    "flip left-right": lambda im, b, rng: augment.flip_lr(im, b),
    "flip up-down": lambda im, b, rng: augment.flip_ud(im, b),
    **{
        f"scale x{f} {k}": (lambda im, b, rng, f=f, k=k: augment.scale_jitter(im, b, f, rng, k))
        for f in (0.5, 0.75, 1.5)
        for k in sensor.KERNELS
    },
}
PHOTOMETRIC = {
    "hsv": lambda im, rng: augment.hsv_jitter(im, 0.015, 1.5, 0.7),
    "hsv hue": lambda im, rng: augment.hsv_jitter(im, 0.5, 1.0, 1.0),
    "gamma 1.6": lambda im, rng: sensor.gamma(im, 1.6),
    "gamma 1/1.6": lambda im, rng: sensor.gamma(im, 1 / 1.6),
    "contrast 0.6": lambda im, rng: sensor.contrast(im, 0.6),
    "contrast 1.4": lambda im, rng: sensor.contrast(im, 1.4),
    "haze 0.35": lambda im, rng: sensor.haze(im, 0.35),
    "blur 1.2": lambda im, rng: sensor.gaussian_blur(im, 1.2),
    "grey": lambda im, rng: sensor.grey(im),
    "noise 6": lambda im, rng: sensor.noise(im, 6.0, rng),
    "jpeg 30": lambda im, rng: sensor.jpeg(im, 30),
    "sensor jitter, all on": lambda im, rng: sensor.sensor_jitter(
        im, sensor.SensorConfig(gamma=1, contrast=1, haze=1, blur=1, grey=1, noise=1, jpeg=1), rng
    ),
}


@pytest.mark.parametrize("name", list(GEOMETRIC))
def test_each_geometric_augmentation_moves_the_boxes_with_the_objects(name):
    for seed in range(4):
        rng = np.random.default_rng(seed)
        image, boxes = scene(rng)
        out, moved = GEOMETRIC[name](image, boxes, rng)
        assert out.shape == image.shape
        kept, _ = augment.filter_boxes(moved, np.zeros(len(moved), np.int64), SIZE, SIZE, 0.0)
        check_boxes_on_objects(out, kept, f"{name}, seed {seed}")
        # the training default drops mostly cut objects: what is kept still frames its object
        kept, _ = augment.filter_boxes(moved, np.zeros(len(moved), np.int64), SIZE, SIZE, 0.5)
        check_boxes_on_objects(out, kept, f"{name}, seed {seed}, visibility 0.5", every_object=False)


@pytest.mark.parametrize("name", list(PHOTOMETRIC))
def test_each_colour_and_sensor_augmentation_leaves_the_objects_under_their_boxes(name):
    for seed in range(3):
        rng = np.random.default_rng(seed)
        image, boxes = scene(rng)
        out = PHOTOMETRIC[name](image.copy(), rng)
        assert out.shape == image.shape and out.dtype == np.uint8
        check_boxes_on_objects(out, boxes, f"{name}, seed {seed}")


def _store(n: int = 12) -> ChipStore:
    rng = np.random.default_rng(42)
    images, boxes = zip(*(scene(rng, int(rng.integers(4, 9))) for _ in range(n)))
    return ChipStore(
        images=np.stack(images),
        boxes=list(boxes),
        classes=[np.arange(len(b)) % 2 for b in boxes],
        annotated=np.ones((n, 2), bool),
        origin=[{"image": f"s{i}.tif", "window": [0, 0, SIZE, SIZE], "scale": 1.0} for i in range(n)],
    )


@pytest.mark.parametrize(
    "config",
    [
        AugmentConfig(min_visibility=0.0),
        AugmentConfig(min_visibility=0.0, mosaic=1.0, sensor=True),
        AugmentConfig(min_visibility=0.0, mosaic=0.0, sensor=True, object_sizes=(8.0, 40.0), gsd_prob=1.0),
        AugmentConfig(min_visibility=0.0, mosaic=0.5, sensor=True, gsd_range=(0.2, 1.0), gsd_prob=1.0),
    ],
    ids=["default", "mosaic+sensor", "object sizes+kernels", "gsd range"],
)
def test_the_dataset_pipeline_keeps_every_box_on_its_object(config):
    store = _store()
    dataset = ChipDataset(store, augment_config=config, seed=5, chip_gsd=np.full(len(store), 0.3))
    counts = []
    for n in range(2 * len(store)):  # also repeated copies (n >= len), each with its own draw
        image, targets, _ = dataset[n]
        boxes = targets[:, 1:].numpy()
        counts.append(len(boxes))
        check_boxes_on_objects(image.numpy(), boxes, f"item {n}")
    assert min(counts) >= 1 and len(set(counts)) > 3  # varied scenes, objects in every one
