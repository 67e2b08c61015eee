"""Codes written modulo a step, offset by a dither: the offsets (keyed, or a public sequence without a key), the
pilots' known code and the wrap to the nearest lattice point. Shared by the window models (``modulo``,
``adaptive``) and the song models built on their windows.

A code plus an unknown uniform offset (mod 1) says nothing about the code, so without the key the audio gives
away neither the payload nor (the pilots being offset too) that one is there.
"""
from __future__ import annotations

import hashlib
import math

import numpy as np

GOLDEN = (math.sqrt(5) - 1) / 2  # without a key: offsets k * GOLDEN mod 1, spread evenly over [0, 1)
PILOT_CODE = 0.5  # the code every pilot carries
MIN_PILOTS_TO_TELL = 128  # with fewer, a gain search can align random phases by chance


def keyed_dither(key: str, count: int) -> np.ndarray:
    """``count`` offsets in [0, 1) (float64) from SHAKE-256 of the key: the same on every machine, unpredictable
    without the key."""
    raw = hashlib.shake_256(b"pixinwav-modulo:" + key.encode("utf-8")).digest(8 * count)
    words = np.frombuffer(raw, dtype="<u8") >> np.uint64(11)  # 53 bits: exact in float64, on any byte order
    return words.astype(np.float64) / 2.0**53


def wrap(steps):
    """Distances in steps folded to the nearest lattice point: into [-1/2, 1/2) (a tensor or a NumPy array)."""
    return (steps + 0.5) % 1.0 - 0.5
