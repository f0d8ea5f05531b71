"""The window grid: overlapping tiles over a raster, last row/column shifted inward."""

from __future__ import annotations

from collections.abc import Sequence
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


class WindowGrid(Sequence):
    """The windows of a grid, row by row, each made when asked for: a 200000 px raster has
    150000 tiles, and a plan holds only its row and column starts (planned in milliseconds,
    a few kB whatever the raster's size). Indexing, slicing (a list), len and iteration."""

    def __init__(self, cols: list[tuple[int, int]], rows: list[tuple[int, int]], w: int, h: int):
        self.cols, self.rows, self.w, self.h = cols, rows, w, h  # (grid column, x0), (grid row, y0)

    def __len__(self) -> int:
        return len(self.cols) * len(self.rows)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[k] for k in range(*index.indices(len(self)))]
        n = len(self)
        index = index + n if index < 0 else index
        if not 0 <= index < n:
            raise IndexError("window index out of range")
        (r, y0), (c, x0) = self.rows[index // len(self.cols)], self.cols[index % len(self.cols)]
        return Window(r, c, x0, y0, self.w, self.h)

    def __iter__(self):
        for r, y0 in self.rows:
            for c, x0 in self.cols:
                yield Window(r, c, x0, y0, self.w, self.h)

    def __eq__(self, other) -> bool:
        return isinstance(other, Sequence) and len(self) == len(other) and list(self) == list(other)

    def __repr__(self) -> str:
        return f"WindowGrid({len(self.rows)} rows x {len(self.cols)} columns of {self.w} x {self.h} px)"


def make_grid(
    width: int, height: int, tile: int, overlap_px: int, region: tuple[float, float, float, float] | None = None
) -> WindowGrid:
    """Windows of `tile` source pixels (smaller only where the raster is smaller), overlapping
    by `overlap_px`, optionally only those meeting `region` (x0, y0, x1, y1 in pixels): a
    window meets it when its columns and its rows both do, so each axis is chosen alone."""
    step = tile - overlap_px
    w, h = min(tile, width), min(tile, height)
    cols = list(enumerate(_starts(width, tile, step)))
    rows = list(enumerate(_starts(height, tile, step)))
    if region is not None:
        rx0, ry0, rx1, ry1 = region
        cols = [(c, x0) for c, x0 in cols if x0 < rx1 and x0 + w > rx0]
        rows = [(r, y0) for r, y0 in rows if y0 < ry1 and y0 + h > ry0]
    return WindowGrid(cols, rows, w, h)


def aligned_overlap(width: int, height: int, tile: int, overlap_px: int, block: tuple[int, int] | None) -> int:
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
