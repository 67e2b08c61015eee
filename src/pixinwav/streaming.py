"""`pixinwav hide` / `reveal` on files of any length with window models: only the region around the window is
read and processed; `--offset auto` walks the file block by block; the stego is copied block by block with the
change added. Memory stays near what the libraries themselves take, whatever the cover's length.

Resampling a region gives the same window as resampling the whole file when the region starts on a sample that
falls on the model rate's grid too (a multiple of ``rate / gcd(rate, model rate)``), with a margin wider than
the resampler's filter on both sides.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import soundfile as sf

from .api import OFFSET_GRID_S, SCAN_BATCH, HideReport, Stego, loudest
from .channel import to_pcm16
from .data.audio import (OUTPUT_FORMATS, file_tags, open_seekable, output_format, refuse_empty, refuse_non_finite,
                         refuse_truncated_wav, resample)
from .errors import PixinwavError
from .files import atomic_write

MARGIN_S = 0.2  # around a window: far wider than soxr's filter
BLOCK = 1 << 18  # frames per block when walking a file (6 s at 44.1 kHz)
LOUDNESS_SEGMENT_S = 0.01  # --offset auto at hide: window loudness from 10 ms energy and peak segments


def _aligned(sample: int, rate: int, model_rate: int) -> int:
    step = rate // math.gcd(rate, model_rate)
    return max(0, sample // step * step)


def _region(stego: Stego, rate: int, frames: int, offset: float) -> tuple[int, int]:
    """Cover samples [a, b) around the window at ``offset``; ``a`` on the model rate's grid."""
    a = _aligned(int((offset - MARGIN_S) * rate), rate, stego.cfg.sample_rate)
    b = min(frames, int(math.ceil((offset + stego.clip_seconds + MARGIN_S) * rate)))
    return a, b


def _read(f: sf.SoundFile, a: int, b: int) -> np.ndarray:
    f.seek(a)
    return f.read(b - a, dtype="float32", always_2d=True)


