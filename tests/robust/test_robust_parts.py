"""The robust scheme's parts: MDCT, LDPC code, STDM lattice, payload header and image codec."""
import functools
import warnings

import numpy as np
import pytest
from PIL import Image

from helpers import photo
from pixinwav.data.images import prepare_image
from pixinwav.errors import PixinwavError
from pixinwav.robust import accumulate_decode, agreement, code, layers, levels, mdct, payload, recalibrate, tempo
from pixinwav.robust.stdm import (GRID_NEIGHBOURS, PIECE_NEIGHBOURS, Lattice, additive_noise, keyed_permutation,
                                  keyed_uniform)


@pytest.mark.parametrize("hop", [64, 512])
def test_mdct_reads_back_exactly_what_was_written(hop):
    rng = np.random.default_rng(0)
    x = rng.normal(size=hop * 20 + 7)
    coefs = mdct.analyse(x, hop)
    assert coefs.shape == (mdct.frame_count(len(x), hop), hop)
    change = rng.normal(size=coefs.shape)
    wave = mdct.synthesise(change, hop)
    assert np.allclose(mdct.analyse(wave, hop, len(change)), change, atol=1e-10)
    assert np.isclose(np.square(wave).sum(), np.square(change).sum())  # orthonormal: energy is kept


def test_ldpc_corrects_noisy_soft_bits_and_says_when_it_cannot():
    rng = np.random.default_rng(1)
    message = rng.integers(0, 2, 1024).astype(np.uint8)
    word = code.encode(message)
    assert len(word) == 2048 and np.array_equal(word[:1024], message)
    h = code.parity_checks(1024)[1]
    assert not ((h @ word.astype(np.int64)) % 2).any()
    sigma = 0.75  # about 9 % of the hard decisions are wrong
    received = (1 - 2.0 * word) + sigma * rng.normal(size=word.shape)
    assert 0.05 < ((received < 0) != word).mean() < 0.15
    decoded, ok = code.decode(2 * received / sigma**2)
    assert ok and np.array_equal(decoded, message)
    _, ok = code.decode(rng.normal(size=2048))  # noise: the parity checks fail
    assert not ok


def test_keyed_values_are_fixed_by_the_key():
    assert np.array_equal(keyed_uniform("a", "x", 5), keyed_uniform("a", "x", 5))
    assert not np.array_equal(keyed_uniform("a", "x", 5), keyed_uniform("b", "x", 5))
    assert sorted(keyed_permutation("a", "p", 50)) == list(range(50))
    assert keyed_uniform("", "dither", 1)[0] == pytest.approx(0.8868829395053811, abs=1e-15)  # a file format: fixed forever


def test_stdm_bits_come_back_and_the_change_follows_the_cover():
    rng = np.random.default_rng(2)
    loud = np.repeat([1.0, 0.01], 40)[:, None] * rng.normal(size=(80, 256))  # 40 loud frames, 40 quiet ones
    lattice = Lattice.make("k", 16, 240, 16, -12.0, 1e-6)
    bits = rng.integers(0, 2, (80, lattice.groups)).astype(np.uint8)
    stego = lattice.embed(loud, bits)
    llr, agreement, usable = lattice.soft(stego)
    assert usable.all() and agreement.min() > 0.85 and agreement.mean() > 0.93  # the fixed point is near, not exact
    assert np.array_equal((llr < 0).astype(np.uint8), bits)
    power = np.square(stego - loud)[:, 16:240]
    change = np.sqrt([power[:39].mean(), power[41:].mean()])  # away from the step, where the scale mixes both
    assert change[1] < change[0] / 50  # the change drops with the cover (40 dB quieter)
    ratio = change[0] / np.sqrt(np.mean(np.square(loud[:39, 16:240])))
    assert 20 * np.log10(ratio) == pytest.approx(-12, abs=1.5)


def test_hiss_that_drowns_quiet_frames_makes_their_bits_unsure_not_confidently_wrong():
    # loud and quiet passages 30 dB apart, 0.3 s each; white noise drowns the quiet ones' change and spares the loud
    rng = np.random.default_rng(5)
    level = np.tile(np.repeat([1.0, 0.03], 10), 20)[:, None]
    cover = level * rng.normal(size=(400, 256))
    lattice = Lattice.make("k", 16, 240, 16, -12.0, 1e-9)
    bits = rng.integers(0, 2, (400, lattice.groups)).astype(np.uint8)
    received = lattice.embed(cover, bits) + 0.03 * rng.normal(size=cover.shape)
    llr, _, usable = lattice.soft(received)
    wrong = (llr < 0) != bits.astype(bool)
    quiet = np.broadcast_to(level < 0.5, llr.shape)
    assert wrong[~quiet].mean() < 0.01 and wrong[quiet].mean() > 0.1  # the loud frames read, the quiet ones barely
    assert wrong[np.abs(llr) > 2].mean() < 0.02  # what the ratios call sure is right

    def information(ratios):  # bits per bit the ratios carry about the truth (1: all sure and right; < 0: misleading)
        return 1 - np.mean(np.log2(1 + np.exp(-np.where(bits == 0, 1, -1) * ratios)))

    # the noise measured only around each bit (no gain: all of it taken as relative to the music) mixes loud and
    # quiet frames and calls many wrong bits sure
    scale = lattice.scale(received)
    relative_only, _, _ = lattice.soft_phases(lattice.project(received, scale), lattice.usable(scale))
    assert wrong[np.abs(relative_only) > 2].mean() > 0.05
    assert information(llr) > 0.6 and information(relative_only) < 0.4


