"""The read stage: a stream of tiles read by a background thread through a bounded queue.

Reading (GDAL decompression, resampling, stretch) overlaps with inference, and memory is
bounded by the queue depth, never by the raster size. Tiles with no valid pixel come out as
`None` images so the consumer can count them as skipped nodata without running the model.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Sequence

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


def _put(tiles: queue.Queue, item, stop: threading.Event) -> None:
    """Put unless the consumer has stopped (a full queue must not block the thread forever)."""
    while not stop.is_set():
        try:
            tiles.put(item, timeout=0.1)
            return
        except queue.Full:
            continue


def _reader(
    source: WindowSource, windows: list[Window], scale: float, tiles: queue.Queue, stop: threading.Event
) -> None:
    """Thread body: read each window and put (window, image or None) on the queue."""
    reader = None
    try:
        reader = source.for_thread()
        for window in windows:
            if stop.is_set():
                return
            image, valid = read_tile(reader, window, scale)
            _put(tiles, (window, image if valid.any() else None), stop)
        _put(tiles, _END, stop)
    except BaseException as error:  # handed to the consumer, raised in its thread
        _put(tiles, error, stop)
    finally:
        if reader is not None and reader is not source:
            reader.close()  # this thread's own handle


def tile_stream(
    source: WindowSource, plan: TilePlan, windows: Sequence[Window] | None = None, depth: int = 16
) -> Generator[tuple[Window, np.ndarray | None], None, None]:
    """Yield (window, image) for `windows` (default: all of the plan's), in order; the image is
    None for a window with no valid pixel. Reads run ahead by at most `depth` tiles. Closing
    the generator (or an error) stops the reader thread."""
    windows = plan.windows if windows is None else windows
    tiles: queue.Queue = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()
    thread = threading.Thread(
        target=_reader, args=(source, windows, plan.scale, tiles, stop), name="micro-detector-reader", daemon=True
    )
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
