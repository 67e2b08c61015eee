"""Belief propagation for the repeat-accumulate codes of ``code.py`` with the accumulator decoded whole each
iteration (the turbo schedule of repeat-accumulate decoders), compiled by numba.

The parity-check matrix is ``[H1 | T]``: check ``i`` says ``s_i ^ p_i ^ p_(i-1) = 0``, where ``s_i`` is the XOR of
the message bits in row ``i`` of ``H1`` and the parity bits ``p`` form a chain. Flooding belief propagation (the
``ldpc`` package's) moves news along that chain one check per iteration; here each iteration runs one
forward-backward pass over the whole chain (exact on a chain), then updates the message bits from what it says
about each ``s_i``. Near the code's threshold that takes far fewer iterations, and each is a plain loop over the
edges, spread over the cores: at the low rates (0.1-0.25) of quiet or dense songs' windows, 0.57-1.26 s per decode
with ``ldpc``'s product-sum, 0.13-0.17 s here (``benchmarks/bench_decoder.py``).

Messages are log-likelihood ratios, log P(0) / P(1), as in ``code.decode``; the check rule is the exact one
(``tanh``), so a word either satisfies every parity check or is reported as failed, exactly as with ``ldpc``. The
decoder's time goes to transcendental functions, so it takes as few as the exact rule allows: the chain runs in
the ``tanh`` domain, where adding two beliefs about one bit is ``(a + b) / (1 + ab)`` (no function at all), and each
message bit's belief toward a check comes from one ``exp`` of its column's total, shared by its edges, and the
likelihood ratio of that check's last message. Release 0.2.8: 1.4-1.8x faster than 0.2.7's kernel (one ``exp`` and
one ``log`` per edge, and both in each link of the chain) with the same iteration counts and messages on every
window of four songs and of a damaged copy (``benchmarks/bench_decoder.py --kernels``); only the last bits of the
rounding differ. Release 0.2.14, again 1.1-1.4x faster, the same way measured: the checks' messages are kept as
likelihood ratios, multiplied eight at a time down a column before one ``log`` (0.2.8: a ``log`` per edge), and the
chain's links carry each belief as a fraction, so no link waits for a division. Release 0.2.21: the parity checks of
an iteration's word are counted in the next iteration's pass over the rows, which reads the same edges (a pass of
their own took about a fifth of an iteration); the same words in the same iterations.
"""
from __future__ import annotations

import contextlib
import functools
import threading
from typing import Callable

import numpy as np
from numba import njit, prange  # (this module is imported only to decode: numba's import is 0.35 s)

CLIP = 30.0  # |LLR| kept below this
BELOW_ONE = 1.0 - 1e-12  # |tanh(L / 2)| kept below this, so that its arctanh is finite
# The channel's LLRs are scaled down: the adaptive windows' soft bits are overconfident (of those at 3-10, 7 % are
# wrong), and on one of 17 windows of a quiet song the full chain pass then ran away from the codeword (unsatisfied
# checks 42,000 -> 67,000) where flooding decoded it; at 0.8 all 17 decode in 6-9 iterations.
CHANNEL_SCALE = 0.8
# A message bit's checks' ratios (each within exp(+-28.3): |tanh| < BELOW_ONE) are multiplied this many at a time
# before one log: a product of 8 stays within 1e+-99, far inside a double's range
RATIOS_PER_LOG = 8
# The chain's fractions are rescaled (by a power of two: exactly) when their denominator leaves 2^+-256; a link
# changes it by a factor between 1e-13 and 2
RESCALE_AT = 2.0**256


@njit(inline="always")
def _half_tanh(x: float) -> float:
    """``tanh(x / 2)``: one ``exp`` of a non-positive number (no overflow), the sign put back."""
    e = np.exp(-abs(x))
    v = (1.0 - e) / (1.0 + e)
    return v if x >= 0 else -v


@njit(inline="always")
def _in_range(num: float, den: float) -> tuple[float, float]:
    """A chain belief's fraction, both parts rescaled by a power of two (exactly) where ``den`` left ``RESCALE_AT``."""
    if den > RESCALE_AT or den < 1.0 / RESCALE_AT:
        scale = 1.0 / RESCALE_AT if den > RESCALE_AT else RESCALE_AT
        return num * scale, den * scale
    return num, den


