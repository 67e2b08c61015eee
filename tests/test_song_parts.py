"""The parts of the song model, by their properties: the window header, the photo's tiles and the sync mark."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pixinwav import PixinwavError, header, sync, tiles
from pixinwav.header import WindowHeader

fields = st.builds(lambda c, w, h, n, i: WindowHeader("image tiles", c, w, h, min(i, n - 1), n),
                   st.sampled_from([1, 3]), st.integers(1, 65535), st.integers(1, 65535), st.integers(1, 65535),
                   st.integers(0, 65534))


@given(fields)
def test_header_round_trip(head):
    bits = head.to_bits()
    assert bits.shape == (header.BITS,) and set(np.unique(bits)) <= {0, 1}
    assert WindowHeader.from_bits(bits) == head


@given(fields, st.lists(st.integers(0, header.BITS - 1), min_size=1, max_size=3, unique=True))
def test_header_with_flipped_bits_is_never_read(head, flips):
    bits = head.to_bits().copy()
    bits[flips] ^= 1
    assert WindowHeader.from_bits(bits) is None  # a CRC-32 catches every error of 3 bits or fewer here


@given(st.integers(0, 255).filter(lambda v: v != header.VERSION))
def test_header_of_another_format_version_is_an_error_not_a_guess(version):
    import struct
    import zlib

    body = header.BODY.pack(version, 1, 3, 640, 480, 0, 6, 0)
    bits = np.unpackbits(np.frombuffer(body + struct.pack(">I", zlib.crc32(body)), dtype=np.uint8))
    with pytest.raises(PixinwavError, match=f"format {version}.*newer"):
        WindowHeader.from_bits(bits)


@given(st.integers(1, 6000), st.integers(1, 6000), st.integers(1, 300), st.one_of(st.none(), st.integers(1, 8000)))
@settings(max_examples=300)
def test_fit_is_the_largest_size_that_fits(width, height, room, max_side):
    side = 256
    w, h = tiles.fit(width, height, side, room, max_side)
    cap = min(max(width, height), max_side or max(width, height))
    assert tiles.count(w, h, side) <= room
    assert max(w, h) <= cap and w <= width and h <= height
    long, short, long_got = (width, height, w) if width >= height else (height, width, h)
    if min(w, h) > 1:  # the aspect ratio is kept to the rounding of the short side
        assert abs((w / h) - (width / height)) <= (width / height) * (1 / min(w, h) + 1 / max(w, h)) + 1e-9
    for bigger in range(long_got + 1, min(cap, long_got + 64) + 1):  # no larger long side fits
        other = max(1, round(short * bigger / long))
        assert tiles.count(*((bigger, other) if width >= height else (other, bigger)), side) > room


def test_fit_refuses_no_room():
    with pytest.raises(PixinwavError, match="no room"):
        tiles.fit(100, 100, 256, 0)


@given(st.integers(1, 3), st.integers(1, 700), st.integers(1, 700), st.sampled_from([16, 64, 256]))
@settings(max_examples=60, deadline=None)
def test_split_and_join_give_back_the_photo_exactly(channels, height, width, side):
    image = np.random.default_rng(height * 1000 + width).random((channels, height, width), np.float32)
    parts = tiles.split(image, side)
    assert parts.shape == (tiles.count(width, height, side), channels, side, side)
    assert np.array_equal(tiles.join(parts, width, height), image)
    # the padding repeats the edge pixels (a flat border would add a sharp edge)
    last = parts[-1]
    assert np.array_equal(last[:, :, -1], last[:, :, (width - 1) % side]) or width % side == 0


@given(st.lists(st.integers(0, 40), min_size=1, max_size=5, unique=True), st.integers(0, 2**31), st.text(max_size=8))
@settings(max_examples=40, deadline=None)
def test_sync_finds_every_marked_start_exactly_and_nothing_else(slots, seed, key):
    rng = np.random.default_rng(seed)
    samples = rng.integers(-20000, 20000, size=(42 * 2 * sync.LENGTH)).astype(np.int64)
    starts = sorted(s * 2 * sync.LENGTH + int(rng.integers(0, sync.LENGTH)) for s in slots)
    for s in starts:
        samples[s:s + sync.LENGTH] += sync.mark(samples[s:s + sync.LENGTH], np.zeros(sync.LENGTH), key).astype(np.int64)
    mono = samples / 32768.0
    assert sync.find(mono, key).tolist() == starts
    assert sync.find(mono, key + "x").tolist() == []  # another key sees noise
    assert sync.find(rng.integers(-20000, 20000, size=len(samples)) / 32768.0, key).tolist() == []


def test_sync_mark_moves_each_sample_by_at_most_one_step_more_than_rounding():
    rng = np.random.default_rng(1)
    base = rng.integers(-1000, 1000, sync.LENGTH)
    change = rng.normal(0, 3, sync.LENGTH)
    marked = sync.mark(base, change, "k")
    assert np.all(np.abs(marked - change) <= 1.0) and np.all(marked == np.round(marked))
    assert np.array_equal((base + marked.astype(np.int64)) % 2, sync.pattern("k"))


files = st.builds(lambda n, i, count: WindowHeader.for_file(n, min(i, count - 1), count),
                  st.integers(1, (1 << 32) - 1), st.integers(0, 65534), st.integers(1, 65535))


@given(files)
def test_file_header_round_trip(head):
    back = WindowHeader.from_bits(head.to_bits())
    assert back == head and back.kind == "file" and back.length == head.length


@settings(max_examples=25, deadline=None)
@given(st.binary(min_size=1, max_size=5000), st.integers(0, 6), st.randoms(use_true_random=False))
def test_any_enough_fountain_packets_in_any_order_rebuild_the_file(data, spare, rnd):
    from pixinwav import hidden_file

    hidden = hidden_file.HiddenFile("notes.txt", data)
    frame, symbol = hidden.frame(), 512
    source = hidden_file.source_count(len(frame), symbol)
    packets = hidden_file.packets(frame, symbol, spare + 2)
    assert len(packets) == source + spare + 2 and all(len(p) == hidden_file.PACKET_ID + symbol for p in packets)
    rnd.shuffle(packets)
    rebuilt = hidden_file.rebuild(packets[: source + 2], len(frame), symbol)  # any source + 2 of them
    assert hidden_file.HiddenFile.from_frame(rebuilt) == hidden
    assert hidden_file.rebuild(packets[: source - 1], len(frame), symbol) is None  # too few: nothing, not a guess


def test_a_damaged_file_frame_is_refused_and_names_are_made_safe():
    from pixinwav.hidden_file import HiddenFile

    frame = bytearray(HiddenFile("a.pdf", b"%PDF-1.7 ...").frame())
    frame[9] ^= 1
    with pytest.raises(PixinwavError, match="fails its checksum"):
        HiddenFile.from_frame(bytes(frame))
    assert HiddenFile("../../etc/passwd", b"x").safe_name() == "passwd"
    assert HiddenFile("C:\\Users\\me\\photo.jpg", b"x").safe_name() == "photo.jpg"
    assert HiddenFile("..", b"x").safe_name() == HiddenFile("", b"x").safe_name() == "revealed.bin"


def test_a_digital_frame_survives_rounding_noise_and_refuses_what_its_code_cannot_correct():
    from pixinwav import digital

    rng = np.random.default_rng(0)
    step = np.exp(rng.uniform(np.log(4), np.log(512), 20000))  # LSB, as the song model's steps spread
    frame = digital.Frame(step)
    assert frame.payload_bytes % digital.ALIGN == 0 and frame.payload_bytes > 20000 * 3 / 8 * 0.8
    payload = rng.bytes(frame.payload_bytes)
    places = frame.places(payload)
    noise = digital.ROUNDING_RMS_LSB
    received = (places + rng.normal(0, noise / step)) % 1.0  # the 16-bit file's rounding, in steps
    assert frame.read(received, noise) == payload
    wrecked = (places + rng.normal(0, 8 * noise / step)) % 1.0  # far more noise than a lossless file has
    assert frame.read(wrecked, noise) is None