def test_steady_codec_noise_is_read_better_over_the_wider_neighbourhood():
    """Noise at a steady level (a codec's, over seconds): measured over the grid's wider neighbourhood, each bit's noise
    estimate is less noisy itself, so the ratios carry more about the bits than over the narrower one (0.2.12's,
    kept for a stretched file's pieces)."""
    rng = np.random.default_rng(7)
    lattice = Lattice.make("k", 16, 240, 16, -12.0, 1e-9)
    bits = rng.integers(0, 2, (600, lattice.groups))
    phase = np.mod(0.5 * bits + rng.normal(0, 0.18, bits.shape), 1.0)  # (in steps: a poor channel, as at 64 kbit/s)
    usable = np.ones(bits.shape, bool)

    def read(around):  # (bits per bit the ratios carry about the truth, how much the noise they assume varies)
        ratios = lattice.soft_phases(phase, usable, around=around)[0]
        evidence = lattice.evidence(phase)
        weight = (ratios / np.where(evidence == 0, 1, evidence))[np.abs(evidence) > 1e-3]  # the true noise is one
        return (1 - np.mean(np.log2(1 + np.exp(-np.where(bits == 0, 1, -1) * ratios))),
                np.std(weight) / np.mean(weight))

    (wide, wide_spread), (narrow, narrow_spread) = read(GRID_NEIGHBOURS), read(PIECE_NEIGHBOURS)
    assert GRID_NEIGHBOURS[0] > PIECE_NEIGHBOURS[0] and GRID_NEIGHBOURS[1] > PIECE_NEIGHBOURS[1]
    assert wide_spread < 0.75 * narrow_spread and wide > narrow
    assert np.array_equal(lattice.soft_phases(phase, usable)[0], lattice.soft_phases(phase, usable, around=GRID_NEIGHBOURS)[0])


def test_only_noise_at_a_fixed_level_is_fitted_as_such():
    rng = np.random.default_rng(6)
    level = np.tile(np.repeat([1.0, 0.03], 10), 20)[:, None]
    cover = level * rng.normal(size=(400, 256))
    lattice = Lattice.make("k", 16, 240, 16, -12.0, 1e-9)
    stego = lattice.embed(cover, rng.integers(0, 2, (400, lattice.groups)).astype(np.uint8))

    def fitted(received):
        scale = lattice.scale(received)
        usable = lattice.usable(scale)
        closeness = np.cos(4 * np.pi * lattice.project(received, scale)) * usable
        return additive_noise(closeness, usable, lattice.gain(scale))

    assert (fitted(stego + 0.03 * rng.normal(size=cover.shape)) > 0).mean() > 0.8  # hiss: found in most groups
    assert (fitted(stego + 0.05 * level * rng.normal(size=cover.shape)) == 0).all()  # noise that follows the music


def test_header_round_trip_and_crc():
    header = payload.Header("AVIF", 256, 256, 8, 1000)
    bits = header.to_bits()
    assert len(bits) == payload.HEADER_BITS and payload.Header.from_bits(bits) == header
    bits[5] ^= 1
    assert payload.Header.from_bits(bits) is None


def test_compress_fits_the_budget_and_picks_the_best_look():
    image = prepare_image(Image.fromarray(photo("astronaut")), 256, 3)
    data, quality = payload.compress(image, 1000)
    assert len(data) <= 1000
    back = payload.decompress(data, 3, (256, 256))
    assert back.shape == (3, 256, 256) and float(np.abs(back - np.asarray(image)).mean()) < 0.1
    with pytest.raises(PixinwavError, match="bytes"):
        payload.compress(image, 100)
    assert not np.array_equal(payload.decompress(payload.compress(image, 5000, quality=30)[0], 3), back)


@pytest.mark.parametrize("k, n", [(600, 3000), (1800, 2400)])  # rate 1/5 and 3/4
def test_ldpc_of_other_rates_corrects_what_its_rate_allows(k, n):
    """A low rate corrects far noisier bits than a high one; both say when they cannot."""
    rng = np.random.default_rng(2)
    message = rng.integers(0, 2, k).astype(np.uint8)
    word = code.encode(message, n)
    assert len(word) == n and np.array_equal(word[:k], message)
    assert not ((code.parity_checks(k, n - k)[1] @ word.astype(np.int64)) % 2).any()
    sigma = 1.3 if k / n < 0.5 else 0.55  # 22 % / 3.5 % of the hard decisions wrong
    received = (1 - 2.0 * word) + sigma * rng.normal(size=n)
    decoded, ok = code.decode(2 * received / sigma**2, k)
    assert ok and np.array_equal(decoded, message)
    _, ok = code.decode(2 * ((1 - 2.0 * word) + 2.5 * rng.normal(size=n)), k)  # far beyond what it corrects
    assert not ok


@pytest.mark.parametrize("k, n, sigma, drawn", [(1024, 2048, 0.75, "choice"), (600, 6000, 1.4, "rows"),
                                                (1800, 2400, 0.55, "rows")])
def test_the_chain_decoder_gets_the_flooding_decoders_message_in_fewer_iterations(k, n, sigma, drawn):
    """The accumulator decoded whole each iteration: the same message as ldpc's flooding, from soft bits noisy
    enough that flooding needs many iterations, and a failure (not a wrong word) on noise."""
    rng = np.random.default_rng(3)
    message = rng.integers(0, 2, k).astype(np.uint8)
    word = code.encode(message, n, drawn)
    llr = 2 * ((1 - 2.0 * word) + sigma * rng.normal(size=n)) / sigma**2
    h1, _ = code.parity_checks(k, n - k, drawn)
    colptr, edge_of = accumulate_decode.by_columns(h1.indices, k)
    chain_word, ok, iterations = accumulate_decode._kernel()(llr, k, h1.indptr.astype(np.int64),
                                                             h1.indices.astype(np.int64), colptr, edge_of,
                                                             code.CHAIN_ITERATIONS)
    assert ok and np.array_equal(chain_word[:k], message)
    assert np.array_equal(chain_word[k:], word[k:])  # the parity bits too: the whole codeword
    numba = pytest.importorskip("numba")
    threads = numba.get_num_threads()
    numba.set_num_threads(1)  # the same word in the same iterations on one thread: sums keep their order
    try:
        alone = accumulate_decode._kernel()(llr, k, h1.indptr.astype(np.int64), h1.indices.astype(np.int64), colptr,
                                            edge_of, code.CHAIN_ITERATIONS)
    finally:
        numba.set_num_threads(threads)
    assert np.array_equal(alone[0], chain_word) and alone[2] == iterations
    flooded, flooding_ok = code.flooding_decode(llr, k, 300, drawn)
    assert flooding_ok and np.array_equal(flooded, message)
    assert iterations < code._decoder(k, n - k, 300, drawn, "product_sum").iter  # flooding's iterations
    _, ok = accumulate_decode.decode(rng.normal(size=n), k, h1, 20)
    assert not ok


