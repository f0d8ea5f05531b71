"""The window grid: overlapping tiles over a raster, last row/column shifted inward."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    """One tile of the grid: its row and column in the grid and its source-pixel rectangle."""

    row: int
    col: int
    x0: int  # source pixels
    y0: int
    w: int
    h: int

    @property
    def bounds(self) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1) in source pixels."""
        return self.x0, self.y0, self.x0 + self.w, self.y0 + self.h


def _starts(size: int, tile: int, step: int) -> list[int]:
    if size <= tile:
        return [0]
    starts = list(range(0, size - tile + 1, step))
    if starts[-1] != size - tile:
        starts.append(size - tile)  # shift the last tile inward instead of padding
    return starts


def overlap_pixels(tile: int, overlap: float) -> int:
    """Overlap given as a fraction of the tile (< 1) or in pixels (>= 1)."""
    px = round(overlap * tile) if 0 <= overlap < 1 else int(overlap)
    if not 0 <= px < tile:
        raise ValueError(f"overlap must be smaller than the tile ({tile} px), got {overlap}")
    return px


def make_grid(width: int, height: int, tile: int, overlap_px: int,
              region: tuple[float, float, float, float] | None = None) -> list[Window]:
    """Windows of `tile` source pixels (smaller only where the raster is smaller), overlapping
    by `overlap_px`, optionally only those meeting `region` (x0, y0, x1, y1 in pixels)."""
    step = tile - overlap_px
    x_starts, y_starts = _starts(width, tile, step), _starts(height, tile, step)
    windows = []
    for r, y0 in enumerate(y_starts):
        for c, x0 in enumerate(x_starts):
            w = Window(r, c, x0, y0, min(tile, width), min(tile, height))
            if region is not None:
                rx0, ry0, rx1, ry1 = region
                if w.x0 >= rx1 or w.x0 + w.w <= rx0 or w.y0 >= ry1 or w.y0 + w.h <= ry0:
                    continue
            windows.append(w)
    return windows


def aligned_overlap(width: int, height: int, tile: int, overlap_px: int,
                    block: tuple[int, int] | None) -> int:
    """The overlap that puts every window start on the raster's internal tiles (blocks of
    `block` px, the same both ways), so that a window read over the network fetches whole
    tiles; `overlap_px` itself when that would add windows, lose the overlap asked for, or
    the raster is not tiled."""
    if not block or block[0] != block[1] or block[0] >= max(width, height):
        return overlap_px
    step = tile - overlap_px
    aligned = (step // block[0]) * block[0]
    if aligned < block[0] or aligned == step:
        return overlap_px
    same = all(len(_starts(n, tile, aligned)) <= len(_starts(n, tile, step)) for n in (width, height))
    return tile - aligned if same else overlap_px
