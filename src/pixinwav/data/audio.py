"""Audio files in and out: any format libsndfile reads (WAV, FLAC, OGG Vorbis / Opus, MP3) and, through FFmpeg
(PyAV), every container it reads (M4A / MP4 / AAC from phones and messaging apps, WebM, Ogg Opus, Matroska, ...), any rate and
channel count; resampling with soxr. Arrays are float32 ``[T, channels]`` as soundfile gives them."""
from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from ..channel import to_pcm16
from ..errors import PixinwavError
from ..files import atomic_write

AUDIO_EXTENSIONS = {".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aiff", ".aif", ".m4a", ".mp4", ".aac", ".webm",
                    ".mka"}
OUTPUT_FORMATS = {"wav": ("WAV", "PCM_16"), "flac": ("FLAC", "PCM_16")}
# what libsndfile opens but FFmpeg reads right: Ogg Opus, whose pre-skip libsndfile ignores (its samples come 312 late)
FFMPEG_SUBTYPES = {"OPUS"}
WRITE_BLOCK = 1 << 18  # frames converted to int16 at a time when writing
RESAMPLE_CHUNK = 1 << 18  # input frames resampled at a time (longer signals: soxr's stream, the same samples)


TAGS = ("title", "artist", "album", "date", "comment", "genre", "tracknumber", "copyright", "software")


@dataclass
class Audio:
    samples: np.ndarray  # [T, channels], float32 in [-1, 1]
    sample_rate: int
    tags: dict[str, str] = field(default_factory=dict)  # title, artist, ... where the format carries them
    decoder: str = "libsndfile"  # or "FFmpeg <codec>" for containers libsndfile does not read

    @property
    def duration(self) -> float:
        return self.samples.shape[0] / self.sample_rate

    @property
    def channels(self) -> int:
        return self.samples.shape[1]

    def mono(self) -> np.ndarray:
        return self.samples.mean(axis=1)


def read_audio(path: str | Path) -> Audio:
    if str(path) == "-":
        raise PixinwavError("reading audio from standard input is not supported; give a file name")
    path = Path(path)
    if not path.exists():
        raise PixinwavError(f"audio file not found: {path}")
    if path.is_dir():
        raise PixinwavError(f"expected an audio file, got a folder: {path}")
    decoder, samples = "libsndfile", None
    try:
        with sf.SoundFile(str(path)) as f:
            if f.subtype not in FFMPEG_SUBTYPES:
                tags = file_tags(f)
                samples = f.read(dtype="float32", always_2d=True)
                rate = f.samplerate
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        if _looks_like_image(path):
            raise PixinwavError(f"{path} is an image, not audio ({str(exc).splitlines()[0]})") from None
    if samples is None:
        samples, rate, tags, decoder = decode_with_ffmpeg(path)
    refuse_truncated_wav(path)
    refuse_empty(path, samples.shape[0])
    refuse_non_finite(path, samples)
    return Audio(samples, int(rate), tags, decoder)


def decode_with_ffmpeg(path: Path) -> tuple[np.ndarray, int, dict[str, str], str]:
    """(samples ``[T, channels]`` float32, rate, tags, "FFmpeg <codec>") of the first audio stream of any container
    FFmpeg reads. FFmpeg drops an encoder's priming samples where the container records them (the edit list of an
    M4A / MP4, Opus's pre-skip), so the samples line up with the source's."""
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise PixinwavError(f"{path} is not a readable audio file (no audio stream in it)")
            stream = container.streams.audio[0]
            codec = stream.codec_context.name
            tags = {k.lower(): str(v) for k, v in container.metadata.items() if k.lower() in TAGS and v}
            chunks, rate = [], stream.rate
            to_float = av.AudioResampler(format="flt")  # float32, interleaved; the decoded rate and layout kept
            for frame in [*container.decode(stream), None]:  # None flushes the converter
                for out in to_float.resample(frame):
                    chunks.append(out.to_ndarray().reshape(out.samples, -1))
                    rate = out.sample_rate
    except av.FFmpegError as exc:
        raise PixinwavError(f"{path} is not a readable audio file ({exc})") from None
    if not chunks:
        return np.zeros((0, 1), np.float32), int(rate or 0), tags, f"FFmpeg {codec}"
    samples = np.concatenate(chunks)
    return samples.astype(np.float32), int(rate), tags, f"FFmpeg {codec}"


def open_seekable(path: str | Path) -> sf.SoundFile:
    """The file as a seekable soundfile handle: itself where libsndfile reads it, else decoded by FFmpeg into an
    in-memory float WAV (the window models read regions of it as of any other file)."""
    path = Path(path)
    try:
        f = sf.SoundFile(str(path))
        if f.subtype not in FFMPEG_SUBTYPES:
            return f
        f.close()
    except (sf.LibsndfileError, RuntimeError, TypeError):
        pass
    audio = read_audio(path)  # FFmpeg, or the same one-line error as reading the whole file would give
    buffer = io.BytesIO()
    sf.write(buffer, audio.samples, audio.sample_rate, subtype="FLOAT", format="WAV")
    buffer.seek(0)
    return sf.SoundFile(buffer)


