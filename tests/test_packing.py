"""A hidden file's bytes packed for the journey: smaller where a lossless form is, always the very bytes back, and a
frame a receiver refuses in words when it cannot unpack it."""
import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import pixinwav
from helpers import photo
from pixinwav import PixinwavError, packing
from pixinwav.hidden_file import MAGIC, HiddenFile

ASTRONAUT = Path(pixinwav.__file__).parent / "assets" / "astronaut.jpg"


def jpeg(quality: int, **options) -> bytes:
    out = io.BytesIO()
    Image.fromarray(photo("chelsea")).save(out, "JPEG", quality=quality, **options)
    return out.getvalue()


@pytest.mark.parametrize("data", [ASTRONAUT.read_bytes(), jpeg(95), jpeg(70, progressive=True), jpeg(90, subsampling=0)],
                         ids=["astronaut", "q95", "progressive", "4:4:4"])
def test_a_jpeg_travels_a_tenth_or_more_smaller_and_comes_back_byte_for_byte(data):
    how, packed = packing.pack(data)
    assert how == packing.JPEG_XL and len(packed) < 0.92 * len(data)
    assert packing.unpack(how, packed) == data
    file = HiddenFile("photo.jpg", data)
    assert HiddenFile.from_frame(file.frame()).data == data and file.frame()[4] == 2


def test_a_phone_like_jpeg_with_exif_and_trailing_bytes_packs_and_a_cut_one_goes_as_it_is():
    exif = Image.Exif()
    exif[0x010F], exif[0x0112] = "PhoneMaker", 6  # maker, orientation
    out = io.BytesIO()
    Image.fromarray(photo("chelsea")).save(out, "JPEG", quality=92, exif=exif)
    phone = out.getvalue() + bytes(100) + jpeg(80)  # (phones append data after the image: a second picture, padding)
    how, packed = packing.pack(phone)
    assert how == packing.JPEG_XL and packing.unpack(how, packed) == phone
    out = io.BytesIO()
    Image.fromarray(photo("chelsea")).convert("CMYK").save(out, "JPEG", quality=90)
    cmyk = out.getvalue()  # (libjxl 0.11 does not transcode it: sent as it is; a later one may)
    how, packed = packing.pack(cmyk)
    assert how in (packing.NONE, packing.JPEG_XL) and packing.unpack(how, packed) == cmyk
    cut = phone[: len(phone) // 3]
    assert packing.pack(cut) == (packing.NONE, cut)


def test_text_is_compressed_and_random_bytes_go_as_they_are_in_the_frame_every_release_reads():
    text = b"".join(b"%d: the quick brown fox\n" % i for i in range(5000))
    how, packed = packing.pack(text)
    assert how == packing.XZ and len(packed) < len(text) / 4 and packing.unpack(how, packed) == text
    noise = np.random.default_rng(0).bytes(300_000)
    assert packing.pack(noise) == (packing.NONE, noise)
    frame = HiddenFile("noise.bin", noise).frame()
    assert frame[4] == 1 and len(frame) == len(noise) + len("noise.bin") + 10  # version 1, as 0.2.24 wrote it
    assert HiddenFile("a.txt", text, pack=False).frame()[4] == 1


def test_a_file_larger_than_any_song_carries_packed_goes_as_it_is_without_the_work():
    large = bytes(packing.PACK_AT_MOST + 1)  # (zeros: LZMA would make them tiny)
    assert packing.pack(large)[0] == packing.NONE and packing.pack(large[:1 << 20])[0] == packing.XZ


def test_a_version_1_frame_as_0_2_24_wrote_it_still_reads():
    body = MAGIC + bytes([1, 5]) + b"a.txt" + b"hello"
    file = HiddenFile.from_frame(body + struct.pack(">I", zlib.crc32(body)))
    assert (file.name, file.data, file.packed[0]) == ("a.txt", b"hello", packing.NONE)


def packed_frame(packing_id: int, data_crc: int, packed: bytes) -> bytes:
    body = MAGIC + bytes([2, packing_id, 5]) + b"a.jpg" + struct.pack(">I", data_crc) + packed
    return body + struct.pack(">I", zlib.crc32(body))


def test_an_unknown_packing_or_bytes_that_unpack_wrong_are_refused_in_words():
    data = ASTRONAUT.read_bytes()
    _, packed = packing.pack(data)
    assert HiddenFile.from_frame(packed_frame(1, zlib.crc32(data), packed)).data == data
    with pytest.raises(PixinwavError, match="frame version 2, packing 9, .* written by a newer version"):
        HiddenFile.from_frame(packed_frame(9, zlib.crc32(data), packed))
    with pytest.raises(PixinwavError, match="unpacks to bytes that fail their checksum"):
        HiddenFile.from_frame(packed_frame(1, zlib.crc32(data) ^ 1, packed))
    with pytest.raises(PixinwavError, match="does not unpack"):
        HiddenFile.from_frame(packed_frame(1, zlib.crc32(data), packed[: len(packed) // 2]))
    with pytest.raises(PixinwavError, match="does not unpack"):
        HiddenFile.from_frame(packed_frame(2, 0, b"not xz at all"))


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=3000), st.sampled_from([b"", b"\xff\xd8\xff\xe0", ASTRONAUT.read_bytes()[:2000]]))
def test_any_bytes_come_back_exact_and_never_grow_beyond_the_frame(tail, head):
    data = head + tail  # (a damaged or cut JPEG among them: sent as it is, or packed only where it unpacks exactly)
    if not data:
        return
    file = HiddenFile("x", data)
    assert file.sent_bytes <= len(data)
    assert HiddenFile.from_frame(file.frame()).data == data
    assert len(file.frame()) <= HiddenFile.frame_size(file.sent_bytes, "x")
