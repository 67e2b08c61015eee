"""The audio channel between hiding and revealing: 16-bit PCM quantisation, as a file stores it."""
from __future__ import annotations

import numpy as np
import torch

PCM16_SCALE = 32768.0  # libsndfile reads int16 as value / 32768; quantising on the same grid is exact


def to_pcm16(wave: np.ndarray) -> np.ndarray:
    """Float waveform -> int16 samples (rounded, clipped to the int16 range)."""
    return np.clip(np.round(np.asarray(wave, dtype=np.float64) * PCM16_SCALE), -32768, 32767).astype(np.int16)


def quantise_pcm16(wave: torch.Tensor) -> torch.Tensor:
    """What a 16-bit file gives back, with a straight-through gradient (identity) for training."""
    q = torch.clamp(torch.round(wave * PCM16_SCALE), -32768, 32767) / PCM16_SCALE
    return wave + (q - wave).detach()


def pcm16_round_trip(wave: np.ndarray) -> np.ndarray:
    """Float32 samples exactly as ``pixinwav hide`` writes them to a 16-bit file and soundfile reads them back."""
    return to_pcm16(wave).astype(np.float32) / np.float32(PCM16_SCALE)
