"""The read stage: a stream of tiles read by a background thread through a bounded queue.

Reading (GDAL decompression, resampling, stretch) overlaps with inference, and memory is
bounded by the queue depth, never by the raster size. Tiles with no valid pixel come out as
`None` images so the consumer can count them as skipped nodata without running the model.
"""

from __future__ import annotations

import queue
import threading
from typing import Iterator

import numpy as np

from .plan import TilePlan, read_size
from .source import WindowSource
from .tiling import Window

__all__ = ["read_tile", "tile_stream"]

_END = object()


def read_tile(source: WindowSource, window: Window, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """One window read at the plan's scale: (uint8 image (bands, h, w), valid mask (h, w)).
    The same call reads detection tiles and training chips, so they are the same pixels."""
    out_w, out_h = read_size(window, scale)
    return source.read(window, out_w, out_h)


def _reader(source: WindowSource, windows: list[Window], scale: float, tiles: queue.Queue,
            stop: threading.Event) -> None:
    """Thread body: read each window and put (window, image or None) on the queue."""
    try:
        reader = source.for_thread()
        for window in windows:
            if stop.is_set():
                return
            image, valid = read_tile(reader, window, scale)
            item = (window, image if valid.any() else None)
            while not stop.is_set():
                try:
                    tiles.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue
        tiles.put(_END)
    except BaseException as error:  # handed to the consumer, raised in its thread
        tiles.put(error)


def tile_stream(source: WindowSource, plan: TilePlan, windows: list[Window] | None = None,
                depth: int = 16) -> Iterator[tuple[Window, np.ndarray | None]]:
    """Yield (window, image) for `windows` (default: all of the plan's), in order; the image is
    None for a window with no valid pixel. Reads run ahead by at most `depth` tiles. Closing
    the generator (or an error) stops the reader thread."""
    windows = plan.windows if windows is None else windows
    tiles: queue.Queue = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()
    thread = threading.Thread(target=_reader, args=(source, windows, plan.scale, tiles, stop),
                              name="micro-detector-reader", daemon=True)
    thread.start()
    try:
        while True:
            item = tiles.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=10)