def _chain_schedule_in_llrs(llr, k, max_iter):
    """The chain schedule written plainly with LLRs, tanh and arctanh (as release 0.2.7's kernel computed it):
    (hard codeword, whether every check holds, iterations)."""
    clip, below_one = accumulate_decode.CLIP, accumulate_decode.BELOW_ONE
    m = len(llr) - k
    h1, h = code.parity_checks(k, m, "rows")
    lc = np.clip(llr * accumulate_decode.CHANNEL_SCALE, -clip, clip)
    rows = np.repeat(np.arange(m), np.diff(h1.indptr))
    cols = h1.indices
    r, total = np.zeros(len(cols)), lc[:k].copy()
    for it in range(1, max_iter + 1):
        t = np.tanh(np.clip(total[cols] - r, -clip, clip) / 2)
        ts = np.ones(m)
        np.multiply.at(ts, rows, t)
        fwd, bwd, tf, tb = np.zeros(m), np.zeros(m), np.ones(m), np.zeros(m)
        fwd[0] = 2 * np.arctanh(np.clip(ts[0], -below_one, below_one))
        for i in range(1, m):
            tf[i] = np.tanh(np.clip(fwd[i - 1] + lc[k + i - 1], -clip, clip) / 2)
            fwd[i] = 2 * np.arctanh(np.clip(ts[i] * tf[i], -below_one, below_one))
        tb[m - 1] = np.tanh(lc[k + m - 1] / 2)
        for i in range(m - 2, -1, -1):
            bwd[i] = 2 * np.arctanh(np.clip(ts[i + 1] * tb[i + 1], -below_one, below_one))
            tb[i] = np.tanh(np.clip(bwd[i] + lc[k + i], -clip, clip) / 2)
        others = np.array([np.prod(t[h1.indptr[i]:h1.indptr[i + 1]][np.arange(h1.indptr[i + 1] - h1.indptr[i]) != j])
                           for i, j in zip(rows, np.arange(len(cols)) - h1.indptr[rows])])
        r = 2 * np.arctanh(np.clip(tf[rows] * tb[rows] * others, -below_one, below_one))
        total = lc[:k] + np.bincount(cols, r, minlength=k)
        word = np.concatenate([total < 0, lc[k:] + fwd + bwd < 0]).astype(np.uint8)
        if not ((h @ word.astype(np.int64)) % 2).any():
            return word, True, it
    return word, False, max_iter


@pytest.mark.parametrize("k, n, sigma", [(200, 2000, 1.5), (300, 1200, 1.05), (500, 800, 0.62), (200, 2000, 2.6)])
def test_the_chain_kernel_is_the_chain_schedule_in_llrs(k, n, sigma):
    """The kernel's arithmetic (beliefs combined in the tanh domain, one exp per column) is the schedule's: the same
    iterations and word as the plain LLR form, near the code's limit and past it (the last case fails in both)."""
    rng = np.random.default_rng(6)
    word = code.encode(rng.integers(0, 2, k).astype(np.uint8), n, "rows")
    llr = 2 * ((1 - 2.0 * word) + sigma * rng.normal(size=n)) / sigma**2
    h1 = code.parity_checks(k, n - k, "rows")[0]
    colptr, edge_of = accumulate_decode.by_columns(h1.indices, k)
    kernel = functools.partial(accumulate_decode._kernel(), llr, k, h1.indptr.astype(np.int64),
                               h1.indices.astype(np.int64), colptr, edge_of)
    got = kernel(40)
    want = _chain_schedule_in_llrs(llr, k, 40)
    assert (got[1], got[2]) == (want[1], want[2])
    assert np.array_equal(got[0], want[0]) if want[1] else not got[1]
    assert want[1] == (sigma < 2), "the cases meant to decode decode, the one past the limit fails"
    if want[1]:
        assert want[2] >= 3  # noisy enough to take several iterations
        # the word of the last iteration allowed is checked too (the next iteration's pass counts it otherwise)
        at_limit, short = kernel(want[2]), kernel(want[2] - 1)
        assert at_limit[1] and at_limit[2] == want[2] and np.array_equal(at_limit[0], want[0])
        assert not short[1] and short[2] == want[2] - 1


def test_a_word_the_chain_decoder_cannot_finish_goes_to_flooding(monkeypatch):
    """Where the chain decoder stops short (here: one iteration is too few), ldpc's flooding decodes the word:
    every word flooding decodes still decodes. (Rate 1/5: min-sum is not tried first.)"""
    rng = np.random.default_rng(4)
    message = rng.integers(0, 2, 400).astype(np.uint8)
    word = code.encode(message, 2000)
    llr = 2 * ((1 - 2.0 * word) + 1.2 * rng.normal(size=2000)) / 1.2**2
    h1, _ = code.parity_checks(400, 1600)
    assert not accumulate_decode.decode(llr, 400, h1, 1)[1]
    monkeypatch.setattr(code, "CHAIN_ITERATIONS", 1)
    decoded, ok = code.decode(llr, 400)
    assert ok and np.array_equal(decoded, message)


