"""The header each window of a song-filling model carries, so that every window says what it holds on its own.

Layout (16 bytes, big-endian): format version, payload kind, image channels, image width, image height, this
window's tile index, the number of tiles, a reserved byte, then a CRC-32 of those 12 bytes. For the kind "file"
(a file carried bit-exact, ``hidden_file.py``) the channels are 0, width and height hold the high and low 16 bits
of the framed file's length, the index numbers the window among those that carry the file and the count is how
many do. A window whose header
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
# 1: the photo at its own size, 256 x 256 analog-coded tiles, one per window; 2: a file's fountain-code packets,
# one per window (added in a later release with the same format: an older release refuses it by its kind)
KINDS = {1: "image tiles", 2: "file"}
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

    @classmethod
    def for_file(cls, length: int, index: int, count: int) -> "WindowHeader":
        if not 0 < length < 1 << 32:
            raise ValueError(f"a framed file of {length} bytes does not fit the header")
        return cls("file", 0, length >> 16, length & 0xFFFF, index, count)

    @property
    def length(self) -> int:
        """The framed file's length in bytes (kind "file")."""
        return (self.width << 16) | self.height

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
        if not count or index >= count:
            return None
        if KINDS[kind] == "file" and (channels or not (width or height)):
            return None
        if KINDS[kind] == "image tiles" and (channels not in (1, 3) or not (width and height)):
            return None
        return cls(KINDS[kind], channels, width, height, index, count)
