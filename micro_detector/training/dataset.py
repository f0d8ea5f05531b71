"""The training dataset over a chip store: mosaic, rotations, flips, scale, colour and sensor jitter."""

from __future__ import annotations

import numpy as np
import torch

from .. import boxes as box_ops
from . import augment, sensor
from .chips import ChipStore
from .config import AugmentConfig  # noqa: F401  (re-exported: its home before config.py)


class ChipDataset(torch.utils.data.Dataset):
    """Items: (uint8 image (bands, s, s), targets (k, 5) float [class, x1, y1, x2, y2],
    annotated classes (nc,) bool). Randomness is seeded by (seed, epoch, index), so a run
    is repeatable whatever the number of loader workers."""

    def __init__(
        self,
        store: ChipStore,
        indices=None,
        augment_config: AugmentConfig | None = None,
        seed: int = 0,
        chip_gsd: np.ndarray | None = None,
    ):
        """`chip_gsd`: metres per pixel of each chip, needed for GSD-range training."""
        self.store = store
        self.chip_gsd = chip_gsd
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
        # median object side sqrt(w * h) of each chip, native pixels (0: no objects)
        self.chip_side = np.array(
            [float(np.median(np.sqrt(box_ops.box_area(b)))) if len(b) else 0.0 for b in store.boxes]
        )

    def set_epoch(self, epoch: int) -> None:
        """Seed this epoch's augmentation and mosaic draws."""
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
            out[:, qy0:qy1, qx0:qx1] = img[:, sy : sy + qh, sx : sx + qw]
            boxes = boxes - np.array([sx, sy, sx, sy], np.float32)
            boxes, cls = augment.filter_boxes(boxes, cls, qw, qh, self.aug.min_visibility)
            all_boxes.append(boxes + np.array([qx0, qy0, qx0, qy0], np.float32))
            all_cls.append(cls)
        return out, np.concatenate(all_boxes), np.concatenate(all_cls)

    def _zoom(self, i: int, rng: np.random.Generator) -> float | None:
        """Zoom factor that shows chip i at a GSD drawn in the configured range, or with its
        median object side at a size drawn in `object_sizes`; None: no zoom."""
        aug = self.aug
        by_gsd = aug.gsd_range is not None and self.chip_gsd is not None and self.chip_gsd[i] > 0
        by_size = aug.object_sizes is not None and self.chip_side[i] > 0
        if not (by_gsd or by_size) or rng.random() >= aug.gsd_prob:
            return None
        if by_size and (not by_gsd or rng.random() < 0.5):
            lo, hi = np.log(aug.object_sizes[0]), np.log(aug.object_sizes[1])
            zoom = float(np.exp(rng.uniform(lo, hi))) / self.chip_side[i]
        else:
            lo, hi = np.log(aug.gsd_range[0]), np.log(aug.gsd_range[1])
            zoom = self.chip_gsd[i] / float(np.exp(rng.uniform(lo, hi)))
        return float(np.clip(zoom, aug.min_zoom, aug.max_zoom))

    def _kernel(self, rng: np.random.Generator) -> str:
        return sensor.pick_kernel(sensor.SensorConfig() if self.aug.sensor else None, rng)

    def _tiled(self, i: int, zoom: float, rng: np.random.Generator):
        """Chip i and others of its group shrunk by `zoom` (< 1) and tiled over the input
        from a random grid offset, so that small objects fill a whole input."""
        image0 = self.store.images[i]
        c, s = image0.shape[0], image0.shape[1]
        cell = max(8, int(round(s * zoom)))
        group = self.groups[self.store.annotated[i].tobytes()]
        ox, oy = (int(v) for v in rng.integers(0, cell, 2))
        out = np.full((c, s, s), augment.PAD, np.uint8)
        all_boxes, all_cls = [], []
        first = True
        kernel = self._kernel(rng)
        for gy in range(-oy, s, cell):
            for gx in range(-ox, s, cell):
                k = i if first else int(rng.choice(group))
                first = False
                img, boxes, cls = self._chip(k)
                small = augment.resize(img, cell, cell, kernel)
                x0, y0 = max(gx, 0), max(gy, 0)
                x1, y1 = min(gx + cell, s), min(gy + cell, s)
                out[:, y0:y1, x0:x1] = small[:, y0 - gy : y1 - gy, x0 - gx : x1 - gx]
                f = cell / s
                boxes = boxes * np.float32(f) + np.array([gx, gy, gx, gy], np.float32)
                # clip to this cell, so a neighbour's box never spills into it
                boxes, cls = augment.filter_boxes(
                    boxes - np.array([x0, y0, x0, y0], np.float32), cls, x1 - x0, y1 - y0, self.aug.min_visibility
                )
                all_boxes.append(boxes + np.array([x0, y0, x0, y0], np.float32))
                all_cls.append(cls)
        return out, np.concatenate(all_boxes), np.concatenate(all_cls)

    def __getitem__(self, n: int):
        # n >= len(self) is a repeated copy from RepeatFactorSampler: same chip, and its own
        # augmentation, since the seed below takes the whole n
        i = int(self.indices[n % len(self.indices)])
        aug = self.aug
        if aug is None:
            image, boxes, cls = self._chip(i)
        else:
            rng = np.random.default_rng([self.seed, self.epoch, n])
            zoom = self._zoom(i, rng)
            if zoom is not None and zoom < 0.95:
                image, boxes, cls = self._tiled(i, zoom, rng)
            elif self.mosaic_enabled and rng.random() < aug.mosaic:
                image, boxes, cls = self._mosaic(i, rng)
            else:
                image, boxes, cls = self._chip(i)
            if zoom is not None and zoom > 1.05:
                image, boxes = augment.scale_jitter(image, boxes, zoom, rng, self._kernel(rng))
            if aug.rot90:
                image, boxes = augment.rot90(image, boxes, int(rng.integers(0, 4)))
            if rng.random() < aug.flip:
                image, boxes = augment.flip_lr(image, boxes)
            if rng.random() < aug.flip:
                image, boxes = augment.flip_ud(image, boxes)
            if aug.scale > 0 and zoom is None:
                factor = float(rng.uniform(1 - aug.scale, 1 + aug.scale))
                image, boxes = augment.scale_jitter(image, boxes, factor, rng)
            boxes, cls = augment.filter_boxes(boxes, cls, image.shape[2], image.shape[1], aug.min_visibility)
            if aug.hsv_h or aug.hsv_s or aug.hsv_v:
                image = augment.hsv_jitter(
                    image,
                    float(rng.uniform(-aug.hsv_h, aug.hsv_h)),
                    float(rng.uniform(1 - aug.hsv_s, 1 + aug.hsv_s)),
                    float(rng.uniform(1 - aug.hsv_v, 1 + aug.hsv_v)),
                )
            if aug.sensor:
                image = sensor.sensor_jitter(image, sensor.SensorConfig(), rng)
        targets = np.concatenate([cls.reshape(-1, 1).astype(np.float32), boxes.reshape(-1, 4)], 1)
        return (
            torch.from_numpy(np.ascontiguousarray(image)),
            torch.from_numpy(targets),
            torch.from_numpy(self.store.annotated[i].copy()),
        )


def collate(items):
    """Batch: images (B, bands, s, s) uint8, targets (N, 6) [image index, class, x1, y1, x2, y2],
    annotated (B, nc) bool."""
    images, targets, annotated = zip(*items)
    rows = [torch.cat([torch.full((len(t), 1), float(k)), t], 1) for k, t in enumerate(targets)]
    return torch.stack(images), torch.cat(rows) if rows else torch.zeros(0, 6), torch.stack(annotated)