def test_without_the_compiled_decoder_flooding_decodes_alone_with_a_warning(monkeypatch):
    def missing():
        raise ImportError("No module named 'numba'")

    monkeypatch.setattr(accumulate_decode, "_kernel", missing)
    rng = np.random.default_rng(5)
    message = rng.integers(0, 2, 300).astype(np.uint8)
    word = code.encode(message, 1500)
    with pytest.warns(RuntimeWarning, match="compiled decoder failed"):
        decoded, ok = code.decode(4 * (1 - 2.0 * word) + rng.normal(size=1500), 300)
    assert ok and np.array_equal(decoded, message)


def test_levels_are_gray_coded_and_read_back_softly():
    rng = np.random.default_rng(3)
    bits = rng.integers(0, 2, (500, 4))
    places = levels.to_places(bits)
    assert np.allclose(np.sort(np.unique(places)), (np.arange(16) + 0.5) / 16)
    codes = levels.gray(4)
    assert all(bin(codes[i] ^ codes[(i + 1) % 16]).count("1") == 1 for i in range(16))  # cyclic: the wrap too
    llr = levels.soft_bits((places + rng.normal(0, 0.005, 500)) % 1, np.full(500, 0.005), 4)
    assert np.array_equal(llr < 0, bits.astype(bool))
    # a place pushed across the wrap from the last symbol to the first: one bit is unsure, the others are not
    last = levels.soft_bits(np.array([0.0]), np.array([0.01]), 4)[0]
    assert np.sum(np.abs(last) < 1) == 1
    # noise as large as the step: no information left (near-erasures for the code)
    assert np.abs(levels.soft_bits(places, np.full(500, 1.0), 4)).max() < 0.1


def test_a_cells_capacity_is_what_its_soft_bits_carry_through_that_noise_on_average():
    """``levels.capacity`` (a table by quadrature) against the mean of ``1 - log2(1 + exp(-L))`` over random symbols
    and Gaussian noise, read by ``soft_bits``: all the bits at a tiny noise, nothing at a whole step, falling between."""
    rng = np.random.default_rng(8)
    for bits in (1, 4):
        for sigma in (1e-3, 0.01, 0.03, 0.06, 0.1, 0.2):
            sent = rng.integers(0, 2, (100_000, bits))
            place = (levels.to_places(sent) + rng.normal(0, sigma, len(sent))) % 1
            llr = levels.soft_bits(place, np.full(len(sent), sigma), bits)
            carried = (1 - np.logaddexp(0, -np.where(sent == 0, llr, -llr)) / np.log(2)).sum(axis=1).mean()
            assert levels.capacity(np.array([sigma]), bits)[0] == pytest.approx(carried, abs=0.01), (bits, sigma)
    curve = levels.capacity(np.geomspace(1e-5, 10, 200), 4)
    assert curve[0] == 4 and curve[-1] < 1e-3 and np.all(np.diff(curve) <= 0)


@pytest.mark.parametrize("tempo_change", [0.01, -0.02])
def test_the_delay_trend_numbers_chunks_whose_delay_is_known_only_modulo_the_hop(tempo_change):
    """A stretched file's chunks: delay = the tempo's line plus the stretcher's jitter (up to 200 samples), seen
    only as ``-delay mod hop``; the fitted line gives every chunk its whole frame number back."""
    hop, rng = 512, np.random.default_rng(3)
    chunks = np.sort(rng.choice(6000, 2000, replace=False))
    at = chunks * tempo.CHUNK_FRAMES * hop
    delay = tempo_change * at + 1234.5 + rng.uniform(-200, 200, len(chunks))
    offsets = np.mod(-delay, hop)
    slope, _ = tempo.delay_trend(chunks, offsets, np.ones(len(chunks)), hop)
    assert abs(slope - tempo_change) < 2e-5
    numbers = tempo._numbers(chunks, offsets, (slope, _), hop)
    truth = (at + offsets + delay) / hop  # payload frame of each chunk's first frame: whole numbers
    assert np.allclose(truth, np.round(truth)) and len(set(numbers - np.round(truth).astype(int))) == 1


def test_the_agreement_map_is_the_lattice_measure_at_every_offset():
    """The agreement map (every sample offset and frame at once, by FFT, the masking power by shifted sums) against
    the measure taken directly: each frame's MDCT at its offset, ``scipy.ndimage.uniform_filter``'s masking power,
    the low groups' projections on the lattices; on a written payload (about 1 on its grid) and on noise (about 0)."""
    import scipy.ndimage

    from pixinwav.robust.stdm import FREQ_RADIUS, TIME_RADIUS, keyed_lattice

    hop, frames, rng = 64, 12, np.random.default_rng(5)
    lattice = keyed_lattice("k", 4, 24, 2, -12.0, 1e-4)
    low = agreement.low_lattice(lattice)
    noise = rng.normal(0, 0.1, (frames + 4) * hop)
    coefs = mdct.analyse(noise, hop)
    bits = rng.integers(0, 2, (len(coefs), lattice.groups)).astype(np.uint8)
    stego = noise + mdct.synthesise(lattice.embed(coefs, bits) - coefs, hop)[: len(noise)]
    first, top = low.low - FREQ_RADIUS, low.high + FREQ_RADIUS
    for wave in (stego, noise):
        got = agreement.agreement_map(wave, low, hop, frames)
        direct = np.stack([mdct.of_frames(np.stack([wave[s + j * hop:s + j * hop + 2 * hop] for j in range(frames)]),
                                          hop)[:, first:top] for s in range(hop)], 1)  # [frame, offset, bin]
        power = scipy.ndimage.uniform_filter(direct**2, size=(2 * TIME_RADIUS + 1, 1, 2 * FREQ_RADIUS + 1),
                                             mode="nearest")
        scaled = (direct / np.sqrt(np.maximum(power, low.floor**2)))[..., FREQ_RADIUS:FREQ_RADIUS + low.groups * low.spread]
        projection = np.einsum("fogs,gs->fog", scaled.reshape(frames, hop, low.groups, low.spread), low.signs)
        expected = np.cos(4 * np.pi * np.mod(projection / low.step - low.dither, 1.0)).mean(-1).T
        np.testing.assert_allclose(got, expected, atol=2e-3)
    assert agreement.agreement_map(stego, low, hop, frames)[0].mean() > 0.9 > 0.3 > np.abs(expected).mean()


