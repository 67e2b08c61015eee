"""The bytes the robust scheme carries: the image compressed by a real image codec, and a header.

Header (14 bytes, big-endian): format version, codec, width, height, LDPC blocks, image bytes, then a CRC-32 of
those 10 bytes. The image bytes are followed by their own CRC-32, so the receiver knows whether it has the image
exactly; it never returns bytes that fail it.
"""
from __future__ import annotations

import io
import math
import struct
import zlib
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ..data.images import to_pil
from ..errors import PixinwavError

VERSION = 1
CODECS = {1: "AVIF", 2: "WEBP"}
CODEC_IDS = {name: i for i, name in CODECS.items()}
HEADER = struct.Struct(">BBHHHH")
HEADER_BITS = 8 * (HEADER.size + 4)
MIN_QUALITY = 0
# An estimate of the top quality's size over this many times the budget is not checked by encoding (a large photo's
# encoding takes a second; a photo shrunk a little to fit a song loses as many bytes as pixels, within a few %)
SURELY_OVER = 1.5
LOG_BYTES_PER_QUALITY = 0.04  # AVIF: ln(bytes) grows about this much per step of quality (the search's first guess)
# A quick encoding's size scaled by its ratio to the true one at the nearest quality encoded predicts a quality's size
# within about 1 % (libavif at speed 9 against 6, a 1.7 MP photo: the ratio is 0.816-0.823 over qualities 55-60,
# 0.82-0.85 over 20-80); a quality predicted over this times the budget is not encoded
QUICK_OVER = 1.03
# Where only the top quality's size is known, and that as an estimate (no real encoding yet), the real encoder's share
# of the quick one's size at another quality is taken from this curve (quality -> share, interpolated): its mean on
# ten 0.9-2 MP photos at a 1,700-pixel long side, 0.907 at quality 80 falling to 0.833 at 57 (Dune: 0.922 and 0.813;
# ``benchmarks/bench_quality_search.py --side 1700 --min-pixels 500000 --mate 8 --shares 30 45 57 70 80 90 100``). A share
# held at the top's put WarMUX's Apnee2 photo two qualities low on its first try, and a second real encoding followed
QUICK_SHARE = ((30, 0.805), (45, 0.814), (57, 0.833), (70, 0.878), (80, 0.907), (90, 0.934), (100, 0.930))


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


SIDES = (1.0, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25)  # image scales tried: at a small budget, fewer pixels at a
# better quality look better than all of them at the worst


def compress(image: np.ndarray, max_bytes: int, codec: str = "AVIF", quality: int | None = None) -> tuple[bytes, int]:
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
        score = float(ssim(decompress(fit[0], image.shape[0], image.shape[1:])[None], image[None])[0])
        if score > best_ssim:
            best, best_ssim = fit, score
    if best is None:
        raise PixinwavError(f"even a quarter-size image at the lowest quality takes {len(encode(MIN_QUALITY, SIDES[-1]))} "
                            f"bytes; the music carries {max_bytes}: use a longer cover or --seconds")
    return best


