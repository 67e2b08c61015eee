"""Container transforms: analysis waveform -> spectrogram and synthesis back.

Shapes: waveforms are ``[B, T]``, containers ``[B, F, N]`` (F coefficients per frame, N frames).

``STDCT`` is PixInWav's short-time DCT-II (orthonormal, no padding). The DCT is computed with one FFT
of length L per frame (Makhoul's reordering), which is far faster than a dense L x L matrix product for
the paper's L = 4096.

``STFTContainer`` hides in the magnitude or the phase of an STFT, as in PixInWav 2; the part not used
for hiding is carried along (``aux``) so that synthesis can rebuild the waveform.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def _twiddle(n: int, device, dtype) -> torch.Tensor:
    k = torch.arange(n, device=device, dtype=dtype)
    return torch.polar(torch.ones_like(k), -math.pi * k / (2 * n))


def dct2(x: torch.Tensor) -> torch.Tensor:
    """Orthonormal DCT-II over the last dimension (equals scipy.fft.dct(x, norm='ortho'))."""
    n = x.shape[-1]
    v = torch.cat([x[..., ::2], x[..., 1::2].flip(-1)], dim=-1)
    spec = torch.fft.fft(v, dim=-1)
    out = (spec * _twiddle(n, x.device, x.dtype)).real
    scale = torch.full((n,), math.sqrt(2.0 / n), device=x.device, dtype=x.dtype)
    scale[0] = math.sqrt(1.0 / n)
    return out * scale


def idct2(X: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`dct2` (orthonormal DCT-III) over the last dimension, with one real inverse FFT."""
    n = X.shape[-1]
    scale = torch.full((n,), math.sqrt(n / 2.0), device=X.device, dtype=X.dtype)
    scale[0] = math.sqrt(float(n))
    c = X * scale  # c[k] = sum_m x[m] cos(pi k (2m + 1) / 2n)
    h = n // 2 + 1  # the reordered signal is real: half of its spectrum is enough
    c_rev = torch.cat([torch.zeros_like(c[..., :1]), c[..., 1:].flip(-1)], dim=-1)[..., :h]  # c[n - k], c[n] = 0
    spec = torch.complex(c[..., :h], -c_rev) * _twiddle(n, X.device, X.dtype)[:h].conj()
    v = torch.fft.irfft(spec, n, dim=-1)
    if n % 2 == 0:  # undo the even/odd reordering by interleaving the two halves
        return torch.stack([v[..., : n // 2], v[..., n // 2 :].flip(-1)], dim=-1).reshape(v.shape)
    half = (n + 1) // 2
    x = torch.empty_like(v)
    x[..., ::2] = v[..., :half]
    x[..., 1::2] = v[..., half:].flip(-1)
    return x


def make_window(kind: str, length: int) -> torch.Tensor:
    windows = {
        "hamming": lambda: torch.hamming_window(length, periodic=True, dtype=torch.float64),
        "hann": lambda: torch.hann_window(length, periodic=True, dtype=torch.float64),
        "rect": lambda: torch.ones(length, dtype=torch.float64),
    }
    if kind not in windows:
        raise ValueError(f"unknown window {kind!r}; choose one of {sorted(windows)}")
    return windows[kind]()


def num_frames(num_samples: int, frame: int, hop: int) -> int:
    return (num_samples - frame) // hop + 1


def clip_samples(frames: int, frame: int, hop: int) -> int:
    """Samples needed for exactly ``frames`` frames with no padding (paper: 1024 frames -> 67,522)."""
    return frame + (frames - 1) * hop


class STDCT(torch.nn.Module):
    """Short-time DCT-II. ``forward``: ``[B, T] -> [B, frame, N]``; ``inverse``: ``[B, frame, N] -> [B, T]``.

    ``synthesis='paper'`` divides the overlap-added frames by the overlap-added window (PixInWav).
    ``synthesis='least_squares'`` weights each frame by the window and divides by the overlap-added squared
    window: for a spectrogram that no signal has (every container a network writes), this returns the signal
    whose STDCT is closest, i.e. forward(inverse(.)) is the orthogonal projection onto real spectrograms.
    Both are exact on real spectrograms.
    """

    def __init__(self, frame: int = 4096, hop: int = 62, window: str = "hamming", synthesis: str = "paper"):
        super().__init__()
        if frame < 2 or hop < 1 or hop > frame:
            raise ValueError(f"invalid STDCT geometry frame={frame} hop={hop}")
        if synthesis not in ("paper", "least_squares"):
            raise ValueError(f"synthesis must be 'paper' or 'least_squares', got {synthesis!r}")
        self.frame, self.hop, self.synthesis = frame, hop, synthesis
        win = make_window(window, frame)
        if win[0] <= 0:  # without padding, the first sample lies in one frame only, at the window's edge
            raise ValueError(f"window {window!r} is zero at the frame edge, so the STDCT (no padding) cannot be "
                             "inverted; use 'hamming' or 'rect'")
        self.register_buffer("window", win.float(), persistent=False)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        if wave.shape[-1] < self.frame:
            raise ValueError(f"signal of {wave.shape[-1]} samples is shorter than one frame ({self.frame})")
        frames = wave.unfold(-1, self.frame, self.hop) * self.window.to(wave.dtype)  # [B, N, L]
        return dct2(frames).transpose(-1, -2)

    def inverse(self, spec: torch.Tensor) -> torch.Tensor:
        frames = idct2(spec.transpose(-1, -2))  # [B, N, L]
        window = self.window.to(frames.dtype)
        if self.synthesis == "least_squares":
            frames = frames * window
            norm_frame = window * window
        else:
            norm_frame = window
        length = clip_samples(frames.shape[-2], self.frame, self.hop)
        wave = self._overlap_add(frames, length)
        norm = self._overlap_add(norm_frame.expand(1, frames.shape[-2], -1), length)
        return wave / norm

    def _overlap_add(self, frames: torch.Tensor, length: int) -> torch.Tensor:
        lead = frames.shape[:-2]
        cols = frames.reshape(-1, *frames.shape[-2:]).transpose(1, 2)  # [B, L, N]
        out = F.fold(cols, output_size=(1, length), kernel_size=(1, self.frame), stride=(1, self.hop))
        return out.reshape(*lead, length)

    # The container interface shared with STFTContainer: STDCT needs nothing besides the coefficients.
    def analyse(self, wave: torch.Tensor) -> tuple[torch.Tensor, None]:
        return self.forward(wave), None

    def synthesise(self, hidden: torch.Tensor, other: None, length: int) -> torch.Tensor:
        wave = self.inverse(hidden)
        if wave.shape[-1] != length:
            raise ValueError(f"container synthesises {wave.shape[-1]} samples, expected {length}")
        return wave

    def extra_repr(self) -> str:
        return f"frame={self.frame}, hop={self.hop}, synthesis={self.synthesis}"


class STFTContainer(torch.nn.Module):
    """STFT container hiding in ``part='magnitude'`` or ``part='phase'`` (PixInWav 2).

    ``forward``: ``[B, T] -> [B, n_fft // 2 + 1, N]`` (the hidden-in part) and keeps the other part for
    ``inverse``. Use :meth:`analyse` / :meth:`synthesise` to carry that part explicitly.
    """

    def __init__(self, n_fft: int = 2047, hop: int = 132, window: str = "hann", part: str = "magnitude"):
        super().__init__()
        if part not in ("magnitude", "phase"):
            raise ValueError(f"part must be 'magnitude' or 'phase', got {part!r}")
        self.n_fft, self.hop, self.part = n_fft, hop, part
        self.register_buffer("window", make_window(window, n_fft).float(), persistent=False)

    def _stft(self, wave: torch.Tensor) -> torch.Tensor:
        return torch.stft(wave, self.n_fft, self.hop, window=self.window.to(wave.dtype), center=True,
                          return_complex=True)

    def analyse(self, wave: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        spec = self._stft(wave)
        mag, phase = spec.abs(), spec.angle()
        return (mag, phase) if self.part == "magnitude" else (phase, mag)

    def synthesise(self, hidden: torch.Tensor, other: torch.Tensor, length: int) -> torch.Tensor:
        mag, phase = (hidden, other) if self.part == "magnitude" else (other, hidden)
        spec = torch.polar(mag.clamp_min(0), phase)
        return torch.istft(spec, self.n_fft, self.hop, window=self.window.to(mag.dtype), center=True,
                           length=length)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        return self.analyse(wave)[0]