def test_the_delay_trends_line_power_is_the_sum_of_exponentials():
    """The trend's search adds the chunks up along each slope by powers of one step's rotation: the same as an
    exponential per slope and chunk, over more slopes than one block."""
    rng = np.random.default_rng(4)
    at, base = rng.uniform(0, 3e6, 700), rng.uniform(0.3, 1, 700) * np.exp(2j * np.pi * rng.uniform(size=700))
    scale, first, step, count = 2 * np.pi / 512, -0.04, 3e-5, 2 * tempo.LINE_BLOCK + 37
    slopes = first + step * np.arange(count)
    direct = np.abs(np.exp(1j * scale * np.outer(slopes, at)) @ base)
    np.testing.assert_allclose(tempo._line_power(first, step, count, at, base, scale), direct, rtol=1e-9,
                               atol=1e-9 * direct.max())


def test_a_kept_flooding_decoder_decodes_words_from_several_threads_as_one_by_one():
    """ldpc's decoder for a word size is one object kept for every caller; a reveal reads windows on several threads.
    Each word's probabilities, decode and verdict go together (without the lock, 3 of 200 words came out otherwise
    here: another thread's probabilities had been set in between)."""
    from concurrent.futures import ThreadPoolExecutor

    rng, k, n, sigma = np.random.default_rng(0), 512, 1024, 0.8
    words = []
    for _ in range(40):
        word = code.encode(rng.integers(0, 2, k).astype(np.uint8), n, "rows")
        words.append(2 * ((1 - 2.0 * word) + sigma * rng.normal(size=n)) / sigma**2)

    def decoded(llr):
        message, ok = code.flooding_decode(llr, k, 100, "rows")
        return ok, message.tobytes()

    alone = [decoded(llr) for llr in words]
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(decoded, words * 5)) == alone * 5
    assert 0 < sum(ok for ok, _ in alone) < len(alone)  # near the code's limit: some words decode, some do not


def test_a_senders_check_builds_no_flooding_decoder_where_the_chain_decodes(monkeypatch):
    """A sender checks every window it writes: ``ldpc``'s decoder objects (up to 102 MiB for a rate-1/2 word of a
    whole window) are built only where the chain decoder does not decode quickly, and are not kept."""
    rng = np.random.default_rng(3)
    k = 4000
    message = rng.integers(0, 2, k).astype(np.uint8)
    word = code.encode(message, 2 * k, "rows")
    llr = (1 - 2 * word.astype(np.float64)) * 2.0 + rng.normal(0, 1.0, len(word))
    assert np.array_equal(code.decode(llr, k, 40, "rows")[0], message)

    def flooding(*args, **kwargs):
        raise AssertionError("an ldpc decoder was built")

    monkeypatch.setattr(code, "flooding_decode", flooding)
    got, ok = code.decode(llr, k, 40, "rows", sender=True)
    assert ok and np.array_equal(got, message)
    got, ok = code.decode(llr, k, 40, "rows")  # a receiver too: the chain first, at every rate
    assert ok and np.array_equal(got, message)


def test_a_sender_that_takes_the_chain_alone_reports_a_word_it_cannot_finish_as_failed_without_flooding(monkeypatch):
    """``flooding=False`` (adaptive-v3's sender): a word the chain does not finish within the sender's iterations
    fails at once, where the default lets flooding decide (and decodes it)."""
    rng = np.random.default_rng(6)
    message = rng.integers(0, 2, 1000).astype(np.uint8)
    word = code.encode(message, 2000, "rows")
    llr = 2 * ((1 - 2.0 * word) + 0.5 * rng.normal(size=2000)) / 0.5**2
    monkeypatch.setattr(code, "SENDER_CHAIN_ITERATIONS", 1)
    tried, flooding = [], code.flooding_decode

    def recorded(*args, **kwargs):
        tried.append(args)
        return flooding(*args, **kwargs)

    monkeypatch.setattr(code, "flooding_decode", recorded)
    assert not code.decode(llr, 1000, 40, "rows", sender=True, flooding=False)[1] and not tried
    decoded, ok = code.decode(llr, 1000, 40, "rows", sender=True)
    assert ok and np.array_equal(decoded, message) and tried


def test_a_rate_half_word_the_chain_cannot_finish_goes_to_min_sum_then_product_sum(monkeypatch):
    """The receiver's order where the chain stops short (here: one iteration): min-sum flooding where the rate is
    0.3 or more, then product-sum; the word decodes, and min-sum was tried before product-sum."""
    rng = np.random.default_rng(6)
    message = rng.integers(0, 2, 1000).astype(np.uint8)
    word = code.encode(message, 2000)
    llr = 2 * ((1 - 2.0 * word) + 0.5 * rng.normal(size=2000)) / 0.5**2
    monkeypatch.setattr(code, "CHAIN_ITERATIONS", 1)
    tried, flooding = [], code.flooding_decode

    def recorded(*args, **kwargs):
        tried.append(args[4] if len(args) > 4 else kwargs.get("method", "product_sum"))
        return flooding(*args, **kwargs)

    monkeypatch.setattr(code, "flooding_decode", recorded)
    decoded, ok = code.decode(llr, 1000)
    assert ok and np.array_equal(decoded, message) and tried[0] == "minimum_sum"