def best_quality(encode: Callable[[int], bytes], max_bytes: int, top: int = 100, top_bytes: float | None = None,
                 quick: Callable[[int], int] | None = None) -> tuple[bytes, int] | None:
    """(bytes, quality) of the highest quality up to ``top`` whose ``encode(quality)`` fits ``max_bytes`` (size grows
    with quality), or None when even ``MIN_QUALITY`` does not fit. ``top`` is tried first (the room is usually there,
    and a large photo's encoding takes a second); then the bracket between a quality that fits and one that does not
    shrinks by aiming at the budget on the line through their log sizes (log size is nearly linear in quality), or by
    halving where that did not halve it: the bisection's answer in fewer encodings (``benchmarks/bench_quality_search.py``:
    the same quality in all 120 searches of 12 photos, 35 % / 26 % fewer encodings from quality 80 / 100).
    ``top_bytes``: an estimate of ``top``'s size (the same photo encoded at another size); where it is over
    ``SURELY_OVER`` times the budget, ``top`` is taken not to fit without encoding it (the search aims from the
    estimate, and its answer is the same where size grows with quality).
    ``quick``: the size of a much faster, rougher encoding at a quality (:class:`QuickSizes`); scaled by the true
    size's ratio to it at the nearest quality encoded (before any: the top's estimate, along ``QUICK_SHARE``), it
    aims each try at the highest quality it says fits, and a
    quality it puts over ``QUICK_OVER`` times the budget, once one is known to fit, is taken not to fit without encoding
    it (misleading quick sizes cost encodings or give a lower quality, never bytes over the budget or None where
    ``MIN_QUALITY`` fits). A quality whose quick file is byte for byte that of a quality already encoded is the same
    encoder setting (libavif maps its 101 qualities to 64 quantisers: 60 and 61 give one file), so its bytes are
    taken from that one instead of encoded again."""
    data: dict[int, bytes] = {}
    size: dict[int, float] = {}  # bytes of each quality tried (or estimated)
    if top_bytes is not None and top_bytes > SURELY_OVER * max_bytes:
        size[top] = top_bytes
    else:
        data[top] = encode(top)
        size[top] = len(data[top])
        if size[top] <= max_bytes:
            return data[top], top

    def predicted(q: int) -> float:  # (``quick`` only) calibrated at the nearest quality encoded (or the top's estimate)
        near = min(data or size, key=lambda known: abs(known - q))
        guess = quick(q) * size[near] / quick(near)
        return guess if near in data else guess * quick_share(q) / quick_share(near)

    def aimed(q: int) -> int:  # (``quick`` only) from ``q``, the highest quality of the bracket predicted to fit
        def fits(x: int) -> bool:
            return predicted(x) <= max_bytes

        a, b, step = lo, hi, 1  # predicted to fit / not: galloped to from q (steps doubling), then halved
        if fits(q):
            a = q
            while a + step < b and fits(a + step):
                a, step = a + step, 2 * step
            b = min(b, a + step)
        else:
            b = q
            while b - step > a and not fits(b - step):
                b, step = b - step, 2 * step
            a = max(a, b - step)
        while b - a > 1:
            mid = (a + b) // 2
            a, b = (mid, b) if fits(mid) else (a, mid)
        return a

    lo, hi, halve = MIN_QUALITY - 1, top, False  # lo fits (or lies under the range), hi does not
    while hi - lo > 1:
        if halve:
            q = (lo + hi) // 2
        elif lo in size:  # on the line through the two log sizes, at the budget
            a, b = math.log(size[lo]), math.log(size[hi])
            q = lo + math.floor((math.log(max_bytes) - a) / (b - a) * (hi - lo))
        else:  # only a size too large is known: about 4 % more bytes per step of quality
            q = hi - math.ceil(math.log(size[hi] / max_bytes) / LOG_BYTES_PER_QUALITY)
        q = min(max(q, lo + 1), hi - 1)
        if quick is not None and not halve:
            q = min(max(aimed(q), lo + 1), hi - 1)
        width = hi - lo
        if quick is not None and lo >= MIN_QUALITY and predicted(q) > QUICK_OVER * max_bytes:
            hi, size[q] = q, predicted(q)  # surely over: not encoded (once a quality is known to fit: None only where
            # MIN_QUALITY was tried)
        else:
            twin = quick.twin(q, data) if quick is not None else None
            data[q] = data[twin] if twin is not None else encode(q)
            size[q] = len(data[q])
            lo, hi = (q, hi) if size[q] <= max_bytes else (lo, q)
        halve = not halve and hi - lo > width // 2
    return (data[lo], lo) if lo >= MIN_QUALITY else None


def quick_share(quality: int) -> float:
    """The real encoder's typical share of the quick one's size at ``quality`` (``QUICK_SHARE``)."""
    qualities, shares = zip(*QUICK_SHARE)
    return float(np.interp(quality, qualities, shares))


class QuickSizes:
    """``quick`` for :func:`best_quality`: the size of ``encode(quality)`` (a fast encoder's), each quality encoded
    once."""

    def __init__(self, encode: Callable[[int], bytes]):
        self.encode, self.sizes, self.digests = encode, {}, {}

    def __call__(self, quality: int) -> int:
        if quality not in self.sizes:
            data = self.encode(quality)
            self.sizes[quality], self.digests[quality] = len(data), hashlib.sha256(data).digest()
        return self.sizes[quality]

    def twin(self, quality: int, among: Iterable[int]) -> int | None:
        """A quality of ``among`` whose quick file is identical to ``quality``'s (the same encoder setting), or None."""
        self(quality)
        return next((q for q in among if q != quality and self(q) == self.sizes[quality]
                     and self.digests[q] == self.digests[quality]), None)


def decompress(data: bytes, channels: int, size: tuple[int, int] | None = None) -> np.ndarray:
    """Image bytes -> ``[C, H, W]`` float32 in [0, 1], scaled (Lanczos) to ``size`` (H, W) if given."""
    with Image.open(io.BytesIO(data)) as pil:
        pil = pil.convert("L" if channels == 1 else "RGB")
        if size is not None and (pil.height, pil.width) != tuple(size):
            pil = pil.resize((size[1], size[0]), Image.LANCZOS)
        array = np.asarray(pil, dtype=np.float32)  # (a new array: scaled in place, one photo's size at a time)
    array /= 255.0
    array = array[..., None] if array.ndim == 2 else array
    return array.transpose(2, 0, 1)
