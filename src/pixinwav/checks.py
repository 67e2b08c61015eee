"""What the API takes, refused with a reason when it is not that: image arrays, audio arrays, sample rates and offsets."""
from __future__ import annotations

import numpy as np

from .errors import PixinwavError

MAX_RATE = 1_000_000  # Hz: more is not an audio sample rate (768 kHz is the highest in use)


def image_array(arr: np.ndarray) -> np.ndarray:
    """An image array as 8-bit ``[H, W]`` or ``[H, W, 1 | 3 | 4]``, refused with a reason when it is not one: uint8 as
    it is, uint16 by its range, other integers in 0-255, floats in [0, 1]; ``[C, H, W]`` is taken for ``[H, W, C]``."""
    arr = np.asarray(arr)
    if arr.ndim == 3 and arr.shape[0] in (1, 3, 4) and arr.shape[2] not in (1, 3, 4):
        arr = arr.transpose(1, 2, 0)  # channels first, as torch holds images
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 3, 4)):
        raise PixinwavError(f"an image array must be [H, W], [H, W, C] or [C, H, W] with C = 1, 3 or 4; got shape "
                            f"{list(arr.shape)}")
    if arr.dtype == np.uint8:
        out = arr
    elif arr.dtype == np.bool_:
        out = arr.astype(np.uint8) * 255
    elif arr.dtype == np.uint16:
        out = np.round(arr / 257.0).astype(np.uint8)
    elif arr.dtype.kind in "iu":
        if arr.size and (arr.min() < 0 or arr.max() > 255):
            raise PixinwavError(f"an integer image must hold 0-255 (uint16: 0-65535); got {arr.min()} to {arr.max()}")
        out = arr.astype(np.uint8)
    elif arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)):
            raise PixinwavError("the image holds NaN or infinite values")
        if arr.size and (arr.min() < -1e-6 or arr.max() > 1 + 1e-6):
            raise PixinwavError(f"a float image must hold values in [0, 1]; got {arr.min():g} to {arr.max():g} (divide "
                                "8-bit values by 255)")
        out = np.round(np.clip(arr, 0, 1) * 255).astype(np.uint8)
    else:
        raise PixinwavError(f"cannot use an array of {arr.dtype} as an image")
    return out[..., 0] if out.ndim == 3 and out.shape[2] == 1 else out


def audio_array(audio) -> np.ndarray:
    """Audio as ``[T, channels]`` float32, refused with a reason when it is not: floats in [-1, 1] (beyond full
    scale is allowed: a float file can hold it), finite, ``[T]`` or ``[T, channels]``."""
    if hasattr(audio, "detach"):  # a torch tensor
        audio = audio.detach().cpu().numpy()
    try:
        arr = np.asarray(audio)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.dtype.kind not in "fiub":
        raise PixinwavError(f"cannot use {type(audio).__name__} as audio (a [T] or [T, channels] float array)")
    if arr.dtype.kind != "f":
        raise PixinwavError(f"audio must be floats in [-1, 1], got {arr.dtype} samples" +
                            (" (divide int16 samples by 32768)" if arr.dtype == np.int16 else ""))
    arr = arr[:, None] if arr.ndim == 1 else arr
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise PixinwavError(f"audio must be a non-empty [T] or [T, channels] array, got shape {list(arr.shape)}")
    if arr.shape[1] > arr.shape[0]:
        raise PixinwavError(f"audio of shape {list(arr.shape)} looks like [channels, T]: pass its transpose (audio.T)")
    with np.errstate(over="ignore"):
        arr = arr.astype(np.float32, copy=False)
    if not np.all(np.isfinite(arr)):  # (after the cast: float64 beyond float32's range would become infinite)
        raise PixinwavError("the audio holds NaN or infinite samples")
    return arr


def check_rate(sample_rate) -> int:
    """A sample rate: a positive whole number of Hz (an int, or a float such as 44100.0)."""
    whole = isinstance(sample_rate, (int, np.integer)) or (isinstance(sample_rate, (float, np.floating))
                                                           and float(sample_rate).is_integer())
    if isinstance(sample_rate, bool) or not whole or not 0 < sample_rate <= MAX_RATE:
        raise PixinwavError(f"sample_rate must be a positive whole number of Hz (at most {MAX_RATE:,}), got {sample_rate!r}")
    return int(sample_rate)


def check_offset(offset) -> float | str:
    """``offset``: seconds (a finite number at least 0) or "auto"."""
    if offset == "auto":
        return offset
    if isinstance(offset, bool) or not isinstance(offset, (int, float, np.integer, np.floating)) or not np.isfinite(offset):
        raise PixinwavError(f"offset must be a finite number of seconds or 'auto', got {offset!r}")
    if offset < 0:
        raise PixinwavError(f"offset must be >= 0 seconds, got {offset}")
    return float(offset)


def over_full_scale(audio: np.ndarray) -> int:
    """Samples beyond [-1, 1] (only float files can hold them)."""
    return int(np.count_nonzero(np.abs(audio) > 1.0))
