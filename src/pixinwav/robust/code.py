"""A repeat-accumulate LDPC code of any rate with soft-decision belief-propagation decoding: the chain schedule of
``accumulate_decode.py`` first, the ``ldpc`` package's flooding where that fails.

The parity-check matrix is ``[H1 | T]`` with ``H1`` random (``m`` checks x ``k`` message bits) and ``T`` lower
bidiagonal (``m x m``), so encoding is a sparse product and a running XOR (systematic: the first ``k`` bits of a
codeword are the message, then ``m`` parity bits). Each message bit is in ``COLUMN_WEIGHT`` checks, more at low
rates, so that every check still sees about three message bits (a check that sees none only repeats its neighbour).
The matrix is a pure function of ``k``, ``m`` and a fixed seed: identical at both ends. ``m = k`` (rate 1/2) is the
robust scheme's code.
"""
from __future__ import annotations

import contextlib
import functools
import threading
import warnings

import numpy as np
import scipy

COLUMN_WEIGHT = 3
MESSAGE_BITS_PER_CHECK = 3
SEED = 20221109
# Where each decoder is tried (seconds per window of adaptive-v3: benchmarks/results/bench_decoder.md): the chain
# schedule first (at most 40 iterations: it converged in 6-13 on real windows of every rate, 27 on a rate-1/2 word
# near its threshold; 0.08-0.13 s on both cores, and no decoder object to build), then min-sum flooding where the
# rate is at least 0.3 (at most 40 iterations; up to 0.2.4 it came first there: as quick once built, but each word
# size builds an ldpc decoder of up to 100 MiB in 0.2 s), then product-sum
QUICK_MIN_RATE, QUICK_ITERATIONS = 0.3, 40
CHAIN_ITERATIONS = 40
# A sender checking its own stego trusts the chain decoder only where it converged this fast, and else lets flooding
# decide as releases up to 0.2.0 decode: at low rates the chain decodes words flooding cannot (a quiet adaptive-v2
# window at rate 0.02: chain in 12 iterations, flooding not in 100), and those would not reveal with 0.2.0.
# adaptive-v3's sender (since 0.2.18) takes the chain's verdict alone (``flooding=False``) and writes a window it
# fails again with fewer packets: its windows are many, and flooding took 1.2-4.9 s a window to decide
SENDER_CHAIN_ITERATIONS = 10
# The irregular construction's message-bit degrees: (degree, share of the bits), (degree, the rest). At rate 0.225
# on a Gaussian channel 90 % of 2,560-bit words decode at a capacity of 0.286 bit per bit, where the regular
# construction ("rows") needs 0.346 and the normal approximation's best code 0.241 (benchmarks/robust_code.py)
IRREGULAR_DEGREES = ((3, 0.6), (14, 0.4))


@functools.lru_cache(maxsize=16)  # (adaptive-v5 reads a quiet song's windows under two constructions)
def parity_checks(k: int, m: int | None = None, drawn: str = "choice") -> tuple[scipy.sparse.csr_matrix, scipy.sparse.csr_matrix]:
    """(``H1`` ``[m, k]``, ``H`` ``[m, k + m]``) for a message of ``k`` bits and ``m`` parity bits (default ``k``).

    ``drawn`` says how each message bit's checks are drawn: "choice" (one draw per bit, the released models'
    matrices; 0.9 s for 120,000 bits), "rows" (all at once, repeats within a bit drawn again; 30x faster, for
    the file frames, whose matrices are their own) or "irregular" (message bits of the two degrees of
    ``IRREGULAR_DEGREES``, every check seeing as many of them as the edges allow: :func:`irregular_rows`)."""
    m = k if m is None else m
    weight = min(m, max(COLUMN_WEIGHT, round(MESSAGE_BITS_PER_CHECK * m / k)))
    rng = np.random.default_rng(SEED + k if m == k else (SEED + k) * 1_000_003 + m)
    if drawn == "irregular":
        degrees = irregular_degrees(k, m)
        return repeat_accumulate(irregular_rows(m, degrees, rng), degrees, m)
    if drawn == "rows":
        table = rng.integers(0, m, size=(k, weight))
        while True:
            ordered = np.sort(table, axis=1)
            repeated = np.flatnonzero((ordered[:, 1:] == ordered[:, :-1]).any(axis=1))
            if not len(repeated):
                break
            table[repeated] = rng.integers(0, m, size=(len(repeated), weight))
        rows = table.ravel()
    else:
        rows = np.concatenate([rng.choice(m, weight, replace=False) for _ in range(k)])
    return repeat_accumulate(rows, np.full(k, weight), m)


