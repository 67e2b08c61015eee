"""Bits as places inside a step: ``bits`` bits per cell, Gray-coded onto ``2^bits`` evenly spaced places in
[0, 1), and their soft values back from a noisy place.

A modulo code reads a place ``p`` in [0, 1) per cell (the cover's coefficient divided by the cell's step, minus
a dither, mod 1), with noise of deviation ``sigma`` (in steps). Symbol ``s`` sits at ``(s + 1/2) / 2^bits``. The
Gray code is cyclic, so a place pushed across the wrap from the last symbol to the first flips one bit, like any
other neighbour. A cell whose step is small against its noise gives near-zero log-likelihood ratios: to the code
that follows, nearly an erasure, so every cell can carry the same number of bits whatever its step, and the
receiver needs no per-cell allocation it might get wrong.
"""
from __future__ import annotations

import numpy as np


def gray(bits: int) -> np.ndarray:
    """``[2^bits]``: the Gray code of each symbol."""
    s = np.arange(2**bits)
    return s ^ (s >> 1)


def to_places(bits: np.ndarray) -> np.ndarray:
    """``[cells, bits]`` 0/1 (most significant first) -> ``[cells]`` places in (0, 1)."""
    count = bits.shape[1]
    code = bits.astype(np.int64) @ (1 << np.arange(count - 1, -1, -1))
    symbol = np.argsort(gray(count))[code]
    return (symbol + 0.5) / 2**count


def soft_bits(place: np.ndarray, sigma: np.ndarray, bits: int, nearest: bool = False) -> np.ndarray:
    """``[cells]`` received places and noise deviations (in steps) -> ``[cells, bits]`` log-likelihood ratios
    (log P(0) / P(1)), over every symbol with the wrapped distance (exact for Gaussian noise under half a step).
    ``nearest``: max-log, from the nearest symbol with the bit at 0 and the nearest with it at 1; where the places
    sit many deviations apart the nearest dominates, and a maximum costs a fraction of a log-sum."""
    centres = (np.arange(2**bits) + 0.5) / 2**bits
    distance = place[:, None] - centres[None]
    distance -= np.round(distance)
    log_p = -0.5 * (distance / np.maximum(sigma, 1e-9)[:, None]) ** 2
    codes = gray(bits)
    out = np.empty((len(place), bits))
    for level in range(bits):
        one = ((codes >> (bits - 1 - level)) & 1).astype(bool)
        if nearest:
            out[:, level] = log_p[:, ~one].max(axis=1) - log_p[:, one].max(axis=1)
        else:
            out[:, level] = _log_sum_exp(log_p[:, ~one]) - _log_sum_exp(log_p[:, one])
    return out


def _log_sum_exp(x: np.ndarray) -> np.ndarray:
    """``log(sum(exp(x), axis=1))`` without underflow (3x faster than ``np.logaddexp.reduce``)."""
    top = x.max(axis=1)
    return top + np.log(np.exp(x - top[:, None]).sum(axis=1))
