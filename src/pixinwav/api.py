"""The Python API: ``load_model(name_or_path)``, then ``model.hide(image, audio, sample_rate)`` and
``model.reveal(audio, sample_rate)``.

Audio arrays are ``[T]`` or ``[T, channels]`` floats in [-1, 1] at any rate. The stego audio keeps the cover's
rate, channel count and length: only the model's window (``clip_seconds`` from ``offset``) changes, by one
difference signal added to every channel.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from . import metrics
from .data.audio import resample
from .data.images import MIN_SIDE, prepare_image
from .errors import PixinwavError
from .loader import DEFAULT_MODEL, load_scheme
from .models import StegoScheme

__all__ = ["DEFAULT_MODEL", "HideReport", "Stego", "load_model"]
# Pilot agreement below which reveal says no image is there. Measured by benchmarks/robustness.py: stego windows
# 0.91-0.98 (0.45 under noise at -80 dBFS, where SSIM is still 0.68); MP3 copies, plain covers and windows one
# sample off at most 0.12.
PRESENCE_MIN = 0.25
OFFSET_GRID_S = 0.5  # "--offset auto" hides at, and searches, multiples of this
AUDIBLE_SNR_DB = 25.0  # below this, hide warns (white noise at 30 dB SNR already scores ViSQOL 3.6 on music)


@dataclass
class HideReport:
    snr_db: float  # stego vs cover over the hidden window (all channels)
    snr_file_db: float  # stego vs cover over the whole file
    window: tuple[float, float]  # seconds in the cover where the image lives
    clipped: int = 0  # stego samples (all channels) that had to be clipped to the 16-bit range
    lost_above_hz: float | None = None  # the cover's Nyquist frequency, when the model hides above it

    def warnings(self) -> list[str]:
        """What a user should know about this stego file."""
        out = []
        if self.snr_db < AUDIBLE_SNR_DB:
            out.append(f"the cover is quiet in this window (SNR {self.snr_db:.1f} dB): the hidden image may be audible; "
                       "choose a louder passage with --offset")
        if self.lost_above_hz:
            out.append(f"the cover's sample rate keeps only frequencies under {self.lost_above_hz:.0f} Hz but the model "
                       "hides above that: the revealed image will be degraded; use a cover at 44.1 kHz or more")
        if self.clipped:
            out.append(f"{self.clipped} samples hit full scale and were clipped: the revealed image may show errors; "
                       "lower the cover's volume")
        return out


class Stego:
    """A loaded model with the user-level operations. ``model`` is the underlying :class:`StegoScheme`."""

    def __init__(self, model: StegoScheme, card: dict | None = None, source: str = ""):
        self.model = model.eval()
        self.card = card or {}
        self.source = source
        self.cfg = model.cfg

    @property
    def clip_seconds(self) -> float:
        return self.cfg.clip_samples / self.cfg.sample_rate

    # --- inputs -----------------------------------------------------------------------------------------
    def prepare_image(self, image) -> torch.Tensor:
        """Path, Pillow image, ``[H, W(, C)]`` array (uint8 or float in [0, 1]) or ``[C, H, W]`` tensor ->
        ``[C, size, size]`` model input."""
        if isinstance(image, (str, Path)):
            from .data.images import open_image
            image = open_image(image)
        if isinstance(image, torch.Tensor):
            image = image.detach().cpu().permute(1, 2, 0).numpy() if image.dim() == 3 else image.cpu().numpy()
        if isinstance(image, np.ndarray):
            arr = image
            if arr.dtype != np.uint8:
                arr = (np.clip(arr, 0, 1) * 255).round().astype(np.uint8)
            image = Image.fromarray(arr[..., 0] if arr.ndim == 3 and arr.shape[2] == 1 else arr)
        if not isinstance(image, Image.Image):
            raise PixinwavError(f"cannot use {type(image).__name__} as an image")
        if min(image.size) < MIN_SIDE:
            raise PixinwavError(f"image is {image.size[0]} x {image.size[1]} pixels; need at least {MIN_SIDE} x {MIN_SIDE}")
        return prepare_image(image, self.cfg.image_size, self.cfg.image_channels)

    def _mono(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        """The cover downmixed and resampled to the model rate (done once per call)."""
        audio = np.asarray(audio, dtype=np.float32)
        audio = audio[:, None] if audio.ndim == 1 else audio
        if audio.ndim != 2 or audio.shape[0] == 0:
            raise PixinwavError("audio must be a non-empty [T] or [T, channels] array")
        if not sample_rate or sample_rate <= 0:
            raise PixinwavError(f"invalid sample rate {sample_rate}")
        duration = audio.shape[0] / sample_rate
        if self.clip_seconds > duration + 1e-9:
            raise PixinwavError(f"audio is {duration:.3f} s long; the model needs {self.clip_seconds:.3f} s "
                                "(shorter covers are refused, not padded, so the file keeps its length)")
        return resample(audio.mean(axis=1), sample_rate, self.cfg.sample_rate)

    def _start(self, mono: np.ndarray, offset: float) -> int:
        """The first sample (model rate) of the window at ``offset`` seconds."""
        if offset < 0:
            raise PixinwavError(f"offset must be >= 0 seconds, got {offset}")
        duration = len(mono) / self.cfg.sample_rate
        if offset + self.clip_seconds > duration + 1e-6:
            raise PixinwavError(
                f"audio is {duration:.3f} s long; the model needs {self.clip_seconds:.3f} s starting at {offset:g} s "
                f"(shorter covers are refused, not padded, so the file keeps its length)")
        return max(0, min(int(round(offset * self.cfg.sample_rate)), len(mono) - self.cfg.clip_samples))

    # --- where the image lives ---------------------------------------------------------------------------
    def _grid(self, mono: np.ndarray) -> list[int]:
        """First samples (model rate) of the windows that start on the OFFSET_GRID_S grid and fit in ``mono``."""
        step = int(round(OFFSET_GRID_S * self.cfg.sample_rate))
        return list(range(0, len(mono) - self.cfg.clip_samples + 1, step))

    def loudest_offset(self, mono: np.ndarray) -> float:
        """The grid offset (seconds) of the loudest window of ``mono`` (model rate) that does not come near full
        scale: the louder the cover, the better it masks the image (the modulo scheme's change has a fixed level)."""
        windows = [mono[s:s + self.cfg.clip_samples] for s in self._grid(mono)]
        rms = np.array([np.sqrt(np.mean(np.square(w, dtype=np.float64))) for w in windows])
        headroom = np.array([np.abs(w).max() < 0.95 for w in windows])
        best = int(np.argmax(np.where(headroom, rms, -1.0) if headroom.any() else rms))
        return best * OFFSET_GRID_S

    def find_offset(self, mono: np.ndarray, key: str | None = None) -> float:
        """The grid offset (seconds) whose window of ``mono`` (model rate) the model's pilots recognise; 0 for
        models that cannot tell."""
        if not self.model.has_presence:
            return 0.0
        layout = self.model.layout(key)
        scores = []
        for start in self._grid(mono):
            wave = torch.from_numpy(np.ascontiguousarray(mono[start:start + self.cfg.clip_samples]))
            scores.append(self.model.presence(wave, search=False, layout=layout))
            if scores[-1] is None:
                return 0.0
            if scores[-1] > 0.9:  # an untouched stego window: no need to look further
                break
        best = int(np.argmax(scores))
        if scores[best] < PRESENCE_MIN:
            raise PixinwavError(f"no hidden image found at any multiple of {OFFSET_GRID_S:g} s (best pilot agreement "
                                f"{scores[best]:.2f}); pass the --offset used to hide it")
        return best * OFFSET_GRID_S

    # --- operations ---------------------------------------------------------------------------------------
    def _keyed(self, key: str | None) -> dict:
        if key is None:
            return {}
        if not self.model.takes_key:
            raise PixinwavError("this model takes no key (the modulo and robust schemes do)")
        if not key:
            raise PixinwavError("the key is empty")
        return {"key": key}

    @torch.no_grad()
    def hide(self, image, audio: np.ndarray, sample_rate: int, offset: float | str = 0.0,
             key: str | None = None) -> tuple[np.ndarray, HideReport]:
        """Hide ``image`` in ``audio`` at ``offset`` seconds ("auto": the loudest window on the 0.5 s grid);
        with ``key``, only a receiver with the same key can reveal it, or tell it is there. Returns (stego
        ``[T, channels]`` float32, report)."""
        keyed = self._keyed(key)
        secret = self.prepare_image(image)
        cover = np.asarray(audio, dtype=np.float32)
        cover = cover[:, None] if cover.ndim == 1 else cover
        mono = self._mono(cover, sample_rate)
        if offset == "auto":
            offset = self.loudest_offset(mono)
        start = self._start(mono, offset)
        segment = mono[start:start + self.cfg.clip_samples]
        if not np.any(segment):
            raise PixinwavError(f"the cover is silent from {offset:g} s for {self.clip_seconds:.3f} s; "
                                "an image hidden in silence would be plainly audible")
        wave = torch.from_numpy(segment)[None]
        container = self.model.embed(secret[None], wave, **keyed).container[0].numpy()
        delta = (container - segment).astype(np.float64)
        stego = cover.astype(np.float64)
        if sample_rate == self.cfg.sample_rate:
            at = start
        else:  # take the difference back to the cover's rate, with a margin for the resampler's filter
            margin = self.cfg.sample_rate // 10
            delta = resample(np.pad(delta, margin), self.cfg.sample_rate, sample_rate).astype(np.float64)
            at = int(round((start - margin) * sample_rate / self.cfg.sample_rate))
        lo, hi = max(at, 0), min(at + len(delta), cover.shape[0])
        stego[lo:hi] += delta[lo - at:hi - at, None]
        clipped = int(np.count_nonzero((stego < -1.0) | (stego > 32767 / 32768)))
        stego = np.clip(stego, -1.0, 32767 / 32768).astype(np.float32)
        window_start = start / self.cfg.sample_rate
        seg = slice(int(window_start * sample_rate), int((window_start + self.clip_seconds) * sample_rate))
        report = HideReport(metrics.snr(cover[seg], stego[seg]), metrics.snr(cover, stego),
                            (window_start, window_start + self.clip_seconds), clipped,
                            sample_rate / 2 if sample_rate / 2 < self.model.top_frequency else None)
        return stego, report

    @torch.no_grad()
    def reveal(self, audio: np.ndarray, sample_rate: int, offset: float | str = 0.0, check: bool = True,
               key: str | None = None) -> torch.Tensor:
        """Reveal the image hidden at ``offset`` seconds ("auto": the window the model's pilots recognise on the
        0.5 s grid, or 0 for models without pilots) with the ``key`` it was hidden with, if any; returns
        ``[C, H, W]`` in [0, 1]. With ``check``, a model that can tell (the modulo scheme's pilots) refuses
        audio where no image is hidden at that offset (or not with that key)."""
        keyed = self._keyed(key)
        mono = self._mono(audio, sample_rate)
        if offset == "auto":
            offset = self.find_offset(mono, key)
        start = self._start(mono, offset)
        wave = torch.from_numpy(np.ascontiguousarray(mono[start:start + self.cfg.clip_samples]))[None]
        image, presence = self.model.extract(wave, **keyed)
        if check and presence is not None and (score := float(presence[0])) < PRESENCE_MIN:
            raise PixinwavError(
                f"no hidden image found at {offset:g} s (pilot agreement {score:.2f}; a stego window scores about "
                "0.98): was it hidden at another --offset (try --offset auto) or with another --key, or has the file "
                "been through a lossy codec?")
        return image[0].clamp(0, 1)


def load_model(name_or_path: str | Path | None = None) -> Stego:
    """A shipped model by name (default: the package's default model, hash-checked) or a model / checkpoint file."""
    model, card, path = load_scheme(name_or_path)
    return Stego(model, card, str(path))
