"""An AVIF image without its container: the AV1 bytes and the few item properties the receiver needs to rebuild a
standard AVIF file around them.

An AVIF file from libavif wraps its AV1 bytes in about 275 bytes of ISOBMFF boxes (file type, handler, item
location and info, properties). In a 2.7 kB sharp layer that is a tenth of the photo; in the base layer's
272 bytes it is all of them. ``strip`` keeps the image item's properties (``ispe`` size, ``pixi`` bit depths,
``av1C`` decoder configuration, ``colr`` colour description) as (kind, length, payload) records and the AV1 bytes
after them; ``rebuild`` writes the boxes of a one-item AVIF around them (ISO/IEC 23008-12, the AV1 Image File
Format 1.1). The sender checks that the rebuilt file decodes to the very pixels of the AVIF it made before it sends
the stripped one (``robust/layers.py``); a file with anything else in it (alpha, a grid, an ICC profile, Exif)
does not strip.

Stripped form (15 bytes, big-endian, then the AV1 bytes): width, height, the 4 bytes of ``av1C`` (the bit depth
and monochrome flag in it give ``pixi``), colour primaries, transfer, matrix, and 0x80 for full range (``colr``).
"""
from __future__ import annotations

import struct

HEAD = struct.Struct(">HH4sHHHB")
BRANDS = (b"avif", b"mif1", b"miaf")


def _boxes(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, payload) of the boxes in ``data``; ValueError when they do not tile it."""
    boxes, at = [], 0
    while at < len(data):
        if at + 8 > len(data):
            raise ValueError("a truncated box")
        size, kind = struct.unpack(">I4s", data[at:at + 8])
        if size < 8 or at + size > len(data):  # (0 "to the end" and 64-bit sizes: libavif writes neither here)
            raise ValueError(f"a box of size {size}")
        boxes.append((kind, data[at + 8:at + size]))
        at += size
    return boxes


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _full_box(kind: bytes, payload: bytes, version: int = 0) -> bytes:
    return _box(kind, struct.pack(">I", version << 24) + payload)


def strip(avif: bytes) -> bytes | None:
    """The stripped form of a one-item AVIF file, or None when it holds anything ``rebuild`` would not write."""
    try:
        top = dict(_boxes(avif))
        meta = dict(_boxes(top[b"meta"][4:]))
        iprp = dict(_boxes(meta[b"iprp"]))
        properties = dict(_boxes(iprp[b"ipco"]))
        (entries,) = struct.unpack(">H", meta[b"iinf"][4:6])
        iloc = meta[b"iloc"]
        _, width, height = struct.unpack(">III", properties[b"ispe"])
        av1c, colr = properties[b"av1C"], properties[b"colr"]
        kind, primaries, transfer, matrix, full = struct.unpack(">4sHHHB", colr)
        item_count, _, reference, extents, offset, length = struct.unpack(">HHHHII", iloc[6:])
    except (KeyError, ValueError, struct.error):
        return None
    if set(top) != {b"ftyp", b"meta", b"mdat"} or entries != 1 or b"av01" not in meta[b"iinf"] \
            or iloc[:6] != b"\0\0\0\0\x44\x00" or (item_count, reference, extents) != (1, 0, 1) \
            or set(properties) != {b"ispe", b"pixi", b"av1C", b"colr"} or len(av1c) != 4 or kind != b"nclx" \
            or properties[b"pixi"] != _pixi(av1c) or max(width, height) > 0xFFFF or full & 0x7F:
        return None
    av1 = avif[offset:offset + length]
    if len(av1) != length or length != len(top[b"mdat"]):  # the one extent is the whole mdat
        return None
    return HEAD.pack(width, height, av1c, primaries, transfer, matrix, full) + av1


def rebuild(stripped: bytes) -> bytes:
    """The AVIF file of a stripped image. Raises ValueError when ``stripped`` is not one."""
    if len(stripped) <= HEAD.size:
        raise ValueError("too short for a stripped AVIF")
    width, height, av1c, primaries, transfer, matrix, full = HEAD.unpack(stripped[:HEAD.size])
    av1 = stripped[HEAD.size:]
    properties = (_full_box(b"ispe", struct.pack(">II", width, height)), _full_box(b"pixi", _pixi(av1c)[4:]),
                  _box(b"av1C", av1c), _box(b"colr", struct.pack(">4sHHHB", b"nclx", primaries, transfer, matrix, full)))
    ftyp = _box(b"ftyp", BRANDS[0] + b"\0\0\0\0" + b"".join(BRANDS))
    # the item's properties 1-4; av1C essential (a reader must understand it to decode), as libavif marks it
    ipma = _full_box(b"ipma", struct.pack(">IHB4B", 1, 1, 4, 1, 2, 0x83, 4))
    hdlr = _full_box(b"hdlr", b"\0\0\0\0pict" + bytes(12) + b"\0")
    pitm = _full_box(b"pitm", struct.pack(">H", 1))
    iinf = _full_box(b"iinf", struct.pack(">H", 1) + _full_box(b"infe", struct.pack(">HH4s", 1, 0, b"av01") + b"\0", 2))
    iprp = _box(b"iprp", _box(b"ipco", b"".join(properties)) + ipma)

    def meta(offset: int) -> bytes:  # offsets and lengths of 4 bytes, no base offset, one extent
        iloc = _full_box(b"iloc", struct.pack(">BBHHHHII", 0x44, 0, 1, 1, 0, 1, offset, len(av1)))
        return _full_box(b"meta", hdlr + pitm + iloc + iinf + iprp)

    offset = len(ftyp) + len(meta(0)) + 8  # the AV1 bytes start after mdat's own header
    return ftyp + meta(offset) + _box(b"mdat", av1)


def _pixi(av1c: bytes) -> bytes:
    """The ``pixi`` payload (version and flags, channels, bits per channel) that ``av1C``'s flags imply."""
    flags = av1c[2]
    depth = 12 if flags & 0x20 else 10 if flags & 0x40 else 8
    channels = 1 if flags & 0x10 else 3
    return bytes(4) + bytes([channels]) + bytes([depth] * channels)
