"""Image and audio quality metrics. Images ``[B, C, H, W]`` in [0, 1]; audio ``[..., T]``.

SSIM follows the PixInWav / scikit-image convention (11 x 11 Gaussian window, sigma 1.5, data range 1,
population covariance) and, like scikit-image, averages only where the window fits inside the image. NumPy
arithmetic in float64, one image plane at a time (a 4 MP photo's planes take tens of MB, not a GB), for arrays or
tensors alike: measuring never imports torch.
"""
from __future__ import annotations

import math
import os

import numpy as np
import scipy

from .arrays import as_numpy


def _gaussian_kernel(size: int = 11, sigma: float = 1.5) -> np.ndarray:
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2
    g = np.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


def ssim(a, b, size: int = 11, sigma: float = 1.5, data_range: float = 1.0) -> np.ndarray:
    """Per-image SSIM ``[B]`` (mean over channels and valid window positions) of ``[B, C, H, W]`` arrays or tensors."""
    a, b = as_numpy(a), as_numpy(b)
    if a.shape != b.shape or a.ndim != 4:
        raise ValueError(f"ssim needs two [B, C, H, W] images of one shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    if min(a.shape[-2:]) < size:
        raise ValueError(f"ssim needs images of at least {size} x {size} pixels")
    g, r = _gaussian_kernel(size, sigma), size // 2
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2

    def blur(x: np.ndarray) -> np.ndarray:  # separable Gaussian, valid region only
        x = scipy.ndimage.correlate1d(x, g, axis=0, mode="constant")[r:x.shape[0] - r]
        return scipy.ndimage.correlate1d(x, g, axis=1, mode="constant")[:, r:x.shape[1] - r]

    out = np.zeros(len(a))
    for i in range(len(a)):
        for pa, pb in zip(a[i].astype(np.float64), b[i].astype(np.float64)):
            mu_a, mu_b = blur(pa), blur(pb)
            var_a = blur(pa * pa) - mu_a**2
            var_b = blur(pb * pb) - mu_b**2
            cov = blur(pa * pb) - mu_a * mu_b
            s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
            out[i] += s.mean() / a.shape[1]
    return out


def psnr(a, b, data_range: float = 1.0) -> np.ndarray:
    """Per-image PSNR in dB ``[B]`` of arrays or tensors."""
    diff = as_numpy(a).astype(np.float64) - as_numpy(b).astype(np.float64)
    mse = np.square(diff).reshape(len(diff), -1).mean(1)
    return 10 * np.log10(data_range**2 / np.maximum(mse, 1e-12))


BLOCK = 1 << 20  # samples per block where a whole song is summed in float64


def snr(reference, test) -> float:
    """10 log10(sum ref^2 / sum (test - ref)^2) over the whole clip, in dB (inf when identical)."""
    ref, tst = np.asarray(reference).reshape(-1), np.asarray(test).reshape(-1)
    noise = signal = 0.0
    for a in range(0, len(ref), BLOCK):  # in blocks: a 10-minute stereo song at float64 would be 424 MB a copy
        r, t = ref[a:a + BLOCK].astype(np.float64), tst[a:a + BLOCK].astype(np.float64)
        noise += float(np.sum((t - r) ** 2))
        signal += float(np.sum(r**2))
    return snr_of(signal, noise)


def snr_of(signal: float, noise: float) -> float:
    """10 log10(signal / noise) in dB from two summed powers (inf when there is no noise)."""
    if noise == 0:
        return math.inf
    if signal == 0:
        return -math.inf
    return float(10 * np.log10(signal / noise))


def segmental_snr(reference, test, frame: int = 1024, floor: float = -10.0, ceil: float = 35.0) -> float:
    """Mean per-frame SNR, each frame clamped to [floor, ceil] dB (the usual speech-coding convention);
    frames where the reference is silent are skipped."""
    ref, tst = np.asarray(reference, dtype=np.float64), np.asarray(test, dtype=np.float64)
    n = ref.shape[-1] // frame
    if n == 0:
        raise ValueError(f"segmental SNR needs at least one frame of {frame} samples")
    r = ref[..., : n * frame].reshape(-1, frame)
    e = (tst[..., : n * frame] - ref[..., : n * frame]).reshape(-1, frame)
    sig, noise = np.sum(r**2, axis=1), np.sum(e**2, axis=1)
    keep = sig > 0
    if not keep.any():
        return -math.inf
    with np.errstate(divide="ignore"):
        values = 10 * np.log10(sig[keep] / np.maximum(noise[keep], 1e-20))
    return float(np.mean(np.clip(values, floor, ceil)))


def speech_quality(reference, test, sample_rate: int) -> dict[str, float]:
    """PESQ (8 kHz narrow-band / 16 kHz wide-band) and STOI, only where they are defined: speech at 8 or
    16 kHz. Returns an empty dict otherwise (they mean nothing on music or at 44.1 kHz)."""
    if sample_rate not in (8000, 16000):
        return {}
    from pesq import pesq  # optional dependency: pip install 'pixinwav[speech]'
    from pystoi import stoi

    ref, tst = np.asarray(reference, dtype=np.float64), np.asarray(test, dtype=np.float64)
    if not np.any(ref):
        return {}
    mode = "wb" if sample_rate == 16000 else "nb"
    return {"pesq": float(pesq(sample_rate, ref, tst, mode)), "stoi": float(stoi(ref, tst, sample_rate))}


VISQOL_RATE = 48000
VISQOL_MIN_SECONDS = 1.0  # ViSQOL's patches need about a second of audio; shorter clips have no score
_visqol_api = None


def visqol_mos(reference, test, sample_rate: int) -> float:
    """ViSQOL v3 MOS-LQO (audio mode, 1 to 4.73) of ``test`` against ``reference`` (mono ``[T]``), resampled to
    48 kHz as ViSQOL's audio model expects. NaN for clips shorter than one second. The first call compiles
    ViSQOL's kernels (about 10 s); later calls take well under a second."""
    global _visqol_api
    ref, tst = np.asarray(reference, dtype=np.float64), np.asarray(test, dtype=np.float64)
    if ref.shape[-1] / sample_rate < VISQOL_MIN_SECONDS:
        return float("nan")
    if _visqol_api is None:
        # visqol sets numba's threading layer to "workqueue" on import unless one is set: numba's default (OpenMP
        # here) is kept, so windows decoded on threads later in this process (and in processes it starts) stay safe
        os.environ.setdefault("NUMBA_THREADING_LAYER", "default")
        from visqol import VisqolApi

        _visqol_api = VisqolApi()
        _visqol_api.create(mode="audio")
    if sample_rate != VISQOL_RATE:
        import soxr

        ref, tst = soxr.resample(ref, sample_rate, VISQOL_RATE), soxr.resample(tst, sample_rate, VISQOL_RATE)
    return float(_visqol_api.measure_from_arrays(ref, tst, VISQOL_RATE).moslqo)


def louder_cells(cover: np.ndarray, stego: np.ndarray, sample_rate: int, band: tuple[float, float] = (300.0, 6000.0),
                 nperseg: int = 1024) -> float:
    """Fraction of STFT cells (``nperseg``-point Hann, in ``band``) where the change ``stego - cover`` is louder
    than the cover itself: where the change is most likely heard. Cells where the cover is under -100 dBFS are
    left out (nothing there to mask or to hear)."""
    from scipy.signal import stft

    cover = np.asarray(cover, dtype=np.float64)
    change = np.asarray(stego, dtype=np.float64) - cover
    cover, change = (x.mean(axis=1) if x.ndim == 2 else x for x in (cover, change))
    freq, _, c = stft(cover, sample_rate, nperseg=nperseg)
    _, _, d = stft(change, sample_rate, nperseg=nperseg)
    rows = (freq >= band[0]) & (freq <= band[1])
    c, d = np.abs(c[rows]), np.abs(d[rows])
    live = c > 1e-5
    return float(((d > c) & live).sum() / max(1, live.sum()))
