"""A photo as two whole, separately decodable image files: a small "base" that a damaged, cut or short recording
still brings back, and a "sharp" one at the photo's own aspect ratio that an intact song brings back.

No common image codec decodes a truncated stream (AVIF, WebP and JPEG XL all refuse one), so the layers are
whole files, each sent under its own fountain code: the receiver shows the sharp layer when it is complete,
else the base scaled up to the sharp layer's size, with a warning.

Frame of a layer (big-endian): ``PIXL``, frame version, layer (0 base, 1 sharp), the width and height to show it
at, channels, codec, the image file's bytes, then a CRC-32 of everything before it.

Size: the image is scaled so that the bytes it may take give about ``bpp`` bits per pixel (AVIF looks
clean from about 0.5 bit per pixel; WebP, whose file overhead is 30 bytes instead of AVIF's 300, is the
base's codec), never under ``MIN_SHORT_SIDE`` on its short side unless the bytes do not allow it, and then the
best quality that fits (bisection: size grows with quality).
"""
from __future__ import annotations

import io
import math
import struct
import zlib
from dataclasses import dataclass
from typing import Callable

import numpy as np
from PIL import Image

from ..errors import PixinwavError
from ..data.images import to_pil
from .payload import best_quality, decompress

MAGIC = b"PIXL"
VERSION = 1
HEAD = struct.Struct(">4sBBHHBB")
OVERHEAD = HEAD.size + 4  # bytes of a frame around the image file
NAMES = ("base", "sharp")
CODECS = {1: "AVIF", 2: "WEBP"}
CODEC_IDS = {name: i for i, name in CODECS.items()}
SHARP_BPP, BASE_BPP = 0.5, 1.2  # bits per pixel each layer aims at (measured by benchmarks/robust_song.py)
MIN_SHORT_SIDE = 256  # the sharp layer's short side when the bytes allow it
SMALLEST_SIDE = 16
SHRINK = 0.85  # when even the lowest quality does not fit, the next size tried


@dataclass(frozen=True)
class Layer:
    layer: str  # "base" or "sharp"
    width: int  # the size to show it at (the sharp layer's own size; the base is scaled up to it)
    height: int
    channels: int
    codec: str
    data: bytes  # the image file
    quality: int = -1  # the sender's quality setting (not sent)

    def frame(self) -> bytes:
        body = HEAD.pack(MAGIC, VERSION, NAMES.index(self.layer), self.width, self.height, self.channels,
                         CODEC_IDS[self.codec]) + self.data
        return body + struct.pack(">I", zlib.crc32(body))

    @classmethod
    def from_frame(cls, raw: bytes) -> "Layer":
        """Raises :class:`PixinwavError` unless ``raw`` is an intact frame of a version this release reads."""
        if len(raw) <= OVERHEAD or zlib.crc32(raw[:-4]) != struct.unpack(">I", raw[-4:])[0]:
            raise PixinwavError("an image layer was rebuilt but fails its checksum")
        magic, version, layer, width, height, channels, codec = HEAD.unpack(raw[:HEAD.size])
        if magic != MAGIC or version != VERSION or layer >= len(NAMES) or codec not in CODECS:
            raise PixinwavError(f"the hidden image layer is of frame version {version}, which this release of pixinwav "
                                "cannot read: it was written by a newer version")
        return cls(NAMES[layer], width, height, channels, CODECS[codec], raw[HEAD.size:-4])

    def image(self) -> np.ndarray:
        """``[C, height, width]`` float32 in [0, 1] (the base scaled up, Lanczos). Raises :class:`PixinwavError` when the
        bytes are not an image Pillow reads."""
        try:
            return decompress(self.data, self.channels, (self.height, self.width))
        except Exception as exc:  # CRC-exact bytes that do not decode: not something pixinwav wrote
            raise PixinwavError(f"a hidden image was found but its {self.codec} file does not decode ({exc})") from exc


def encode(photo: np.ndarray, layer: str, budget: int, max_side: int | None = None,
           show: tuple[int, int] | None = None, top: int = 100, tried: Callable[[], object] | None = None) -> Layer:
    """``photo [C, H, W]`` in [0, 1] as a layer whose frame takes at most ``budget`` bytes, at a quality of at most
    ``top``. ``show``: (width, height) to show it at (the base: the sharp layer's size; default its own size).
    ``tried``: called after each encoding (a large photo's takes about half a second: a progress bar counts them)."""
    codec = "WEBP" if layer == "base" else "AVIF"
    room = budget - OVERHEAD
    channels, height, width = photo.shape
    pil = to_pil(photo)
    short = min(width, height)
    side = planned_side(width, height, layer, budget, max_side)
    while side >= SMALLEST_SIDE:
        size = (max(1, round(width * side / short)), max(1, round(height * side / short)))
        scaled = pil if size == pil.size else pil.resize(size, Image.LANCZOS)
        fit = best_quality(lambda q: _counted(_saved(scaled, codec, q), tried), room, top)
        if fit is not None:
            data, quality = fit
            w, h = show or size
            return Layer(layer, w, h, channels, codec, data, quality)
        side *= SHRINK
    raise PixinwavError(f"the music carries {budget} bytes for the {layer} image; even a {SMALLEST_SIDE}-pixel one "
                        "takes more: use a longer song or fewer --seconds per copy")


def planned_side(width: int, height: int, layer: str, budget: int, max_side: int | None = None) -> float:
    """The short side a ``width`` x ``height`` photo is sent at first in ``budget`` bytes (``encode`` goes smaller
    only when even the lowest quality does not fit)."""
    bpp = BASE_BPP if layer == "base" else SHARP_BPP
    short, long = min(width, height), max(width, height)
    side = math.sqrt(max(budget - OVERHEAD, 1) * 8 / bpp * short / long)  # the short side that gives ``bpp``
    if layer == "sharp":
        side = max(side, min(MIN_SHORT_SIDE, short))
    return min(side, short, (max_side or long) * short / long)


def planned_size(width: int, height: int, budget: int, max_side: int | None = None) -> tuple[int, int]:
    """(width, height) the sharp layer of a ``width`` x ``height`` photo is planned at in ``budget`` bytes."""
    side = planned_side(width, height, "sharp", budget, max_side)
    short = min(width, height)
    return max(1, round(width * side / short)), max(1, round(height * side / short))


def _counted(data: bytes, tried: Callable[[], object] | None) -> bytes:
    if tried is not None:
        tried()
    return data


def _saved(image: Image.Image, codec: str, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=codec, quality=quality)
    return buffer.getvalue()
