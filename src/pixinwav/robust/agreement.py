"""The lattice agreement of a robust payload's low groups at every sample offset and frame: the measure the frame grid
is searched with (``alignment``), the speed search (``speed``) and the tempo test (``tempo``).

How well a frame's projections sit on the union of both bits' lattices needs no bit of the payload: about 0 for
audio without one, 1 for an intact one. The frames at every sample position come from each bin's MDCT basis
function correlated with the audio by FFT.
"""
from __future__ import annotations

import functools
from dataclasses import replace

import numpy as np
import scipy

from . import mdct
from .stdm import FREQ_RADIUS, TIME_RADIUS, Lattice

SYNC_LOW_GROUPS = 5  # groups under about 1.9 kHz (half a sample is 0.36 rad there): what the searches read


def low_lattice(lattice: Lattice) -> Lattice:
    """The lattice's first ``SYNC_LOW_GROUPS`` groups (under about 1.9 kHz), the ones the search uses."""
    g = SYNC_LOW_GROUPS
    return replace(lattice, groups=g, signs=lattice.signs[:g], dither=lattice.dither[:g])


def agreement_map(x: np.ndarray, low: Lattice, hop: int, frames: int, workers: int = -1) -> np.ndarray:
    """``[hop, frames]``: how well the frame starting at sample ``s + j hop`` of ``x`` puts its low groups' projections
    on the lattices (1 exact, about 0 for audio without a payload), for every offset ``s`` and frame ``j``."""
    first, top = low.low - FREQ_RADIUS, low.high + FREQ_RADIUS  # the groups' bins and the masking neighbourhood
    # (any length FFTs like holds every product needed: a frame's samples end inside x; the power of two above it, as
    # before 0.2.16, took 3.6 times as long for a tempo block's 66 frames)
    size = scipy.fft.next_fast_len((frames + 2) * hop, real=True)
    # the MDCT of the frame at every sample position: each bin's basis function correlated with x (by FFT: three
    # times quicker here than the DCT-IV of every position's frame, which computes all 512 bins)
    spectrum = scipy.fft.rfft(np.asarray(x[:(frames + 2) * hop], np.float32), size)
    every = scipy.fft.irfft(spectrum[None] * _basis_spectra(hop, first, top, size), size, workers=workers)
    # [bin, frame, offset], a view: every step below runs along the offsets, contiguous in memory (0.2.18 turned it
    # into [frame, offset, bin] and filtered across that: 2.3x slower a block)
    coefs = every[:, : frames * hop].reshape(top - first, frames, hop)
    count = low.groups * low.spread
    scale = _box_mean(np.square(coefs), TIME_RADIUS, FREQ_RADIUS, count)  # the used bins' masking power, in place:
    np.sqrt(np.maximum(scale, np.float32(low.floor**2), out=scale), out=scale)  # its square root
    scaled = np.divide(coefs[FREQ_RADIUS:FREQ_RADIUS + count], scale, out=scale)
    projection = np.einsum("gsfo,gs->gfo", scaled.reshape(low.groups, low.spread, frames, hop),
                           low.signs.astype(np.float32))
    phase = np.mod(projection / np.float32(low.step) - low.dither.astype(np.float32)[:, None, None], np.float32(1.0))
    return np.cos(np.float32(4 * np.pi) * phase).mean(0).T


def _box_mean(a: np.ndarray, time_radius: int, freq_radius: int, count: int) -> np.ndarray:
    """``[count, frames, offsets]``: ``a [count + 2 freq_radius, frames, offsets]`` averaged over the frames within
    ``time_radius`` (the first and last frames repeated beyond the edges, as ``scipy.ndimage.uniform_filter``'s
    "nearest") and the bins within ``freq_radius`` of the middle ``count`` bins, by shifted sums added in place."""
    over_time = a.copy()
    for k in range(1, time_radius + 1):
        over_time[:, k:] += a[:, :-k]
        over_time[:, :k] += a[:, :1]
        over_time[:, :-k] += a[:, k:]
        over_time[:, -k:] += a[:, -1:]
    total = over_time[:count] + over_time[1:count + 1]
    for k in range(2, 2 * freq_radius + 1):
        total += over_time[k:k + count]
    total *= np.float32(1 / ((2 * time_radius + 1) * (2 * freq_radius + 1)))
    return total


@functools.lru_cache(maxsize=4)
def _basis_spectra(hop: int, first: int, top: int, size: int) -> np.ndarray:
    """``[top - first, size // 2 + 1]``: conjugate spectra of MDCT basis functions ``first ... top - 1`` (correlation
    by FFT)."""
    return np.conj(scipy.fft.rfft(mdct.basis(hop)[:, first:top].T.astype(np.float32), size))