def test_the_chain_decoders_quick_tanh_and_arctanh_match_the_library_ones():
    """The kernel's ``tanh(x / 2)`` through one exp and ``2 arctanh`` through one log: within 1e-15 of NumPy's
    (relative, for arctanh's values above 1) across the range the decoder uses (|x| up to the clip, |y| up to just
    under 1)."""
    x = np.concatenate([np.linspace(-accumulate_decode.CLIP, accumulate_decode.CLIP, 20001), [0.0, 1e-12, -1e-9]])
    got = np.array([accumulate_decode._half_tanh(v) for v in x])
    assert np.abs(got - np.tanh(x / 2)).max() < 1e-15
    y = np.concatenate([np.linspace(-0.999, 0.999, 20001), [accumulate_decode.BELOW_ONE, -accumulate_decode.BELOW_ONE]])
    got = np.array([accumulate_decode._two_arctanh(v) for v in y])
    assert (np.abs(got - 2 * np.arctanh(y)) / np.maximum(1, np.abs(2 * np.arctanh(y)))).max() < 1e-15


@pytest.mark.parametrize("curve,most", [(lambda q: int(300 * np.exp(0.04 * q)), 5), (lambda q: 1000 + q ** 3, 15),
                                        (lambda q: 500 + 40 * q + (20_000 if q > 70 else 0), 15)])
def test_the_quality_search_finds_the_highest_quality_that_fits(curve, most):
    """Whatever the shape of a (growing) size curve: the highest quality under the budget, or None. On the
    log-linear curve it aims with, in fewer encodings than a bisection's 7-8 (top first, then 0-79); on any other,
    in at most twice the bisection's steps (a step that does not halve the bracket is followed by one that does)."""
    for budget in range(200, 60_000, 997):
        calls = []

        def encode(q):
            calls.append(q)
            return b"x" * curve(q)

        fits = [q for q in range(payload.MIN_QUALITY, 81) if curve(q) <= budget]
        found = payload.best_quality(encode, budget, 80)
        assert (found[1] if found else None) == (max(fits) if fits else None), budget
        assert found is None or len(found[0]) == curve(found[1])
        assert len(calls) <= most, (budget, calls)


@pytest.mark.parametrize("curve", [lambda q: int(300 * np.exp(0.04 * q)), lambda q: 1000 + q ** 3])
def test_the_quality_search_with_an_estimate_of_the_top_skips_it_only_when_far_over(curve):
    """An estimate of the top quality's size far over the budget (the photo encoded before at another size) spares
    that encoding and gives the same answer; one near the budget, or under it, is checked by encoding."""
    for budget in range(200, 60_000, 1997):
        answers, tried = [], []
        for estimate in (None, curve(80) * 1.02, payload.SURELY_OVER * budget * 0.99):
            calls = []

            def encode(q):
                calls.append(q)
                return b"x" * curve(q)

            answers.append(payload.best_quality(encode, budget, 80, estimate))
            tried.append(calls)
        assert answers[1] == answers[0] == answers[2], budget  # the same quality and bytes
        far = curve(80) * 1.02 > payload.SURELY_OVER * budget
        assert (80 not in tried[1]) == far, (budget, tried[1])
        assert tried[2][0] == 80  # not far over: the top is encoded first, as without an estimate


@pytest.mark.parametrize("curve", [lambda q: int(300 * np.exp(0.04 * q)), lambda q: 1000 + q ** 3,
                                   lambda q: int(300 * np.exp(0.04 * (q - q % 3)))])  # (plateaus, as libavif's steps)
def test_the_quality_search_aimed_by_quick_sizes_finds_the_same_quality_in_fewer_encodings(curve):
    """Quick sizes whose ratio to the true ones drifts slowly (libavif's fastest speed: 0.82-0.85 of the size over
    qualities 20-80) aim the search: the same answer as without them, in at most three true encodings after the top."""
    for budget in range(200, 60_000, 997):
        found, calls = [], []
        for quick in (None, payload.QuickSizes(lambda q: b"x" * int(curve(q) / (0.80 + 0.0006 * q)))):
            tried = []

            def encode(q):
                tried.append(q)
                return b"x" * curve(q)

            found.append(payload.best_quality(encode, budget, 80, quick=quick))
            calls.append(tried)
        assert found[1] == found[0], budget
        assert len(calls[1]) <= 4, (budget, calls[1])


def test_the_quality_search_never_encodes_two_qualities_of_one_encoder_setting():
    """libavif gives qualities 60 and 61 one quantiser, so one file: a quality whose quick file is identical to that
    of a quality already encoded takes that one's bytes (the same answer as bisection, each setting encoded once)."""
    setting = lambda q: (q * 64) // 101  # noqa: E731  (101 qualities over 64 settings, as libavif's quantisers)
    curve = lambda s: int(300 * np.exp(0.065 * s))  # noqa: E731

    ratio = lambda s: 0.8 + 0.004 * s  # noqa: E731  (the quick encoder's files against the true ones: a slow drift)

    def file(q, ratio=1.0):  # the same bytes for one setting, different bytes for another
        return bytes([setting(q)]) * int(curve(setting(q)) / ratio)

    class Blind(payload.QuickSizes):  # (the search as it was: no twins)
        def twin(self, quality, among):
            return None

    repeated = {payload.QuickSizes: 0, Blind: 0}
    for budget in range(200, 8_000, 37):
        for sizes in repeated:
            tried = []

            def encode(q):
                tried.append(setting(q))
                return file(q)

            found = payload.best_quality(encode, budget, 80, quick=sizes(lambda q: file(q, ratio(setting(q)))))
            exact = max((q for q in range(payload.MIN_QUALITY, 81) if len(file(q)) <= budget), default=None)
            assert (found[1] if found else None) == exact, budget
            assert found is None or found[0] == file(found[1])
            repeated[sizes] += len(tried) > len(set(tried))
    assert repeated[payload.QuickSizes] == 0 < repeated[Blind]


