"""A file carried bit-exact: its name and bytes framed with a CRC-32, cut into packets by a fountain code.

Frame (big-endian): ``PIXF``, frame version, name length, the name (UTF-8, the base name only), the file's bytes,
then a CRC-32 of everything before it. Version 2 (release 0.2.25) carries the bytes packed (``packing.py``: a JPEG
recompressed by JPEG XL, other files by LZMA): ``PIXF``, 2, the packing's number, name length, the name, a CRC-32 of
the original bytes (checked after unpacking), the packed bytes, the CRC-32 of everything before. A file that no
packing makes smaller goes in version 1, which every release reads.

The frame is cut into symbols by RaptorQ (RFC 6330, the ``raptorq`` package): the first packets are the frame itself
(systematic), the rest repair packets, and *any* set of packets a little larger than the source count rebuilds the
frame. So a song carries a file in as many windows as it needs plus spare windows, and a window lost to a cut or
damage is replaced by any spare one. Each packet starts with RaptorQ's own 4-byte id (source block and symbol
number), so the receiver needs no packet order.
"""
from __future__ import annotations

import math
import os
import struct
import unicodedata
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from . import packing as packings
from .errors import PixinwavError

MAGIC = b"PIXF"
VERSION = 1  # the bytes as they are
PACKED_VERSION = 2  # the bytes packed
PACKET_ID = 4  # bytes of RaptorQ's id at the start of every packet
MAX_BYTES = 64 << 20  # a 10-minute song carries about 6 MB: a larger file is refused before it is read
SPARE_SHARE = 0.1  # repair packets: a tenth of the source packets (at least MIN_SPARE), where the song has room
MIN_SPARE = 2


@dataclass(frozen=True)
class HiddenFile:
    name: str  # base name as given when hiding ("" if none)
    data: bytes
    pack: bool = field(default=True, compare=False)  # packed where that saves room (False: frame version 1, as
    # every release reads)

    @cached_property
    def packed(self) -> tuple[str, bytes]:
        """``(packing, bytes)`` as the frame carries them (``packing.NONE``: as they are)."""
        return packings.pack(self.data) if self.pack else (packings.NONE, self.data)

    @property
    def sent_bytes(self) -> int:
        """Bytes of the file as the song carries them (packed, where that saved room)."""
        return len(self.packed[1])

    def frame(self) -> bytes:
        name = self.name.encode("utf-8")[:255]
        packing, data = self.packed
        if packing == packings.NONE:
            body = MAGIC + struct.pack(">BB", VERSION, len(name)) + name + data
        else:
            body = (MAGIC + struct.pack(">BBB", PACKED_VERSION, packings.IDS[packing], len(name)) + name
                    + struct.pack(">I", zlib.crc32(self.data)) + data)
        return body + struct.pack(">I", zlib.crc32(body))

    @staticmethod
    def frame_size(data_bytes: int, name: str = "") -> int:
        """Bytes of :meth:`frame` for ``data_bytes`` bytes as sent (packed or not) named ``name``, at most: the
        packed frame's (5 bytes more than an unpacked one's)."""
        return len(MAGIC) + 3 + len(name.encode("utf-8")[:255]) + 4 + data_bytes + 4

    @classmethod
    def from_frame(cls, raw: bytes) -> "HiddenFile":
        """Raises :class:`PixinwavError` unless ``raw`` is an intact frame of a version this release reads."""
        if len(raw) < 10 or zlib.crc32(raw[:-4]) != struct.unpack(">I", raw[-4:])[0]:
            raise PixinwavError("the hidden file was rebuilt but fails its checksum (packets of two different files?)")
        if raw[:4] != MAGIC or raw[4] not in (VERSION, PACKED_VERSION) or (
                raw[4] == PACKED_VERSION and raw[5] not in packings.NAMES):
            raise PixinwavError(f"the hidden file is of frame version {raw[4]}"
                                + (f", packing {raw[5]}" if raw[4] == PACKED_VERSION else "")
                                + ", which this release of pixinwav cannot read: it was written by a newer version")
        if raw[4] == VERSION:
            n = raw[5]
            return cls(raw[6:6 + n].decode("utf-8", errors="replace"), raw[6 + n:-4], pack=False)
        packing, n = packings.NAMES[raw[5]], raw[6]
        (crc,), packed = struct.unpack(">I", raw[7 + n:11 + n]), raw[11 + n:-4]
        data = packings.unpack(packing, packed)
        if zlib.crc32(data) != crc:
            raise PixinwavError(f"the hidden file ({packings.SAYS[packing]}) unpacks to bytes that fail their checksum")
        file = cls(raw[7:7 + n].decode("utf-8", errors="replace"), data)
        file.__dict__["packed"] = (packing, packed)  # (as it came: the report says how it travelled)
        return file

    def size_said(self) -> str:
        """"the file is N bytes", and how many the song carries where they are packed (for a refusal)."""
        said = self.packing_said()
        return f"the file is {len(self.data):,} bytes" + (f" ({said})" if said else "")

    def packing_said(self) -> str:
        """How the bytes travelled, in words for a report ("" when as they are)."""
        packing, data = self.packed
        return "" if packing == packings.NONE else f"sent as {len(data):,} bytes, {packings.SAYS[packing]}"

    def safe_name(self) -> str:
        """The name as a plain file name in the current folder (no folders, no control characters)."""
        name = unicodedata.normalize("NFC", os.path.basename(self.name.replace("\\", "/")))
        name = "".join(ch for ch in name if ch.isprintable())
        return name if name not in ("", ".", "..") else "revealed.bin"


