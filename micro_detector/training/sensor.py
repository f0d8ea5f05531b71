"""Sensor and atmosphere augmentation: what changes between two satellites or two flights
over the same objects, and never moves them. Boxes are untouched by every function here.

Images are (bands, h, w) uint8. One call of `sensor_jitter` draws, each with its own
probability: a gamma and a contrast change, haze (a veil of the scene's bright colour), a
Gaussian blur (a softer optic or a resampled product), panchromatic grey, sensor noise, and
JPEG recompression (Google Earth and web tiles). `resize_kernel` draws the resampling kernel
with which GSD zooms are made, so that shrunk objects look like a real coarser sensor's and
not only like a bilinear filter's.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

KERNELS = ("bilinear", "area", "bicubic", "nearest")


@dataclass
class SensorConfig:
    """Probabilities and strengths of the sensor augmentations (0 turns one off)."""

    gamma: float = 0.5  # probability of a gamma in [1/gamma_max, gamma_max]
    gamma_max: float = 1.6
    contrast: float = 0.5  # probability of a contrast gain in [0.6, 1.4] around the mean
    haze: float = 0.2  # probability of a veil of strength up to haze_max
    haze_max: float = 0.35
    blur: float = 0.25  # probability of a Gaussian blur with sigma in [0.4, blur_sigma]
    blur_sigma: float = 1.2
    grey: float = 0.08  # probability of panchromatic grey (luminance in every band)
    noise: float = 0.25  # probability of Gaussian noise with sigma up to noise_sigma (DN)
    noise_sigma: float = 6.0
    jpeg: float = 0.25  # probability of JPEG recompression at a quality in [30, 90]
    kernels: bool = True  # draw the resampling kernel of GSD zooms among KERNELS

    def enabled(self) -> bool:
        """Whether any augmentation here can happen."""
        return any(getattr(self, k) for k in ("gamma", "contrast", "haze", "blur", "grey", "noise", "jpeg"))


def gamma(image: np.ndarray, g: float) -> np.ndarray:
    """Gamma curve on 0-255: g > 1 darkens mid-tones, g < 1 brightens them."""
    lut = (255.0 * (np.arange(256) / 255.0) ** g).round().clip(0, 255).astype(np.uint8)
    return lut[image]


def contrast(image: np.ndarray, gain: float) -> np.ndarray:
    """Contrast gain around the image's mean."""
    img = image.astype(np.float32)
    mean = img.mean()
    return ((img - mean) * gain + mean).clip(0, 255).round().astype(np.uint8)


def haze(image: np.ndarray, strength: float) -> np.ndarray:
    """Blend towards a bright, slightly blue-grey veil (atmospheric path radiance)."""
    veil = np.full((image.shape[0], 1, 1), 215.0, np.float32)
    if image.shape[0] == 3:
        veil[:, 0, 0] = (205.0, 215.0, 230.0)
    return (image.astype(np.float32) * (1 - strength) + veil * strength).round().clip(0, 255).astype(np.uint8)


def gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur of every band (edges reflected)."""
    radius = max(1, int(np.ceil(3 * sigma)))
    x = np.arange(-radius, radius + 1, dtype=np.float32)
    k = np.exp(-0.5 * (x / sigma) ** 2)
    k /= k.sum()
    img = np.pad(image.astype(np.float32), ((0, 0), (radius, radius), (radius, radius)), mode="reflect")
    h, w = image.shape[1:]
    rows = sum(k[j] * img[:, j : j + h, :] for j in range(len(k)))
    out = sum(k[j] * rows[:, :, j : j + w] for j in range(len(k)))
    return out.round().clip(0, 255).astype(np.uint8)


def grey(image: np.ndarray) -> np.ndarray:
    """Panchromatic look: the luminance in every band (3-band images; others unchanged)."""
    if image.shape[0] != 3:
        return image
    y = np.tensordot(np.array([0.299, 0.587, 0.114], np.float32), image.astype(np.float32), axes=(0, 0))
    return np.repeat(y.round().clip(0, 255).astype(np.uint8)[None], 3, 0)


def noise(image: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Additive Gaussian sensor noise of `sigma` digital numbers."""
    return (image + rng.normal(0, sigma, image.shape).astype(np.float32)).round().clip(0, 255).astype(np.uint8)


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    """Encode and decode as JPEG at `quality` (3-band or 1-band images; others unchanged)."""
    from PIL import Image

    if image.shape[0] not in (1, 3):
        return image
    hwc = np.ascontiguousarray(image.transpose(1, 2, 0) if image.shape[0] == 3 else image[0])
    buf = io.BytesIO()
    Image.fromarray(hwc).save(buf, format="JPEG", quality=int(quality))
    out = np.asarray(Image.open(io.BytesIO(buf.getvalue())))
    return np.ascontiguousarray(out.transpose(2, 0, 1) if out.ndim == 3 else out[None])


def sensor_jitter(image: np.ndarray, cfg: SensorConfig, rng: np.random.Generator) -> np.ndarray:
    """The image as another sensor, atmosphere or product might have delivered it."""
    if cfg.gamma and rng.random() < cfg.gamma:
        image = gamma(image, float(np.exp(rng.uniform(-1, 1) * np.log(cfg.gamma_max))))
    if cfg.contrast and rng.random() < cfg.contrast:
        image = contrast(image, float(rng.uniform(0.6, 1.4)))
    if cfg.haze and rng.random() < cfg.haze:
        image = haze(image, float(rng.uniform(0.05, cfg.haze_max)))
    if cfg.blur and rng.random() < cfg.blur:
        image = gaussian_blur(image, float(rng.uniform(0.4, cfg.blur_sigma)))
    if cfg.grey and rng.random() < cfg.grey:
        image = grey(image)
    if cfg.noise and rng.random() < cfg.noise:
        image = noise(image, float(rng.uniform(1.0, cfg.noise_sigma)), rng)
    if cfg.jpeg and rng.random() < cfg.jpeg:
        image = jpeg(image, int(rng.integers(30, 91)))
    return image


def pick_kernel(cfg: SensorConfig | None, rng: np.random.Generator) -> str:
    """The resampling kernel of one zoom: drawn among KERNELS, or bilinear."""
    if cfg is None or not cfg.kernels:
        return "bilinear"
    return KERNELS[int(rng.integers(0, len(KERNELS)))]
