"""Bytes in a window's modulo codes: as many Gray-coded bits per code as its step allows, an LDPC code over them
and a CRC-32, for files that must come back exact.

An image tile tolerates noise (each code is an analog value); a file does not. A modulo code's place within its
step is read back from a lossless 16-bit file with only the file's rounding as noise (0.29 LSB per orthonormal
DCT coefficient). A code whose step is ``s`` LSB therefore holds ``2^b`` places ``SPACING`` noise deviations apart
for ``b = log2(s / (SPACING * 0.29))``: 1 bit on the smallest steps (4 LSB), ``MAX_BITS`` on the largest (512
LSB). The allocation is a pure function of the steps, so both ends derive it. The change to the audio is what
the image codes make: every coefficient moves by less than half its step, whatever its code.

The bits are a systematic repeat-accumulate codeword of rate about ``RATE`` (``robust/code.py``), interleaved by a
fixed permutation so parity bits are not all on the smallest steps; the receiver turns each place into
log-likelihood ratios (``robust/levels.py``, max-log) with the noise its pilots measured, checks the CRC-32 on the hard
decisions first, and runs belief propagation only when they fail. A frame whose CRC fails is reported as
missing, never returned.
"""
from __future__ import annotations

import functools
import struct
import zlib

import numpy as np

from .robust import code, levels

SPACING = 6.0  # places this many rounding-noise deviations apart: 0.3 % of places land on a neighbour
MAX_BITS = 8
RATE = 0.9  # measured: at 6 deviations, hard decisions alone fail every frame; rate 0.9 corrects them all
ROUNDING_RMS_LSB = 1 / np.sqrt(12)
ALIGN = 8  # payload bytes per frame: a multiple of this (the fountain code's symbols are 8-byte aligned)
SEED = 20261203
DRAWN = "rows"  # the LDPC matrix drawn all at once (robust/code.py): this frame's own, built in 30 ms


def allocation(step_lsb: np.ndarray) -> np.ndarray:
    """Bits per code ``[K]`` for steps in LSB (0 where a step is too small to hold one bit)."""
    bits = np.floor(np.log2(np.maximum(step_lsb, 1e-9) / (SPACING * ROUNDING_RMS_LSB)))
    return np.clip(bits, 0, MAX_BITS).astype(np.int64)


class Frame:
    """The byte frame one window carries, for a layout whose codes have steps ``step_lsb`` (in LSB)."""

    def __init__(self, step_lsb: np.ndarray):
        self.step_lsb = np.asarray(step_lsb, dtype=np.float64)
        self.bits = allocation(self.step_lsb)
        self.coded = int(self.bits.sum())
        self.message = int(RATE * self.coded) // (8 * ALIGN) * 8 * ALIGN  # message bits
        self.payload_bytes = self.message // 8 - 4  # the CRC-32 takes 4 (a multiple of ALIGN less 4: see below)
        self.payload_bytes -= self.payload_bytes % ALIGN
        if self.payload_bytes < ALIGN:
            raise ValueError("the layout's steps are too small to carry bytes")

    @functools.cached_property
    def _order(self) -> np.ndarray:
        return np.random.default_rng(SEED + self.coded).permutation(self.coded)

    @functools.cached_property
    def _groups(self) -> list[tuple[int, np.ndarray, slice]]:
        """(bits, the codes that hold that many, their slice of the interleaved codeword)."""
        out, at = [], 0
        for b in range(1, MAX_BITS + 1):
            where = np.flatnonzero(self.bits == b)
            out.append((b, where, slice(at, at + b * len(where))))
            at += b * len(where)
        return out

    def places(self, payload: bytes) -> np.ndarray:
        """``payload`` (exactly ``payload_bytes``) -> places ``[K]`` in (0, 1) (0.5 where a code holds no bit)."""
        if len(payload) != self.payload_bytes:
            raise ValueError(f"a frame holds {self.payload_bytes} bytes, got {len(payload)}")
        message = payload + struct.pack(">I", zlib.crc32(payload))
        message += bytes(self.message // 8 - len(message))
        word = code.encode(np.unpackbits(np.frombuffer(message, dtype=np.uint8)), self.coded, DRAWN)
        stream = np.empty(self.coded, dtype=np.uint8)
        stream[self._order] = word  # codeword bit j goes to stream position order[j]
        out = np.full(len(self.bits), 0.5)
        for b, where, part in self._groups:
            if len(where):
                out[where] = levels.to_places(stream[part].reshape(len(where), b))
        return out

    def read(self, places: np.ndarray, noise_lsb: float) -> bytes | None:
        """Places ``[K]`` read from a file and the noise per code the pilots measured (LSB) -> the payload, or None
        when the code cannot correct it or its CRC fails."""
        llr = np.empty(self.coded)
        for b, where, part in self._groups:
            if len(where):
                sigma = noise_lsb / self.step_lsb[where]
                llr[part] = levels.soft_bits(np.asarray(places, dtype=np.float64)[where], sigma, b, nearest=True).ravel()
        word_llr = llr[self._order]
        hard = (word_llr[: self.message] < 0).astype(np.uint8)
        payload = self._checked(hard)
        if payload is None:  # the hard decisions fail: let the code correct them
            message, ok = code.decode(word_llr, self.message, max_iter=60, drawn=DRAWN)
            payload = self._checked(message) if ok else None
        return payload

    def _checked(self, bits: np.ndarray) -> bytes | None:
        raw = np.packbits(bits).tobytes()
        payload, (crc,) = raw[: self.payload_bytes], struct.unpack(">I", raw[self.payload_bytes:self.payload_bytes + 4])
        return payload if zlib.crc32(payload) == crc else None
