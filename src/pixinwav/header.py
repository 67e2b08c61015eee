"""The header each window of a song-filling model carries, so that every window says what it holds on its own.

Layout (16 bytes, big-endian): format version, payload kind, image channels, image width, image height, this
window's tile index, the number of tiles, a reserved byte, then a CRC-32 of those 12 bytes. A window whose header
fails its CRC carries nothing the receiver uses; a header that passes it but names a version this release does
not know is refused with a message saying so (a file from a newer pixinwav), never read as if it were this one.
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import numpy as np

from .errors import PixinwavError

VERSION = 2  # 1 was robust-v1's payload header (robust/payload.py), which keeps its own format
KINDS = {1: "image tiles"}  # the photo at its own size, 256 x 256 analog-coded tiles, one per window
KIND_IDS = {name: i for i, name in KINDS.items()}
BODY = struct.Struct(">BBBHHHHB")
BITS = 8 * (BODY.size + 4)


@dataclass(frozen=True)
class WindowHeader:
    kind: str
    channels: int
    width: int
    height: int
    index: int  # which tile this window carries (row-major over the tile grid)
    count: int  # how many tiles the whole image has

    def to_bits(self) -> np.ndarray:
        """``[BITS]`` uint8 bits."""
        body = BODY.pack(VERSION, KIND_IDS[self.kind], self.channels, self.width, self.height, self.index,
                         self.count, 0)
        return np.unpackbits(np.frombuffer(body + struct.pack(">I", zlib.crc32(body)), dtype=np.uint8))

    @classmethod
    def from_bits(cls, bits: np.ndarray) -> "WindowHeader | None":
        """The header in ``bits`` (``[BITS]``), or None when its CRC fails or its fields make no sense. Raises
        :class:`PixinwavError` for a valid header of an unknown version or kind."""
        raw = np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes()
        body, (crc,) = raw[:BODY.size], struct.unpack(">I", raw[BODY.size:BODY.size + 4])
        if zlib.crc32(body) != crc:
            return None
        version, kind, channels, width, height, index, count, _ = BODY.unpack(body)
        if version != VERSION or kind not in KINDS:
            raise PixinwavError(f"this file carries a payload of format {version}, kind {kind}, which this release of "
                                f"pixinwav cannot read (it reads format {VERSION}): it was written by a newer version")
        if channels not in (1, 3) or not (width and height and count) or index >= count:
            return None
        return cls(KINDS[kind], channels, width, height, index, count)