def repeat_accumulate(rows: np.ndarray, degrees: np.ndarray, m: int) -> tuple[scipy.sparse.csr_matrix, scipy.sparse.csr_matrix]:
    """(``H1``, ``H = [H1 | T]``) of a repeat-accumulate code with ``m`` checks whose message bit ``i`` is in
    ``degrees[i]`` checks, the next ones of ``rows`` (bit by bit)."""
    k = len(degrees)
    h1 = scipy.sparse.csr_matrix((np.ones(len(rows), np.uint8), (rows, np.repeat(np.arange(k), degrees))), shape=(m, k))
    accumulate = scipy.sparse.eye(m, dtype=np.uint8, format="csr") + scipy.sparse.eye(m, k=-1, dtype=np.uint8, format="csr")
    return h1, scipy.sparse.hstack([h1, accumulate], format="csr")


def irregular_degrees(k: int, m: int) -> np.ndarray:
    """``[k]``: each message bit's number of checks under ``IRREGULAR_DEGREES`` (the low degree first)."""
    (low, share), (high, _) = IRREGULAR_DEGREES
    lows = round(share * k)
    return np.minimum(np.concatenate([np.full(lows, low), np.full(k - lows, high)]), m)


def irregular_rows(m: int, degrees: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The check (row) of every edge, bit by bit (bit ``i`` has ``degrees[i]`` edges): a shuffled deck holding every
    row equally often, so every check sees as many message bits as the edges allow; an edge that would put a bit in
    one check twice is swapped with a random edge until none is left."""
    deck = np.resize(np.arange(m), int(degrees.sum()))
    rng.shuffle(deck)
    bits = np.repeat(np.arange(len(degrees)), degrees)
    while True:
        order = np.lexsort((deck, bits))  # edges sorted by bit, then row: a repeat sits next to its twin
        twin = (bits[order][1:] == bits[order][:-1]) & (deck[order][1:] == deck[order][:-1])
        repeats = order[1:][twin]
        if not len(repeats):
            return deck
        others = rng.integers(0, len(deck), size=len(repeats))
        deck[repeats], deck[others] = deck[others], deck[repeats].copy()


def encode(message: np.ndarray, length: int | None = None, drawn: str = "choice") -> np.ndarray:
    """``[k]`` bits -> codeword of ``length`` bits (default ``2k``): the message, then the parity."""
    message = np.asarray(message, dtype=np.uint8)
    k = len(message)
    h1, _ = parity_checks(k, (length or 2 * k) - k, drawn)
    syndrome = (h1 @ message.astype(np.int64)) % 2
    parity = np.cumsum(syndrome) % 2  # p_i = s_i xor p_{i-1}
    return np.concatenate([message, parity.astype(np.uint8)])


_KEPT_DECODER_LOCK = threading.Lock()


@functools.lru_cache(maxsize=2)  # (one for a 168,408-bit word at rate 0.1 holds 89 MiB)
def _decoder(k: int, m: int, max_iter: int, drawn: str, method: str):
    from ldpc import BpDecoder

    _, h = parity_checks(k, m, drawn)
    return BpDecoder(h, error_rate=0.1, max_iter=max_iter, bp_method=method, input_vector_type="received_vector")


def decode(llr: np.ndarray, k: int | None = None, max_iter: int = 300, drawn: str = "choice",
           sender: bool = False, flooding: bool = True) -> tuple[np.ndarray, bool]:
    """Soft decoding: ``llr [n]`` (log P(bit 0) / P(bit 1); 0 where nothing was received) of a codeword with a
    ``k``-bit message (default ``n / 2``) -> (message ``[k]``, whether every parity check holds).

    The quickest decoder first, the next where it fails: the chain schedule (``accumulate_decode.py``), min-sum
    flooding where the rate is at least ``QUICK_MIN_RATE``, then ``ldpc``'s flooding product-sum with ``max_iter``
    iterations: every word product-sum decodes still decodes, so files written before keep revealing.
    ``sender``: a sender checking what it wrote; the chain's word counts only within ``SENDER_CHAIN_ITERATIONS``, and
    min-sum is not tried (a word the chain decodes that fast every receiver's decoders decode too; each new word size
    builds an ``ldpc`` decoder of up to 102 MiB): a 10-minute hide peaked at 1.2 GB with it. ``flooding=False``: the
    chain alone (a sender that would rather send less in this word than wait seconds for flooding's verdict)."""
    n = len(llr)
    k = n // 2 if k is None else k
    budget = min(max_iter, SENDER_CHAIN_ITERATIONS if sender else CHAIN_ITERATIONS)
    try:
        from . import accumulate_decode

        message, ok = accumulate_decode.decode(llr, k, parity_checks(k, n - k, drawn)[0], budget,
                                               _columns(k, n - k, drawn))
    except Exception as exc:  # numba missing or its on-disk cache unreadable: flooding alone, the same words
        warnings.warn(f"the compiled decoder failed ({exc}); using ldpc's alone", RuntimeWarning, stacklevel=2)
        message, ok, flooding = None, False, True  # (flooding is all there is)
    if ok or not flooding:
        return message, ok
    if k >= QUICK_MIN_RATE * n and not sender:
        message, ok = flooding_decode(llr, k, min(max_iter, QUICK_ITERATIONS), drawn, "minimum_sum")
        if ok:
            return message, ok
    # (a sender's decoder is not kept: it checks one window each, and one holds up to 89 MiB through the whole hide)
    return flooding_decode(llr, k, max_iter, drawn, keep=not sender)


@functools.lru_cache(maxsize=16)
def _columns(k: int, m: int, drawn: str) -> tuple[np.ndarray, np.ndarray]:
    """``H1``'s edges by column, for the chain decoder (kept beside the matrix)."""
    from .accumulate_decode import by_columns

    return by_columns(parity_checks(k, m, drawn)[0].indices, k)


def flooding_decode(llr: np.ndarray, k: int | None = None, max_iter: int = 300, drawn: str = "choice",
                    method: str = "product_sum", keep: bool = True) -> tuple[np.ndarray, bool]:
    """:func:`decode` by ``ldpc``'s flooding belief propagation alone: "product_sum" (exact) or "minimum_sum" (its
    approximation). ``keep``: the decoder object is cached for the next word of this size."""
    n = len(llr)
    k = n // 2 if k is None else k
    decoder = (_decoder if keep else _decoder.__wrapped__)(k, n - k, max_iter, drawn, method)
    hard = (llr < 0).astype(np.uint8)
    # the decoder takes hard bits and, per bit, the probability that it is flipped: the same soft information
    flip = 1.0 / (1.0 + np.exp(np.minimum(np.abs(llr), 30.0)))
    # (a kept decoder is one object for every thread that decodes a word of its size: its probabilities, its decode
    # and its verdict go together)
    with _KEPT_DECODER_LOCK if keep else contextlib.nullcontext():
        decoder.update_channel_probs(np.clip(flip, 1e-12, 0.5 - 1e-9))
        word = decoder.decode(hard)
        converged = bool(decoder.converge)
    _, h = parity_checks(k, n - k, drawn)
    ok = converged and not ((h @ word.astype(np.int64)) % 2).any()
    return word[:k].astype(np.uint8), ok
