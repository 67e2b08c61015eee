"""Audio files in and out: any format libsndfile reads (WAV, FLAC, OGG Vorbis / Opus, MP3), any rate and
channel count; resampling with soxr. Arrays are float32 ``[T, channels]`` as soundfile gives them."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from ..channel import to_pcm16
from ..errors import PixinwavError
from ..files import atomic_write

AUDIO_EXTENSIONS = {".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aiff", ".aif"}
OUTPUT_FORMATS = {"wav": ("WAV", "PCM_16"), "flac": ("FLAC", "PCM_16")}


@dataclass
class Audio:
    samples: np.ndarray  # [T, channels], float32 in [-1, 1]
    sample_rate: int

    @property
    def duration(self) -> float:
        return self.samples.shape[0] / self.sample_rate

    @property
    def channels(self) -> int:
        return self.samples.shape[1]

    def mono(self) -> np.ndarray:
        return self.samples.mean(axis=1)


def read_audio(path: str | Path) -> Audio:
    path = Path(path)
    if not path.exists():
        raise PixinwavError(f"audio file not found: {path}")
    if path.is_dir():
        raise PixinwavError(f"expected an audio file, got a folder: {path}")
    try:
        samples, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        kind = "an image, not audio" if _looks_like_image(path) else "not a readable audio file"
        raise PixinwavError(f"{path} is {kind} ({str(exc).splitlines()[0]})") from None
    if samples.shape[0] == 0:
        raise PixinwavError(f"{path} holds no audio samples (empty or truncated file)")
    if not np.all(np.isfinite(samples)):
        raise PixinwavError(f"{path} holds NaN or infinite samples")
    return Audio(samples, int(rate))


def _looks_like_image(path: Path) -> bool:
    head = path.read_bytes()[:12]
    return head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM")) or head[8:12] == b"WEBP"


def resample(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Resample ``[T]`` or ``[T, channels]`` with soxr (high quality)."""
    if rate_in == rate_out:
        return x
    return soxr.resample(x, rate_in, rate_out, quality="HQ").astype(np.float32)


def write_audio(path: str | Path, samples: np.ndarray, sample_rate: int, force: bool = False,
                fmt: str | None = None) -> Path:
    """Write 16-bit PCM (WAV or FLAC by extension or ``fmt``) atomically; never overwrites without ``force``."""
    path = Path(path)
    fmt = fmt or path.suffix.lower().lstrip(".") or "wav"
    if fmt not in OUTPUT_FORMATS:
        raise PixinwavError(f"cannot write {fmt!r} audio; choose one of {', '.join(OUTPUT_FORMATS)}")
    container, subtype = OUTPUT_FORMATS[fmt]
    pcm = to_pcm16(samples)

    def write(tmp: str) -> None:
        sf.write(tmp, pcm, sample_rate, format=container, subtype=subtype)

    return atomic_write(path, write, force)
