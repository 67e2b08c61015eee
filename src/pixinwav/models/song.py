"""The whole photo in the whole song: a window model's codes in as many windows as the photo needs.

The photo keeps its own size and aspect ratio (down to what the song holds, or ``max_side``): it is cut into
square tiles of the model's image size, and each tile goes into one 1.53 s window of the song with the window
model's informed modulo codes (``models/modulo.py``). Windows sit on a grid from the file's first sample; the
loudest ones that leave the change at least ``MIN_SNR_DB`` under the music carry tiles, the quiet ones are
skipped. Every carrying window is self-describing:

- its first samples carry a keyed parity pattern (``sync.py``), which the receiver finds by one correlation
  over the whole file, exact to the sample (no offset: a trimmed start or audio pasted before it is found);
- ``HEADER_COPIES`` x 128 of its codes carry a CRC-checked header (``header.py``): the photo's size, the number
  of tiles and which tile this window holds, so a window lost to a cut costs its tile and nothing else;
- its image codes are offset by a dither keyed per tile, so no two windows share a code offset (with one
  offset for all, the difference of two windows' codes would show the difference of their tiles).

The receiver joins the tiles it finds; a tile it cannot find is grey and the result carries a warning.

Or a file, bit-exact (``embed_file``): its framed bytes are cut into fountain-code packets (``hidden_file.py``),
one per window, each written as digital modulo codes with an LDPC code and a CRC-32 (``digital.py``) in the
places the tile's codes would take. The song's spare loud windows carry repair packets, so the file survives
the loss of some windows; it comes back exact or not at all.
"""
from __future__ import annotations

import functools
import math
from collections import Counter
from typing import Callable

import numpy as np

from .. import digital, hidden_file, sync, tiles
from .. import header as headers
from ..channel import LSB
from ..config import ModelConfig
from ..data.images import LONGEST_SENT_SIDE
from ..errors import PixinwavError
from ..arrays import Array, as_numpy, like
from .base import DAMAGED, EXACT, INTACT, Extracted, Hidden, Sent, StegoScheme
from .dither import PILOT_CODE, keyed_dither, wrap
from .modulo import Layout, ModuloStego, dct, idct, spaced

HEADER_COPIES = 3  # majority of three reads per bit (a lossless file needs one; three cover a little noise)
MIN_SNR_DB = 25.0  # a window whose music is less than this over the change is skipped (the API's audible limit)
MAX_PEAK = 0.95  # nor a window that comes this near full scale (the change would clip)
DEFAULT_MAX_SIDE = LONGEST_SENT_SIDE
BATCH = 16  # windows per batched DCT: 16 x 67,522 float64 is 9 MB


