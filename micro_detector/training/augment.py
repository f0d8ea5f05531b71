"""Augmentations for overhead imagery; every one moves the boxes exactly with the pixels.

Images are (bands, h, w) uint8 arrays; boxes are (k, 4) float xyxy in pixel-edge
coordinates. Seen from above, objects have no "up": 90-degree rotations and both flips
are all valid views of the scene.
"""

from __future__ import annotations

import numpy as np

PAD = 114


def rot90(image: np.ndarray, boxes: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Rotate k quarter turns counter-clockwise (as np.rot90 on the (h, w) axes)."""
    k %= 4
    for _ in range(k):
        w = image.shape[2]
        image = np.rot90(image, 1, axes=(1, 2))
        # pixel-edge point (x, y) goes to (y, w - x)
        boxes = np.stack([boxes[:, 1], w - boxes[:, 2], boxes[:, 3], w - boxes[:, 0]], 1)
    return np.ascontiguousarray(image), boxes


def flip_lr(image: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mirror a CHW image left-right, with its xyxy boxes."""
    w = image.shape[2]
    return np.ascontiguousarray(image[:, :, ::-1]), np.stack(
        [w - boxes[:, 2], boxes[:, 1], w - boxes[:, 0], boxes[:, 3]], 1
    )


def flip_ud(image: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mirror a CHW image top-bottom, with its xyxy boxes."""
    h = image.shape[1]
    return np.ascontiguousarray(image[:, ::-1, :]), np.stack(
        [boxes[:, 0], h - boxes[:, 3], boxes[:, 2], h - boxes[:, 1]], 1
    )


def filter_boxes(
    boxes: np.ndarray, classes: np.ndarray, width: int, height: int, min_visibility: float, min_size: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Clip to the image; drop boxes left with less than `min_visibility` of their area or
    thinner than `min_size` pixels."""
    if not len(boxes):
        return boxes.reshape(0, 4).astype(np.float32), classes
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    clipped = np.stack(
        [
            boxes[:, 0].clip(0, width),
            boxes[:, 1].clip(0, height),
            boxes[:, 2].clip(0, width),
            boxes[:, 3].clip(0, height),
        ],
        1,
    )
    bw, bh = clipped[:, 2] - clipped[:, 0], clipped[:, 3] - clipped[:, 1]
    keep = (bw >= min_size) & (bh >= min_size) & (bw * bh >= min_visibility * area)
    return clipped[keep].astype(np.float32), classes[keep]


def resize(image: np.ndarray, out_h: int, out_w: int, kernel: str = "bilinear") -> np.ndarray:
    """Resize through torch, which loaders have anyway: `kernel` bilinear or bicubic
    (antialiased when shrinking), area (box averaging) or nearest."""
    import torch
    import torch.nn.functional as F

    if image.shape[1:] == (out_h, out_w):
        return image
    t = torch.from_numpy(np.ascontiguousarray(image)).float().unsqueeze(0)
    shrink = out_h < image.shape[1] or out_w < image.shape[2]
    if kernel in ("area", "nearest"):
        t = F.interpolate(t, size=(out_h, out_w), mode=kernel)
    else:
        t = F.interpolate(t, size=(out_h, out_w), mode=kernel, align_corners=False, antialias=shrink)
    return t.squeeze(0).round_().clamp_(0, 255).to(torch.uint8).numpy()


def scale_jitter(
    image: np.ndarray, boxes: np.ndarray, factor: float, rng: np.random.Generator, kernel: str = "bilinear"
) -> tuple[np.ndarray, np.ndarray]:
    """Zoom by `factor`, then crop (zoom in) or pad (zoom out) back to the same size at a
    random offset. Returns boxes unclipped; `filter_boxes` clips them."""
    c, h, w = image.shape
    nh, nw = max(1, round(h * factor)), max(1, round(w * factor))
    scaled = resize(image, nh, nw, kernel)
    sx, sy = nw / w, nh / h
    boxes = boxes * np.array([sx, sy, sx, sy], np.float32)
    out = np.full((c, h, w), PAD, np.uint8)
    # offset of the scaled image inside the output (negative = cropped)
    ox = int(rng.integers(min(0, w - nw), max(0, w - nw) + 1))
    oy = int(rng.integers(min(0, h - nh), max(0, h - nh) + 1))
    x0, y0 = max(ox, 0), max(oy, 0)
    x1, y1 = min(ox + nw, w), min(oy + nh, h)
    out[:, y0:y1, x0:x1] = scaled[:, y0 - oy : y1 - oy, x0 - ox : x1 - ox]
    return out, boxes + np.array([ox, oy, ox, oy], np.float32)


# RGB <-> YIQ: Y is luminance; hue is the angle and saturation the length of (I, Q).
_RGB2YIQ = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]], np.float32)
_YIQ2RGB = np.linalg.inv(_RGB2YIQ).astype(np.float32)


def hsv_jitter(image: np.ndarray, hue: float, saturation: float, value: float) -> np.ndarray:
    """Hue turn (fraction of a full turn), saturation and value gains, for 3-band images;
    other band counts get the value gain only."""
    img = image.astype(np.float32)
    if image.shape[0] == 3:
        c, s = np.cos(2 * np.pi * hue), np.sin(2 * np.pi * hue)
        turn = np.array(
            [[1, 0, 0], [0, c * saturation, -s * saturation], [0, s * saturation, c * saturation]], np.float32
        )
        m = _YIQ2RGB @ turn @ _RGB2YIQ * value
        img = np.tensordot(m, img, axes=(1, 0))
    else:
        img *= value
    return img.clip(0, 255).round().astype(np.uint8)