def file_tags(f: sf.SoundFile) -> dict[str, str]:
    """The text tags (title, artist, ...) an open file carries."""
    return {k: v for k, v in f.copy_metadata().items() if k in TAGS and v}


def refuse_empty(path: str | Path, frames: int) -> None:
    if frames == 0:
        raise PixinwavError(f"{path} holds no audio samples (empty or truncated file)")


def refuse_non_finite(path: str | Path, samples: np.ndarray) -> None:
    if not np.all(np.isfinite(samples)):
        raise PixinwavError(f"{path} holds NaN or infinite samples")


def refuse_truncated_wav(path: Path) -> None:
    """A WAV whose data chunk is shorter than its header says was cut off (an interrupted copy or download):
    libsndfile quietly reads what is there, and the stego would silently lose the rest of the song."""
    if not path.is_file():
        return  # the reader says what is wrong ("audio file not found", a folder)
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
            return
        size = path.stat().st_size
        while True:
            chunk = f.read(8)
            if len(chunk) < 8:
                return
            name, length = chunk[:4], struct.unpack("<I" if head[:4] == b"RIFF" else ">I", chunk[4:])[0]
            if name == b"data":
                if length != 0xFFFFFFFF and f.tell() + length > size:
                    have = size - f.tell()
                    raise PixinwavError(f"{path} is truncated: its header announces {length:,} bytes of audio, the "
                                        f"file holds {have:,} ({100 * have / max(length, 1):.0f} %)")
                return
            f.seek(length + (length & 1), 1)

def _looks_like_image(path: Path) -> bool:
    head = path.read_bytes()[:12]
    return head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM")) or head[8:12] == b"WEBP"


def resample(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Resample ``[T]`` or ``[T, channels]`` with soxr (high quality) to float32. A long signal goes through soxr's
    stream a chunk at a time into the float32 result: the same samples as its one-shot call (checked for both float
    types, mono and stereo, up and down), without a whole song at double width beside them."""
    if rate_in == rate_out:
        return x
    x = np.ascontiguousarray(x)
    if x.dtype not in (np.float32, np.float64) or len(x) <= RESAMPLE_CHUNK:
        return soxr.resample(x, rate_in, rate_out, quality="HQ").astype(np.float32, copy=False)
    stream = soxr.ResampleStream(rate_in, rate_out, 1 if x.ndim == 1 else x.shape[1], dtype=x.dtype.name, quality="HQ")
    out = np.empty((round(len(x) * rate_out / rate_in) + 64,) + x.shape[1:], np.float32)  # (the one-shot length, rounded)
    at = 0
    for i in range(0, len(x), RESAMPLE_CHUNK):
        piece = stream.resample_chunk(x[i:i + RESAMPLE_CHUNK], last=i + RESAMPLE_CHUNK >= len(x))
        out[at:at + len(piece)] = piece
        at += len(piece)
    return out[:at]


def output_format(path: str | Path, fmt: str | None) -> str:
    """The format to write: ``fmt`` or the extension; refuses unknown ones and a ``fmt`` that contradicts a
    known audio extension (FLAC bytes in a file called .wav)."""
    suffix = Path(path).suffix.lower().lstrip(".")
    chosen = fmt or suffix or "wav"
    if chosen not in OUTPUT_FORMATS:
        raise PixinwavError(f"cannot write {chosen!r} audio; choose one of {', '.join(OUTPUT_FORMATS)}")
    if fmt and suffix and suffix != fmt and f".{suffix}" in AUDIO_EXTENSIONS:
        raise PixinwavError(f"--format {fmt} does not match the file name {Path(path).name}; name it .{fmt}")
    return chosen


def write_audio(path: str | Path, samples: np.ndarray, sample_rate: int, force: bool = False,
                fmt: str | None = None, tags: dict[str, str] | None = None) -> Path:
    """Write 16-bit PCM (WAV or FLAC by extension or ``fmt``) atomically, with ``tags`` (title, artist, ...);
    never overwrites without ``force``."""
    path = Path(path)
    container, subtype = OUTPUT_FORMATS[output_format(path, fmt)]

    def write(tmp: str) -> None:
        with sf.SoundFile(tmp, "w", sample_rate, samples.shape[1] if samples.ndim == 2 else 1, subtype,
                          format=container) as f:
            for key, value in (tags or {}).items():
                setattr(f, key, value)
            for block in range(0, len(samples), WRITE_BLOCK):  # converted a block at a time: no full int copy
                f.write(to_pcm16(samples[block:block + WRITE_BLOCK]))

    return atomic_write(path, write, force)