class SongStego(StegoScheme):
    """Whole-file: takes the photo at its own size (``full_image``) and a mono cover of any length at the model's
    rate, as the 16-bit file holds it (``writes_model_rate``: the sync mark lives in the exact samples)."""

    takes_key = True
    has_presence = True
    carries_files = True
    whole_file = True
    full_image = True
    max_side = DEFAULT_MAX_SIDE
    writes_model_rate = True
    hide_options = ("max_side",)

    def __init__(self, cfg: ModelConfig):
        super().__init__(cfg)
        self.window = ModuloStego(cfg)

    @property
    def top_frequency(self) -> float:
        return self.window.top_frequency

    def carries(self) -> dict:
        side, seconds = self.cfg.image_size, self.cfg.clip_samples / self.cfg.sample_rate
        return {"image": f"the photo at its own size and aspect ratio (long side up to {self.max_side}), in tiles of "
                         f"{side} x {side} x {self.cfg.image_channels}, one per {seconds:.2f} s window",
                "coefficients_per_tile": len(self.split_layout()[1]), "header_bits": headers.BITS,
                "pilots_per_window": len(self.window.layout().pilots), "tile": self.cfg.image_size}

    # --- layout -------------------------------------------------------------------------------------------
    def split_layout(self, key: str | None = None) -> tuple[Layout, np.ndarray, np.ndarray]:
        """(the window model's layout, positions into it of the header codes, positions of the image codes).
        Header codes take every n-th place among the larger steps (read exactly in any intact file); the image
        codes keep the rest, most important coefficients on the largest steps as in the window model."""
        base = self.window.layout(key)
        n = len(base.bins)
        places = spaced(n // 2, headers.BITS * HEADER_COPIES)
        is_header = np.zeros(n, bool)
        is_header[places] = True
        return base, places, np.flatnonzero(~is_header)

    def tile_layout(self, key: str | None, index: int) -> Layout:
        base, _, data = self.split_layout(key)
        dither = keyed_dither(f"{key or ''}\x00tile {index}", len(data))
        return base._replace(bins=base.bins[data], step=base.step[data], dither=dither,
                             margin=base.margin[data], coefs=base.coefs[: len(data)])

    # --- choosing windows -----------------------------------------------------------------------------------
    def window_starts(self, samples: int) -> np.ndarray:
        return np.arange(0, samples - self.cfg.clip_samples + 1, self.cfg.clip_samples)

    def change_rms(self) -> float:
        """RMS of the change per sample (the codes move each used bin uniformly within +- half a step)."""
        layout = self.window.layout()
        power = float(np.square(layout.step).sum() + np.square(layout.pilot_step).sum()) / 12
        return math.sqrt(power / self.cfg.clip_samples)

    def window_peaks(self, channels: np.ndarray) -> np.ndarray:
        """The peak over every channel of each grid window of a cover ``[T, C]`` at the model's rate: a window whose
        downmix stays under ``MAX_PEAK`` may still have one channel near full scale, where the change would clip."""
        starts = self.window_starts(len(channels))
        return np.array([np.abs(channels[s:s + self.cfg.clip_samples]).max() for s in starts], dtype=np.float64)

    def usable(self, cover: np.ndarray, peaks: np.ndarray | None = None) -> np.ndarray:
        """Starts of the grid windows of a mono cover loud enough to carry a tile, loudest first; ``peaks``: each
        window's peak over the file's channels (:meth:`window_peaks`), if not the mono cover's own."""
        starts = self.window_starts(len(cover))
        if not len(starts):
            return starts
        frames = cover[: starts[-1] + self.cfg.clip_samples].reshape(len(starts), -1)  # a view, no copy
        rms = np.sqrt(np.einsum("ij,ij->i", frames, frames, dtype=np.float64) / frames.shape[1])  # buffered, no copy
        peak = np.abs(frames).max(axis=1) if peaks is None else peaks
        snr = 20 * np.log10(np.maximum(rms, 1e-12) / self.change_rms())
        order = np.argsort(-rms, kind="stable")
        return starts[order][(snr[order] >= MIN_SNR_DB) & (peak[order] <= MAX_PEAK)]

    @functools.cached_property
    def frame(self) -> digital.Frame:
        """The digital frame of one window (the tile's places; the same for every key and window)."""
        _, _, data = self.split_layout()
        return digital.Frame(self.window.layout().step[data] / LSB)

    @property
    def symbol_bytes(self) -> int:
        """File bytes per window: the frame less the fountain packet's id, a multiple of 8."""
        return self.frame.payload_bytes - 2 * hidden_file.PACKET_ID

    def file_capacity(self, windows: int) -> int:
        """The largest file (bytes, with its name) that ``windows`` loud windows carry, with no spare window."""
        return max(0, windows * self.symbol_bytes - hidden_file.HiddenFile.frame_size(0))

    # --- hiding ---------------------------------------------------------------------------------------------
    def embed(self, image: Array, cover: Array, key: str | None = None,
              max_side: int | None = None, channels: np.ndarray | None = None) -> Hidden:
        """``image [1, C, H, W]`` at its own size, ``cover [1, T]`` (mono, the model's rate, on the 16-bit grid
        of the file to be written) -> container ``[1, T]``; ``channels``: the file's channels ``[T, C]`` (a window
        near full scale in any of them is skipped, :meth:`usable`). The change is float
        except in the sync marks, which are whole 16-bit steps; the file's rounding of the rest is the noise the
        codes are designed for."""
        self.check_cover(cover)
        image = as_numpy(image)
        if max_side is not None and max_side < 1:
            raise PixinwavError(f"--max-side must be a positive number of pixels, got {max_side}")
        # the song stays at the caller's precision (float32: 106 MB for 10 minutes); windows go float64 one batch at
        # a time. A float32 container holds the 16-bit grid plus the marks' whole steps exactly.
        mono = as_numpy(cover[0])
        usable = self.usable(mono, None if channels is None else self.window_peaks(channels))
        side, (c, h, w) = self.cfg.image_size, image.shape[1:]
        if not len(usable):
            raise PixinwavError(f"no {self.cfg.clip_samples / self.cfg.sample_rate:.2f} s stretch of this song is loud "
                                f"enough to carry the image (the change must sit {MIN_SNR_DB:g} dB under the music): "
                                "use a louder cover")
        width, height = tiles.fit(w, h, side, len(usable), max_side or DEFAULT_MAX_SIDE)
        photo = tiles.scaled(image[0].astype(np.float32), width, height)
        parts = tiles.split(photo, side)
        starts = np.sort(usable[: len(parts)])  # the loudest windows, in time order

        def places(index: int, layout: Layout) -> np.ndarray:
            return self.window.codes(parts[index][None].astype(np.float64), layout)[0]

        header = lambda index: headers.WindowHeader("image tiles", c, width, height, index, len(parts))
        container = self._write(mono, starts, key, header, places)
        sent = Sent("photo", 0, len(parts) * self.cfg.clip_samples / self.cfg.sample_rate,
                    f"{len(parts)} of {len(usable)} windows loud enough used", (starts / self.cfg.sample_rate).tolist(),
                    len(parts), len(usable), width=width,
                    height=height, channels=c, original=(w, h), tiles=len(parts), tile_side=self.cfg.image_size,
                    photo=photo)
        out = like(container[None].astype(as_numpy(cover).dtype), cover)
        return Hidden(cover, out, out, sent=sent)

    def embed_file(self, file: hidden_file.HiddenFile, cover: Array, key: str | None = None,
                   channels: np.ndarray | None = None) -> Hidden:
        """A file, bit-exact: one fountain-code packet per loud window, plus spare ones where the song has room.
        Refuses a file larger than the song carries, saying how much it does."""
        self.check_cover(cover)
        mono = as_numpy(cover[0])
        usable = self.usable(mono, None if channels is None else self.window_peaks(channels))
        frame, symbol = file.frame(), self.symbol_bytes
        source = hidden_file.source_count(len(frame), symbol)
        if source > len(usable):
            raise PixinwavError(f"{file.size_said()}; this song carries at most "
                                f"{self.file_capacity(len(usable)):,} ({len(usable)} loud windows of "
                                f"{self.cfg.clip_samples / self.cfg.sample_rate:.2f} s, {symbol:,} bytes each): use a "
                                "longer or louder song, or a smaller file")
        packets = hidden_file.packets(frame, symbol, hidden_file.spare_count(source, len(usable)))
        starts = np.sort(usable[: len(packets)])
        pad = bytes(self.frame.payload_bytes - len(packets[0]))
        header = lambda index: headers.WindowHeader.for_file(len(frame), index, len(packets))
        places = lambda index, layout: self.frame.places(packets[index] + pad)
        container = self._write(mono, starts, key, header, places)
        sent = Sent("file", len(file.data), len(packets) * self.cfg.clip_samples / self.cfg.sample_rate,
                    f"{len(packets)} of {len(usable)} windows loud enough used", (starts / self.cfg.sample_rate).tolist(),
                    len(packets), len(usable), packets=len(packets),
                    needed=source, name=file.name, packing=file.packing_said() or None)
        out = like(container[None].astype(as_numpy(cover).dtype), cover)
        return Hidden(cover, out, out, sent=sent)

    def _write(self, mono: np.ndarray, starts: np.ndarray, key: str | None,
               header: Callable[[int], headers.WindowHeader],
               places: Callable[[int, Layout], np.ndarray]) -> np.ndarray:
        """The song with window ``i`` (at ``starts[i]``) carrying ``header(i)``, ``places(i, its layout)`` under
        that window's keyed dither, the pilots and the sync mark."""
        base, header_places, _ = self.split_layout(key)
        container = mono.copy()
        for first in range(0, len(starts), BATCH):
            chunk = range(first, min(first + BATCH, len(starts)))
            rows = np.stack([mono[s:s + self.cfg.clip_samples] for s in starts[chunk.start:chunk.stop]]).astype(np.float64)
            spec = dct(rows)
            new = spec.copy()
            for row, index in enumerate(chunk):
                tile = self.tile_layout(key, index)
                bits = header(index).to_bits()
                header_codes = np.tile(bits, HEADER_COPIES) * 0.5 + 0.25
                writes = ((tile.bins, tile.step, np.asarray(places(index, tile), np.float64) + tile.dither),
                          (base.bins[header_places], base.step[header_places], header_codes + base.dither[header_places]),
                          (base.pilots, base.pilot_step, PILOT_CODE + base.pilot_dither))
                for bins, step, target in writes:
                    new[row, bins] += wrap(target - spec[row, bins] / step) * step
            change = idct(new) - rows
            for row, s in zip(change, starts[chunk.start:chunk.stop]):
                row[: sync.LENGTH] = sync.mark(sync.levels(mono[s:s + sync.LENGTH]), row[: sync.LENGTH] / LSB, key) * LSB
                container[s:s + self.cfg.clip_samples] += row
        return container

    # --- revealing ------------------------------------------------------------------------------------------
    def read_window(self, wave: np.ndarray, key: str | None) -> list[tuple]:
        """(start, header or None, raw codes, noise, pilot agreement) for every marked window of ``wave``."""
        starts = [s for s in sync.find(wave, key) if s + self.cfg.clip_samples <= len(wave)]
        base, header_places, data = self.split_layout(key)
        out = []
        for first in range(0, len(starts), BATCH):
            chunk = starts[first:first + BATCH]
            rows = np.stack([wave[s:s + self.cfg.clip_samples] for s in chunk]).astype(np.float64)
            codes, noise, agreement = self.window.read_codes(dct(rows), base)
            votes = (codes[:, header_places] >= 0.5).reshape(len(chunk), HEADER_COPIES, headers.BITS).sum(1)
            for i, s in enumerate(chunk):
                found = headers.WindowHeader.from_bits(votes[i] * 2 > HEADER_COPIES)
                out.append((s, found, codes[i, data] + base.dither[data], noise[i], float(agreement[i])))
        return out

    def extract(self, wave: Array, key: str | None = None, channels: np.ndarray | None = None) -> Extracted:
        """(``channels``, the file's own, are not needed: the sync marks and windows are read from the downmix.)"""
        if len(wave) != 1:
            raise PixinwavError("the song model reveals one file at a time")
        windows = self.read_window(as_numpy(wave[0]), key)  # windows go float64 a batch at a time
        found = [w for w in windows if w[1] is not None]
        blank = np.full((self.cfg.image_channels, self.cfg.image_size, self.cfg.image_size), 0.5, np.float32)
        if not found:
            detail = (f"no hidden image found ({len(windows)} marked windows, none with a valid header)" if windows else
                      "no hidden image found (no window of this model's mark: plain audio, another --key, or a file "
                      "that was resampled or lossy-coded after hiding)")
            return Extracted(blank[None], np.zeros(1, np.float32), detail)
        kinds = Counter((h.kind, h.channels, h.width, h.height, h.count) for _, h, *_ in found)
        kind, channels, width, height, count = kinds.most_common(1)[0][0]
        best: dict[int, tuple] = {}  # per index, the window whose pilots agree best (a pasted copy may repeat one)
        for start, h, codes, noise, agreement in found:
            if (h.kind, h.channels, h.width, h.height, h.count) == (kind, channels, width, height, count) and \
                    agreement > best.get(h.index, (0, 0, -1))[2]:
                best[h.index] = (codes, noise, agreement, start)
                agreed = h
        if kind == "file":
            return self._extract_file(best, key, agreed, blank)
        side = self.cfg.image_size
        parts = np.broadcast_to(blank[:channels], (count, channels, side, side)).copy()
        for index, (codes, noise, agreement, _) in best.items():
            layout = self.tile_layout(key, index)
            tile_codes = np.remainder(codes - layout.dither, 1.0)[None]
            parts[index] = np.clip(self.window.decode(tile_codes, layout, noise)[0], 0, 1)
        image = tiles.join(parts, width, height)
        worst = min(a for _, _, a, _ in best.values())
        missing = count - len(best)
        where = f"{width} x {height} image in {len(best)} of {count} tiles"
        if missing:
            verdict, detail = DAMAGED, f"{where}: {missing} tiles were not found (cut from the file, or damaged) and are grey"
        elif worst < 0.8:
            verdict, detail = DAMAGED, (f"{where}: the worst tile's pilots agree {worst:.2f} (intact: over 0.8): the image "
                                        "is damaged")
        else:
            verdict, detail = INTACT, f"{where}, every tile found (pilot agreement {worst:.2f} or more)"
        return Extracted(image[None], np.array([len(best) / count], np.float32), detail, verdict=verdict)

    def _extract_file(self, best: dict[int, tuple], key: str | None, header: headers.WindowHeader,
                      blank: np.ndarray) -> Extracted:
        """Decode the windows' packets, in index order (the source packets first), until the fountain code has
        enough to rebuild the file; the file exactly, or ``lost`` with the reason. ``header``: any of the windows'
        (they agree on the frame's length and the window count)."""
        symbol, decoded = self.symbol_bytes, 0
        source = hidden_file.source_count(header.length, symbol)

        def packets():  # decoded one window at a time, only while the fountain code still needs more
            nonlocal decoded
            for index in sorted(best):
                codes, noise, _, _ = best[index]
                layout = self.tile_layout(key, index)
                payload = self.frame.read(np.remainder(codes - layout.dither, 1.0), float(noise))
                if payload is not None:
                    decoded += 1
                    yield payload[: hidden_file.PACKET_ID + symbol]

        raw = hidden_file.rebuild(packets(), header.length, symbol)
        where = f"{len(best)} of {header.count} windows of a hidden file found, {decoded} decoded ({source} needed)"
        if raw is None:
            return Extracted(blank[None], np.ones(1, np.float32), f"a hidden file was found but it cannot be rebuilt: "
                             f"{where}; the file was cut or changed after hiding", np.ones(1, bool))
        file = hidden_file.HiddenFile.from_frame(raw)
        return Extracted(blank[None], np.ones(1, np.float32), f"{where}: the file passed its checksum", file=file,
                         verdict=EXACT)
