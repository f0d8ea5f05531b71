"""Training plots: metrics and losses per epoch, precision-recall curves, sample images.

matplotlib is optional (QGIS usually has it); without it plots are skipped with a message.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def results(history: list[dict], path: str | Path) -> Path | None:
    """One panel per loss and metric, per epoch."""
    plt = _pyplot()
    if plt is None or not history:
        return None
    keys = ["train/box", "train/cls", "train/dfl", "precision", "recall", "mAP50", "mAP50-95", "lr"]
    keys = [k for k in keys if any(k in h for h in history)]
    fig, axes = plt.subplots(2, (len(keys) + 1) // 2, figsize=(3.2 * ((len(keys) + 1) // 2), 6), squeeze=False)
    for ax, key in zip(axes.flat, keys):
        pts = [(h["epoch"], h[key]) for h in history if h.get(key) is not None]
        if pts:
            x, y = zip(*pts)
            ax.plot(x, y, marker=".", linewidth=1.5)
        ax.set_title(key, fontsize=10)
        ax.set_xlabel("epoch", fontsize=8)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(keys) :]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)


def pr_curves(metrics, path: str | Path) -> Path | None:
    """Plot precision-recall per class into path; None when matplotlib is missing."""
    plt = _pyplot()
    if plt is None:
        return None
    fig, ax = plt.subplots(figsize=(6, 5))
    for k, name in enumerate(metrics.class_names):
        curve = metrics.curves.get(name)
        if not curve:
            continue
        r, p = np.array(curve["recall"]), np.array(curve["precision"])
        p = np.maximum.accumulate(p[::-1])[::-1]  # envelope, as AP integrates it
        ax.plot(r, p, linewidth=1.5, label=f"{name} AP50 {metrics.ap50[k]:.3f}")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title(f"Precision-recall at IoU 0.5 (mAP50 {metrics.overall()['mAP50']:.3f})")
    ax.legend(loc="lower left", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)


def sample_images(
    labels, results, class_names: list[str], path: str | Path, count: int = 4, conf: float = 0.25, size: int = 768
) -> Path | None:
    """A few validation rasters (decimated) with true boxes (green) and predictions above
    `conf` (red)."""
    plt = _pyplot()
    if plt is None or not labels.images:
        return None
    from osgeo import gdal

    picks = np.linspace(0, len(labels.images) - 1, min(count, len(labels.images))).round().astype(int)
    fig, axes = plt.subplots(1, len(picks), figsize=(5 * len(picks), 5), squeeze=False)
    for ax, i in zip(axes.flat, picks):
        im, res = labels.images[i], results[i]
        ds = gdal.Open(im.path)
        f = max(im.width, im.height) / size
        f = max(f, 1.0)
        bw, bh = max(1, int(im.width / f)), max(1, int(im.height / f))
        bands = [
            ds.GetRasterBand(b + 1).ReadAsArray(0, 0, im.width, im.height, bw, bh)
            for b in range(min(3, ds.RasterCount))
        ]
        arr = np.stack(bands, -1) if len(bands) == 3 else bands[0]
        if arr.dtype != np.uint8:
            lo, hi = np.percentile(arr, [2, 98])
            arr = ((arr - lo) / max(hi - lo, 1e-9)).clip(0, 1)
        ax.imshow(arr, cmap=None if arr.ndim == 3 else "gray")
        for b in res.true_boxes / f:
            ax.add_patch(plt.Rectangle((b[0], b[1]), b[2] - b[0], b[3] - b[1], fill=False, color="lime", lw=0.8))
        shown = res.pred_scores >= conf
        for b in res.pred_boxes[shown] / f:
            ax.add_patch(plt.Rectangle((b[0], b[1]), b[2] - b[0], b[3] - b[1], fill=False, color="red", lw=0.8))
        ax.set_title(f"{im.name}: {len(res.true_boxes)} true (green), {int(shown.sum())} found (red)", fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)
