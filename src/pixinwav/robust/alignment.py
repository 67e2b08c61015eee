"""Finding the frame grid and the frame numbers of a robust payload in received audio, with no offset given.

The lattice points of every group are the same in every frame, so how well a candidate alignment puts the
projections on the union of both bits' lattices is measured without knowing any bit: an integer-sample search
over one hop on the low groups (which tolerate half a sample), in the loudest segments, then a fractional-sample
search on all groups (a delay of 1,024 samples at 44.1 kHz is 371.5 samples at 16 kHz). A keyed pseudo-random
sequence written into one group of every frame then numbers the frames (circular correlation).
"""
from __future__ import annotations

import math

import numpy as np
import scipy

from . import mdct
from .agreement import agreement_map, low_lattice
from .stdm import Lattice, keyed_bits

PN_PERIOD = 1 << 15  # frames (17.5 minutes at 32 ms): a payload is written into at most this many
SYNC_FRAMES = 64  # frames per segment in the alignment search (2 s)
SYNC_SEGMENTS = 3
SHIFT_BINS = 1 << 18  # spectrum bins turned at a time by a fractional shift


def align(wave: np.ndarray, lattice: Lattice, hop: int) -> tuple[float, float]:
    """(samples from the start of ``wave`` to the first whole frame, fractional; agreement there: about 0 for
    audio without a payload, 1 for an intact one)."""
    span = (SYNC_FRAMES + 3) * hop
    starts = loudest_segments(wave, span, SYNC_SEGMENTS)
    low = low_lattice(lattice)
    score = np.zeros(hop)
    for start in starts:  # every integer shift at once: frames at start + s + j hop for s < hop (0.2.15 took their
        # MDCT as a product with the basis, 3 times the time, for the same agreement but for float32's last bits)
        score += agreement_map(wave[start:start + span], low, hop, SYNC_FRAMES + 1).mean(axis=1)
    coarse = int(np.argmax(score))
    best = (-1.0, 0.0)
    start = starts[0]
    segment = np.pad(wave[start:start + span + 2 * hop], (0, max(0, start + span + 2 * hop - len(wave))))
    for delta in np.arange(-1.0, 1.0 + 1e-9, 1 / 16):  # fractional: on all groups of the loudest segment
        total = (coarse + delta) % hop  # the frame grid repeats every hop
        piece = fractional_shift(segment, total)
        coefs = mdct.analyse(piece[int(math.floor(total)):], hop, SYNC_FRAMES)
        agreement, usable = lattice.agreement(coefs)
        value = float(np.average(agreement, weights=usable.sum(0) + 1e-9))
        if value > best[0]:
            best = (value, total)
    return best[1], best[0]  # segments start on multiples of hop: the same shift holds from the wave's start


def frame_number(pn_llr: np.ndarray, key: str | None) -> int:
    """The payload frame number of the first received frame, from the log-likelihood ratios of the keyed
    sequence (``pn_llr [frames]``)."""
    pn = 1.0 - 2.0 * frame_sequence(key)
    folded = np.zeros(PN_PERIOD)
    np.add.at(folded, np.arange(len(pn_llr)) % PN_PERIOD, pn_llr)
    # score(f) = sum_j llr_j pn[(j + f) mod P]: circular cross-correlation
    score = np.fft.irfft(np.conj(np.fft.rfft(folded)) * np.fft.rfft(pn), n=PN_PERIOD)
    return int(np.argmax(score))


def numbering_z(pn_llr: np.ndarray, key: str | None) -> float:
    """How far the received numbering bits (``pn_llr [frames]``, their signs only) agree with the keyed sequence at
    its best frame number, in standard errors of chance: without a payload each sign matches half the time, so the
    best of the ``PN_PERIOD`` numbers reaches about 4.5; a 3-minute payload through a 64 kbit/s codec 20 or more."""
    signs = np.sign(pn_llr)
    count = int(np.count_nonzero(signs))
    if count == 0:
        return 0.0
    folded = np.zeros(PN_PERIOD)
    np.add.at(folded, np.arange(len(signs)) % PN_PERIOD, signs)
    pn = 1.0 - 2.0 * frame_sequence(key)
    score = np.fft.irfft(np.conj(np.fft.rfft(folded)) * np.fft.rfft(pn), n=PN_PERIOD)
    return float(score.max() / math.sqrt(count))


def frame_sequence(key: str | None) -> np.ndarray:
    """``[PN_PERIOD]`` bits the sender writes into the numbering group, frame ``f`` getting bit ``f mod period``."""
    return keyed_bits(key or "", "frames", PN_PERIOD)


def fractional_shift(wave: np.ndarray, shift: float) -> np.ndarray:
    """``wave`` advanced by the fractional part of ``shift`` samples (band-limited, by FFT phase); the integer
    part is left to the caller's indexing."""
    frac = shift - math.floor(shift)
    if frac == 0:
        return wave
    # zero-padded to a length FFTs like: a song's length is often a large prime times a few (3,295,005 samples:
    # 1.7 s and 500 MB by Bluestein's algorithm, 0.2 s padded)
    n = scipy.fft.next_fast_len(len(wave) + 64, real=True)
    spectrum = scipy.fft.rfft(wave, n)
    for a in range(0, len(spectrum), SHIFT_BINS):  # the phase ramp a block at a time, in place (a song's worth each)
        b = min(a + SHIFT_BINS, len(spectrum))
        spectrum[a:b] *= np.exp(2j * np.pi * (np.arange(a, b) * (1.0 / n)) * frac)  # (rfftfreq's values)
    return scipy.fft.irfft(spectrum, n, overwrite_x=True)[: len(wave)]


ENERGY_BLOCK = 1 << 20  # samples


def loudest_segments(wave: np.ndarray, span: int, count: int) -> list[int]:
    """Starts of up to ``count`` non-overlapping segments of ``span`` samples with the most energy, loudest first."""
    n = len(wave) // span
    if n <= 1:
        return [0]
    rows = max(1, ENERGY_BLOCK // span)  # segments squared at a time (a whole song squared at once: 77 MB for 10 min)
    energy = np.concatenate([np.square(wave[a * span:min(a + rows, n) * span]).reshape(-1, span).sum(1)
                             for a in range(0, n, rows)])
    return [int(i) * span for i in np.argsort(-energy, kind="stable")[:count]]
