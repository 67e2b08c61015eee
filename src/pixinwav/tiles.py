"""A photo of any size and aspect ratio as square tiles (the unit a window model carries), and back.

The photo is padded to whole tiles by repeating its edge pixels (a flat border would put a sharp edge into the
last tiles' coefficients, which the coding spends capacity on); the receiver crops the padding off again.
"""
from __future__ import annotations

import math
import numpy as np
from PIL import Image

from .arrays import as_numpy
from .errors import PixinwavError


def grid(width: int, height: int, side: int) -> tuple[int, int]:
    """(columns, rows) of ``side`` tiles that cover a ``width`` x ``height`` image."""
    return math.ceil(width / side), math.ceil(height / side)


def count(width: int, height: int, side: int) -> int:
    columns, rows = grid(width, height, side)
    return columns * rows


def fit(width: int, height: int, side: int, tiles: int, max_side: int | None = None) -> tuple[int, int]:
    """The largest (width, height) with the photo's aspect ratio (the short side rounded), no larger than the
    photo itself or than ``max_side`` on its long side, whose tiles number at most ``tiles``."""
    if tiles < 1:
        raise PixinwavError("no room for even one tile")
    long, short = max(width, height), min(width, height)

    def size(length: int) -> tuple[int, int]:  # the photo scaled to this long side
        other = max(1, round(short * length / long))
        return (length, other) if width >= height else (other, length)

    # the tile count only grows with the long side, so the largest that fits is found by bisection
    lo, hi = 1, min(long, max_side or long)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if count(*size(mid), side) <= tiles else (lo, mid - 1)
    return size(lo)


def scaled(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """``[C, H, W]`` in [0, 1] at ``width`` x ``height`` (Pillow's bicubic on each channel as 32-bit floats,
    antialiased when it shrinks): how the song model reduces a photo the song cannot carry at its own size, and so
    what a revealed photo is measured against. (An array of the size asked is given back as it is.)"""
    image = as_numpy(image)
    if tuple(image.shape[-2:]) == (height, width):
        return image
    planes = [np.asarray(Image.fromarray(np.ascontiguousarray(plane, np.float32), mode="F")
                         .resize((width, height), Image.Resampling.BICUBIC)) for plane in image]
    return np.clip(np.stack(planes), 0, 1)


def split(image: np.ndarray, side: int) -> np.ndarray:
    """``[C, H, W]`` -> ``[N, C, side, side]`` tiles in row-major order, the last row and column edge-padded."""
    c, h, w = image.shape
    columns, rows = grid(w, h, side)
    padded = np.pad(image, ((0, 0), (0, rows * side - h), (0, columns * side - w)), mode="edge")
    return padded.reshape(c, rows, side, columns, side).transpose(1, 3, 0, 2, 4).reshape(rows * columns, c, side, side)


def join(tiles: np.ndarray, width: int, height: int) -> np.ndarray:
    """Inverse of :func:`split`: ``[N, C, side, side]`` -> ``[C, height, width]``."""
    n, c, side, _ = tiles.shape
    columns, rows = grid(width, height, side)
    image = tiles.reshape(rows, columns, c, side, side).transpose(2, 0, 3, 1, 4).reshape(c, rows * side, columns * side)
    return image[:, :height, :width]
