"""Where a training run starts: a model file, the bundled model, or random weights.

The one policy behind the CLI's `train --start` and the QGIS train algorithm's "Start from":
a user's model file always wins; `bundled` fine-tunes the bundled model; `scratch` starts
from random weights; `auto` (the default) takes the bundled model when the data is too small
to train from random weights, else random weights. Importing this module imports no torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# Below these, training from random weights rarely gets off the ground (mAP stays near 0 for
# many epochs); starting from the bundled model gives a usable detector on a few images.
SCRATCH_MIN_IMAGES = 20
SCRATCH_MIN_OBJECTS = 500
START_CHOICES = ("auto", "bundled", "scratch")


def too_small_for_scratch(images: int, objects: int) -> bool:
    """True when a dataset is too small to train from random weights."""
    return images < SCRATCH_MIN_IMAGES or objects < SCRATCH_MIN_OBJECTS


@dataclass(frozen=True)
class StartPoint:
    """The weights a run starts from (None: random) and the scale it trains at.

    `bundled`: the weights are the bundled model; `asked_scale`: the scale asked for, when it
    was replaced by the bundled model's (weights transfer only between networks of one
    scale); `too_small`: random weights on data too small for them (worth a warning)."""

    weights: str | None
    scale: str
    bundled: bool = False
    asked_scale: str | None = None
    too_small: bool = False

    def messages(self, images: int, objects: int) -> list[tuple[str, str]]:
        """What to tell the user, as (level, text) with level "info" or "warning" (English;
        QGIS words its own, translated, from the same fields)."""
        out = []
        if self.asked_scale is not None:
            out.append(
                (
                    "info",
                    f"the bundled model is scale {self.scale}: training at scale {self.scale}, not {self.asked_scale}",
                )
            )
        if self.bundled:
            out.append(("info", f"starting from the bundled model (fine-tuning): {self.weights}"))
        if self.too_small:
            out.append(
                (
                    "warning",
                    f"only {images} images and {objects} labelled objects: too few to train from "
                    f"random weights (at least {SCRATCH_MIN_IMAGES} images and "
                    f"{SCRATCH_MIN_OBJECTS} objects); the mAP will likely stay near 0. Start "
                    "from the bundled model instead (--start bundled)",
                )
            )
        return out


def choose_start(
    start: str, weights: str | Path | None, scale: str, images: int, objects: int, bundled: str | Path | None = None
) -> StartPoint:
    """The start of a run asked to start from `start` (auto | bundled | scratch), with the
    user's model file `weights` (or None) at `scale`, on `images` images holding `objects`
    labelled objects. `bundled`: the bundled model file (default: the one shipped, if any).
    ValueError when the bundled model is asked for and there is none."""
    if start not in START_CHOICES:
        raise ValueError(f"start from one of {', '.join(START_CHOICES)}, not {start!r}")
    small = too_small_for_scratch(images, objects)
    if weights is not None:
        return StartPoint(str(weights), scale)
    if start == "scratch" or (start == "auto" and not small):
        return StartPoint(None, scale, too_small=small)
    if bundled is None:
        from ..resources import default_model

        bundled = default_model("pt")
    if bundled is None:
        raise ValueError(
            "no bundled model to start from: give a model file (--weights) or "
            "start from random weights (--start scratch)"
        )
    from ..model.files import read_spec

    bundled_scale = read_spec(bundled).scale
    return StartPoint(str(bundled), bundled_scale, bundled=True, asked_scale=scale if bundled_scale != scale else None)
