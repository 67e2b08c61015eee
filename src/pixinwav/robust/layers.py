"""A photo as two whole, separately decodable image files: a small "base" that a damaged, cut or short recording
still brings back, and a "sharp" one at the photo's own aspect ratio that an intact song brings back.

No common image codec decodes a truncated stream (AVIF, WebP and JPEG XL all refuse one), so the layers are
whole files, each sent under its own fountain code: the receiver shows the sharp layer when it is complete,
else the base scaled up to the sharp layer's size, with a warning.

Frame of a layer (big-endian): ``PIXL``, frame version, layer (0 base, 1 sharp), the width and height to show it
at, channels, codec, the image file's bytes, then a CRC-32 of everything before it.

Codecs, by ``STYLES`` (the config's ``robust.layer_codec``): "avif-webp" (robust-v2 and v3) sends the sharp layer as
an AVIF file and the base as WebP, whose file overhead is 30 bytes instead of AVIF's 275; "bare-av1" (robust-v4)
sends both as AVIF files without their container (``robust/bare_avif.py``: 15 bytes instead of 275, the receiver
rebuilds the file), encoded more slowly and tuned for SSIM (libaom's ``tune=ssim``): at the same bytes, SSIM 0.03
higher for the sharp layer and 0.02-0.05 for the base (``benchmarks/layer_codecs.py``).

Size: the image is scaled so that the bytes it may take give about the style's bits per pixel (AVIF looks clean
from about 0.5 bit per pixel), never under ``MIN_SHORT_SIDE`` on its short side unless the bytes do not allow it,
and then the best quality that fits (bisection: size grows with quality).
"""
from __future__ import annotations

import io
import math
import struct
import zlib
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np
from PIL import Image

from ..errors import PixinwavError
from ..data.images import to_pil
from . import bare_avif
from .payload import QuickSizes, best_quality, decompress

MAGIC = b"PIXL"
VERSION = 1
HEAD = struct.Struct(">4sBBHHBB")
OVERHEAD = HEAD.size + 4  # bytes of a frame around the image file
NAMES = ("base", "sharp")
CODECS = {1: "AVIF", 2: "WEBP", 3: "AV1"}  # AV1: an AVIF file without its container (robust/bare_avif.py)
CODEC_IDS = {name: i for i, name in CODECS.items()}
SAID = {"AVIF": "AVIF", "WEBP": "WebP", "AV1": "AV1 (AVIF without its container)"}  # in messages
SHARP_BPP = 0.5  # bits per pixel the sharp layer aims at (measured by benchmarks/robust_song.py)
MIN_SHORT_SIDE = 256  # the sharp layer's short side when the bytes allow it
SMALLEST_SIDE = 16
SHRINK = 0.85  # when even the lowest quality does not fit, the next size tried


@dataclass(frozen=True)
class Encoding:
    codec: str
    bpp: float  # bits per pixel it aims at
    options: dict = field(default_factory=dict)  # Pillow's save options


SLOW_SSIM = {"speed": 4, "advanced": {"tune": "ssim"}}  # libavif's default is speed 6, no tuning
# A photo this large is fitted to its budget with libavif's fastest encoder aiming the quality search (a 1.7 MP photo:
# 0.1 s a try instead of 1.2; ``payload.best_quality``); the bytes sent are always the real encoder's
QUICK_FROM_PIXELS, QUICK_SPEED = 500_000, 9
# each layer's encoding per style (config ``robust.layer_codec``); bits per pixel measured by benchmarks/layer_codecs.py
STYLES = {"avif-webp": {"sharp": Encoding("AVIF", SHARP_BPP), "base": Encoding("WEBP", 1.2)},
          "bare-av1": {"sharp": Encoding("AV1", SHARP_BPP, SLOW_SSIM), "base": Encoding("AV1", 0.5, SLOW_SSIM)}}


def said(style: str, layer: str) -> str:
    """The codec of a style's layer, in words."""
    return SAID[STYLES[style][layer].codec]


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
            data = bare_avif.rebuild(self.data) if self.codec == "AV1" else self.data
            return decompress(data, self.channels, (self.height, self.width))
        except Exception as exc:  # CRC-exact bytes that do not decode: not something pixinwav wrote
            raise PixinwavError(f"a hidden image was found but its {self.codec} file does not decode ({exc})") from exc


