"""Image fingerprints for the reserved-data check: SHA-256 of the file, and a 64-bit
difference hash (dHash) of a 9 x 8 grey thumbnail, which survives re-encoding, resizing and
small edits. A flipped or rotated copy gets a different dHash, so the blocklist stores the
dHash of each of the 8 flips/rotations of a reserved image.
"""

from __future__ import annotations

import hashlib
import io

import numpy as np


def sha256(data: bytes) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(data).hexdigest()


def decode_rgb(data: bytes):
    """A PIL RGB image of encoded bytes (JPEG, PNG, BMP, ...; GeoTIFFs PIL cannot read go
    through GDAL, the first three bands, 16-bit stretched to 8 by the 2nd-98th percentiles)."""
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        image.load()
        return image.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError):  # e.g. TIFF layouts PIL cannot decode
        return _decode_gdal(data)


def _decode_gdal(data: bytes):
    from osgeo import gdal
    from PIL import Image

    name = f"/vsimem/decode_{id(data)}"
    gdal.FileFromMemBuffer(name, data)
    try:
        ds = gdal.Open(name)
        bands = [ds.GetRasterBand(min(i, ds.RasterCount)).ReadAsArray() for i in (1, 2, 3)]
    finally:
        gdal.Unlink(name)
    arr = np.stack(bands, axis=-1).astype(np.float64)
    if arr.max() > 255:
        lo, hi = np.percentile(arr, (2, 98))
        arr = (arr - lo) / max(hi - lo, 1e-9) * 255
    return Image.fromarray(np.clip(np.nan_to_num(arr), 0, 255).astype(np.uint8))


def dhash(image) -> int:
    """The 64-bit dHash of a PIL image: each bit says whether a pixel of the 9 x 8 grey
    thumbnail is brighter than its right neighbour."""
    from PIL import Image

    grey = np.asarray(image.convert("L").resize((9, 8), Image.BILINEAR), np.int16)
    bits = (grey[:, 1:] > grey[:, :-1]).ravel()
    return int("".join("1" if b else "0" for b in bits), 2)


def dihedral_dhashes(image) -> list[int]:
    """dHash of the image and of its 7 other flips / quarter turns."""
    from PIL import Image

    out = []
    for flip in (False, True):
        base = image.transpose(Image.FLIP_LEFT_RIGHT) if flip else image
        for turns in range(4):
            out.append(dhash(base.rotate(90 * turns, expand=True) if turns else base))
    return out


def hamming(a: int, b: int) -> int:
    """Number of differing bits of two hashes."""
    return bin(a ^ b).count("1")


def to_hex(h: int) -> str:
    """A 64-bit hash as 16 hex digits."""
    return f"{h:016x}"
