"""Finding windows in a lossless file without an offset: a keyed parity pattern in the 16-bit samples.

The first ``LENGTH`` samples of every window that carries data are rounded (to the integer step next to the
one plain rounding would give, where needed) so that the parity of the file's mono samples follows a keyed
+-1 sequence. The receiver correlates the parity of the whole file with that sequence (one FFT): an intact
window scores exactly ``LENGTH``, anything else about +-sqrt(LENGTH) (32 for 1,024 samples), so a start
found this way is exact to the sample, wherever the file was trimmed or whatever was pasted before it.

Why parity and not a spread-spectrum mark: the mark costs nothing audible (at most one LSB more rounding on
1.5 % of the samples, against a cover typically 60 dB louder) and no cover masks it, because it reads the
file's exact integers; the price is that it lives only in the exact samples, so it does not survive
resampling or a lossy codec (neither do the window's analog codes).
"""
from __future__ import annotations

import hashlib

import numpy as np
import scipy  # (its submodules load when first used: `info` and `--help` need none)

LENGTH = 1024
BLOCK = 1 << 20  # samples per block where the file's parities are read
FOUND = 0.6  # of LENGTH: intact windows score 1.0, noise sqrt(LENGTH) / LENGTH = 0.03 (a 20-sigma margin)


def pattern(key: str | None) -> np.ndarray:
    """``[LENGTH]`` parities (0 / 1) from SHAKE-256 of the key (a public pattern without one)."""
    raw = hashlib.shake_256(b"pixinwav-sync:" + (key or "").encode("utf-8")).digest(LENGTH // 8)
    return np.unpackbits(np.frombuffer(raw, dtype=np.uint8))


def levels(mono: np.ndarray) -> np.ndarray:
    """The integer 16-bit level under each mono sample (a downmix of C channels sits on a 1 / C grid above it)."""
    return np.floor(np.asarray(mono, dtype=np.float64) * 32768.0 + 1e-3).astype(np.int64)


def mark(base: np.ndarray, change: np.ndarray, key: str | None) -> np.ndarray:
    """Integer changes ``[LENGTH]`` (in LSB) to add to the 16-bit mono ``base`` (its :func:`levels`) that are the
    nearest integers to ``change`` (LSB, float) giving the keyed parity pattern."""
    rounded = np.round(change)
    wrong = (base + rounded.astype(np.int64)) % 2 != pattern(key)
    other = np.where(change >= rounded, rounded + 1, rounded - 1)  # the other integer next to the change
    return np.where(wrong, other, rounded)


def find(mono: np.ndarray, key: str | None) -> np.ndarray:
    """Sample indices of ``mono`` (the file's downmix, float) where a marked window starts, in order."""
    if len(mono) < LENGTH:
        return np.zeros(0, dtype=np.int64)
    signs = np.empty(len(mono), dtype=np.float32)  # +-1 (exact in float32, as the scores up to LENGTH are)
    for a in range(0, len(mono), BLOCK):  # a block at a time: a 10-minute song's levels would be 212 MB of int64
        signs[a:a + BLOCK] = 1.0 - 2.0 * (levels(mono[a:a + BLOCK]) % 2)
    # the correlation with the pattern by FFT, a block of starts at a time (scipy.signal's oaconvolve did the same;
    # importing scipy.signal took 0.9 s, three times the search, and only this used it)
    size = scipy.fft.next_fast_len(BLOCK + LENGTH - 1, real=True)
    template = scipy.fft.rfft(1.0 - 2.0 * pattern(key)[::-1].astype(np.float32), size)
    found = []
    for a in range(0, len(signs) - LENGTH + 1, BLOCK):
        block = signs[a:a + BLOCK + LENGTH - 1]
        score = scipy.fft.irfft(scipy.fft.rfft(block, size) * template, size)[LENGTH - 1:len(block)]
        found.append(a + np.flatnonzero(score > FOUND * LENGTH))  # (scores are whole numbers; the FFT's error is tiny)
    return np.concatenate(found)