@njit(inline="always")
def _two_arctanh(y: float) -> float:
    """``2 arctanh(y)`` for ``|y| < 1``."""
    return np.log((1.0 + y) / (1.0 - y))


def _decode(channel: np.ndarray, k: int, indptr: np.ndarray, cols: np.ndarray, colptr: np.ndarray,
            edge_of: np.ndarray, max_iter: int) -> tuple[np.ndarray, bool, int]:
    """``channel [k + m]`` LLRs of a codeword (message, then the chain's parity); ``indptr``, ``cols``: ``H1`` by rows
    (CSR); ``colptr``, ``edge_of``: its edges by column. -> (hard codeword, whether every check holds, iterations
    run). Soft values travel as ``tanh(L / 2)`` where bits are XORed or beliefs about one parity bit combined, as
    LLRs where a message bit's are added up. The rows, the columns and the chain's two directions run in parallel
    (``prange``); each sum is taken in the same order as one thread would, so the result does not depend on the
    number of threads."""
    m = len(channel) - k
    lc = np.minimum(np.maximum(channel * CHANNEL_SCALE, -CLIP), CLIP)
    parity = np.empty(m)  # tanh of each parity bit's channel LLR
    for i in prange(m):
        parity[i] = _half_tanh(lc[k + i])
    top = _half_tanh(CLIP)  # |tanh| of the largest LLR a belief passed on may have
    total_max = CLIP + _two_arctanh(BELOW_ONE)  # a column total beyond this gives every edge a clipped belief
    q = np.ones(len(cols))  # check -> message bit, as a likelihood ratio P(0) / P(1)
    q_by_column = np.ones(len(cols))  # the same in column order (written where made: a column's sum reads it in order)
    at_column = np.empty(len(cols), np.int64)  # each edge's place in column order
    for p in prange(len(cols)):
        at_column[edge_of[p]] = p
    t = np.zeros(len(cols))  # message bit -> check (tanh)
    total = lc[:k].copy()  # message bits' posteriors (LLR)
    ratio = np.empty(k)  # exp(total), clipped
    ts = np.zeros(m)  # what the message bits say about each s_i (tanh)
    fwd = np.zeros(m)  # into p_i from check i: the chain before it (tanh)
    bwd = np.zeros(m)  # into p_i from check i + 1: the chain after it (tanh)
    tf = np.ones(m)  # tanh of p_(i-1)'s LLR from everything before check i (1 for i = 0: p_(-1) = 0 is known)
    tb = np.zeros(m)  # tanh of p_i's LLR from its channel and the chain after check i
    word = np.zeros(k + m, np.uint8)
    for it in range(1, max_iter + 1):
        for j in prange(k):
            ratio[j] = np.exp(min(max(total[j], -total_max), total_max))
        bad = 0  # the checks the last iteration's word leaves unsatisfied, counted on the way (its rows are read here)
        for i in prange(m):
            prod = 1.0
            x = word[k + i] ^ (word[k + i - 1] if i > 0 else 0)
            for e in range(indptr[i], indptr[i + 1]):
                # tanh of half of (total - r[e]): its likelihood ratio is ratio / q[e], and (a/b - 1) / (a/b + 1)
                # = (a - b) / (a + b); clipping the ratio to exp(+-CLIP) is clipping the tanh to +-top
                c = cols[e]
                v = (ratio[c] - q[e]) / (ratio[c] + q[e])
                t[e] = min(max(v, -top), top)
                prod *= t[e]
                x ^= word[c]
            ts[i] = prod
            bad += x
        if it > 1 and bad == 0:
            return word, True, it - 1
        # The chain, forward and backward at once. Each belief travels as a fraction num / den of its tanh, so a link
        # ((a + b) / (1 + ab), then the XOR's product) is multiplications only, and the division into the stored
        # tanh is off the chain's path: the next link need not wait for it (a division a link was a third of an
        # iteration's time on one core). den stays positive (|num| <= den); it is rescaled by a power of two
        # (exact) when it leaves RESCALE_AT (``_in_range``).
        for d in prange(2):
            if d == 0:
                num, den = min(max(ts[0], -BELOW_ONE), BELOW_ONE), 1.0  # (p_(-1) = 0: s_0 alone)
                fwd[0] = num
                for i in range(1, m):
                    p = parity[i - 1]
                    num, den = num + den * p, den + num * p
                    num = min(max(num, -top * den), top * den)
                    tf[i] = num / den
                    num = min(max(ts[i] * num, -BELOW_ONE * den), BELOW_ONE * den)
                    fwd[i] = num / den
                    num, den = _in_range(num, den)
            else:
                bwd[m - 1] = 0.0
                tb[m - 1] = parity[m - 1]
                num, den = parity[m - 1], 1.0
                for i in range(m - 2, -1, -1):
                    num = min(max(ts[i + 1] * num, -BELOW_ONE * den), BELOW_ONE * den)
                    bwd[i] = num / den
                    p = parity[i]
                    num, den = num + den * p, den + num * p
                    num = min(max(num, -top * den), top * den)
                    tb[i] = num / den
                    num, den = _in_range(num, den)
        for i in prange(m):  # checks -> message bits: the chain's word on s_i times the row's other bits
            chain = tf[i] * tb[i]
            start, stop = indptr[i], indptr[i + 1]
            for e in range(start, stop):
                prod = chain
                for f in range(start, stop):
                    if f != e:
                        prod *= t[f]
                y = min(max(prod, -BELOW_ONE), BELOW_ONE)
                q[e] = (1.0 + y) / (1.0 - y)
                q_by_column[at_column[e]] = q[e]
        for j in prange(k):  # each message bit's posterior, its edges in row order; hard decisions
            acc = lc[j]
            prod = 1.0
            run = 0
            for p in range(colptr[j], colptr[j + 1]):  # a log per RATIOS_PER_LOG edges: their ratios multiplied
                prod *= q_by_column[p]
                run += 1
                if run == RATIOS_PER_LOG:
                    acc += np.log(prod)
                    prod, run = 1.0, 0
            acc += np.log(prod)
            total[j] = acc
            word[j] = 1 if acc < 0 else 0
        for i in prange(m):  # the parity bit's sign: its channel, the chain before and after, combined
            v = (fwd[i] + bwd[i]) / (1.0 + fwd[i] * bwd[i])
            word[k + i] = 1 if v + parity[i] < 0 else 0
    bad = 0  # (the last iteration's word)
    for i in prange(m):
        x = word[k + i] ^ (word[k + i - 1] if i > 0 else 0)
        for e in range(indptr[i], indptr[i + 1]):
            x ^= word[cols[e]]
        bad += x
    return word, bad == 0, max_iter


