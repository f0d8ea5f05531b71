"""The training dataset over a chip store: mosaic, rotations, flips, scale and colour jitter."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from . import augment
from .chips import ChipStore


@dataclass
class AugmentConfig:
    mosaic: float = 0.8  # probability of a 4-chip mosaic (at native scale, no shrinking)
    rot90: bool = True
    flip: float = 0.5  # probability of each of the two flips
    scale: float = 0.25  # zoom factor drawn in [1 - scale, 1 + scale]
    hsv_h: float = 0.015  # hue turn, fraction of a full turn
    hsv_s: float = 0.5
    hsv_v: float = 0.3
    min_visibility: float = 0.5


class ChipDataset(torch.utils.data.Dataset):
    """Items: (uint8 image (bands, s, s), targets (k, 5) float [class, x1, y1, x2, y2],
    annotated classes (nc,) bool). Randomness is seeded by (seed, epoch, index), so a run
    is repeatable whatever the number of loader workers."""

    def __init__(self, store: ChipStore, indices=None, augment_config: AugmentConfig | None = None,
                 seed: int = 0):
        self.store = store
        self.indices = np.arange(len(store)) if indices is None else np.asarray(indices)
        self.aug = augment_config
        self.seed = seed
        self.epoch = 0
        self.mosaic_enabled = True
        # mosaic only joins chips that annotate the same classes, so that no unlabelled
        # object of a class is taught as background next to a chip that labels that class
        groups: dict[bytes, list[int]] = {}
        for i in self.indices:
            groups.setdefault(store.annotated[i].tobytes(), []).append(int(i))
        self.groups = {k: np.array(v) for k, v in groups.items()}

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.indices)

    def _chip(self, i: int):
        return np.array(self.store.images[i]), self.store.boxes[i].copy(), self.store.classes[i].copy()

    def _mosaic(self, i: int, rng: np.random.Generator):
        image0 = self.store.images[i]
        c, s = image0.shape[0], image0.shape[1]
        group = self.groups[self.store.annotated[i].tobytes()]
        picks = [i] + [int(v) for v in rng.choice(group, 3)]
        xc, yc = (int(v) for v in rng.integers(s // 4, 3 * s // 4 + 1, 2))
        out = np.full((c, s, s), augment.PAD, np.uint8)
        all_boxes, all_cls = [], []
        quadrants = [(0, 0, xc, yc), (xc, 0, s, yc), (0, yc, xc, s), (xc, yc, s, s)]
        for k, (qx0, qy0, qx1, qy1) in zip(picks, quadrants):
            qw, qh = qx1 - qx0, qy1 - qy0
            if qw <= 0 or qh <= 0:
                continue
            img, boxes, cls = self._chip(k)
            # a random crop of the chip, at native scale, fills the quadrant
            sx = int(rng.integers(0, s - qw + 1))
            sy = int(rng.integers(0, s - qh + 1))
            out[:, qy0:qy1, qx0:qx1] = img[:, sy:sy + qh, sx:sx + qw]
            boxes = boxes - np.array([sx, sy, sx, sy], np.float32)
            boxes, cls = augment.filter_boxes(boxes, cls, qw, qh, self.aug.min_visibility)
            all_boxes.append(boxes + np.array([qx0, qy0, qx0, qy0], np.float32))
            all_cls.append(cls)
        return out, np.concatenate(all_boxes), np.concatenate(all_cls)

    def __getitem__(self, n: int):
        i = int(self.indices[n])
        aug = self.aug
        if aug is None:
            image, boxes, cls = self._chip(i)
        else:
            rng = np.random.default_rng([self.seed, self.epoch, n])
            if self.mosaic_enabled and rng.random() < aug.mosaic:
                image, boxes, cls = self._mosaic(i, rng)
            else:
                image, boxes, cls = self._chip(i)
            if aug.rot90:
                image, boxes = augment.rot90(image, boxes, int(rng.integers(0, 4)))
            if rng.random() < aug.flip:
                image, boxes = augment.flip_lr(image, boxes)
            if rng.random() < aug.flip:
                image, boxes = augment.flip_ud(image, boxes)
            if aug.scale > 0:
                factor = float(rng.uniform(1 - aug.scale, 1 + aug.scale))
                image, boxes = augment.scale_jitter(image, boxes, factor, rng)
            boxes, cls = augment.filter_boxes(boxes, cls, image.shape[2], image.shape[1], aug.min_visibility)
            if aug.hsv_h or aug.hsv_s or aug.hsv_v:
                image = augment.hsv_jitter(image, float(rng.uniform(-aug.hsv_h, aug.hsv_h)),
                                           float(rng.uniform(1 - aug.hsv_s, 1 + aug.hsv_s)),
                                           float(rng.uniform(1 - aug.hsv_v, 1 + aug.hsv_v)))
        targets = np.concatenate([cls.reshape(-1, 1).astype(np.float32), boxes.reshape(-1, 4)], 1)
        return (torch.from_numpy(np.ascontiguousarray(image)), torch.from_numpy(targets),
                torch.from_numpy(self.store.annotated[i].copy()))


def collate(items):
    """Batch: images (B, bands, s, s) uint8, targets (N, 6) [image index, class, x1, y1, x2, y2],
    annotated (B, nc) bool."""
    images, targets, annotated = zip(*items)
    rows = [torch.cat([torch.full((len(t), 1), float(k)), t], 1) for k, t in enumerate(targets)]
    return torch.stack(images), torch.cat(rows) if rows else torch.zeros(0, 6), torch.stack(annotated)
