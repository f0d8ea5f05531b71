"""Class-balanced chip sampling by repeat factors (LVIS; Gupta et al. 2019, arXiv 1908.03195).

Why: micro4-like data sets are very unbalanced per class (thousands of cars and planes, a
few hundred boats and buildings from one or two scenes). With plain shuffling a rare class
is seen a handful of times per epoch. Repeat-factor sampling shows each chip
r = max over its classes c of max(1, sqrt(t / f_c)) times per epoch, f_c being the share of
chips that contain class c. Chips of common classes keep r = 1, so nothing is dropped."""

from __future__ import annotations

import math

import numpy as np
import torch


def class_repeat_factors(chip_classes: list[np.ndarray], nc: int, threshold: float) -> np.ndarray:
    """Per class repeat factor (nc,) float: max(1, sqrt(threshold / f_c)), f_c = share of
    chips holding class c (1 for a class in no chip: nothing to repeat)."""
    if not threshold > 0:
        raise ValueError(f"repeat threshold must be > 0, got {threshold}")
    n = max(len(chip_classes), 1)
    counts = np.zeros(nc, np.float64)
    for cls in chip_classes:
        for c in np.unique(np.asarray(cls, np.int64)):
            if 0 <= c < nc:
                counts[c] += 1
    freq = counts / n
    return np.where(freq > 0, np.maximum(1.0, np.sqrt(threshold / np.maximum(freq, 1e-12))), 1.0)


def chip_repeat_factors(chip_classes: list[np.ndarray], per_class: np.ndarray) -> np.ndarray:
    """Per chip repeat factor (N,) float: the largest of `per_class` (class_repeat_factors)
    over the classes it holds, 1 for an empty chip."""
    nc = len(per_class)
    out = np.ones(len(chip_classes), np.float64)
    for i, cls in enumerate(chip_classes):
        cls = np.asarray(cls, np.int64)
        cls = cls[(cls >= 0) & (cls < nc)]
        if len(cls):
            out[i] = float(per_class[cls].max())
    return out


def source_repeat_factors(chip_sources: list[str], threshold: float) -> np.ndarray:
    """Per chip repeat factor (N,) float for source balance: max(1, sqrt(threshold / f_s)),
    f_s = share of chips cut from the chip's source. One large source (thousands of chips of
    one airport collection) then no longer drowns a small one (four scenes of one town)."""
    if not threshold > 0:
        raise ValueError(f"source balance threshold must be > 0, got {threshold}")
    names, index = np.unique(np.asarray(chip_sources, dtype=object).astype(str), return_inverse=True)
    freq = np.bincount(index, minlength=len(names)) / max(len(chip_sources), 1)
    return np.maximum(1.0, np.sqrt(threshold / freq))[index]


class RepeatFactorSampler(torch.utils.data.Sampler):
    """Dataset indices for one epoch: chip i appears floor(r_i) times, plus once more with
    probability frac(r_i) (stochastic rounding), shuffled; its k-th copy is i + k * N. The epoch length is fixed at
    round(sum r) so that the loader's length and the LR schedule stay constant; seeded by
    (seed, epoch) and split by rank for distributed runs."""

    def __init__(self, repeat_factors: np.ndarray, seed: int = 0, rank: int = 0, world: int = 1):
        self.factors = np.asarray(repeat_factors, np.float64)
        if self.factors.ndim != 1 or len(self.factors) == 0 or (self.factors < 1).any():
            raise ValueError("repeat factors must be a non-empty 1-D array of values >= 1")
        self.seed, self.rank, self.world = seed, rank, world
        self.epoch = 0
        self.total = int(round(self.factors.sum()))
        self.per_rank = math.ceil(self.total / world)

    def set_epoch(self, epoch: int) -> None:
        """Seed this epoch's class-balanced draw."""
        self.epoch = epoch

    def epoch_indices(self) -> np.ndarray:
        """All ranks' indices of this epoch, length per_rank * world."""
        rng = np.random.default_rng([self.seed, self.epoch])
        base = np.floor(self.factors)
        counts = (base + (rng.random(len(self.factors)) < self.factors - base)).astype(np.int64)
        n = len(self.factors)
        idx = np.repeat(np.arange(n), counts)
        # the k-th copy of chip i is index i + k * n: the dataset reads chip i (index modulo
        # its length) but seeds its augmentation with the whole index, so copies differ
        starts = np.cumsum(counts) - counts
        idx = idx + n * (np.arange(len(idx)) - np.repeat(starts, counts))
        rng.shuffle(idx)
        need = self.per_rank * self.world
        if len(idx) < need:  # pad with random chips, weighted like the rest
            extra = rng.choice(n, need - len(idx), p=self.factors / self.factors.sum())
            extra = extra + n * (counts.max() + 1 + np.arange(len(extra)))  # copies of their own
            idx = np.concatenate([idx, extra])
        return idx[:need]

    def __iter__(self):
        return iter(self.epoch_indices()[self.rank :: self.world].tolist())

    def __len__(self) -> int:
        return self.per_rank
