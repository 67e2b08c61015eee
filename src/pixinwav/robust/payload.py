"""The bytes the robust scheme carries: the image compressed by a real image codec, and a header.

Header (14 bytes, big-endian): format version, codec, width, height, LDPC blocks, image bytes, then a CRC-32 of
those 10 bytes. The image bytes are followed by their own CRC-32, so the receiver knows whether it has the image
exactly; it never returns bytes that fail it.
"""
from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from ..errors import PixinwavError

VERSION = 1
CODECS = {1: "AVIF", 2: "WEBP"}
CODEC_IDS = {name: i for i, name in CODECS.items()}
HEADER = struct.Struct(">BBHHHH")
HEADER_BITS = 8 * (HEADER.size + 4)
MIN_QUALITY = 0


@dataclass
class Header:
    codec: str
    width: int
    height: int
    blocks: int
    length: int

    def to_bits(self) -> np.ndarray:
        body = HEADER.pack(VERSION, CODEC_IDS[self.codec], self.width, self.height, self.blocks, self.length)
        return bytes_to_bits(body + struct.pack(">I", zlib.crc32(body)))

    @classmethod
    def from_bits(cls, bits: np.ndarray) -> "Header | None":
        """None unless the CRC holds and the fields make sense."""
        raw = bits_to_bytes(bits)
        body, (crc,) = raw[: HEADER.size], struct.unpack(">I", raw[HEADER.size:])
        if zlib.crc32(body) != crc:
            return None
        version, codec, width, height, blocks, length = HEADER.unpack(body)
        if version != VERSION or codec not in CODECS or not (width and height and blocks and length):
            return None
        return cls(CODECS[codec], width, height, blocks, length)


def with_crc(data: bytes) -> bytes:
    """The image bytes followed by their CRC-32 (big-endian)."""
    return data + struct.pack(">I", zlib.crc32(data))


def checked(raw: bytes, length: int) -> bytes | None:
    """The first ``length`` bytes of ``raw`` if the CRC-32 after them holds, else None."""
    data, crc = raw[:length], raw[length: length + 4]
    return data if len(crc) == 4 and struct.unpack(">I", crc)[0] == zlib.crc32(data) else None


def bytes_to_bits(data: bytes) -> np.ndarray:
    return np.unpackbits(np.frombuffer(data, dtype=np.uint8))


def bits_to_bytes(bits: np.ndarray) -> bytes:
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes()


def to_pil(image: torch.Tensor) -> Image.Image:
    """``[C, H, W]`` in [0, 1] -> 8-bit Pillow image."""
    array = (image.detach().cpu().clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    return Image.fromarray(array[..., 0] if array.shape[2] == 1 else array)


SIDES = (1.0, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25)  # image scales tried: at a small budget, fewer pixels at a
# better quality look better than all of them at the worst


def compress(image: torch.Tensor, max_bytes: int, codec: str = "AVIF", quality: int | None = None) -> tuple[bytes, int]:
    """The encoding of ``image [C, H, W]`` that fits ``max_bytes`` and looks best (SSIM after decoding and scaling
    back), over image scales and qualities (bisection per scale: size grows with quality); with ``quality``, the
    full-size image at that quality. Returns (bytes, quality)."""
    from ..metrics import ssim

    pil = to_pil(image)

    def encode(q: int, scale: float) -> bytes:
        buffer = io.BytesIO()
        size = (max(16, round(pil.width * scale)), max(16, round(pil.height * scale)))
        (pil if scale == 1.0 else pil.resize(size, Image.LANCZOS)).save(buffer, format=codec, quality=q)
        return buffer.getvalue()

    if quality is not None:
        data = encode(quality, 1.0)
        if len(data) > max_bytes:
            raise PixinwavError(f"the image at quality {quality} takes {len(data)} bytes; the music carries {max_bytes} "
                                "in the seconds given: use a longer cover or --seconds, or a lower --quality")
        return data, quality
    best, best_ssim = None, -1.0
    for scale in SIDES:
        fit = best_quality(lambda q: encode(q, scale), max_bytes)
        if fit is None:
            continue
        score = float(ssim(decompress(fit[0], image.shape[0], image.shape[1:])[None], image[None].cpu().float())[0])
        if score > best_ssim:
            best, best_ssim = fit, score
    if best is None:
        raise PixinwavError(f"even a quarter-size image at the lowest quality takes {len(encode(MIN_QUALITY, SIDES[-1]))} "
                            f"bytes; the music carries {max_bytes}: use a longer cover or --seconds")
    return best


def best_quality(encode: Callable[[int], bytes], max_bytes: int, top: int = 100) -> tuple[bytes, int] | None:
    """(bytes, quality) of the highest quality up to ``top`` whose ``encode(quality)`` fits ``max_bytes``
    (bisection over ``MIN_QUALITY``-``top``: size grows with quality), or None when even the lowest does not fit.
    Under 100, ``top`` is tried first: a large photo's encoding takes a second, and the room is usually there."""
    lo, hi, fit = MIN_QUALITY, top, None
    if top < 100:
        data = encode(top)
        if len(data) <= max_bytes:
            return data, top
        hi = top - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        data = encode(mid)
        if len(data) <= max_bytes:
            fit, lo = (data, mid), mid + 1
        else:
            hi = mid - 1
    return fit


def decompress(data: bytes, channels: int, size: tuple[int, int] | None = None) -> torch.Tensor:
    """Image bytes -> ``[C, H, W]`` in [0, 1], scaled (Lanczos) to ``size`` (H, W) if given."""
    with Image.open(io.BytesIO(data)) as pil:
        pil = pil.convert("L" if channels == 1 else "RGB")
        if size is not None and (pil.height, pil.width) != tuple(size):
            pil = pil.resize((size[1], size[0]), Image.LANCZOS)
        array = np.asarray(pil, dtype=np.float32)  # (a new array: scaled in place, one photo's size at a time)
    array /= 255.0
    array = array[..., None] if array.ndim == 2 else array
    return torch.from_numpy(array).permute(2, 0, 1)
