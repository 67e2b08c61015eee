"""What `hide` and `reveal` report: :class:`HideReport` (what was hidden where, and the warnings a user should read)
and :class:`Revealed` (what a file holds, with its verdict in one word), and the thresholds they judge by. Shared by
the API and both places a model's payload can take in a song (``window_placement.py``, ``song_placement.py``)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .errors import PixinwavError
from .hidden_file import HiddenFile
from .models import Sent
from .models.base import DAMAGED

# Pilot agreement thresholds of `reveal`, from the distributions benchmarks/robustness.py measures (8 validation
# pairs): intact windows 0.96-0.98 (0.91 after -6 dB, 0.80 under 1 LSB of noise); under noise at -80 dBFS
# 0.45-0.47 (SSIM 0.68: damaged but useful); clipped covers 0.30-0.58; a second image hidden over half the
# window 0.22-0.33 (SSIM 0.16: nothing left); MP3 copies, plain covers and windows one sample off at most 0.12.
PRESENCE_MIN = 0.35  # below: "no hidden image found"
PRESENCE_INTACT = 0.8  # below: the image is written with a warning that it is damaged
BAND_LIMIT_FRACTION = 0.9  # of a low-rate cover's Nyquist frequency: above it, resampling filters eat the change
POOR_SSIM = 0.6  # an adaptive model's hide warns when its own read-back of the stego is worse than this
# A stego whose change is louder than the music it hides in is refused, not written: a nearly silent cover (dither
# at +-1 LSB) took the default model's image 30 dB over the music. (Cover-adaptive models scale the change with the
# music, so they pass; they warn when a quiet cover carries the image poorly.)
MIN_SNR_DB = 0.0
AUDIBLE_SNR_DB = 25.0  # below this, hide warns (white noise at 30 dB SNR already scores ViSQOL 3.6 on music)


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
    notes: list[str] = field(default_factory=list)  # lines `hide` prints after the report (where to reveal from)

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
        if self.payload is not None and self.payload.at_risk:
            out.append(self.payload.at_risk)
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


def refuse_louder_than_music(snr: float, cover_power: float, where: str) -> None:
    """An error when the change is louder than the cover (``snr``, stego against a cover of mean square
    ``cover_power``, under ``MIN_SNR_DB``): nothing is written."""
    if snr < MIN_SNR_DB:
        level = 10 * math.log10(max(cover_power, 1e-30))
        raise PixinwavError(f"the cover is nearly silent{' ' + where if where else ''} (RMS {level:.0f} dBFS): the hidden "
                            f"image would be {-snr:.0f} dB louder than the music; choose a louder passage or song")


