"""Where a window model's one image goes in a song, and how it is found again: the window at ``--offset`` seconds
("auto": the loudest window on a 0.5 s grid at hide, the one whose pilots agree at reveal), in memory
(:class:`WindowPlacement`, behind :class:`~pixinwav.api.Stego`) and on files of any length (:meth:`hide_path`,
:meth:`reveal_path`: only the region around the window is read and processed, ``--offset auto`` walks the file
block by block and the stego is copied block by block with the change added, so memory stays near what the
libraries themselves take, whatever the cover's length).

Resampling a region gives the same window as resampling the whole file when the region starts on a sample that
falls on the model rate's grid too (a multiple of ``rate / gcd(rate, model rate)``), with a margin wider than
the resampler's filter on both sides.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import soundfile as sf

from . import metrics
from .arrays import as_numpy
from .channel import PCM16_SCALE, pcm16_round_trip, to_pcm16
from .data.audio import (OUTPUT_FORMATS, file_tags, open_seekable, output_format, refuse_empty, refuse_non_finite,
                         refuse_truncated_wav, resample)
from .errors import NotFound, PixinwavError
from .files import atomic_write
from .models.base import EXACT, INTACT, DAMAGED, UNCHECKED
from .report import PRESENCE_INTACT, PRESENCE_MIN, HideReport, Revealed, refuse_louder_than_music

OFFSET_GRID_S = 0.5  # "--offset auto" hides at, and searches, multiples of this
SCAN_BATCH = 16  # windows per batched DCT in the --offset auto scan (16 x 67,522 float64: 9 MB, plus FFT buffers)
MARGIN_S = 0.2  # around a window: far wider than soxr's filter
BLOCK = 1 << 18  # frames per block when walking a file (6 s at 44.1 kHz)
LOUDNESS_SEGMENT_S = 0.01  # --offset auto at hide: window loudness from 10 ms energy and peak segments


class WindowPlacement:
    """One window of ``cfg.clip_samples`` (model rate) at an offset the user gives: the hide option ``offset``."""

    options = ("offset",)
    default_offset = 0.0  # (as `hide` without --offset writes it)

    def __init__(self, stego):
        self.stego, self.model, self.cfg = stego, stego.model, stego.cfg

    # --- where the image lives ---------------------------------------------------------------------------
    def start(self, mono: np.ndarray, offset: float) -> int:
        """The first sample (model rate) of the window at ``offset`` seconds."""
        self.stego.check_length(len(mono), self.cfg.sample_rate, offset)
        return max(0, min(int(round(offset * self.cfg.sample_rate)), len(mono) - self.cfg.clip_samples))

    def grid(self, mono: np.ndarray) -> list[int]:
        """First samples (model rate) of the windows that start on the OFFSET_GRID_S grid and fit in ``mono``."""
        step = int(round(OFFSET_GRID_S * self.cfg.sample_rate))
        return list(range(0, len(mono) - self.cfg.clip_samples + 1, step))

    def loudest_offset(self, mono: np.ndarray) -> float:
        """The grid offset (seconds) of the loudest window of ``mono`` (model rate) that does not come near full
        scale: the louder the cover, the better it masks the image (the modulo scheme's change has a fixed level)."""
        windows = [mono[s:s + self.cfg.clip_samples] for s in self.grid(mono)]
        rms = np.array([np.sqrt(np.mean(np.square(w, dtype=np.float64))) for w in windows])
        return loudest(rms, np.array([np.abs(w).max() for w in windows])) * OFFSET_GRID_S

    def find_offset(self, mono: np.ndarray, key: str | None = None, band_limit_hz: float | None = None) -> float:
        """The grid offset (seconds) whose window of ``mono`` (model rate) the model's pilots recognise; an error for
        models that cannot tell."""
        starts = self.grid(mono)
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

    def presence_at(self, audio: np.ndarray, sample_rate: int, offset: float, keyed: dict) -> float:
        """The pilot agreement at ``offset`` seconds (:meth:`~pixinwav.api.Stego.presence_at`)."""
        if not self.model.has_presence:
            raise PixinwavError("this model has no window pilots to measure")
        mono = self.stego._mono(audio, sample_rate)
        start = self.start(mono, offset)
        wave = np.ascontiguousarray(mono[start:start + self.cfg.clip_samples])[None]
        found = self.model.presence_many(wave, keyed.get("key"), **self.stego._band(sample_rate))
        if found is None:
            raise PixinwavError("this model has too few pilots to tell")
        return float(found[0])

    # --- hiding ----------------------------------------------------------------------------------------------
    def hide(self, secret: np.ndarray, cover: np.ndarray, sample_rate: int, keyed: dict, options: dict,
             owned: bool = False) -> tuple[np.ndarray, HideReport]:
        """An image ``[C, H, W]`` (a window model's square) in the window at ``options["offset"]`` ("auto": the
        loudest), the rest of the cover untouched (``owned`` is not used: a window's stego is a copy)."""
        stego_api, cfg, clip_seconds = self.stego, self.cfg, self.stego.clip_seconds
        offset = options.get("offset", self.default_offset)
        mono = stego_api._mono(cover, sample_rate)
        if offset == "auto":
            offset = self.loudest_offset(mono)
        start = self.start(mono, offset)
        segment = mono[start:start + cfg.clip_samples]
        on_grid = self.model.whole_step_changes and sample_rate == cfg.sample_rate
        if on_grid:  # the window as the 16-bit file will hold it, downmixed as the receiver will downmix it
            segment = pcm16_round_trip(cover[start:start + len(segment)]).mean(axis=1)
        first = int(start * sample_rate / cfg.sample_rate)
        region = cover[first:first + int(np.ceil(clip_seconds * sample_rate))]
        if not np.any(region):  # every channel silent
            raise PixinwavError(f"the cover is silent from {offset:.6f} s for {clip_seconds:.3f} s; "
                                "an image hidden in silence would be plainly audible")

        wave = segment[None]
        band = stego_api._band(sample_rate)
        found = self.model.presence_many(wave, keyed.get("key"), **band) if self.model.has_presence else None
        existing = None if found is None else float(found[0])
        window_start = start / cfg.sample_rate
        # A compressed image is all or nothing: if resampling to the cover's rate spoils it, send a smaller one.
        rooms = (1.0, 0.7, 0.5) if self.model.takes_room and sample_rate != cfg.sample_rate else (None,)
        for room in rooms:
            hidden = self.model.embed(secret[None], wave, **keyed, **band, **({} if room is None else {"room": room}))
            stego, clipped, snr_file, _ = stego_api._add(cover, as_numpy(hidden.container)[0] - segment, start,
                                                         sample_rate, on_grid)
            expected = self._expected_ssim(hidden, secret, stego, sample_rate, window_start, keyed)
            if expected != 0.0:
                break
        seg = slice(int(window_start * sample_rate), int((window_start + clip_seconds) * sample_rate))
        snr = metrics.snr(cover[seg], stego[seg])
        refuse_louder_than_music(snr, float(np.mean(np.square(cover[seg], dtype=np.float64))),
                                 f"from {window_start:.6f} s for {clip_seconds:.3f} s")
        sent = hidden.window_sent[0] if hidden.window_sent else None
        report = HideReport(snr, snr_file,
                            (window_start, window_start + clip_seconds), clipped,
                            None if band or sample_rate / 2 >= self.model.top_frequency else sample_rate / 2,
                            band_limit_hz=band.get("band_limit_hz"),
                            overwritten=existing if existing is not None and existing >= PRESENCE_MIN else None,
                            expected_ssim=expected, image_bytes=sent.bytes if sent else None,
                            presence=sent.presence if sent and sample_rate == cfg.sample_rate else None,
                            change_lsb=float(np.sqrt(np.mean(np.square(stego[seg] - cover[seg], dtype=np.float64))))
                            * PCM16_SCALE)
        return stego, report

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
        b = min(len(stego), int(np.ceil((window_start + self.stego.clip_seconds + 0.5) * sample_rate)))
        try:
            revealed = self.reveal(pcm16_round_trip(stego[a:b]), sample_rate, window_start - a / sample_rate, False,
                                   keyed, 0.0)
        except PixinwavError:  # a compressed image that does not survive the resampling: nothing will be revealed
            return 0.0
        return float(metrics.ssim(revealed.image[None], secret[None].astype(revealed.image.dtype))[0])

    # --- revealing -------------------------------------------------------------------------------------------
    def reveal(self, audio: np.ndarray, sample_rate: int, offset: float | str, check: bool, keyed: dict,
               origin: float) -> Revealed:
        """The image in the window at ``offset`` ("auto": the one its pilots recognise on the 0.5 s grid), with its
        verdict (:meth:`~pixinwav.api.Stego.reveal_payload`)."""
        mono = self.stego._mono(audio, sample_rate)
        band = self.stego._band(sample_rate)
        if offset == "auto":
            offset = self.find_offset(mono, keyed.get("key"), **band)
        start = self.start(mono, offset)
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

    def capacity(self, audio: np.ndarray, mono: np.ndarray, sample_rate: int, photo: tuple[int, int] | None,
                 file_bytes: int | None) -> dict:
        """:meth:`~pixinwav.api.Stego.capacity`: one square image, wherever the window goes."""
        seconds = len(mono) / self.cfg.sample_rate
        side, window_s = self.cfg.image_size, self.cfg.clip_samples / self.cfg.sample_rate
        return {"seconds": seconds, "tiles": None,
                "lines": [f"carries one {side} x {side} image in one {window_s:.2f} s window, wherever --offset puts it"]}

    @property
    def eval_seconds(self) -> float:
        """The clips `pixinwav eval` measures on: the window and the half second before it where it is hidden."""
        return self.stego.clip_seconds + 1.0

    # --- on files of any length --------------------------------------------------------------------------------
    def hide_path(self, secret, cover: str | Path, out: str | Path, key: str | None, options: dict, force: bool = False,
                  fmt: str | None = None) -> tuple[HideReport, dict]:
        """Hide an image, reading the cover's window region only and writing the stego block by block (16-bit WAV or
        FLAC, the cover's rate, channels, length and tags). Returns (report, the file's rate, channels, seconds);
        ``report.notes`` say which --offset reveals it."""
        asked = options.get("offset", self.default_offset)
        refuse_truncated_wav(Path(cover))
        container, subtype = OUTPUT_FORMATS[output_format(out, fmt)]
        with open_seekable(cover) as src:  # opened once: a container FFmpeg decodes is decoded once
            rate, frames, channels, tags = src.samplerate, src.frames, src.channels, file_tags(src)
            offset, a, region = self._window_region(src, cover, asked, self._loudest_in_file)
            b = a + len(region)
            changed, report = self.stego.hide(secret, region, rate, offset=offset - a / rate, key=key)
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
        start = report.window[0]
        if asked == "auto":
            report.notes.append(f"--offset auto chose {start:.6f} s (the loudest window); reveal with --offset {start:.6f}"
                                + (" or --offset auto" if self.model.has_presence else " (this model cannot find it by itself)"))
        elif asked != start:
            report.notes.append(f"the window starts on the model's sample grid: reveal with --offset {start:.6f}")
        return report, {"rate": rate, "channels": channels, "seconds": frames / rate}

    def reveal_path(self, path: str | Path, offset: float | str, check: bool, key: str | None, audio=None) -> Revealed:
        """Reveal, reading only the window's region (``--offset auto``: the grid block by block); ``audio``, a file
        already read, is not needed."""
        refuse_truncated_wav(Path(path))
        with open_seekable(path) as f:
            rate = f.samplerate
            offset, a, region = self._window_region(f, path, offset, lambda f: self._find_in_file(f, key))
        return self.stego.reveal_payload(region, rate, offset - a / rate, check, key, origin=a / rate)

    def _region(self, rate: int, frames: int, offset: float) -> tuple[int, int]:
        """Cover samples [a, b) around the window at ``offset``; ``a`` on the model rate's grid."""
        a = _aligned(int((offset - MARGIN_S) * rate), rate, self.cfg.sample_rate)
        b = min(frames, int(math.ceil((offset + self.stego.clip_seconds + MARGIN_S) * rate)))
        return a, b

    def _loudest_in_file(self, f: sf.SoundFile) -> float:
        """The grid offset of the loudest window that does not come near full scale, from 10 ms segments' energy
        and peak (what :meth:`loudest_offset` measures, without holding the file)."""
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
        width = int(round(self.stego.clip_seconds / LOUDNESS_SEGMENT_S))
        starts = np.arange(0, len(energy) - width + 1, int(round(OFFSET_GRID_S / LOUDNESS_SEGMENT_S)))
        if not len(starts):
            self.stego.check_length(f.frames, f.samplerate)
        window_energy = np.array([energy[s:s + width].sum() for s in starts])
        return loudest(window_energy, np.array([peak[s:s + width].max() for s in starts])) * OFFSET_GRID_S

    def _find_in_file(self, f: sf.SoundFile, key: str | None) -> float:
        """:meth:`scan` over the file, ``SCAN_BATCH`` grid windows per read."""
        rate, model_rate, clip = f.samplerate, self.cfg.sample_rate, self.cfg.clip_samples
        grid = int(round(OFFSET_GRID_S * model_rate))
        count = int((f.frames / rate * model_rate - clip) // grid) + 1
        band = self.stego._band(rate)

        def batches():
            for first in range(0, count, SCAN_BATCH):
                last = min(count, first + SCAN_BATCH) - 1
                a, b = self._region(rate, f.frames, first * OFFSET_GRID_S)
                b = min(f.frames, int(math.ceil((last * OFFSET_GRID_S + self.stego.clip_seconds + MARGIN_S) * rate)))
                mono = resample(_read(f, a, b).mean(axis=1), rate, model_rate)
                origin = a * model_rate // rate
                windows = [mono[k * grid - origin:k * grid - origin + clip] for k in range(first, last + 1)]
                yield np.stack([w for w in windows if len(w) == clip])

        self.stego.check_length(f.frames, rate)
        return self.scan(batches(), key, band.get("band_limit_hz"))

    def _window_region(self, f: sf.SoundFile, path, offset: float | str, auto) -> tuple[float, int, np.ndarray]:
        """Shared by hide and reveal: check the file, resolve ``offset`` ("auto": ``auto(f)``), read the window's region.
        Returns (offset, first sample of the region, region ``[n, channels]``)."""
        refuse_empty(path, f.frames)
        self.stego.check_length(f.frames, f.samplerate)
        if offset == "auto":
            offset = auto(f)
        self.stego.check_length(f.frames, f.samplerate, offset)
        a, b = self._region(f.samplerate, f.frames, offset)
        region = _read(f, a, b)
        refuse_non_finite(path, region)
        return offset, a, region


def loudest(level: np.ndarray, peak: np.ndarray) -> int:
    """Index of the loudest window whose peak stays under 0.95 (a change near full scale would clip), or of the
    loudest of all when none does."""
    headroom = peak < 0.95
    return int(np.argmax(np.where(headroom, level, -1.0) if headroom.any() else level))


def _aligned(sample: int, rate: int, model_rate: int) -> int:
    step = rate // math.gcd(rate, model_rate)
    return max(0, sample // step * step)


def _read(f: sf.SoundFile, a: int, b: int) -> np.ndarray:
    f.seek(a)
    return f.read(b - a, dtype="float32", always_2d=True)