def read(path: str | Path, pack: bool = True) -> HiddenFile:
    """A file to hide, read whole (refused as :func:`size_of` says); ``pack``: see :class:`HiddenFile`."""
    size_of(path)
    return HiddenFile(Path(path).name, Path(path).read_bytes(), pack)


def size_of(path: str | Path) -> int:
    """The size of a file to hide, refused with a reason when it is missing, a folder, empty or over ``MAX_BYTES``."""
    path = Path(path)
    if str(path) == "-":
        raise PixinwavError("reading the file from standard input is not supported; give a file name")
    if not path.exists():
        raise PixinwavError(f"file to hide not found: {path}")
    if not path.is_file():
        raise PixinwavError(f"{path} is not a regular file")
    size = path.stat().st_size
    if size == 0:
        raise PixinwavError(f"{path} is empty: there is nothing to hide")
    if size > MAX_BYTES:
        raise PixinwavError(f"{path} is {size / 1e6:.1f} MB; a song carries a few MB at most ({MAX_BYTES >> 20} MiB is "
                            "the limit)")
    return size


def source_count(frame_bytes: int, symbol: int) -> int:
    """Packets of ``symbol`` bytes that hold a frame (RaptorQ's source symbols)."""
    return -(-frame_bytes // symbol)


def spare_count(source: int, windows: int) -> int:
    """Repair packets to send when ``windows`` can carry packets: a share of the source count, as room allows."""
    return max(0, min(windows - source, max(MIN_SPARE, math.ceil(source * SPARE_SHARE))))


def packets(frame: bytes, symbol: int, spare: int) -> list[bytes]:
    """The frame as ``source_count`` source packets then ``spare`` repair packets, each ``PACKET_ID + symbol``
    bytes. ``symbol`` must be a multiple of 8."""
    import raptorq

    return list(raptorq.Encoder.with_defaults(frame, symbol).get_encoded_packets(int(spare)))


def rebuild(found: Iterable[bytes], frame_bytes: int, symbol: int) -> bytes | None:
    """The frame from packets in any order (None when too few of them arrived). ``found`` is consumed only until
    the frame is whole, so a generator that decodes packets as it goes stops being asked as soon as it may."""
    import raptorq

    decoder = raptorq.Decoder.with_defaults(frame_bytes, symbol)
    for packet in found:
        raw = decoder.decode(packet)
        if raw is not None:
            return bytes(raw)
    return None