def loudest_offset(stego: Stego, f: sf.SoundFile) -> float:
    """The grid offset of the loudest window that does not come near full scale, from 10 ms segments' energy
    and peak (what :meth:`Stego.loudest_offset` measures, without holding the file)."""
    seg = max(1, int(LOUDNESS_SEGMENT_S * f.samplerate))
    energy, peak = [], []
    f.seek(0)
    for block in f.blocks(blocksize=BLOCK // seg * seg, dtype="float32", always_2d=True):
        mono = block.mean(axis=1)
        usable = len(mono) // seg * seg
        parts = mono[:usable].reshape(-1, seg)
        energy.append(np.square(parts, dtype=np.float64).sum(1))
        peak.append(np.abs(parts).max(1))
    energy, peak = np.concatenate(energy), np.concatenate(peak)
    width = int(round(stego.clip_seconds / LOUDNESS_SEGMENT_S))
    starts = np.arange(0, len(energy) - width + 1, int(round(OFFSET_GRID_S / LOUDNESS_SEGMENT_S)))
    if not len(starts):
        stego.check_length(f.frames, f.samplerate)
    window_energy = np.array([energy[s:s + width].sum() for s in starts])
    return loudest(window_energy, np.array([peak[s:s + width].max() for s in starts])) * OFFSET_GRID_S


def find_offset(stego: Stego, f: sf.SoundFile, key: str | None) -> float:
    """:meth:`Stego.scan` over the file, ``SCAN_BATCH`` grid windows per read."""
    rate, model_rate, clip = f.samplerate, stego.cfg.sample_rate, stego.cfg.clip_samples
    grid = int(round(OFFSET_GRID_S * model_rate))
    count = int((f.frames / rate * model_rate - clip) // grid) + 1
    band = stego._band(rate)

    def batches():
        for first in range(0, count, SCAN_BATCH):
            last = min(count, first + SCAN_BATCH) - 1
            a, b = _region(stego, rate, f.frames, first * OFFSET_GRID_S)
            b = min(f.frames, int(math.ceil((last * OFFSET_GRID_S + stego.clip_seconds + MARGIN_S) * rate)))
            mono = resample(_read(f, a, b).mean(axis=1), rate, model_rate)
            origin = a * model_rate // rate
            windows = [mono[k * grid - origin:k * grid - origin + clip] for k in range(first, last + 1)]
            yield np.stack([w for w in windows if len(w) == clip])

    stego.check_length(f.frames, rate)
    return stego.scan(batches(), key, band.get("band_limit_hz"))


def _window_region(stego: Stego, f: sf.SoundFile, path, offset: float | str, auto) -> tuple[float, int, np.ndarray]:
    """Shared by hide and reveal: check the file, resolve ``offset`` ("auto": ``auto(f)``), read the window's region.
    Returns (offset, first sample of the region, region ``[n, channels]``)."""
    if stego.whole_file:
        raise PixinwavError("streaming is for window models; whole-file models read the song whole")
    refuse_empty(path, f.frames)
    stego.check_length(f.frames, f.samplerate)
    if offset == "auto":
        offset = auto(f)
    stego.check_length(f.frames, f.samplerate, offset)
    a, b = _region(stego, f.samplerate, f.frames, offset)
    region = _read(f, a, b)
    refuse_non_finite(path, region)
    return offset, a, region


def hide_file(stego: Stego, image, cover: str | Path, out: str | Path, offset: float | str = 0.0,
              key: str | None = None, force: bool = False, fmt: str | None = None) -> tuple[HideReport, dict]:
    """Hide with a window model, reading the cover's window region only and writing the stego block by block
    (16-bit WAV or FLAC, the cover's rate, channels, length and tags)."""
    refuse_truncated_wav(Path(cover))
    container, subtype = OUTPUT_FORMATS[output_format(out, fmt)]
    with open_seekable(cover) as src:  # opened once: a container FFmpeg decodes is decoded once
        rate, frames, channels, tags = src.samplerate, src.frames, src.channels, file_tags(src)
        offset, a, region = _window_region(stego, src, cover, offset, lambda f: loudest_offset(stego, f))
        b = a + len(region)
        changed, report = stego.hide(image, region, rate, offset=offset - a / rate, key=key)
        delta = changed - region
        report.window = (report.window[0] + a / rate, report.window[1] + a / rate)
        totals = {"cover": 0.0, "over": 0}

        def write(tmp: str) -> None:
            src.seek(0)
            with sf.SoundFile(tmp, "w", rate, channels, subtype, format=container) as dst:
                for name, value in tags.items():
                    setattr(dst, name, value)
                position = 0
                for block in src.blocks(blocksize=BLOCK, dtype="float32", always_2d=True):
                    refuse_non_finite(cover, block)
                    totals["cover"] += float(np.square(block, dtype=np.float64).sum())
                    totals["over"] += int(np.count_nonzero(np.abs(block) > 1.0))
                    lo, hi = max(position, a), min(position + len(block), b)
                    if lo < hi:
                        block = block.copy()
                        block[lo - position:hi - position] += delta[lo - a:hi - a]
                    dst.write(to_pcm16(block))
                    position += len(block)

        atomic_write(Path(out), write, force)
    change = float(np.square(delta, dtype=np.float64).sum())
    report.snr_file_db = 10 * np.log10(totals["cover"] / change) if change > 0 else float("inf")
    report.cover_over_full_scale = totals["over"]
    return report, {"rate": rate, "channels": channels, "seconds": frames / rate}


def reveal_file(stego: Stego, path: str | Path, offset: float | str = 0.0, check: bool = True,
                key: str | None = None):
    """Reveal with a window model, reading only the window's region (``--offset auto``: the grid block by
    block). Returns the :class:`~pixinwav.api.Revealed` image with its verdict."""
    refuse_truncated_wav(Path(path))
    with open_seekable(path) as f:
        rate = f.samplerate
        offset, a, region = _window_region(stego, f, path, offset, lambda f: find_offset(stego, f, key))
    return stego.reveal_payload(region, rate, offset - a / rate, check, key, origin=a / rate)

