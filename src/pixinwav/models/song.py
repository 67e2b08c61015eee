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
"""
from __future__ import annotations

import math
from collections import Counter

import numpy as np
import torch

from .. import header as headers
from .. import sync, tiles
from ..config import ModelConfig
from ..data.images import LONGEST_SENT_SIDE
from ..errors import PixinwavError
from ..transforms import dct2, idct2
from .base import Extracted, Hidden, StegoScheme
from .modulo import LSB, PILOT_CODE, Layout, ModuloStego, keyed_dither, wrap

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
        return {"coefficients_per_tile": len(self.split_layout()[1]), "header_bits": headers.BITS,
                "pilots_per_window": len(self.window.layout().pilots), "tile": self.cfg.image_size}

    # --- layout -------------------------------------------------------------------------------------------
    def split_layout(self, key: str | None = None) -> tuple[Layout, torch.Tensor, torch.Tensor]:
        """(the window model's layout, positions into it of the header codes, positions of the image codes).
        Header codes take every n-th place among the larger steps (read exactly in any intact file); the image
        codes keep the rest, most important coefficients on the largest steps as in the window model."""
        base = self.window.layout(key)
        n = len(base.bins)
        places = torch.linspace(0, n // 2, headers.BITS * HEADER_COPIES).round().long()
        is_header = torch.zeros(n, dtype=torch.bool)
        is_header[places] = True
        return base, places, torch.nonzero(~is_header)[:, 0]

    def tile_layout(self, key: str | None, index: int) -> Layout:
        base, _, data = self.split_layout(key)
        dither = keyed_dither(f"{key or ''}\x00tile {index}", len(data)).to(base.step.device)
        return base._replace(bins=base.bins[data], step=base.step[data], dither=dither,
                             margin=base.margin[data], coefs=base.coefs[: len(data)])

    # --- choosing windows -----------------------------------------------------------------------------------
    def window_starts(self, samples: int) -> np.ndarray:
        return np.arange(0, samples - self.cfg.clip_samples + 1, self.cfg.clip_samples)

    def change_rms(self) -> float:
        """RMS of the change per sample (the codes move each used bin uniformly within +- half a step)."""
        layout = self.window.layout()
        power = float(layout.step.pow(2).sum() + layout.pilot_step.pow(2).sum()) / 12
        return math.sqrt(power / self.cfg.clip_samples)

    def usable(self, cover: np.ndarray) -> np.ndarray:
        """Starts of the grid windows of a mono cover loud enough to carry a tile, loudest first."""
        starts = self.window_starts(len(cover))
        if not len(starts):
            return starts
        frames = cover[: starts[-1] + self.cfg.clip_samples].reshape(len(starts), -1)  # a view, no copy
        rms = np.sqrt(np.einsum("ij,ij->i", frames, frames, dtype=np.float64) / frames.shape[1])  # buffered, no copy
        peak = np.abs(frames).max(axis=1)
        snr = 20 * np.log10(np.maximum(rms, 1e-12) / self.change_rms())
        order = np.argsort(-rms, kind="stable")
        return starts[order][(snr[order] >= MIN_SNR_DB) & (peak[order] <= MAX_PEAK)]

    def capacity(self, cover: np.ndarray) -> int:
        """How many tiles a mono cover at the model's rate carries."""
        return len(self.usable(cover))

    # --- hiding ---------------------------------------------------------------------------------------------
    def embed(self, image: torch.Tensor, cover: torch.Tensor, key: str | None = None,
              max_side: int | None = None) -> Hidden:
        """``image [1, C, H, W]`` at its own size, ``cover [1, T]`` (mono, the model's rate, on the 16-bit grid
        of the file to be written) -> container ``[1, T]``. The change is float except in the sync marks, which
        are whole 16-bit steps; the file's rounding of the rest is the noise the codes are designed for."""
        self.check_cover(cover)
        if max_side is not None and max_side < 1:
            raise PixinwavError(f"--max-side must be a positive number of pixels, got {max_side}")
        # the song stays at the caller's precision (float32: 106 MB for 10 minutes); windows go float64 one batch at
        # a time. A float32 container holds the 16-bit grid plus the marks' whole steps exactly.
        mono = cover[0].detach().cpu().numpy()
        usable = self.usable(mono)
        side, (c, h, w) = self.cfg.image_size, image.shape[1:]
        if not len(usable):
            raise PixinwavError(f"no {self.cfg.clip_samples / self.cfg.sample_rate:.2f} s stretch of this song is loud "
                                f"enough to carry the image (the change must sit {MIN_SNR_DB:g} dB under the music): "
                                "use a louder cover")
        width, height = tiles.fit(w, h, side, len(usable), max_side or DEFAULT_MAX_SIDE)
        photo = image[0].float()
        if (width, height) != (w, h):
            photo = torch.nn.functional.interpolate(photo[None], size=(height, width), mode="bicubic", antialias=True,
                                                    align_corners=False)[0].clamp(0, 1)
        parts = tiles.split(photo, side)
        starts = np.sort(usable[: len(parts)])  # the loudest windows, in time order
        base, header_places, _ = self.split_layout(key)
        container = mono.copy()
        for first in range(0, len(parts), BATCH):
            chunk = range(first, min(first + BATCH, len(parts)))
            rows = np.stack([mono[s:s + self.cfg.clip_samples] for s in starts[chunk.start:chunk.stop]]).astype(np.float64)
            spec = dct2(torch.from_numpy(rows))
            new = spec.clone()
            for row, index in enumerate(chunk):
                tile = self.tile_layout(key, index)
                bits = headers.WindowHeader("image tiles", c, width, height, index, len(parts)).to_bits()
                header_codes = torch.from_numpy(np.tile(bits, HEADER_COPIES) * 0.5 + 0.25).double()
                writes = ((tile.bins, tile.step, self.window.codes(parts[index][None].double(), tile)[0] + tile.dither),
                          (base.bins[header_places], base.step[header_places], header_codes + base.dither[header_places]),
                          (base.pilots, base.pilot_step, PILOT_CODE + base.pilot_dither))
                for bins, step, target in writes:
                    new[row, bins] += wrap(target - spec[row, bins] / step) * step
            change = (idct2(new) - spec.new_tensor(rows)).numpy()
            for row, s in zip(change, starts[chunk.start:chunk.stop]):
                row[: sync.LENGTH] = sync.mark(sync.levels(mono[s:s + sync.LENGTH]), row[: sync.LENGTH] / LSB, key) * LSB
                container[s:s + self.cfg.clip_samples] += row
        info = {"kind": "image tiles", "width": width, "height": height, "channels": c, "original": (w, h),
                "tiles": len(parts), "windows": len(usable), "seconds_used": len(parts) * self.cfg.clip_samples
                / self.cfg.sample_rate, "starts": (starts / self.cfg.sample_rate).tolist(), "sent": photo}
        out = torch.from_numpy(container)[None].to(cover.dtype)
        return Hidden(cover, out, out, info=[info])

    # --- revealing ------------------------------------------------------------------------------------------
    def read_window(self, wave: np.ndarray, key: str | None) -> list[tuple]:
        """(start, header or None, raw codes, noise, pilot agreement) for every marked window of ``wave``."""
        starts = [s for s in sync.find(wave, key) if s + self.cfg.clip_samples <= len(wave)]
        base, header_places, data = self.split_layout(key)
        out = []
        for first in range(0, len(starts), BATCH):
            chunk = starts[first:first + BATCH]
            rows = torch.from_numpy(np.stack([wave[s:s + self.cfg.clip_samples] for s in chunk]).astype(np.float64))
            codes, noise, agreement = self.window.read_codes(dct2(rows), base)
            votes = (codes[:, header_places] >= 0.5).reshape(len(chunk), HEADER_COPIES, headers.BITS).sum(1)
            for i, s in enumerate(chunk):
                found = headers.WindowHeader.from_bits((votes[i] * 2 > HEADER_COPIES).numpy())
                out.append((s, found, codes[i, data] + base.dither[data], noise[i], float(agreement[i])))
        return out

    def extract(self, wave: torch.Tensor, key: str | None = None) -> Extracted:
        if len(wave) != 1:
            raise PixinwavError("the song model reveals one file at a time")
        windows = self.read_window(wave[0].detach().cpu().numpy(), key)  # windows go float64 a batch at a time
        found = [w for w in windows if w[1] is not None]
        blank = torch.full((self.cfg.image_channels, self.cfg.image_size, self.cfg.image_size), 0.5)
        if not found:
            detail = (f"no hidden image found ({len(windows)} marked windows, none with a valid header)" if windows else
                      "no hidden image found (no window of this model's mark: plain audio, another --key, or a file "
                      "that was resampled or lossy-coded after hiding)")
            return Extracted(blank[None], torch.zeros(1), detail)
        geometry = Counter((h.channels, h.width, h.height, h.count) for _, h, *_ in found).most_common(1)[0][0]
        channels, width, height, count = geometry
        best: dict[int, tuple] = {}
        for start, h, codes, noise, agreement in found:
            if (h.channels, h.width, h.height, h.count) == geometry and agreement > best.get(h.index, (0, 0, -1))[2]:
                best[h.index] = (codes, noise, agreement, start)
        side = self.cfg.image_size
        parts = blank[:channels].expand(count, channels, side, side).clone()
        for index, (codes, noise, agreement, _) in best.items():
            layout = self.tile_layout(key, index)
            tile_codes = torch.remainder(codes - layout.dither, 1.0)[None]
            parts[index] = self.window.decode(tile_codes, layout, noise)[0].clamp(0, 1)
        image = tiles.join(parts, width, height)
        worst = min(a for _, _, a, _ in best.values())
        missing = count - len(best)
        where = f"{width} x {height} image in {len(best)} of {count} tiles"
        if missing:
            detail = (f"warning: {where}: {missing} tiles were not found (cut from the file, or damaged) and are grey")
        elif worst < 0.8:
            detail = f"warning: {where}: the worst tile's pilots agree {worst:.2f} (intact: over 0.8): the image is damaged"
        else:
            detail = f"{where}, every tile found (pilot agreement {worst:.2f} or more)"
        return Extracted(image[None], torch.tensor([len(best) / count]), detail)
