"""The audio channel between hiding and revealing: 16-bit PCM quantisation, as a file stores it."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # (torch is imported where a tensor is quantised: reading and writing audio takes no torch)
    import torch

PCM16_SCALE = 32768.0  # libsndfile reads int16 as value / 32768; quantising on the same grid is exact
LSB = 1.0 / PCM16_SCALE  # one 16-bit step in float units
ROUNDING_RMS_LSB = 1 / math.sqrt(12)  # 16-bit rounding noise per sample, in LSB (per coefficient of an orthonormal transform too)


def to_pcm16(wave: np.ndarray) -> np.ndarray:
    """Float waveform -> int16 samples (rounded, clipped to the int16 range). A float32 wave is scaled in float32:
    the scaling by 2^15 is exact, so the rounding is the same as in float64, at half the memory."""
    wave = np.asarray(wave)
    work = wave.astype(np.float32 if wave.dtype == np.float32 else np.float64) * PCM16_SCALE
    np.round(work, out=work)
    np.clip(work, -32768, 32767, out=work)
    return work.astype(np.int16)


def quantise_pcm16(wave: "torch.Tensor") -> "torch.Tensor":
    """What a 16-bit file gives back, with a straight-through gradient (identity) for training."""
    import torch

    q = torch.clamp(torch.round(wave * PCM16_SCALE), -32768, 32767) / PCM16_SCALE
    return wave + (q - wave).detach()


def pcm16_mono(wave: np.ndarray, block: int = 1 << 20) -> np.ndarray:
    """``[T, channels]`` -> the float32 mono downmix of the 16-bit file it will be, a block at a time."""
    out = np.empty(len(wave), dtype=np.float32)
    for a in range(0, len(wave), block):
        out[a:a + block] = pcm16_round_trip(wave[a:a + block]).mean(axis=1)
    return out


def pcm16_round_trip(wave: np.ndarray) -> np.ndarray:
    """Float32 samples exactly as ``pixinwav hide`` writes them to a 16-bit file and soundfile reads them back."""
    return to_pcm16(wave).astype(np.float32) / np.float32(PCM16_SCALE)
