"""The Python API: ``load_model(name_or_path)``, then ``model.hide(image, audio, sample_rate)`` and
``model.reveal(audio, sample_rate)``; with models that carry files, ``model.hide_file(path_or_HiddenFile, audio,
sample_rate)`` and ``model.reveal_payload(audio, sample_rate)`` (an image or the file, exactly).

Audio arrays are ``[T]`` or ``[T, channels]`` floats in [-1, 1] at any rate; images come back as ``[C, H, W]``
float32 arrays in [0, 1]. The stego audio keeps the cover's
rate, channel count and length: only the model's window (``clip_seconds`` from ``offset``) changes, by one
difference signal added to every channel.
"""
from __future__ import annotations

import functools
import math
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image

from . import metrics
from .arrays import as_numpy
from .channel import PCM16_SCALE, pcm16_mono, pcm16_round_trip
from .data.audio import resample
from .data.images import MIN_SIDE, prepare_array, to_array
from .errors import NotFound, PixinwavError
from .hidden_file import HiddenFile
from .loader import DEFAULT_MODEL, load_scheme
from .models import Sent, StegoScheme
from .models.base import DAMAGED, EXACT, INTACT, UNCHECKED
from .threads import one_blas_thread

__all__ = ["DEFAULT_MODEL", "HiddenFile", "HideReport", "Revealed", "Stego", "load_model"]
# Pilot agreement thresholds of `reveal`, from the distributions benchmarks/robustness.py measures (8 validation
# pairs): intact windows 0.96-0.98 (0.91 after -6 dB, 0.80 under 1 LSB of noise); under noise at -80 dBFS
# 0.45-0.47 (SSIM 0.68: damaged but useful); clipped covers 0.30-0.58; a second image hidden over half the
# window 0.22-0.33 (SSIM 0.16: nothing left); MP3 copies, plain covers and windows one sample off at most 0.12.
PRESENCE_MIN = 0.35  # below: "no hidden image found"
PRESENCE_INTACT = 0.8  # below: the image is written with a warning that it is damaged
BAND_LIMIT_FRACTION = 0.9  # of a low-rate cover's Nyquist frequency: above it, resampling filters eat the change
OFFSET_GRID_S = 0.5  # "--offset auto" hides at, and searches, multiples of this
ADD_BLOCK = 1 << 20  # samples per block where the change is added to the cover
SCAN_BATCH = 16  # windows per batched DCT in the --offset auto scan (16 x 67,522 float64: 9 MB, plus FFT buffers)
POOR_SSIM = 0.6  # an adaptive model's hide warns when its own read-back of the stego is worse than this
MAX_RATE = 1_000_000  # Hz: more is not an audio sample rate (768 kHz is the highest in use)
# A stego whose change is louder than the music it hides in is refused, not written: a nearly silent cover (dither
# at +-1 LSB) took the default model's image 30 dB over the music. (Cover-adaptive models scale the change with the
# music, so they pass; they warn when a quiet cover carries the image poorly.)
MIN_SNR_DB = 0.0
# hide --survive: stegos made and read back through the attacks before the photo is given up on; each next photo takes
# the share of packets that came back times this (a smaller photo's own packets fare a little differently)
SURVIVE_TRIES = 3
SURVIVE_MARGIN = 0.9
AUDIBLE_SNR_DB = 25.0  # below this, hide warns (white noise at 30 dB SNR already scores ViSQOL 3.6 on music)


class Added(NamedTuple):
    """What :meth:`Stego._add` returns."""

    stego: np.ndarray  # [T, channels] float32
    clipped: int  # samples the change took beyond 16-bit full scale (clipped)
    snr: float  # dB, stego against the cover, over the whole file
    cover_power: float  # the cover's mean square


