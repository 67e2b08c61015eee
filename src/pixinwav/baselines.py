"""Classical baselines for ``pixinwav eval --attacks``, with the user-level interface of :class:`pixinwav.api.Stego`
(``hide(image, audio, rate) -> (stego, report)``, ``reveal(audio, rate) -> image``):

- ``lsb1`` / ``lsb2``: the image as WebP in the lowest 1 or 2 bits of the first channel's 16-bit samples, after a
  32-bit length and a CRC-32. Excellent on a bit-exact copy, gone after any change.
- ``qim``: the same bytes by plain dither modulation of the first channel's samples (step 64 LSB, each bit
  repeated over 15 samples, majority by soft sum), no synchronisation and no masking model.
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import numpy as np
import torch

from . import metrics
from .api import Revealed
from .channel import PCM16_SCALE, to_pcm16
from .data.images import load_image, open_image, prepare_image
from .errors import PixinwavError
from .models.base import EXACT
from .robust import payload


@dataclass
class BaselineReport:
    snr_db: float
    image_bytes: int
    sample_rate: int | None = None  # (the cover's: a baseline writes at any rate)


class Baseline:
    options = ()  # written from the file's first sample on; no offset, no other hide option
    full_image = False  # a square of image_size

    def __init__(self, kind: str, image_size: int = 256):
        self.kind, self.image_size = kind, image_size
        self.card = {"name": kind}
        self.source = kind

    def prepare_image(self, image) -> torch.Tensor:
        """The photo as this baseline sends it, ``[3, S, S]``: what its revealed image is measured against."""
        return load_image(image, self.image_size, 3)

    def _capacity_bits(self, samples: int) -> int:
        return samples * int(self.kind[-1]) if self.kind.startswith("lsb") else samples // 15

    def hide(self, image, audio: np.ndarray, rate: int, **_) -> tuple[np.ndarray, BaselineReport]:
        from PIL import Image

        audio = np.asarray(audio, dtype=np.float32)
        audio = audio[:, None] if audio.ndim == 1 else audio
        pil = image if isinstance(image, Image.Image) else open_image(image, self.image_size)
        secret = prepare_image(pil, self.image_size, 3)
        room = self._capacity_bits(audio.shape[0]) // 8 - 8
        data, _ = payload.compress(secret, room, "WEBP")
        bits = payload.bytes_to_bits(struct.pack(">II", len(data), zlib.crc32(data)) + data)
        pcm = to_pcm16(audio).astype(np.int64)
        column = pcm[:, 0]
        if self.kind.startswith("lsb"):
            k = int(self.kind[-1])
            words = bits[: len(bits) // k * k].reshape(-1, k) if len(bits) % k == 0 else \
                np.concatenate([bits, np.zeros(k - len(bits) % k, np.uint8)]).reshape(-1, k)
            values = words @ (1 << np.arange(k - 1, -1, -1))
            column[: len(values)] = (column[: len(values)] >> k << k) | values
        else:
            step = 64
            x = column[: len(bits) * 15].reshape(-1, 15).astype(np.float64)
            target = (bits[:, None] * 0.5 + 0.25) * step  # bit b sits at (b / 2 + 1 / 4) of a step
            column[: len(bits) * 15] = (np.round((x - target) / step) * step + target).round().reshape(-1)
        pcm[:, 0] = np.clip(column, -32768, 32767)
        stego = (pcm / PCM16_SCALE).astype(np.float32)
        return stego, BaselineReport(metrics.snr(audio, stego), len(data))

    def reveal_payload(self, audio: np.ndarray, rate: int, **_) -> Revealed:
        return Revealed(self.reveal(audio, rate), None, "CRC-32 holds", EXACT)

    def reveal(self, audio: np.ndarray, rate: int, **_) -> torch.Tensor:
        audio = np.asarray(audio, dtype=np.float32)
        column = np.round((audio[:, None] if audio.ndim == 1 else audio)[:, 0] * PCM16_SCALE).astype(np.int64)
        if self.kind.startswith("lsb"):
            k = int(self.kind[-1])
            bits = ((column[:, None] >> np.arange(k - 1, -1, -1)) & 1).reshape(-1).astype(np.uint8)
        else:
            usable = len(column) // 15 * 15
            phase = np.mod(column[:usable] / 64.0, 1.0).reshape(-1, 15)
            bits = (np.cos(2 * np.pi * (phase - 0.75)).sum(1) > 0).astype(np.uint8)
        head = payload.bits_to_bytes(bits[:64])
        length, crc = struct.unpack(">II", head)
        data = payload.bits_to_bytes(bits[64: 64 + 8 * length]) if 0 < length < len(bits) // 8 else b""
        if not data or zlib.crc32(data) != crc:
            raise PixinwavError("no intact image found")
        return payload.decompress(data, 3, (self.image_size, self.image_size))


BASELINES = ("lsb1", "lsb2", "qim")
