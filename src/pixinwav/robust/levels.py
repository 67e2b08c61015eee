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
    one = (gray(bits)[:, None] >> np.arange(bits - 1, -1, -1)[None]) & 1 == 1  # [symbols, bits]: the bit is 1
    if nearest:
        return np.stack([log_p[:, ~one[:, level]].max(axis=1) - log_p[:, one[:, level]].max(axis=1)
                         for level in range(bits)], axis=1)
    # each symbol's likelihood relative to the likeliest one, summed over the symbols with the bit at 0 and at 1:
    # 2^bits exponentials per cell in all (a log-sum per bit and value took 2^bits each)
    likelihood = np.exp(log_p - log_p.max(axis=1, keepdims=True))
    zero, ones = likelihood @ ~one, likelihood @ one
    with np.errstate(divide="ignore"):
        out = np.log(zero) - np.log(ones)
    far = (np.minimum(zero, ones) < FAR).any(axis=1)  # a value whose symbols all lie far under the likeliest
    if far.any():
        rows = log_p[far]
        out[far] = np.stack([_log_sum_exp(rows[:, ~one[:, level]]) - _log_sum_exp(rows[:, one[:, level]])
                             for level in range(bits)], axis=1)
    return out


# (a sum under this loses digits to underflow: its terms are taken again from their own largest)
FAR = 1e-250


def _log_sum_exp(x: np.ndarray) -> np.ndarray:
    """``log(sum(exp(x), axis=1))`` without underflow (3x faster than ``np.logaddexp.reduce``)."""
    top = x.max(axis=1)
    return top + np.log(np.exp(x - top[:, None]).sum(axis=1))
