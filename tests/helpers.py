"""Helpers shared by the tests: real photographs (scikit-image) and a music-like test signal."""
from __future__ import annotations

import numpy as np
from PIL import Image

PHOTOS = ["astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry", "hubble_deep_field", "retina"]


def photo(name: str) -> np.ndarray:
    import skimage.data

    return np.asarray(Image.fromarray(getattr(skimage.data, name)()).convert("RGB"))


def music(seconds: float, rate: int, seed: int, channels: int = 1) -> np.ndarray:
    """A music-like test signal: random notes with harmonics and decaying envelopes, plus a little noise;
    like real music, its energy falls steeply with frequency."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    out = np.zeros(n)
    for start in np.arange(0, seconds, 0.25):
        f0 = 110 * 2 ** (rng.integers(0, 36) / 12)
        env = np.exp(-np.clip(t - start, 0, None) * 4) * (t >= start)
        for h in range(1, 6):
            out += env * np.sin(2 * np.pi * f0 * h * t + rng.uniform(0, 6.3)) / h**2
    out = out / np.abs(out).max() * 0.5 + rng.normal(0, 1e-3, n)
    return np.repeat(out[:, None], channels, axis=1).astype(np.float32) if channels > 1 else out.astype(np.float32)