def test_a_search_begun_from_the_top_estimate_aims_along_the_real_encoders_share(monkeypatch):
    """Before any real encoding only the top's size is known, as an estimate; the real encoder's share of the quick
    one's size falls with quality (libavif: 0.91 at 80, 0.82 at 57), so the first aim follows ``QUICK_SHARE``. On a
    synthetic encoder whose share follows that curve, the search finds the best quality in fewer real encodings than
    with the share held at the top's (0.2.22's first aim)."""
    quick_file = lambda q: b"q" * int(300 * np.exp(0.045 * q))  # noqa: E731
    curve = payload.QUICK_SHARE  # (the synthetic encoder's share, kept when the search's is flattened below)
    share = lambda q: float(np.interp(q, *zip(*curve)))  # noqa: E731

    def real(q):
        return b"r" * int(len(quick_file(q)) * share(q))

    def search(budget):
        tried = []

        def encode(q):
            tried.append(q)
            return real(q)

        found = payload.best_quality(encode, budget, 80, len(real(80)) * 1.02, payload.QuickSizes(quick_file))
        return found, tried

    budgets = range(1_500, int(len(real(80)) * 1.02 / payload.SURELY_OVER), 97)  # (the top estimate far over: not encoded)
    aimed = [search(budget) for budget in budgets]
    monkeypatch.setattr(payload, "QUICK_SHARE", ((0, 0.91), (100, 0.91)))
    flat = [search(budget) for budget in budgets]
    for budget, (found, tried) in zip(budgets, aimed):
        exact = max(q for q in range(payload.MIN_QUALITY, 81) if len(real(q)) <= budget)
        assert found[1] == exact and 80 not in tried, budget
    assert sum(len(t) for _, t in aimed) < sum(len(t) for _, t in flat)


def test_quick_sizes_that_mislead_the_search_never_give_bytes_over_the_budget():
    """Quick sizes unrelated to the true ones cost encodings, or a lower quality than the best: never a wrong answer."""
    rng = np.random.default_rng(0)
    curve = lambda q: int(300 * np.exp(0.04 * q))  # noqa: E731
    noise = rng.uniform(0.3, 3.0, 101)
    for budget in range(200, 60_000, 997):
        found = payload.best_quality(lambda q: b"x" * curve(q), budget, 80,
                                     quick=payload.QuickSizes(lambda q: b"x" * int(curve(q) * noise[q])))
        exact = max((q for q in range(81) if curve(q) <= budget), default=None)
        assert (found is None) == (exact is None), budget
        if found is not None:  # (a lower quality than the best is allowed)
            assert len(found[0]) == curve(found[1]) <= budget and found[1] <= exact


def test_a_large_photo_is_fitted_by_the_real_encoder_with_quick_sizes_aiming(monkeypatch):
    """Over ``QUICK_FROM_PIXELS`` the fit is aimed by quick encodings: the same quality and bytes as without them."""
    rng = np.random.default_rng(3)
    photo = np.clip(rng.normal(0.5, 0.1, (3, 600, 900)).cumsum(axis=2) / 60 % 1, 0, 1).astype(np.float32)
    answers, encodings = [], []
    for smallest in (10**9, 1):
        monkeypatch.setattr(layers, "QUICK_FROM_PIXELS", smallest)
        tried = []
        answers.append(layers.encode(photo, "sharp", 40_000, top=80, tried=lambda: tried.append(1)))
        encodings.append(len(tried))
    assert answers[0].data == answers[1].data and answers[0].quality == answers[1].quality < 80
    assert (answers[0].width, answers[0].height) == (900, 600) and encodings[1] < encodings[0], encodings


@pytest.mark.parametrize("path", ["compiled", "numpy", "numba failing"])
def test_soft_bits_are_each_symbol_sets_log_sum_also_far_from_every_symbol(path, monkeypatch):
    """Against ``logaddexp`` over each bit's symbols: noise from far under a step (a place many deviations from the
    symbols of one value, whose sum underflows and is taken again) to a whole step; by the compiled loop, by NumPy's
    arrays, and by NumPy's with a warning where the compiled loop cannot run."""
    if path == "numpy":
        monkeypatch.setattr(levels, "COMPILED_FROM", 10**9)
    if path == "numba failing":
        monkeypatch.setattr(levels, "_soft_bits_kernel", lambda: 1 / 0)
    rng = np.random.default_rng(6)
    place, sigma = rng.random(4000), np.exp(rng.uniform(np.log(1e-4), np.log(1.0), 4000))
    for bits in (1, 2, 4):
        d = place[:, None] - (np.arange(2**bits) + 0.5) / 2**bits
        log_p = -0.5 * ((d - np.round(d)) / sigma[:, None]) ** 2
        one = (levels.gray(bits)[:, None] >> np.arange(bits - 1, -1, -1)) & 1 == 1
        want = np.stack([np.logaddexp.reduce(log_p[:, ~one[:, b]], axis=1) - np.logaddexp.reduce(log_p[:, one[:, b]], axis=1)
                         for b in range(bits)], axis=1)
        with warnings.catch_warnings(record=True) as warned:
            warnings.simplefilter("always")
            got = levels.soft_bits(place, sigma, bits)
        said = [str(w.message) for w in warned]
        assert said == [] if path != "numba failing" else said[0].startswith("the compiled soft-bit loop failed (div")
        assert np.isfinite(got).all() and np.abs(want).max() > 1e4  # far places were among them
        assert np.allclose(got, want, rtol=1e-12, atol=1e-9)


def test_soft_bits_are_the_same_taken_a_block_of_frames_at_a_time(monkeypatch):
    from pixinwav.robust import stdm

    lattice = Lattice.make("k", 8, 200, 8, -15.0, 1e-6)
    rng = np.random.default_rng(4)
    coefs = rng.normal(size=(1000, 256)) * np.exp(rng.normal(size=(1000, 1)) * 2)  # loud and quiet frames
    scale = lattice.scale(coefs)
    whole = lattice.soft_phases(lattice.project(coefs, scale), lattice.usable(scale), lattice.gain(scale))
    monkeypatch.setattr(stdm, "SOFT_FRAMES", 77)
    assert all(np.array_equal(a, b) for a, b in zip(whole, lattice.soft(coefs)))


