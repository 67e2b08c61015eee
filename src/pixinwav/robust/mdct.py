"""The MDCT with a sine window: a lapped orthogonal transform, the one audio codecs use.

Frames of ``2 * hop`` samples every ``hop`` samples. Its basis functions are orthonormal over the whole signal,
so a change written into some coefficients and synthesised comes back exactly when the same frames are analysed
again: ``analyse(synthesise(D)) == D``. Small frame counts make a dense matrix product the fastest form here
(``[frames, 2 hop] @ [2 hop, hop]``); no maintained Python package ships an MDCT with batching and float64.
"""
from __future__ import annotations

import functools

import numpy as np


@functools.lru_cache(maxsize=4)
def basis(hop: int) -> np.ndarray:
    """``[2 hop, hop]``: windowed, orthonormal MDCT basis (float64)."""
    n = np.arange(2 * hop)[:, None]
    k = np.arange(hop)[None, :]
    window = np.sin(np.pi * (n + 0.5) / (2 * hop))
    return window * np.sqrt(2.0 / hop) * np.cos(np.pi / hop * (n + 0.5 + hop / 2) * (k + 0.5))


def frame_count(samples: int, hop: int) -> int:
    """Whole frames that fit in ``samples`` starting at sample 0."""
    return max(0, samples // hop - 1)


def analyse(wave: np.ndarray, hop: int, frames: int | None = None) -> np.ndarray:
    """``[T] -> [frames, hop]`` coefficients of the frames starting at 0, hop, 2 hop, ..."""
    frames = frame_count(len(wave), hop) if frames is None else frames
    view = np.lib.stride_tricks.sliding_window_view(np.asarray(wave, dtype=np.float64)[: (frames + 1) * hop], 2 * hop)
    return view[::hop][:frames] @ basis(hop)


def synthesise(coefs: np.ndarray, hop: int) -> np.ndarray:
    """``[frames, hop] -> [(frames + 1) hop]``: overlap-add of the frames' windowed basis functions."""
    frames = coefs.shape[0]
    pieces = coefs @ basis(hop).T  # [frames, 2 hop]
    out = np.zeros((frames + 1) * hop)
    out[: frames * hop] += pieces[:, :hop].reshape(-1)
    out[hop:] += pieces[:, hop:].reshape(-1)
    return out


def analyse_every(wave: np.ndarray, hop: int, offsets: np.ndarray, frames: int) -> np.ndarray:
    """``[len(offsets), frames, hop]`` float32: :func:`analyse` of ``wave[o:]`` for every offset ``o`` (a search over
    sample offsets), by the fold into a DCT-IV (``scipy.fft``): the dense product would cost 20x more here."""
    import scipy.fft

    view = np.lib.stride_tricks.sliding_window_view(np.asarray(wave, dtype=np.float32), 2 * hop)
    z = view[offsets[:, None] + hop * np.arange(frames)[None]]  # [offsets, frames, 2 hop], a copy
    z *= np.sin(np.pi * (np.arange(2 * hop) + 0.5) / (2 * hop)).astype(np.float32)
    q = hop // 2
    folded = np.empty(z.shape[:-1] + (hop,), np.float32)
    np.subtract(-z[..., hop + q - 1:hop - 1:-1], z[..., hop + q:], out=folded[..., :q])  # -c reversed - d
    np.subtract(z[..., :q], z[..., hop - 1:q - 1:-1], out=folded[..., q:])  # a - b reversed
    return scipy.fft.dct(folded, type=4, norm="ortho", axis=-1, overwrite_x=True)
