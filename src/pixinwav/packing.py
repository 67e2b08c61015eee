"""A hidden file's bytes made smaller for the journey, losslessly: the song carries fewer bytes, the receiver gets the
very bytes given.

- A JPEG is recompressed by JPEG XL's lossless JPEG transcoding (``imagecodecs``' libjxl): the DCT coefficients are
  coded again with JPEG XL's entropy coder, and libjxl's reconstruction data gives back the original file byte for
  byte. On 134 JPEGs of 20 kB or more from eight Debian image packages it saved 10-68 %: 15 % median, 12 % and 21 %
  at the 10th and 90th percentiles, every one exact (``benchmarks/file_packing.py``).
- Any other file goes through LZMA (xz) where that saves room (text, PDFs, uncompressed images). A file that is
  already compressed (ZIP, MP3, AVIF) is probed on its first bytes and sent as it is, without spending the time.

The sender unpacks what it packed and keeps a packing only when it gives back the file exactly; the receiver checks the
unpacked bytes against a CRC-32 of the original (``hidden_file.py``). Each packing has a number in the file's frame:
a receiver that does not know a number says the file was written by a newer version.
"""
from __future__ import annotations

import lzma

from .errors import PixinwavError

NONE, JPEG_XL, XZ = "none", "jpeg-xl", "xz"
IDS = {NONE: 0, JPEG_XL: 1, XZ: 2}
NAMES = {i: name for name, i in IDS.items()}
SAYS = {JPEG_XL: "a JPEG recompressed losslessly by JPEG XL", XZ: "compressed by LZMA"}
XZ_PROBE = 256 << 10  # bytes xz tries first: a file whose start saves under ``XZ_PROBE_SAVES`` is not compressed
XZ_PROBE_SAVES = 0.03
XZ_PRESET = 6
# Larger files go as they are: a 10-minute song carries about 6 MB, and packing holds the file three times over (a
# JPEG's coefficients more), so a file this large would be refused by the song after seconds of packing anyway
PACK_AT_MOST = 16 << 20


def is_jpeg(data: bytes) -> bool:
    return data[:3] == b"\xff\xd8\xff"


def pack(data: bytes) -> tuple[str, bytes]:
    """``(packing, bytes)``: the smallest lossless form of ``data`` this release makes, checked by unpacking it;
    ``(NONE, data)`` where none is smaller."""
    best = (NONE, data)
    if len(data) > PACK_AT_MOST:
        return best
    for packing, attempt in ((JPEG_XL, _jpeg_xl), (XZ, _xz)):
        packed = attempt(data)
        if packed is not None and len(packed) < len(best[1]) and unpack(packing, packed) == data:
            best = (packing, packed)
        if best[0] == JPEG_XL:  # (its coefficients are entropy-coded already: xz finds nothing more)
            break
    return best


def unpack(packing: str, packed: bytes) -> bytes:
    """The original bytes. Raises :class:`PixinwavError` for bytes that do not unpack."""
    if packing == NONE:
        return packed
    try:
        if packing == JPEG_XL:
            import imagecodecs

            return bytes(imagecodecs.jpegxl_decode_jpeg(packed))
        return lzma.decompress(packed)
    except ImportError:
        raise PixinwavError("the hidden file is a JPEG recompressed by JPEG XL, which needs the imagecodecs package: "
                            "pip install imagecodecs") from None
    except (lzma.LZMAError, ValueError, RuntimeError) as exc:  # (imagecodecs' JpegxlError is a RuntimeError)
        raise PixinwavError(f"the hidden file ({SAYS[packing]}) does not unpack: {exc}") from None


def _jpeg_xl(data: bytes) -> bytes | None:
    if not is_jpeg(data):
        return None
    try:
        import imagecodecs

        return bytes(imagecodecs.jpegxl_encode_jpeg(data))
    except ImportError:  # the file goes as it is
        return None
    except (RuntimeError, ValueError):  # a JPEG libjxl does not transcode (arithmetic coding, a damaged file)
        return None


def _xz(data: bytes) -> bytes | None:
    probe = data[:XZ_PROBE]
    if len(lzma.compress(probe, preset=1)) > (1 - XZ_PROBE_SAVES) * len(probe):
        return None
    return lzma.compress(data, preset=XZ_PRESET)
