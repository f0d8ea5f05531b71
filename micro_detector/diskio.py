"""Files written whole or not at all, and a full disk said as such.

Every file the project writes for the user (detections, chip caches, checkpoints, model
files, summary tables) is built under a temporary name beside its place, flushed to the
disk (fsync) and renamed over it: the path holds either the old complete file or the new
complete one, never half of one. A write that fails because the disk (or the quota) is
full becomes one `DiskFullError` naming the path and saying "no space left on device";
libraries report it in their own words (GDAL: an empty RuntimeError or "database or disk
is full", torch: "unexpected pos", numpy: "requested and written"), so a failed write on a
folder with almost no space left is taken as a full disk too.
"""

from __future__ import annotations

import errno
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

__all__ = ["DiskFullError", "atomic_file", "disk_full", "free_bytes", "fsync_dir", "fsync_file", "reserve"]

LOW_SPACE = 1 << 20  # a write that failed with less than this left: the disk was full
_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_FULL_WORDS = ("no space left", "disk is full", "disk full", "quota exceeded")


class DiskFullError(OSError):
    """A write failed because the disk is full; names the path. Nothing half-written is left."""

    def __init__(self, path, what: str = "writing"):
        self.path = Path(path)
        free = free_bytes(self.path.parent)
        room = f" ({free // 1024} kB free in {self.path.parent})" if free is not None else ""
        super().__init__(
            errno.ENOSPC,
            f"no space left on device {what} {self.path}{room}: nothing "
            "was written there; free some space or choose another folder",
            str(self.path),
        )

    def __str__(self) -> str:
        return self.strerror or ""


def free_bytes(folder) -> int | None:
    """Bytes this user may still write in `folder` (None when it cannot be told)."""
    folder = Path(folder)
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        st = os.statvfs(folder)
    except OSError:
        return None
    return st.f_bavail * st.f_frsize


def disk_full(error: BaseException, folder) -> bool:
    """Whether `error`, raised by a write into `folder`, means the disk is full: its errno
    or text says so, or it is a library's I/O error with almost no space left there."""
    if isinstance(error, DiskFullError):
        return True
    if isinstance(error, OSError) and error.errno in _FULL_ERRNOS:
        return True
    if any(word in str(error).lower() for word in _FULL_WORDS):
        return True
    if not isinstance(error, (OSError, RuntimeError)):
        return False
    free = free_bytes(folder)
    return free is not None and free < LOW_SPACE


def fsync_file(path) -> None:
    """Flush a written file to the disk (a full disk may only show here, on some filesystems)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(folder) -> None:
    """Flush a folder's entries (a rename made durable); ignored where folders cannot be."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def reserve(path, size: int) -> None:
    """Allocate `size` bytes of the file at `path` now, so that writing it later (through a
    memory map, where a full disk would kill the process with SIGBUS) cannot run out."""
    fd = os.open(path, os.O_RDWR)
    try:
        os.posix_fallocate(fd, 0, size)
    except OSError as error:
        if error.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
            raise
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    try:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink()
    except OSError:
        pass


@contextmanager
def atomic_file(path, tmp_suffix: str = ".part", what: str = "writing"):
    """Yield a temporary path beside `path` to write; when the block ends, the file is
    flushed to the disk and renamed over `path`. On any failure the temporary file is
    removed and `path` is untouched; a full disk raises DiskFullError naming `path`."""
    path = Path(path)
    tmp = path.with_name(path.name + tmp_suffix)
    try:
        yield tmp
        fsync_file(tmp)
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except (OSError, RuntimeError) as error:
        full = disk_full(error, path.parent)  # judged before the temporary file frees its space
        _remove(tmp)
        if full and not isinstance(error, DiskFullError):
            raise DiskFullError(path, what) from None
        raise
    except BaseException:
        _remove(tmp)
        raise
