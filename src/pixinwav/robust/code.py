"""A rate-1/2 LDPC code with soft-decision belief-propagation decoding (the ``ldpc`` package).

Repeat-accumulate structure: the parity-check matrix is ``[H1 | T]`` with ``H1`` random of column weight 3 and
``T`` lower bidiagonal, so encoding is a sparse product and a running XOR (systematic: the first ``k`` bits of a
codeword are the message). The matrix is a pure function of ``k`` and a fixed seed: identical at both ends.
"""
from __future__ import annotations

import functools

import numpy as np
import scipy.sparse as sp

COLUMN_WEIGHT = 3
SEED = 20221109


@functools.lru_cache(maxsize=4)
def parity_checks(k: int) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """(``H1`` ``[k, k]``, ``H`` ``[k, 2k]``) for a message of ``k`` bits."""
    rng = np.random.default_rng(SEED + k)
    rows = np.concatenate([rng.choice(k, COLUMN_WEIGHT, replace=False) for _ in range(k)])
    cols = np.repeat(np.arange(k), COLUMN_WEIGHT)
    h1 = sp.csr_matrix((np.ones(len(rows), np.uint8), (rows, cols)), shape=(k, k))
    accumulate = sp.eye(k, dtype=np.uint8, format="csr") + sp.eye(k, k=-1, dtype=np.uint8, format="csr")
    return h1, sp.hstack([h1, accumulate], format="csr")


def encode(message: np.ndarray) -> np.ndarray:
    """``[k]`` bits -> ``[2k]`` codeword (message, then parity)."""
    message = np.asarray(message, dtype=np.uint8)
    h1, _ = parity_checks(len(message))
    syndrome = (h1 @ message.astype(np.int64)) % 2
    parity = np.cumsum(syndrome) % 2  # p_i = s_i xor p_{i-1}
    return np.concatenate([message, parity.astype(np.uint8)])


@functools.lru_cache(maxsize=4)
def _decoder(k: int):
    from ldpc import BpDecoder

    _, h = parity_checks(k)
    return BpDecoder(h, error_rate=0.1, max_iter=300, bp_method="product_sum", input_vector_type="received_vector")


def decode(llr: np.ndarray) -> tuple[np.ndarray, bool]:
    """Soft decoding: ``llr [2k]`` (log P(bit 0) / P(bit 1)) -> (message ``[k]``, whether every parity check holds)."""
    k = len(llr) // 2
    decoder = _decoder(k)
    hard = (llr < 0).astype(np.uint8)
    # the decoder takes hard bits and, per bit, the probability that it is flipped: the same soft information
    flip = 1.0 / (1.0 + np.exp(np.minimum(np.abs(llr), 30.0)))
    decoder.update_channel_probs(np.clip(flip, 1e-12, 0.5 - 1e-9))
    word = decoder.decode(hard)
    _, h = parity_checks(k)
    ok = bool(decoder.converge) and not ((h @ word.astype(np.int64)) % 2).any()
    return word[:k].astype(np.uint8), ok