@dataclass
class HideReport:
    snr_db: float  # stego vs cover over the hidden window (all channels)
    snr_file_db: float  # stego vs cover over the whole file
    window: tuple[float, float]  # seconds in the cover where the image lives
    clipped: int = 0  # stego samples (all channels) that had to be clipped to the 16-bit range
    lost_above_hz: float | None = None  # the cover's Nyquist frequency, when the model hides above it
    payload: Sent | None = None  # whole-file models: what was sent, and where
    cover_over_full_scale: int = 0  # samples of a float cover beyond [-1, 1]: any 16-bit file clips them
    change_lsb: float | None = None  # window models: RMS of the change in 16-bit steps (under 0.5 the file's rounding
    # takes most of it: a model whose change follows the cover's level, in a nearly silent cover)
    overwritten: float | None = None  # pilot agreement of an image that was already in the window (now lost)
    band_limit_hz: float | None = None  # a low-rate cover: the image went into the band under this, with fewer codes
    # cover-adaptive models: the SSIM the receiver will get (the sender reads its own stego); their change follows
    # the cover's masking, so a low SNR is not a sign of audibility
    expected_ssim: float | None = None
    image_bytes: int | None = None  # models that send the image as a compressed file: its size (0: none fitted)
    presence: float | None = None  # adaptive models: the presence score `reveal` will measure (its pilots)
    sample_rate: int | None = None  # the stego's rate, where it is not the cover's (set with resampled_from)
    resampled_from: int | None = None  # the cover's rate, for models that write their own rate only

    def warnings(self) -> list[str]:
        """What a user should know about this stego file."""
        out = []
        if self.presence is not None and self.presence < PRESENCE_MIN:
            out.append(f"the cover is too quiet in this window: `reveal` will not find the image there (its pilots "
                       f"agree {self.presence:.2f}; {PRESENCE_MIN} is needed); choose a louder passage (--offset auto)")
        elif self.image_bytes == 0:
            out.append("the cover is too quiet in this window to carry the image (not even the smallest image file "
                       "fits): the receiver will not decode it; choose a louder passage (--offset auto) or another model")
        elif self.expected_ssim is not None and self.expected_ssim < POOR_SSIM:
            out.append(f"the cover is too quiet in this window to carry the image: the receiver will get it at SSIM "
                       f"{self.expected_ssim:.2f}; choose a louder passage (--offset auto) or the default model")
        # whole-file and cover-adaptive models follow the music's masking: their SNR says nothing about audibility
        if self.snr_db < AUDIBLE_SNR_DB and self.payload is None and self.expected_ssim is None:
            out.append(f"the cover is quiet in this window (SNR {self.snr_db:.1f} dB): the hidden image may be audible; "
                       "choose a louder passage with --offset")
        if self.lost_above_hz:
            out.append(f"the cover's sample rate keeps only frequencies under {self.lost_above_hz:.0f} Hz but the model "
                       "hides above that: the revealed image will be degraded; use a cover at 44.1 kHz or more")
        if self.clipped and self.payload is not None:  # whole-song models send a coded payload: all or nothing
            out.append(f"{self.clipped} samples hit full scale and were clipped: the payload's error correction usually "
                       "absorbs that, but if `reveal` finds nothing, lower the cover's volume")
        elif self.clipped:
            out.append(f"{self.clipped} samples hit full scale and were clipped: the revealed image may show errors; "
                       "lower the cover's volume")
        p = self.payload
        if p and p.asked_seconds and p.asked_seconds > p.seconds_used + 0.5:
            out.append(f"--seconds {p.asked_seconds:g} is longer than the song: "
                       + (f"one copy of {p.copy_seconds:.1f} s fits in its {p.seconds_used:.1f} s" if p.copy_seconds
                          else f"its {p.seconds_used:.1f} s carry every packet once"))
        if self.band_limit_hz is not None:
            nyquist = self.band_limit_hz / BAND_LIMIT_FRACTION
            out.append(f"the cover's sample rate keeps only frequencies under {nyquist:.0f} Hz: the image is hidden "
                       f"under {self.band_limit_hz:.0f} Hz with fewer coefficients, so it comes back less sharp than "
                       "from a 44.1 kHz cover")
        if self.overwritten is not None:
            out.append(f"this window already carried a hidden image (pilot agreement {self.overwritten:.2f}); the new "
                       "image replaces it, and the old one can no longer be revealed")
        if self.resampled_from:
            out.append(f"the cover is at {self.resampled_from} Hz; this model writes its stego at {self.sample_rate} Hz "
                       "(its mark lives in the exact 16-bit samples, which a resampler would erase)")
        if p and p.original and p.original != (p.width, p.height):
            w, h = p.original
            out.append(f"the photo is {w} x {h}; the song carries it at {p.width} x {p.height} (longer or louder music "
                       "carries more, or pass a smaller --max-side)")
        if self.change_lsb is not None and self.change_lsb < 0.5 and self.expected_ssim is None:
            out.append(f"the hidden signal is only {self.change_lsb:.2f} of a 16-bit step (RMS) in this quiet window: the "
                       "file's rounding takes most of it and the image will come back poorly; choose a louder passage")
        if self.cover_over_full_scale:
            out.append(f"the cover has {self.cover_over_full_scale} samples beyond full scale (a float file); the 16-bit "
                       "output clips them there, as any 16-bit writer would; what is hidden is not affected")
        return out


@dataclass
class Revealed:
    """What a stego file holds: an image (``[C, H, W]`` in [0, 1]) or, from models that carry files, a file exactly.
    ``verdict`` says how far to trust it, in one word (``models.base``): "exact" (bytes that passed their checksum),
    "intact" (analog codes whose pilots agree as an unchanged stego's do), "damaged" (given back with a warning) or
    "unchecked" (the model cannot tell); ``detail`` is one line on what was found and where."""

    image: np.ndarray | None  # [C, H, W] float32
    file: HiddenFile | None
    detail: str
    verdict: str

    @property
    def damaged(self) -> bool:
        return self.verdict == DAMAGED

    def line(self) -> str:
        """The detail as a person reads it: it starts with "warning: " when the image is damaged."""
        return f"warning: {self.detail}" if self.damaged else self.detail


def inference(method):
    """The call under the scheme's inference context (a net scheme's: no autograd)."""
    @functools.wraps(method)
    def inner(self, *args, **kwargs):
        with self.model.inference():
            return method(self, *args, **kwargs)
    return inner