def encode(photo: np.ndarray, layer: str, budget: int, max_side: int | None = None,
           show: tuple[int, int] | None = None, top: int = 100, tried: Callable[[], object] | None = None,
           style: str = "avif-webp", before: Layer | None = None, top_bytes: tuple[int, int, float] | None = None
           ) -> Layer:
    """``photo [C, H, W]`` in [0, 1] as a layer whose frame takes at most ``budget`` bytes, at a quality of at most
    ``top``, in the codec ``style`` gives that layer. ``show``: (width, height) to show it at (the base: the sharp
    layer's size; default its own size). ``tried``: called after each encoding (a large photo's takes about half a
    second: a progress bar counts them). ``before``: this layer of the same photo encoded before at quality ``top``
    at another size, whose bytes per pixel tell whether ``top`` fits at this size (:func:`payload.best_quality`);
    ``top_bytes``: (width, height, bytes) an estimate of the same where there is no such layer (:func:`rough`)."""
    encoding = STYLES[style][layer]
    room = budget - OVERHEAD
    channels, height, width = photo.shape
    pil = to_pil(photo)
    short = min(width, height)
    side = planned_side(width, height, layer, budget, max_side, encoding.bpp)
    made: dict[bytes, bytes] = {}  # AV1: stripped -> the AVIF file it came from
    while side >= SMALLEST_SIDE:
        size = (max(1, round(width * side / short)), max(1, round(height * side / short)))
        scaled = pil if size == pil.size else pil.resize(size, Image.LANCZOS)
        estimate = None  # the top quality's bytes at this size, from ``before``'s bytes per pixel
        if before is not None and before.layer == layer == "sharp" and (before.quality, before.codec) == (top, encoding.codec):
            estimate = len(before.data) * size[0] * size[1] / (before.width * before.height)
        elif top_bytes is not None:
            estimate = top_bytes[2] * size[0] * size[1] / (top_bytes[0] * top_bytes[1])
        quick = None
        if encoding.codec in ("AVIF", "AV1") and size[0] * size[1] >= QUICK_FROM_PIXELS:
            quick = QuickSizes(lambda q: _quick(scaled, encoding, q))
        fit = best_quality(lambda q: _counted(_saved(scaled, encoding, q, made), tried), room, top, estimate, quick)
        if fit is not None:
            data, quality = fit
            if encoding.codec == "AV1" and not _rebuilds(data, made):
                # (never seen: a libavif whose files bare_avif does not rebuild exactly) send AVIF files as they are
                return encode(photo, layer, budget, max_side, show, top, tried, style="avif-webp", before=before)
            w, h = show or size
            return Layer(layer, w, h, channels, encoding.codec, data, quality)
        side *= SHRINK
    raise PixinwavError(f"the music carries {budget} bytes for the {layer} image; even a {SMALLEST_SIDE}-pixel one "
                        "takes more: use a longer song or fewer --seconds per copy")


def rough(photo: np.ndarray, budget: int, max_side: int | None = None, top: int = 100,
          style: str = "avif-webp") -> Layer | None:
    """The sharp layer :func:`encode` tries first (quality ``top`` at its first size) by libavif's fastest encoder:
    a size to plan by, never sent (``rough_bytes``: the real encoder's estimated from it). None for a photo under
    ``QUICK_FROM_PIXELS`` at that size (its real encoding is quick) or a codec without a fast mode."""
    encoding = STYLES[style]["sharp"]
    channels, height, width = photo.shape
    size = planned_size(width, height, budget, max_side, encoding.bpp)
    if encoding.codec not in ("AVIF", "AV1") or size[0] * size[1] < QUICK_FROM_PIXELS:
        return None
    pil = to_pil(photo)
    scaled = pil if size == pil.size else pil.resize(size, Image.LANCZOS)
    return Layer("sharp", size[0], size[1], channels, encoding.codec, _quick(scaled, encoding, top), top)


# On six 1.3-2.6 MP photos (mate-backgrounds at up to 2048 px, quality 80) the fastest encoder's files were 1.03-1.15x
# the real encoder's, 1.09x in the middle, at a seventh of its time (0.1-0.2 s against 0.7-2.1); a grainy one's 0.99x: a
# guide for the quality search, whose real encodings decide
ROUGH_OVER = 1.09


def rough_bytes(layer: Layer) -> tuple[int, int, float]:
    """(width, height, bytes): the real encoder's size at :func:`rough`'s quality, estimated (``encode``'s
    ``top_bytes``)."""
    return layer.width, layer.height, len(layer.data) / ROUGH_OVER


def planned_side(width: int, height: int, layer: str, budget: int, max_side: int | None = None,
                 bpp: float = SHARP_BPP) -> float:
    """The short side a ``width`` x ``height`` photo is sent at first in ``budget`` bytes at ``bpp`` bits per pixel
    (``encode`` goes smaller only when even the lowest quality does not fit)."""
    short, long = min(width, height), max(width, height)
    side = math.sqrt(max(budget - OVERHEAD, 1) * 8 / bpp * short / long)  # the short side that gives ``bpp``
    if layer == "sharp":
        side = max(side, min(MIN_SHORT_SIDE, short))
    return min(side, short, (max_side or long) * short / long)


def planned_size(width: int, height: int, budget: int, max_side: int | None = None,
                 bpp: float = SHARP_BPP) -> tuple[int, int]:
    """(width, height) the sharp layer of a ``width`` x ``height`` photo is planned at in ``budget`` bytes."""
    side = planned_side(width, height, "sharp", budget, max_side, bpp)
    short = min(width, height)
    return max(1, round(width * side / short)), max(1, round(height * side / short))


def _quick(image: Image.Image, encoding: Encoding, quality: int) -> bytes:
    """The image file by libavif's fastest encoder (``QUICK_SPEED``): sizes to aim by, never sent."""
    return _saved(image, replace(encoding, options={**encoding.options, "speed": QUICK_SPEED}), quality, {}, strip=False)


def _counted(data: bytes, tried: Callable[[], object] | None) -> bytes:
    if tried is not None:
        tried()
    return data


def _saved(image: Image.Image, encoding: Encoding, quality: int, made: dict[bytes, bytes], strip: bool = True) -> bytes:
    """The image file; AV1: the AVIF file stripped (remembered in ``made``; b"" when it does not strip)."""
    buffer = io.BytesIO()
    image.save(buffer, format="AVIF" if encoding.codec == "AV1" else encoding.codec, quality=quality, **encoding.options)
    if encoding.codec != "AV1" or not strip:
        return buffer.getvalue()
    stripped = bare_avif.strip(buffer.getvalue()) or b""
    made[stripped] = buffer.getvalue()
    return stripped


def _rebuilds(stripped: bytes, made: dict[bytes, bytes]) -> bool:
    """Whether the receiver's file rebuilt from ``stripped`` decodes to the pixels of the AVIF file it came from."""
    if not stripped:
        return False
    with Image.open(io.BytesIO(made[stripped])) as sent, Image.open(io.BytesIO(bare_avif.rebuild(stripped))) as rebuilt:
        return np.array_equal(np.asarray(sent), np.asarray(rebuilt))
