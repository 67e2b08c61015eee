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

import functools
import warnings
from typing import Callable

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
    one = (gray(bits)[:, None] >> np.arange(bits - 1, -1, -1)[None]) & 1 == 1  # [symbols, bits]: the bit is 1
    if not nearest and len(place) >= COMPILED_FROM:
        args = (np.asarray(place, np.float64), np.asarray(sigma, np.float64), centres, one)
        try:
            return _soft_bits_kernel()(*args)
        except Exception as exc:  # numba missing or its on-disk cache unreadable: NumPy's, the same values
            warnings.warn(f"the compiled soft-bit loop failed ({exc}); using NumPy's", RuntimeWarning, stacklevel=2)
    return _soft_bits_arrays(place, sigma, centres, one, nearest)


def _soft_bits_arrays(place: np.ndarray, sigma: np.ndarray, centres: np.ndarray, one: np.ndarray,
                      nearest: bool = False) -> np.ndarray:
    """:func:`soft_bits` by NumPy's arrays ``[cells, symbols]``."""
    bits = one.shape[1]
    distance = place[:, None] - centres[None]
    distance -= np.round(distance)
    log_p = -0.5 * (distance / np.maximum(sigma, 1e-9)[:, None]) ** 2
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
# Calls of this many cells or more take the compiled loop (:func:`_soft_bits_cells`): a window's 43,000 cells of 4
# bits in 10 ms against NumPy's 13-38 ms on real windows (NumPy spends much of it making ``[cells, symbols]`` arrays)
COMPILED_FROM = 1024
BELOW_EXP = -746.0  # exp of anything under this is 0 in double precision


def _soft_bits_cells(place: np.ndarray, sigma: np.ndarray, centres: np.ndarray, one: np.ndarray) -> np.ndarray:
    """:func:`soft_bits` one cell at a time (the same sums, compiled by numba; the values agree to about 1e-12): each
    symbol's likelihood relative to the likeliest's, summed over the symbols with the bit at 0 and at 1; where one of
    the two sums underflows, that side is summed again from its own largest term."""
    cells, symbols, bits = len(place), len(centres), one.shape[1]
    out = np.empty((cells, bits))
    log_p = np.empty(symbols)
    likelihood = np.empty(symbols)
    for c in range(cells):
        deviation = max(sigma[c], 1e-9)
        top = -np.inf
        for j in range(symbols):
            d = place[c] - centres[j]
            d -= np.round(d)
            log_p[j] = -0.5 * (d / deviation) ** 2
            top = max(top, log_p[j])
        for j in range(symbols):  # (exp is most of the time: one that can only give 0 is not taken)
            likelihood[j] = np.exp(log_p[j] - top) if log_p[j] - top > BELOW_EXP else 0.0
        for b in range(bits):
            zero, ones = 0.0, 0.0
            for j in range(symbols):
                if one[j, b]:
                    ones += likelihood[j]
                else:
                    zero += likelihood[j]
            if min(zero, ones) >= FAR:
                out[c, b] = np.log(zero) - np.log(ones)
                continue
            # a far value: the side whose sum underflowed is summed again from its own largest term (the other side
            # holds the likeliest symbol: its sum is at least 1)
            far_side = ones < zero
            side_top = -np.inf
            for j in range(symbols):
                if one[j, b] == far_side:
                    side_top = max(side_top, log_p[j])
            total = 0.0
            for j in range(symbols):
                if one[j, b] == far_side and log_p[j] - side_top > BELOW_EXP:
                    total += np.exp(log_p[j] - side_top)
            far = side_top - top + np.log(total)  # the log of that side's sum, relative to the likeliest symbol
            out[c, b] = np.log(zero) - far if far_side else far - np.log(ones)
    return out


@functools.cache
def _soft_bits_kernel() -> Callable:
    import numba  # imported here, as the decoder's: only the receivers of coded cells need it (cached on disk)

    return numba.njit(cache=True, nogil=True)(_soft_bits_cells)  # nogil: windows are read on threads


def _log_sum_exp(x: np.ndarray) -> np.ndarray:
    """``log(sum(exp(x), axis=1))`` without underflow (3x faster than ``np.logaddexp.reduce``)."""
    top = x.max(axis=1)
    return top + np.log(np.exp(x - top[:, None]).sum(axis=1))


# The table :func:`capacity` interpolates: noise deviations (in steps) 10^-4 to 10, 20 a decade, each averaged
# over every symbol and a Gauss-Hermite rule of this many points
CAPACITY_DECADES, CAPACITY_PER_DECADE, CAPACITY_NODES = (-4.0, 1.0), 20, 48


def capacity(sigma: np.ndarray, bits: int) -> np.ndarray:
    """``[cells]`` noise deviations (in steps) -> the bits each cell's ``bits`` Gray-coded bits carry through that
    noise as :func:`soft_bits` reads them: per bit, the mean of ``1 - log2(1 + exp(-L))`` over the noise (L: the
    true bit's log-likelihood ratio), summed over the bits. It is what a sender's read-back of a random codeword
    shows on average, so a window's capacity can be told from its steps and noise without writing one."""
    grid, table = _capacity_table(bits)
    return np.interp(np.log10(np.maximum(sigma, 1e-300)), grid, table)


@functools.cache
def _capacity_table(bits: int) -> tuple[np.ndarray, np.ndarray]:
    low, high = CAPACITY_DECADES
    grid = np.linspace(low, high, int(round((high - low) * CAPACITY_PER_DECADE)) + 1)
    nodes, weights = np.polynomial.hermite.hermgauss(CAPACITY_NODES)  # E f(X), X ~ N(0, s^2) = sum w f(sqrt2 s x) / sqrt pi
    symbols = np.arange(2**bits)
    word = (gray(bits)[symbols][:, None] >> np.arange(bits - 1, -1, -1)[None]) & 1  # [symbols, bits] each symbol's bits
    sigma = np.repeat(10.0**grid, len(symbols) * len(nodes))
    noise = np.sqrt(2) * sigma * np.tile(nodes, len(grid) * len(symbols))
    sent = np.tile(np.repeat(symbols, len(nodes)), len(grid))
    centres = (symbols + 0.5) / 2**bits  # (NumPy's soft bits: `pixinwav capacity` need not import numba)
    llr = _soft_bits_arrays(np.remainder((sent + 0.5) / 2**bits + noise, 1.0), sigma, centres, word == 1)
    true = np.where(word[sent] == 0, llr, -llr)
    carried = (1 - np.logaddexp(0, -true) / np.log(2)).sum(axis=1)
    mean = (carried.reshape(len(grid), len(symbols), len(nodes)) @ weights).mean(axis=1) / np.sqrt(np.pi)
    # (beyond half a step the wrapped noise makes the rule's sum ripple around 0 by a few thousandths; more noise
    # never carries more)
    return grid, np.minimum.accumulate(np.clip(mean, 0.0, bits))