class Stego:
    """A loaded model with the user-level operations. ``model`` is the underlying :class:`StegoScheme`."""

    def __init__(self, model: StegoScheme, card: dict | None = None, source: str = ""):
        self.model = model.eval()
        self.card = card or {}
        self.source = source
        self.cfg = model.cfg

    @property
    def whole_file(self) -> bool:
        """The model fills the whole song and needs no offset (see :class:`StegoScheme`)."""
        return self.model.whole_file

    @property
    def full_image(self) -> bool:
        """The model sends the photo at its own size and reveals it at the size sent (see :class:`StegoScheme`)."""
        return self.model.full_image

    @property
    def clip_seconds(self) -> float:
        """The model's window, or for whole-file models the shortest cover they take."""
        return self.model.min_cover_samples / self.cfg.sample_rate

    # --- inputs -----------------------------------------------------------------------------------------
    def prepare_image(self, image) -> np.ndarray:
        """Path, Pillow image, ``[H, W(, C)]`` array (uint8 or float in [0, 1]) or ``[C, H, W]`` tensor ->
        the model input, float32 in [0, 1]: ``[C, size, size]`` (a centred square crop), or for models that take
        the photo at its own size (``full_image``) ``[C, H, W]``."""
        image = self._as_pil(image, self.model.max_side)
        if self.model.full_image:
            return np.ascontiguousarray(to_array(image, self.cfg.image_channels).transpose(2, 0, 1))
        return prepare_array(image, self.cfg.image_size, self.cfg.image_channels)

    @staticmethod
    def _as_pil(image, long_side: int | None = None) -> Image.Image:
        if isinstance(image, (str, Path)):
            from .data.images import open_image
            image = open_image(image, long_side=long_side)
        if hasattr(image, "detach"):  # a torch tensor
            image = image.detach().cpu().numpy()
        if isinstance(image, np.ndarray):
            image = Image.fromarray(image_array(image))
        if not isinstance(image, Image.Image):
            raise PixinwavError(f"cannot use {type(image).__name__} as an image (a path, a Pillow image, an array or a "
                                "tensor)")
        if min(image.size) < MIN_SIDE:
            raise PixinwavError(f"image is {image.size[0]} x {image.size[1]} pixels; need at least {MIN_SIDE} x {MIN_SIDE}")
        return image

    def _mono(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        """The cover downmixed and resampled to the model rate (done once per call)."""
        return resample(self._checked(audio, sample_rate).mean(axis=1), sample_rate, self.cfg.sample_rate)

    def _song_mono(self, cover: np.ndarray, sample_rate: int) -> np.ndarray:
        """A whole-song model's view of the cover: its downmix at the model's rate, or, for a model that writes its
        own rate, the cover itself (checked), downmixed later as the file will hold it."""
        return self._checked(cover, sample_rate) if self.model.writes_model_rate else self._mono(cover, sample_rate)

    def _checked(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        """``audio`` as ``[T, channels]`` float32, refused with a reason when it is not audio this model takes."""
        audio = audio_array(audio)
        check_rate(sample_rate)
        self.check_length(audio.shape[0], sample_rate)
        return audio

    def check_length(self, frames: int, sample_rate: int, offset: float = 0.0) -> None:
        """Refuse audio too short for the model (from ``offset`` seconds on), in seconds and samples."""
        duration = frames / sample_rate
        if offset < 0:
            raise PixinwavError(f"offset must be >= 0 seconds, got {offset}")
        if offset + self.clip_seconds > duration + 1e-6:
            need = int(np.ceil(self.clip_seconds * sample_rate))
            start = f" starting at {offset:.6f} s" if offset else ""
            raise PixinwavError(f"audio is {duration:.3f} s long ({frames:,} samples at {sample_rate} Hz); the model "
                                f"needs {self.clip_seconds:.3f} s ({need:,} samples){start}: shorter covers are refused, "
                                "not padded, so the file keeps its length")

    def _start(self, mono: np.ndarray, offset: float) -> int:
        """The first sample (model rate) of the window at ``offset`` seconds."""
        self.check_length(len(mono), self.cfg.sample_rate, offset)
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
        return loudest(rms, np.array([np.abs(w).max() for w in windows])) * OFFSET_GRID_S

    def find_offset(self, mono: np.ndarray, key: str | None = None, band_limit_hz: float | None = None) -> float:
        """The grid offset (seconds) whose window of ``mono`` (model rate) the model's pilots recognise; an error for
        models that cannot tell."""
        starts = self._grid(mono)
        batches = (np.stack([mono[s:s + self.cfg.clip_samples] for s in starts[chunk:chunk + SCAN_BATCH]])
                   for chunk in range(0, len(starts), SCAN_BATCH))
        return self.scan(batches, key, band_limit_hz)

    def scan(self, batches, key: str | None = None, band_limit_hz: float | None = None) -> float:
        """The grid offset (seconds) of the window the pilots recognise, from ``batches`` of consecutive grid
        windows ``[W, T]`` (model rate; batched DCTs: a 10-minute file scans in seconds); an error for models
        that cannot tell (they would read a window that is not the one hidden)."""
        cannot = PixinwavError("this model cannot find its window by itself (it has no pilots to recognise it by): "
                               "reveal with the --offset that hide printed")
        if not self.model.has_presence:
            raise cannot
        scores: list[float] = []
        for batch in batches:
            found = self.model.presence_many(np.ascontiguousarray(batch), key, band_limit_hz)
            if found is None:  # too few pilots to tell (tiny test geometries)
                raise cannot
            scores += found.tolist()
            if max(scores) > 0.9:  # an untouched stego window: no need to look further
                break
        if not scores:
            raise PixinwavError("the audio is too short for any window on the offset grid")
        best = int(np.argmax(scores))
        if scores[best] < PRESENCE_MIN:
            raise NotFound(f"no hidden image found at any multiple of {OFFSET_GRID_S:g} s (best pilot agreement "
                                f"{scores[best]:.2f}); pass the --offset used to hide it")
        return best * OFFSET_GRID_S

    @inference
    @one_blas_thread
    def presence_at(self, audio: np.ndarray, sample_rate: int, offset: float = 0.0, key: str | None = None) -> float:
        """A window model's pilot agreement at ``offset`` seconds (a stego window scores about 0.98, other audio
        about 0); an error for models without pilots, or audio too short for the window."""
        if self.model.whole_file or not self.model.has_presence:
            raise PixinwavError("this model has no window pilots to measure")
        mono = self._mono(audio, sample_rate)
        start = self._start(mono, check_offset(offset))
        wave = np.ascontiguousarray(mono[start:start + self.cfg.clip_samples])[None]
        found = self.model.presence_many(wave, self._keyed(key).get("key"), **self._band(sample_rate))
        if found is None:
            raise PixinwavError("this model has too few pilots to tell")
        return float(found[0])

    # --- operations ---------------------------------------------------------------------------------------
    def _band(self, sample_rate: int) -> dict:
        """``band_limit_hz`` for schemes that follow the cover's band, when the cover's rate is too low for all of
        the model's band (the receiver derives the same from the file's rate)."""
        limit = BAND_LIMIT_FRACTION * sample_rate / 2
        return {"band_limit_hz": limit} if self.model.follows_band_limit and limit < self.model.top_frequency else {}

    def _keyed(self, key: str | None) -> dict:
        if key is None:
            return {}
        if not isinstance(key, str):
            raise PixinwavError(f"key must be a string (a passphrase), got {type(key).__name__}")
        if not self.model.takes_key:
            raise PixinwavError("this model takes no key (every shipped model but pixinwav-small-v0 does)")
        if not key:
            raise PixinwavError("the key is empty")
        return {"key": unicodedata.normalize("NFC", key)}  # the same passphrase from any keyboard or file system

    @inference
    @one_blas_thread
    def hide(self, image, audio: np.ndarray, sample_rate: int, offset: float | str = 0.0,
             key: str | None = None, seconds: float | None = None, quality: int | None = None,
             max_side: int | None = None, in_place: bool = False,
             survive: str | None = None) -> tuple[np.ndarray, HideReport]:
        """Hide ``image`` in ``audio`` at ``offset`` seconds ("auto": the loudest window on the 0.5 s grid);
        with ``key``, only a receiver with the same key can reveal it, or tell it is there. Whole-file models
        (``pixinwav-robust-v1``) take no offset: they fill the song, one copy of the payload per ``seconds`` of
        music, the image compressed at the best quality that fits (or at ``quality``); ``pixinwav-modulo-v2`` sends
        the photo at its own size, or with its long side at most ``max_side``; ``pixinwav-robust-v2`` the photo at
        its own aspect ratio, as large as ``seconds`` of music carry (default: the song over 1.5). Returns (stego
        ``[T, channels]`` float32, report; the stego is at the cover's rate unless ``report.sample_rate`` says otherwise).
        ``in_place``: a whole-song model may write the stego into ``audio`` itself (a float32 ``[T, channels]``
        array the caller no longer needs; afterwards it holds the stego or, after an error, part of it): a
        10-minute stereo song is then not held twice (212 MB at 44.1 kHz). ``survive`` (models that size their photo
        to it, the robust song models): attacks as ``pixinwav eval --attacks`` names them ("aac:64,opus:32"); the
        stego is read back through each, and a smaller photo sent until it comes back after all of them."""
        keyed, offset, sample_rate = self._keyed(key), check_offset(offset), check_rate(sample_rate)
        given = self.check_options({"seconds": seconds, "quality": quality, "max_side": max_side, "survive": survive})
        secret = self.prepare_image(image)
        cover, beyond = self._cover(audio)
        if self.model.whole_file:  # (a model that writes its own rate downmixes the cover as the file holds it)
            mono = self._song_mono(cover, sample_rate)
            if offset not in (0, 0.0):
                raise PixinwavError("this model fills the whole song and finds the image anywhere: drop --offset")
            owned = in_place or not np.may_share_memory(cover, audio)
            stego, report = self._hide_whole(secret, cover, mono, sample_rate, keyed, given, owned)
            report.cover_over_full_scale = beyond
            return stego, report
        mono = self._mono(cover, sample_rate)
        if offset == "auto":
            offset = self.loudest_offset(mono)
        start = self._start(mono, offset)
        segment = mono[start:start + self.cfg.clip_samples]
        on_grid = self.model.whole_step_changes and sample_rate == self.cfg.sample_rate
        if on_grid:  # the window as the 16-bit file will hold it, downmixed as the receiver will downmix it
            segment = pcm16_round_trip(cover[start:start + len(segment)]).mean(axis=1)
        first = int(start * sample_rate / self.cfg.sample_rate)
        region = cover[first:first + int(np.ceil(self.clip_seconds * sample_rate))]
        if not np.any(region):  # every channel silent
            raise PixinwavError(f"the cover is silent from {offset:.6f} s for {self.clip_seconds:.3f} s; "
                                "an image hidden in silence would be plainly audible")

        wave = segment[None]
        band = self._band(sample_rate)
        found = self.model.presence_many(wave, keyed.get("key"), **band) if self.model.has_presence else None
        existing = None if found is None else float(found[0])
        window_start = start / self.cfg.sample_rate
        # A compressed image is all or nothing: if resampling to the cover's rate spoils it, send a smaller one.
        rooms = (1.0, 0.7, 0.5) if self.model.takes_room and sample_rate != self.cfg.sample_rate else (None,)
        for room in rooms:
            hidden = self.model.embed(secret[None], wave, **keyed, **band, **({} if room is None else {"room": room}))
            stego, clipped, snr_file, _ = self._add(cover, as_numpy(hidden.container)[0] - segment, start, sample_rate,
                                                    on_grid)
            expected = self._expected_ssim(hidden, secret, stego, sample_rate, window_start, keyed)
            if expected != 0.0:
                break
        seg = slice(int(window_start * sample_rate), int((window_start + self.clip_seconds) * sample_rate))
        snr = metrics.snr(cover[seg], stego[seg])
        refuse_louder_than_music(snr, float(np.mean(np.square(cover[seg], dtype=np.float64))),
                                 f"from {window_start:.6f} s for {self.clip_seconds:.3f} s")
        sent = hidden.window_sent[0] if hidden.window_sent else None
        report = HideReport(snr, snr_file,
                            (window_start, window_start + self.clip_seconds), clipped,
                            None if band or sample_rate / 2 >= self.model.top_frequency else sample_rate / 2,
                            cover_over_full_scale=beyond,
                            band_limit_hz=band.get("band_limit_hz"),
                            overwritten=existing if existing is not None and existing >= PRESENCE_MIN else None,
                            expected_ssim=expected, image_bytes=sent.bytes if sent else None,
                            presence=sent.presence if sent and sample_rate == self.cfg.sample_rate else None,
                            change_lsb=float(np.sqrt(np.mean(np.square(stego[seg] - cover[seg], dtype=np.float64))))
                            * PCM16_SCALE)
        return stego, report

    @inference
    @one_blas_thread
    def hide_file(self, file: HiddenFile | str | Path, audio: np.ndarray, sample_rate: int,
                  key: str | None = None, in_place: bool = False, survive: str | None = None) -> tuple[np.ndarray, HideReport]:
        """Hide a file bit-exact (a :class:`HiddenFile`, or a path) in the whole song, with models that carry files
        (``pixinwav-modulo-v2``, ``pixinwav-robust-v2``); ``reveal_payload`` gives it back. Returns (stego
        ``[T, channels]``, report), as :meth:`hide` (``in_place`` and ``survive`` too: a file that does not come back
        after the attacks is refused, saying how much would)."""
        from . import hidden_file

        if not self.model.carries_files:
            raise PixinwavError("this model carries images only; hiding a file needs pixinwav-adaptive-v3, pixinwav-modulo-v2 "
                                "or pixinwav-robust-v2")
        keyed, sample_rate = self._keyed(key), check_rate(sample_rate)
        if not isinstance(file, HiddenFile):
            file = hidden_file.read(file)
        if not file.data:
            raise PixinwavError("the file is empty: there is nothing to hide")
        cover, beyond = self._cover(audio)
        mono = self._song_mono(cover, sample_rate)
        stego, report = self._hide_whole(file, cover, mono, sample_rate, keyed, self.check_options({"survive": survive}),
                                         in_place or not np.may_share_memory(cover, audio))
        report.cover_over_full_scale = beyond
        return stego, report

    @staticmethod
    def _cover(audio: np.ndarray) -> tuple[np.ndarray, int]:
        """(the cover as ``[T, channels]`` float32 within 16-bit full scale, samples that were beyond it)."""
        cover = audio_array(audio)
        beyond = over_full_scale(cover)
        if beyond:  # the 16-bit file will clip these samples: hide in the cover as the file will hold it, since a
            # modulo code sees a 19-sample overshoot in every coefficient of its window (v1 lost its image so)
            cover = np.clip(cover, -1.0, 32767 / 32768)
        return cover, beyond

    def check_options(self, options: dict) -> dict:
        """The hide options that are set (not None); an error naming the model that takes one this model does not."""
        given = {name: value for name, value in options.items() if value is not None}
        allowed = self.model.hide_options + (("survive",) if self.model.sizes_to_survive else ())
        for name in given:
            if name not in allowed:
                users = {"max_side": "pixinwav-adaptive-v3, pixinwav-modulo-v2 or pixinwav-robust-v2 / v3 / v4",
                         "seconds": "pixinwav-robust-v1, v2, v3 or v4",
                         "quality": "pixinwav-robust-v1 or pixinwav-adaptive-v3",
                         "survive": "pixinwav-robust-v4, v3 or v2"}[name]
                raise PixinwavError(f"--{name.replace('_', '-')} does not apply to this model ({users} takes it)")
        return given

    def _expected_ssim(self, hidden, secret: np.ndarray, stego: np.ndarray, sample_rate: int, window_start: float,
                       keyed: dict) -> float | None:
        """The SSIM the receiver will get, for schemes that read their own stego. Their reading assumes a file at
        the model's rate; from a cover at another rate, the stego is read here as `pixinwav reveal` reads it (the
        16-bit file brought back to the model's rate), from a region whose start maps onto a whole model sample."""
        expected = hidden.window_sent[0].expected_ssim if hidden.window_sent else None
        if expected is None or sample_rate == self.cfg.sample_rate:
            return expected
        grid = sample_rate // math.gcd(sample_rate, self.cfg.sample_rate)
        a = max(0, int((window_start - 0.5) * sample_rate)) // grid * grid
        b = min(len(stego), int(np.ceil((window_start + self.clip_seconds + 0.5) * sample_rate)))
        try:
            revealed = self.reveal(pcm16_round_trip(stego[a:b]), sample_rate, offset=window_start - a / sample_rate,
                                   check=False, **keyed)
        except PixinwavError:  # a compressed image that does not survive the resampling: nothing will be revealed
            return 0.0
        return float(metrics.ssim(revealed[None], secret[None].astype(revealed.dtype))[0])

    def _add(self, cover: np.ndarray, delta: np.ndarray, start: int, sample_rate: int,
             on_grid: bool = False, in_place: bool = False) -> Added:
        """The cover plus a difference signal made at the model's rate from sample ``start`` on, brought to the
        cover's rate and added to every channel, clipped to 16 bits; ``on_grid``: added to the cover's samples
        as a 16-bit file holds them; ``in_place``: written into ``cover`` itself (a whole song is then not held
        twice), else into a copy. The SNR over the whole file is taken on the way, block by block."""
        delta = np.asarray(delta)
        if sample_rate == self.cfg.sample_rate:
            at = start
        else:  # take the difference back to the cover's rate, with a margin for the resampler's filter
            margin = self.cfg.sample_rate // 10
            # (float32, as the resampler returns it: added to the float64 cover block by block, exactly as a float64
            # copy of it would be, without a whole song at double width)
            delta = resample(np.pad(delta.astype(np.float64), margin), self.cfg.sample_rate, sample_rate)
            at = int(round((start - margin) * sample_rate / self.cfg.sample_rate))
        lo, hi = max(at, 0), min(at + len(delta), cover.shape[0])
        part = delta[lo - at:hi - at]
        if sample_rate != self.cfg.sample_rate and self.model.whole_step_changes:  # rounded the scheme's way
            # the downmix of the channels as the file will hold them (not rounded again: that would add a floor
            # the file does not have, and the rounding would be shaped against it)
            mono = pcm16_round_trip(cover[lo:hi]).astype(np.float64).mean(axis=1) * PCM16_SCALE
            part = self.model.whole_steps(part.astype(np.float64) * PCM16_SCALE, mono) / PCM16_SCALE
        stego, clipped = cover if in_place and cover.flags.writeable else cover.copy(), 0
        power = float(np.sum(np.square(cover[:lo], dtype=np.float64)) + np.sum(np.square(cover[hi:], dtype=np.float64)))
        noise = 0.0
        for a in range(lo, hi, ADD_BLOCK):  # float64 a block at a time: a whole song is not copied at double width
            b = min(a + ADD_BLOCK, hi)
            before = cover[a:b].astype(np.float64)
            window = (pcm16_round_trip(cover[a:b]).astype(np.float64) if on_grid else before) + part[a - lo:b - lo, None]
            # `hide` clipped a float cover that went beyond full scale, so whatever is over now, the change put there
            clipped += int(np.count_nonzero((window < -1.0) | (window > 32767 / 32768)))
            stego[a:b] = np.clip(window, -1.0, 32767 / 32768)
            power += float(np.sum(np.square(before)))
            noise += float(np.sum(np.square(stego[a:b] - before)))
        return Added(stego, clipped, metrics.snr_of(power, noise), power / max(cover.size, 1))

    def _hide_whole(self, secret: np.ndarray | HiddenFile, cover: np.ndarray, mono: np.ndarray, sample_rate: int,
                    keyed: dict, options: dict, owned: bool = False) -> tuple[np.ndarray, HideReport]:
        """A whole-file model's hide of an image ``[C, H, W]`` or a file; ``owned``: ``cover`` may become the stego."""
        seconds, quality = options.get("seconds"), options.get("quality")
        if seconds is not None and not (np.isfinite(seconds) and seconds > 0):
            raise PixinwavError(f"--seconds must be a positive number of seconds, got {seconds}")
        if quality is not None and not 0 <= quality <= 100:
            raise PixinwavError(f"--quality must lie in 0-100, got {quality}")
        if not np.any(mono):
            raise PixinwavError("the cover is silent; an image hidden in silence would be plainly audible")

        if BAND_LIMIT_FRACTION * sample_rate / 2 < self.model.top_frequency:  # the payload would be cut off
            need = int(np.ceil(2 * self.model.top_frequency / BAND_LIMIT_FRACTION / 1000))
            raise PixinwavError(f"the cover's sample rate ({sample_rate} Hz) keeps only frequencies under "
                                f"{sample_rate / 2:.0f} Hz; this model writes up to {self.model.top_frequency:.0f} Hz: "
                                f"use a cover sampled at {need} kHz or more")
        written_rate = None
        if self.model.writes_model_rate:  # its mark lives in the exact 16-bit samples at the model's rate
            if sample_rate != self.cfg.sample_rate:
                written_rate = sample_rate
                at_rate = resample(cover, sample_rate, self.cfg.sample_rate)
                if owned and cover.flags.c_contiguous and cover.flags.writeable and at_rate.size <= cover.size:
                    # into the cover's own memory (a lower rate fits): the song is not held at both rates
                    cover.reshape(-1)[:at_rate.size] = at_rate.reshape(-1)
                    at_rate = cover.reshape(-1)[:at_rate.size].reshape(at_rate.shape)
                cover, sample_rate, owned = at_rate, self.cfg.sample_rate, True
                del at_rate
            mono = pcm16_mono(cover)  # the downmix the receiver will read from the file
        if self.model.writes_model_rate:  # the channels as the file holds them: none may clip
            options = {**options, "channels": cover}
        attacks = self._survive_attacks(options.pop("survive", None))
        is_file, share, checked = isinstance(secret, HiddenFile), 1.0, 0
        while True:
            if is_file:
                hidden = self.model.embed_file(secret, mono[None], **keyed, **options)
            else:
                hidden = self.model.embed(secret[None], mono[None], **options, **keyed,
                                          **({"share": share} if share < 1.0 else {}))
            payload, change = hidden.sent, hidden.change
            payload.asked_seconds = options.get("seconds")  # what was asked, to say when the song was shorter
            if change is None:  # (a scheme that gave its container)
                change = as_numpy(hidden.container)[0]
                if change.dtype == mono.dtype and change.flags.writeable and not np.shares_memory(change, mono):
                    change -= mono  # in place, and the downmix let go: a whole song's copies are what peak memory is
                else:
                    change = change - mono
            del hidden
            if not attacks:  # (the last pass: a 10-minute song's downmix goes before the stego is made)
                del mono
            stego, clipped, snr, power = self._add(cover, change, 0, sample_rate, self.model.writes_model_rate,
                                                   owned and not attacks)
            del change
            if not attacks:
                break
            arrived, limit = self._survival(stego, sample_rate, attacks, keyed)
            checked += 1
            if arrived >= 1.0:
                from .attacks import describe

                payload.survives = ", ".join(describe(*attack) for attack in attacks) + \
                    (f" ({checked} tries)" if checked > 1 else "")
                break
            if is_file or arrived == 0.0 or checked == SURVIVE_TRIES:
                kept = f"; about {int(payload.bytes * arrived):,} of its {payload.bytes:,} bytes would" \
                    if is_file and arrived else ""
                raise PixinwavError(f"{'the file' if is_file else 'the photo'} does not come back after {limit} in this song: "
                                    f"{100 * min(arrived, 1.0):.0f} % of the packets it needs arrived{kept}; use a longer "
                                    "or louder song or a milder --survive")
            share *= arrived * SURVIVE_MARGIN  # the packets that came back, with a margin: the next photo's bytes
            del stego  # (before the next one is made: a whole song less at the peak)
        refuse_louder_than_music(snr, power, "")
        duration = cover.shape[0] / sample_rate
        return stego, HideReport(snr, snr, (0.0, duration), clipped,
                                 sample_rate / 2 if sample_rate / 2 < self.model.top_frequency else None,
                                 payload=payload,
                                 sample_rate=sample_rate if written_rate else None, resampled_from=written_rate)

    @staticmethod
    def _survive_attacks(survive: str | None) -> list[tuple[str, float]]:
        """``--survive``'s attacks ("aac:64,opus:32"; a name alone: all its strengths), or [] without it."""
        if survive is None:
            return []
        from .attacks import parse_attacks

        attacks = parse_attacks(survive)
        if not attacks:
            raise PixinwavError("--survive names no attack: give one or more as NAME:STRENGTH, e.g. aac:64,opus:32")
        return attacks

    def _survival(self, stego: np.ndarray, sample_rate: int, attacks: list[tuple[str, float]],
                  keyed: dict) -> tuple[float, str]:
        """(the smallest share of the payload's packets that came back, the attack it came back through in words):
        the stego as the 16-bit file holds it, through each attack, read as ``pixinwav reveal`` reads it."""
        from .attacks import apply, describe
        from .progress import progress

        received, worst = pcm16_round_trip(stego), (math.inf, "")
        with progress(len(attacks), "reading it back through --survive", unit="attack") as bar:
            for name, strength in attacks:
                attacked, rate = apply(name, received, sample_rate, strength)
                found = self.model.extract(self._mono(attacked, rate)[None], **keyed)
                arrived = max(found.arrived or 0.0, 1.0 if found.verdict == EXACT else 0.0)
                worst = min(worst, (arrived, describe(name, strength)))
                bar.update()
        return worst

    @one_blas_thread
    def capacity(self, audio: np.ndarray, sample_rate: int, photo: tuple[int, int] | None = None,
                 file_bytes: int | None = None) -> dict:
        """What a song carries with this model: for the song model, tiles (windows loud enough), the largest photo
        of common aspect ratios, and for ``photo`` (width, height) the tiles and seconds it needs at its own size;
        the largest file it carries exactly, and for a file of ``file_bytes`` the windows and seconds it needs;
        ``lines``: the same in words."""
        from . import hidden_file, tiles

        sample_rate = check_rate(sample_rate)
        if file_bytes is not None and not self.model.carries_files:
            raise PixinwavError("this model carries images only; a file needs pixinwav-adaptive-v3, pixinwav-modulo-v2 or "
                                "pixinwav-robust-v2")

        mono = self._mono(audio, sample_rate)
        planned = self.model.song_capacity(mono, photo, file_bytes)
        if planned is not None:
            return planned
        seconds = len(mono) / self.cfg.sample_rate
        side, window_s = self.cfg.image_size, self.cfg.clip_samples / self.cfg.sample_rate
        if not self.model.full_image:
            what = (f"one {side} x {side} image (a compressed copy per --seconds of music, default "
                    f"{self.cfg.robust.payload_seconds:g} s)" if self.model.whole_file else
                    f"one {side} x {side} image in one {window_s:.2f} s window, wherever --offset puts it")
            return {"seconds": seconds, "tiles": None, "lines": [f"carries {what}"]}
        channels = pcm16_round_trip(resample(np.asarray(audio, np.float32).reshape(len(audio), -1), sample_rate,
                                             self.cfg.sample_rate))  # as hide reads the song
        usable = len(self.model.usable(channels.mean(axis=1), self.model.window_peaks(channels)))
        report = {"seconds": seconds, "tiles": usable, "tile_seconds": window_s, "largest": {}}
        lines = [f"{usable} of {int(seconds // window_s)} windows of {window_s:.2f} s are loud enough to carry a "
                 f"{side} x {side} tile ({usable * window_s:.1f} s of music)"]
        for name, (w, h) in (("4:3", (4000, 3000)), ("3:2", (3000, 2000)), ("16:9", (3840, 2160)), ("1:1", (4096, 4096))):
            if usable:
                fw, fh = tiles.fit(w, h, side, usable, 4096)
                report["largest"][name] = [fw, fh]
                lines.append(f"largest {name} photo: {fw} x {fh} ({fw * fh / 1e6:.2f} MP)")
        if photo is not None:
            need = tiles.count(*photo, side)
            sent = tiles.fit(*photo, side, usable, 4096) if usable else None
            report["photo"] = {"size": list(photo), "tiles": need, "seconds": need * window_s,
                               "sent_at": list(sent) if sent else None}
            lines.append(f"the photo ({photo[0]} x {photo[1]}) needs {need} tiles, {need * window_s:.1f} s of loud music: "
                         + ("it fits at its own size" if sent == tuple(photo) else
                            f"this song carries it at {sent[0]} x {sent[1]}" if sent else "this song carries none"))
        if self.model.carries_files:
            most = self.model.file_capacity(usable)
            report["file_bytes"] = most
            lines.append(f"or a file of up to {most:,} bytes ({most / 1e6:.2f} MB), exactly ({self.model.symbol_bytes:,} "
                         "bytes per window)")
        if file_bytes is not None:
            framed = HiddenFile.frame_size(file_bytes, "x" * 64)  # a name of up to 64 bytes
            need = hidden_file.source_count(framed, self.model.symbol_bytes)
            report["file"] = {"bytes": file_bytes, "windows": need, "seconds": need * window_s, "fits": need <= usable}
            lines.append(f"the file ({file_bytes:,} bytes) needs {need} windows, {need * window_s:.1f} s of loud music: "
                         + (f"it fits, with {hidden_file.spare_count(need, usable)} spare windows" if need <= usable
                            else "this song is too short or too quiet for it"))
        report["lines"] = lines
        return report

    @inference
    def reveal(self, audio: np.ndarray, sample_rate: int, offset: float | str = 0.0, check: bool = True,
               key: str | None = None) -> np.ndarray:
        """Reveal the image hidden at ``offset`` seconds ("auto": the window the model's pilots recognise on the
        0.5 s grid; models without pilots cannot find it; whole-file models need no offset) with the ``key`` it was
        hidden with, if any; returns ``[C, H, W]`` in [0, 1]. With ``check``, a model that can tell refuses audio
        where no image is hidden (at that offset, or with that key). See :meth:`reveal_with_report`."""
        return self.reveal_with_report(audio, sample_rate, offset, check, key)[0]

    @inference
    def reveal_with_report(self, audio: np.ndarray, sample_rate: int, offset: float | str = 0.0, check: bool = True,
                           key: str | None = None, origin: float = 0.0) -> tuple[np.ndarray, str]:
        """(image, one line on what was found: where, and how sure; it starts with "warning: " when the image
        is written although the model says it is damaged). ``origin``: where ``audio`` starts in its file
        (seconds), for the report. :meth:`reveal_payload` gives the verdict as a word."""
        found = self.reveal_payload(audio, sample_rate, offset, check, key, origin)
        if found.file is not None:
            raise PixinwavError(f"this audio carries a file ({found.file.name or 'unnamed'}, {len(found.file.data):,} "
                                "bytes), not an image: use reveal_payload (the CLI's reveal writes it)")
        return found.image, found.line()

    def _reveal_window(self, audio: np.ndarray, sample_rate: int, offset: float | str, check: bool, key: str | None,
                       origin: float) -> Revealed:
        """A window model's image at ``offset`` (see :meth:`reveal_payload`)."""
        keyed = self._keyed(key)
        mono = self._mono(audio, sample_rate)
        band = self._band(sample_rate)
        if offset == "auto":
            offset = self.find_offset(mono, key, **band)
        start = self._start(mono, offset)
        wave = np.ascontiguousarray(mono[start:start + self.cfg.clip_samples])[None]
        found = self.model.extract(wave, **keyed, **band)
        image, presence, detail, lost = found.image, found.presence, found.detail, found.lost
        where = f"window at {origin + start / self.cfg.sample_rate:.6f} s"
        image = np.clip(as_numpy(image)[0], 0, 1)
        if presence is None:
            return Revealed(image, None, f"{where}; this model cannot tell whether an image is there", UNCHECKED)
        score = float(presence[0])
        if check and score < PRESENCE_MIN:
            raise NotFound(
                f"no hidden image found at {origin + offset:.6f} s (pilot agreement {score:.2f}; a stego window scores about "
                "0.98): was it hidden at another --offset (try --offset auto), with another --key or another --model "
                "(a whole-song model), or has the file been through a lossy codec?")
        if lost is not None and bool(lost[0]):  # found, but there is no true image to write
            raise NotFound(f"{where}: {detail}", lost=True)
        if score < PRESENCE_INTACT:
            return Revealed(image, None, f"{where}: pilot agreement {score:.2f} (an intact stego window scores over "
                                         f"{PRESENCE_INTACT}): the image is damaged (the window was changed after hiding: "
                                         "another image over it, clipping, noise or a codec)", DAMAGED)
        if detail is not None:  # a scheme's own reason to call the image damaged (the adaptive scheme's noise)
            return Revealed(image, None, f"{where}, pilot agreement {score:.2f}; {detail}", DAMAGED)
        if found.verdict == EXACT:  # a compressed file that passed its code and its CRC
            return Revealed(image, None, f"{where}, the image file passed its checksum", EXACT)
        return Revealed(image, None, f"{where}, pilot agreement {score:.2f}", INTACT)


    @inference
    @one_blas_thread
    def reveal_payload(self, audio: np.ndarray, sample_rate: int, offset: float | str = 0.0, check: bool = True,
                       key: str | None = None, origin: float = 0.0) -> Revealed:
        """Whatever the audio holds: an image, or (models that carry files) the file exactly, with its verdict. Raises
        :class:`~pixinwav.errors.NotFound` when nothing is found, or (``lost``) when a payload is found but cannot be
        rebuilt exactly; :class:`PixinwavError` for input it cannot read. A window
        model reads the window at ``offset`` seconds ("auto": the one its pilots recognise on the 0.5 s grid);
        ``origin``: where ``audio`` starts in its file (seconds), for the report."""
        offset, sample_rate = check_offset(offset), check_rate(sample_rate)
        if not self.model.whole_file:
            return self._reveal_window(audio, sample_rate, offset, check, key, origin)
        keyed = self._keyed(key)
        if offset not in (0, 0.0, "auto"):
            raise PixinwavError("this model finds the image anywhere in the file: drop --offset")
        # a model that writes the exact samples reads the file's channels too (where its sender left clipped ones alone)
        channels = {"channels": audio_array(audio)} if self.model.writes_model_rate and sample_rate == self.cfg.sample_rate \
            else {}
        found = self.model.extract(self._mono(audio, sample_rate)[None], **keyed, **channels)
        if float(found.presence[0]) == 0.0:  # nothing true to write (robust: no image that passes its CRC)
            resampled = self.model.writes_model_rate and sample_rate != self.cfg.sample_rate
            raise NotFound(found.detail + (f"; this model writes {self.cfg.sample_rate} Hz files and this one is "
                                                f"at {sample_rate} Hz: it was resampled after hiding" if resampled else ""))
        if found.lost is not None and bool(found.lost[0]):  # found, but nothing exact to give back
            raise NotFound(found.detail, lost=True)
        if found.file is not None:
            return Revealed(None, found.file, found.detail, EXACT)
        return Revealed(np.clip(as_numpy(found.image)[0], 0, 1), None, found.detail, found.verdict or INTACT)


def refuse_louder_than_music(snr: float, cover_power: float, where: str) -> None:
    """An error when the change is louder than the cover (``snr``, stego against a cover of mean square
    ``cover_power``, under ``MIN_SNR_DB``): nothing is written."""
    if snr < MIN_SNR_DB:
        level = 10 * math.log10(max(cover_power, 1e-30))
        raise PixinwavError(f"the cover is nearly silent{' ' + where if where else ''} (RMS {level:.0f} dBFS): the hidden "
                            f"image would be {-snr:.0f} dB louder than the music; choose a louder passage or song")


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


def loudest(level: np.ndarray, peak: np.ndarray) -> int:
    """Index of the loudest window whose peak stays under 0.95 (a change near full scale would clip), or of the
    loudest of all when none does."""
    headroom = peak < 0.95
    return int(np.argmax(np.where(headroom, level, -1.0) if headroom.any() else level))


def over_full_scale(audio: np.ndarray) -> int:
    """Samples beyond [-1, 1] (only float files can hold them)."""
    return int(np.count_nonzero(np.abs(audio) > 1.0))


def load_model(name_or_path: str | Path | None = None) -> Stego:
    """A shipped model by name (default: the package's default model, hash-checked) or a model / checkpoint file."""
    model, card, path = load_scheme(name_or_path)
    return Stego(model, card, str(path))