def test_the_numbering_score_is_chance_level_on_random_bits_and_high_on_a_noisy_copy():
    from pixinwav.robust import alignment

    rng = np.random.default_rng(5)
    chance = [alignment.numbering_z(rng.normal(size=3000), "k") for _ in range(5)]
    assert all(2.0 < z < 6.0 for z in chance)  # the best of 32,768 frame numbers by chance alone
    sent = 1.0 - 2.0 * alignment.frame_sequence("k")[1000:4000]  # frames 1000-3999, as the receiver reads them
    received = sent * np.where(rng.random(3000) < 0.3, -1.0, 1.0) * rng.uniform(0.1, 5.0, 3000)  # 30 % wrong
    assert alignment.numbering_z(received, "k") > 20
    assert alignment.numbering_z(received, "other key") < 6.0
    assert alignment.numbering_z(np.zeros(100), "k") == 0.0


def test_a_whole_songs_mdct_and_fractional_shift_taken_a_block_at_a_time_are_the_same(monkeypatch):
    from pixinwav.robust import alignment

    x = np.random.default_rng(5).normal(size=512 * 300 + 77)
    whole, shifted = mdct.analyse(x, 512), alignment.fractional_shift(x, 3.37)
    monkeypatch.setattr(mdct, "BLOCK_FRAMES", 7)
    monkeypatch.setattr(alignment, "SHIFT_BINS", 1000)
    assert np.array_equal(mdct.analyse(x, 512), whole)
    assert np.array_equal(alignment.fractional_shift(x, 3.37), shifted)
    frames = np.lib.stride_tricks.sliding_window_view(x, 1024)[::512][:len(whole)]
    assert np.allclose(whole, frames @ mdct.basis(512), atol=1e-9)  # the MDCT as the product with its basis
    assert np.allclose(mdct.of_frames(frames[:5], 512), whole[:5])


def test_each_groups_ratios_are_scaled_as_far_as_its_known_bits_bear_them_out():
    """A calibrated group keeps its ratios, one three times too sure is scaled by about a third, one whose confident
    ratios are unrelated to the bits (a band a codec filled with its own content) by about nothing, and one with too
    few known bits is left as it is."""
    rng = np.random.default_rng(3)
    frames, mean = 4000, 2.0
    sign = rng.choice([-1.0, 1.0], (frames, 4))
    calibrated = sign * mean + rng.normal(0, np.sqrt(2 * mean), (frames, 4))  # exact log-likelihood ratios
    llr = np.stack([calibrated[:, 0], 3 * calibrated[:, 1], 3 * rng.choice([-1.0, 1.0], frames), calibrated[:, 3]], 1)
    known = sign.copy()
    known[recalibrate.MIN_KNOWN - 10:, 3] = 0  # group 3: too few known bits
    known[::2] = 0  # half the frames unknown (their packets did not decode): no say
    scales = recalibrate.group_scales(llr, known)
    assert abs(scales[0] - 1) < 0.15 and abs(scales[1] - 1 / 3) < 0.06 and scales[2] < 0.05 and scales[3] == 1.0


@pytest.mark.parametrize("shape", [(300, 512), (4, 66, 512)])
def test_the_masking_scale_filtered_in_place_is_the_separately_filtered_one_bit_for_bit(shape):
    """The sender and receiver take the scale in place (a whole song's coefficients are 77 MB an array): the values
    must be those of the filter with a separate output, or stego files would change."""
    from scipy.ndimage import uniform_filter

    from pixinwav.robust.masking import masking_scale

    coefs = np.random.default_rng(5).normal(size=shape) * np.logspace(-6, 0, shape[-1])
    size = (1,) * (len(shape) - 2) + (3, 5)
    separate = np.sqrt(np.maximum(uniform_filter(np.square(coefs), size=size, mode="nearest"), 1e-9**2))
    assert np.array_equal(masking_scale(coefs, 1, 2, 1e-9), separate)


@pytest.mark.parametrize("shape", [(40, 64), (3, 40, 64)])
def test_the_past_magnitude_is_the_mean_magnitude_of_a_cells_frame_and_the_frames_before_it_only(shape):
    """adaptive-v4's level: frame t's level is sqrt(pi / 2) x the mean |coefficient| of frames t-2..t and 9 bins
    (Gaussian coefficients of RMS 1 read about 1), and nothing after frame t changes it (an onset does not raise the
    step of the quiet cells before it)."""
    from pixinwav.robust.masking import past_magnitude

    rng = np.random.default_rng(7)
    coefs = rng.normal(size=shape)
    level = past_magnitude(coefs, 2, 4, 1e-9)
    t, b = 10, 30
    expected = np.sqrt(np.pi / 2) * np.abs(coefs[..., t - 2:t + 1, b - 4:b + 5]).mean(axis=(-2, -1))
    assert np.allclose(level[..., t, b], expected)
    assert abs(float(np.median(level)) - 1) < 0.1
    louder = coefs.copy()
    louder[..., t + 1:, :] *= 1000  # an onset after frame t
    assert np.array_equal(past_magnitude(louder, 2, 4, 1e-9)[..., :t + 1, :], level[..., :t + 1, :])
    assert (past_magnitude(louder, 2, 4, 1e-9)[..., t + 1, :] > 10 * level[..., t + 1, :]).all()


def test_the_loudest_segments_found_a_block_at_a_time_rank_every_segment_as_the_whole_song_squared_does(monkeypatch):
    from pixinwav.robust import alignment

    wave = np.random.default_rng(2).normal(size=200_003) * np.repeat(np.random.default_rng(3).uniform(size=200), 1001)[:200_003]
    span = 997
    n = len(wave) // span
    whole = np.square(wave[: n * span]).reshape(n, span).sum(1)
    monkeypatch.setattr(alignment, "ENERGY_BLOCK", 5 * span + 3)  # blocks of 5 segments, the last one shorter
    assert alignment.loudest_segments(wave, span, n) == [int(i) * span for i in np.argsort(-whole, kind="stable")]