@functools.cache
def _kernel() -> Callable:
    return njit(cache=True, nogil=True, parallel=True)(_decode)  # compiled once per machine (cached on disk)


# numba's fallback threading layer, "workqueue" (where neither TBB nor OpenMP loads, or where a library set
# NUMBA_THREADING_LAYER, as the visqol package does on import), aborts the process when two threads launch parallel
# loops at once: there the parallel kernel is launched from one thread at a time
_WORKQUEUE_LOCK = threading.Lock()


def _launch(*args) -> tuple[np.ndarray, bool, int]:
    """The kernel, launched safely under the threading layer numba chose (the windows are decoded on threads). (A
    second kernel compiled without ``parallel`` would share the first's on-disk cache entry: numba's cache key leaves
    that flag out.)"""
    import numba

    numba.get_num_threads()  # (chooses the threading layer, once per process)
    with _WORKQUEUE_LOCK if numba.threading_layer() == "workqueue" else contextlib.nullcontext():
        return _kernel()(*args)


def by_columns(cols: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(``colptr [k + 1]``, ``edge_of``): the edges of ``H1`` (CSR column indices ``cols``) grouped by column, each
    column's in row order."""
    edge_of = np.argsort(cols, kind="stable").astype(np.int64)
    return np.concatenate([[0], np.cumsum(np.bincount(cols, minlength=k))]).astype(np.int64), edge_of


def decode(llr: np.ndarray, k: int, h1, max_iter: int, columns: tuple[np.ndarray, np.ndarray] | None = None
           ) -> tuple[np.ndarray, bool]:
    """(message ``[k]``, whether every check holds) of a repeat-accumulate codeword whose ``H1`` (CSR) is ``h1``;
    ``columns``: :func:`by_columns` of it, where the caller keeps it."""
    colptr, edge_of = columns if columns is not None else by_columns(h1.indices, k)
    word, ok, _ = _launch(np.asarray(llr, np.float64), k, h1.indptr.astype(np.int64), h1.indices.astype(np.int64),
                          colptr, edge_of, max_iter)
    return word[:k].copy(), bool(ok)
