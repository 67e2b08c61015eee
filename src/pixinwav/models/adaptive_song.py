"""The hard-to-detect model over the whole song: adaptive-v2's cells in as many 1.53 s windows as the payload
needs, carrying a photo at its own size or any file, bit-exact, as fountain-code packets.

Each window is written as ``pixinwav-adaptive-v2`` writes one (``models/adaptive.py``: MDCT cells whose steps
follow the cover's own masking 24 dB under its local level, noise-shaped whole-step rounding, pilots, 4 Gray-coded
bits per cell under one LDPC codeword): ``pixinwav-adaptive-v3``. ``pixinwav-adaptive-v4`` measures each cell's level
from its own frame and the two before it instead (``level_measure``), 22 dB over the change, which a trained CNN
finds far less often for the same room (``model_cards/pixinwav-adaptive-v4.md``). ``pixinwav-adaptive-v5`` writes
a quiet window's codeword (rate under ``IRREGULAR_BELOW``) under the irregular construction of ``robust/code.py``
and fills it by that code's thresholds (``IRREGULAR_FILL``): the same cells and change, more bytes in a quiet song,
and a loud window written as v4 writes it; its receiver reads v4's windows too. What
the codeword carries is new: a short head (format version, payload kind, the framed payload's length, how many
packets follow) and as many RaptorQ packets (``hidden_file.py``, RFC 6330) as this window's measured capacity
holds, under a CRC-32. The payload is a photo as one whole AVIF frame at its own aspect ratio
(``robust/layers.py``, the robust song model's frame) or a file with its name (``HiddenFile``). Any enough packets
from any windows rebuild it; the sender adds a tenth of spare packets, so a window lost to a cut costs nothing.

Windows sit on a grid from the file's first sample; the sender measures every loud window's capacity (what its
cells carry at the noise the receiver will expect in them; where the file nears full scale, by writing a probe
codeword and reading it back exactly as the receiver will), then writes the windows that carry most first. Each
window's pilots and codes are offset by a dither keyed by the window's place on the grid, so no two windows share
an offset: with one offset for all, the pilots would sit at the same place in every window and a key-less
comparison of windows would show them.

No mark is added to find the windows (a parity mark raises an empty band's floor, which is what the detectors
see). The receiver reads the grid from the first sample; where that finds nothing (a trimmed start, audio pasted
before), it searches a loud stretch for the window start and the window's place on the grid at once: the MDCT at
every sample offset of one hop and the pilots' agreement with each window's dither, one matrix product
(:meth:`AdaptiveSongStego.search`).
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import itertools
import math
import os
import struct
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Callable, Iterator

import numpy as np
from tqdm import tqdm

from ..arrays import Array, as_numpy
from .. import hidden_file
from ..channel import pcm16_round_trip
from ..config import ModelConfig
from ..errors import PixinwavError
from ..robust import code, layers, mdct, payload
from ..progress import PROGRESS_AFTER_S, progress
from ..threads import in_order, one_numba_thread
from .adaptive import (ANALOG_RUNG, CODE_FILL, FILL_PER_CAPACITY, MAX_RATE, NO_FILE_AGREEMENT, RECEIVER_ITERATIONS,
                       SENDER_ITERATIONS, AdaptiveStego, CellLayout, read_back_capacity, rung_of)
from .base import EXACT, Extracted, Hidden, Sent, StegoScheme
from .dither import PILOT_CODE, keyed_dither

SYMBOL = 512  # bytes per fountain-code packet: a window carries 4-28 of them
HEAD = struct.Struct(">BBIB")  # format version, payload kind, the framed payload's bytes, packets in this window
VERSION = 1
KINDS = {1: "photo", 2: "file"}
KIND_IDS = {name: i for i, name in KINDS.items()}
MAX_PACKETS = ANALOG_RUNG - 1  # the packet count goes where adaptive-v2 sends its size rung (6 bits, 63 = analog)
# windows probed at once, on threads (numpy, scipy's FFTs and the compiled rounding loop let go of the GIL)
PROBE_THREADS = max(1, min(4, os.cpu_count() or 1))
# windows written and checked at once, each on a thread with its decoder on one core (0.2.12: one window's check
# decoding while the next was written, on two threads)
SEND_THREADS = PROBE_THREADS
# windows a reveal reads at once, each on a thread with its decoder on one core: two windows' soft bits (NumPy, one
# core each) and decoders side by side instead of one window's decoder on both cores
READ_THREADS = PROBE_THREADS
MIN_RMS_DB = -50.0  # a window quieter than this (dBFS) is not probed: it carries nothing at -24 dB under its level
# (windows near full scale are used: the rounding keeps every channel in range, so a loud master loses nothing)
SPARE_SHARE = 0.1  # spare packets: a tenth of the source packets, and at least two windows' worth
SPARE_WINDOWS = 2
# A window that carries fewer packets is not used (its code's rate would be under 1/20). Windows of 2-3 packets
# (rates 0.05-0.075) are used only once every fuller window is: they cost as much to decode as any window (about 0.2 s
# by the chain decoder; flooding took 5-9 s there, so up to 0.2 they were never used) for a third of the packets,
# and a song with room writes exactly what it wrote before. They carry a quiet song's rest: WarMUX's Apnee2 went
# from 14.8 to 67 kB.
MIN_WINDOW_PACKETS, FULL_WINDOW_PACKETS = 2, 4
FULL_SCALE, CLIPPED = 32700 / 32768, 16  # windows with this many samples at full scale are left alone
# A window's capacity is estimated from its steps and expected noise (``AdaptiveStego.estimate_capacity``, an eighth
# of a probe's time) unless the file reaches this share of full scale in it: there the rounding bends the change, and a
# probe writes one to see (0.2.19 probed every window). The estimate is taken at ESTIMATE_SHARE, tuned on 71 loud
# windows of 12 training songs (``benchmarks/capacity_estimate.py --split train``): the windows carried 1,267 packets
# through the sender's check (:meth:`AdaptiveSongStego.write_window`), 4 of them written again with fewer, as with the
# probe's counts (1,281, 4); x 1.0: 1,290 packets, 11 windows written twice; x 0.97: 1,254, 2.
ESTIMATE_BELOW_PEAK, ESTIMATE_SHARE = 0.95, 0.98
# The sender's fixed point (``AdaptiveStego._embed_one``) rarely settles on every cell: after its first round a few
# cells of 43,160 (4-60 on validation songs) keep flipping between two steps. On the 12 loudest windows of four songs,
# rounds 4-6 (adaptive-v2 runs 6) changed the mean capacity by 0.2 % or nothing and the packets not at all, and cost
# 9 ms each (``benchmarks/results/window_stages_rounds_0.2.20.md``).
FIXED_POINT_ROUNDS = 3
# adaptive-v5 (``low_rate_code: irregular``): a codeword whose rate is under IRREGULAR_BELOW is of the irregular
# construction (``robust/code.py``), and a window is filled by IRREGULAR_FILL where that gives more than adaptive-v2's
# rule. The fill is, less 0.03 (the estimate's error), the 10th percentile of the largest message the irregular code
# decodes as a share of a window's capacity on 134 windows of 16 training songs at 0.15-0.6 bit per coded bit (probed
# as the sender probes them, decoded by its own check: ``benchmarks/window_codes.py --split train --band 0.15 0.45``,
# ``benchmarks/results/window_codes_band_train_0.2.24.md``): 0.65 at 0.20-0.25, 0.67 at 0.25-0.30, 0.69 at 0.30-0.35,
# 0.70 at 0.35-0.40, 0.72 at 0.40-0.60; at 0.15-0.20 it is 0 (half the windows decode no two packets), and there the
# fill stays v4's. A window that still fails the sender's check is written again with fewer packets.
IRREGULAR_BELOW = 0.3
IRREGULAR_FILL = ((0.20, 0.62), (0.25, 0.64), (0.30, 0.66), (0.35, 0.67), (0.40, 0.69))
RETRY_SHARE = 0.7  # a window whose packets the sender's own decoder does not get back twice is tried with this share
QUALITY = 80  # the photo's AVIF quality when the song has room (lower when it has not)
DEFAULT_MAX_SIDE = 2048
MIN_PHOTO_BYTES = 2_000
# The search for the grid (a trimmed start, audio pasted before): the pilots of the loudest bins it reads, and the
# sample offsets each stretch's search analyses at once (8 x 2 windows of frames: 27 MB; 0.2.15's 64 took 205 MB, and
# two stretches are searched at once now)
# A window is found where its pilots agree FOUND_Z standard errors over chance (an intact window: about 35); the
# search's best of some 10 million hypotheses must reach SEARCH_Z first (chance alone: about 6; intact: about 19).
# (A mean agreement over 0.2 let a quiet stretch of pasted audio, where few pilots count, pass at 0.35.)
FOUND_Z, SEARCH_Z = 10.0, 9.0
GRID_CHECKS = 48  # loud windows read on the grid from the first sample before a search (15 ms each)
SEARCH_PILOTS = 256
SEARCH_CHUNK = 8
# stretches searched at once, on threads (NumPy's loops and SciPy's FFTs let go of the GIL)
SEARCH_THREADS = max(1, min(2, os.cpu_count() or 1))
SEARCH_STRETCHES = 6  # 5 s of louder audio pasted before the song can take the first four
TIME_FREQ_MARGIN = 5
COUNT_BLOCKS = 4096  # hops of samples counted at a time for full scale
# `reveal` without --model looks for the grid from the first sample and searches the loudest stretch to recognise a
# file, then again to read it: the latest answers are kept, by file and model (a trimmed adaptive-v3 file is searched
# by adaptive-v4 in identify, then by v3 in the reveal; an answer is two numbers)
SEARCHES_KEPT = 4
_SEARCHED: dict[tuple, dict] = {}
_SEARCHED_LOCK = threading.Lock()
FIRST_SAMPLE = "first sample"  # (the other answers are by stretch, an int)
EXPECTED = "expected"  # (and the pilots' phases the search compares with, by grid index)
FOUND_ELSEWHERE = "found elsewhere"  # (and a window another model's search found: :meth:`AdaptiveSongStego.window_found`)
UNREAD = ("unread", 0, [])  # a window's code the chain decoder did not read (flooding not asked for yet)


def message_bits(packets: int) -> int:
    return 8 * (HEAD.size + packets * (hidden_file.PACKET_ID + SYMBOL) + 4)


class AdaptiveSongStego(StegoScheme):
    """Whole-file: takes the photo at its own size (``full_image``) or a file, and a mono cover of any length at the
    model's rate, as the 16-bit file holds it (``writes_model_rate``: the change is whole 16-bit steps in the exact
    samples)."""

    takes_key = True
    has_presence = True
    carries_files = True
    whole_file = True
    full_image = True
    max_side = DEFAULT_MAX_SIDE
    writes_model_rate = True
    hide_options = ("max_side", "quality")

    measures_statistics = True  # the window model's: the training music's level per bin ranks the cells

    def __init__(self, cfg: ModelConfig):
        super().__init__(cfg)
        self.window = AdaptiveStego(cfg)
        self.hop = self.window.hop

    def fit_statistics(self, images: Array, covers: Array) -> None:
        self.window.fit_statistics(images, covers)

    @property
    def top_frequency(self) -> float:
        return self.window.top_frequency

    def carries(self) -> dict:
        seconds = self.cfg.clip_samples / self.cfg.sample_rate
        return {"image": f"the photo at its own size and aspect ratio (long side up to {self.max_side}) as an AVIF file, "
                         f"or any file, in RaptorQ packets of {SYMBOL} bytes, as many per {seconds:.2f} s window as the "
                         "window's cells carry",
                "cells": len(self.window.layout().cells), "bits_per_cell": self.cfg.adaptive.bits_per_cell,
                "packet_bytes": SYMBOL}

    def song_capacity(self, mono: np.ndarray, photo: tuple[int, int] | None, file_bytes: int | None,
                      channels: np.ndarray | None = None) -> dict:
        """Every loud window measured as ``hide`` measures it (:meth:`capacities`)."""
        plan = list(self.capacities(np.asarray(mono), None, channels))
        window_s = self.cfg.clip_samples / self.cfg.sample_rate
        frame = self.frame_capacity(plan)
        most = max(0, frame - hidden_file.HiddenFile.frame_size(0))
        slots = sum(m for _, m in plan)
        report = {"seconds": len(mono) / self.cfg.sample_rate, "windows": len(plan), "packets": slots,
                  "file_bytes": most, "photo_bytes": max(0, frame - layers.OVERHEAD)}
        lines = [f"{len(plan)} windows of {window_s:.2f} s are loud enough to carry packets ({len(plan) * window_s:.1f} s "
                 f"of music), {slots} packets of {SYMBOL} bytes in all: a file of up to {most:,} bytes ({most / 1e6:.2f} "
                 f"MB), exactly, or a photo whose AVIF takes up to {report['photo_bytes']:,} bytes"]
        if photo is not None:
            lines.append(f"the photo ({photo[0]} x {photo[1]}) goes at its own size (long side up to {self.max_side}) at "
                         f"AVIF quality {QUALITY} when that fits, smaller when not; hide says what it sent")
        if file_bytes is not None:
            framed = hidden_file.HiddenFile.frame_size(file_bytes, "x" * 64)  # a name of up to 64 bytes
            need = next((i + 1 for i in range(len(plan)) if self.enough(plan[:i + 1], framed)), None)
            report["file"] = {"bytes": file_bytes, "windows": need, "seconds": need * window_s if need else None,
                              "fits": need is not None}
            lines.append(f"the file ({file_bytes:,} bytes) " + (f"needs {need} windows, {need * window_s:.1f} s of loud "
                                                                  "music: it fits" if need else
                                                                  "does not fit: this song is too short or too quiet"))
        report["lines"] = lines
        return report

    # --- layout -------------------------------------------------------------------------------------------------
    def window_layout(self, key: str | None, index: int) -> CellLayout:
        """The window model's cells with a dither keyed by the window's place on the grid."""
        base = self.window.layout(key)
        return base._replace(dither=self._dither(key, index))

    @functools.lru_cache(maxsize=4)  # 2 ms to derive, 374 kB to keep: a long song's windows would hold 150 MB
    def _dither(self, key: str | None, index: int) -> np.ndarray:
        return keyed_dither(f"{key or ''}\x00window {index}", len(self.window.layout(key).cells))

    def window_starts(self, samples: int) -> np.ndarray:
        return np.arange(0, samples - self.cfg.clip_samples + 1, self.cfg.clip_samples)

    def bounds(self, channels: np.ndarray | None, start: int) -> tuple[np.ndarray, np.ndarray] | None:
        """The lowest and highest change (LSB) each sample of the window at ``start`` allows so that no channel of
        the 16-bit file clips (``channels [T, C]``: the cover as the file holds it; None: the mono cover's own)."""
        if channels is None:
            return None
        span = (self.window.frames + 1) * self.hop
        ch = pcm16_round_trip(channels[start:start + span]).astype(np.float64).reshape(span, -1) * 32768
        return (-32768 - ch).max(axis=1), (32767 - ch).min(axis=1)

    @staticmethod
    def clipped(audio: np.ndarray, start: int, stop: int) -> bool:
        """Whether ``audio [T]`` or ``[T, C]`` reaches full scale in ``CLIPPED`` samples or more of ``start:stop``: a
        clipped master, whose flat tops leave the change one direction only (a loud validation master lost nearly
        every such window to the sender's own check)."""
        return int(np.count_nonzero(np.abs(audio[start:stop]) >= FULL_SCALE)) >= CLIPPED

    def loud(self, mono: np.ndarray, floor_db: float = MIN_RMS_DB) -> np.ndarray:
        """Grid indices of the windows worth probing (at least ``floor_db``), loudest first."""
        starts = self.window_starts(len(mono))
        if not len(starts):
            return starts
        frames = mono[: starts[-1] + self.cfg.clip_samples].reshape(len(starts), -1)
        rms = np.sqrt(np.einsum("ij,ij->i", frames, frames, dtype=np.float64) / frames.shape[1])
        order = np.argsort(-rms, kind="stable")
        return order[20 * np.log10(np.maximum(rms[order], 1e-12)) >= floor_db]

    # --- one window ---------------------------------------------------------------------------------------------
    def _slots(self, layout: CellLayout, key: str | None) -> int:
        return len(self.window.file_slots(layout, key)[2])

    @property
    def irregular(self) -> bool:
        return self.cfg.adaptive.low_rate_code == "irregular"

    def codes(self, k: int, n: int) -> tuple[str, ...]:
        """The constructions (``robust/code.py``) a codeword of ``k`` message bits in ``n`` is read with, the one the
        sender writes first: adaptive-v5 writes the irregular one under ``IRREGULAR_BELOW`` and reads adaptive-v4's
        regular windows there too."""
        return ("irregular", "rows") if self.irregular and k < IRREGULAR_BELOW * n else ("rows",)

    def packets_for(self, capacity: float, n: int) -> int:
        """Packets a window of ``capacity`` bits (``n`` coded bits) is given: adaptive-v2's fill rule, and
        adaptive-v5's ``IRREGULAR_FILL`` where that gives more."""
        if capacity <= 0:  # (a probe the rounding bent past reading: its sum is negative, and so would the fill be)
            return 0
        fill = min(CODE_FILL, FILL_PER_CAPACITY * capacity / n)
        if self.irregular and capacity >= IRREGULAR_FILL[0][0] * n:
            fill = max(fill, float(np.interp(capacity / n, *zip(*IRREGULAR_FILL))))
        m = 0
        while m < MAX_PACKETS and message_bits(m + 1) <= min(fill * capacity, MAX_RATE * n):
            m += 1
        return m if m >= MIN_WINDOW_PACKETS else 0

    def write_window(self, cover: np.ndarray, layout: CellLayout, key: str | None, kind: str, length: int,
                     packets: list[bytes], bounds: tuple[np.ndarray, np.ndarray] | None = None
                     ) -> tuple[np.ndarray | None, int]:
        """(the window carrying the first of ``packets``, how many): the sender reads its own stego exactly as the
        receiver will and keeps it only when its decoder gets the packets back. Else it writes it again with fewer:
        first as many as that stego's own soft bits show it carries (the written codeword is a probe of the window;
        one packet fewer at least), then ``RETRY_SHARE`` of those; then it gives the window up (None, 0). Without the
        check, 4 of the 13 windows of a quiet 20 s validation clip failed at the receiver, and 7 of 26 of a loud master
        whose channels clipped the change. A pure function of the window: safe on any thread."""
        count = len(packets)
        for tries in range(1, 4):
            stego, soft, word = self.embed_packets(cover, layout, key, kind, length, packets[:count], bounds)
            read = self.read_window(stego, layout, key, SENDER_ITERATIONS, sender=True, soft=soft)
            if read is not None and read[2] == packets[:count]:
                return stego, count
            if tries == 1 and soft is not None:
                count = min(count - 1, self.packets_for(read_back_capacity(word, soft[1]), len(word)))
            else:
                count = int(count * RETRY_SHARE)
            if count < MIN_WINDOW_PACKETS:
                break
        return None, 0

    def embed_packets(self, cover: np.ndarray, layout: CellLayout, key: str | None, kind: str, length: int,
                      packets: list[bytes], bounds: tuple[np.ndarray, np.ndarray] | None = None
                      ) -> tuple[np.ndarray, tuple[int, np.ndarray] | None, np.ndarray]:
        """(the window with ``packets`` written, its soft bits as the receiver reads them, the codeword written): the
        part of a window's writing before its check's decoder, a pure function of the window (safe on another
        thread)."""
        message = payload.bytes_to_bits(payload.with_crc(
            HEAD.pack(VERSION, KIND_IDS[kind], length, len(packets)) + b"".join(packets)))
        n = self._slots(layout, key)
        word = code.encode(message, n, self.codes(len(message), n)[0])
        places = self.window.file_places(word, len(packets), layout, key)
        stego = self.window._embed_one(lambda step: places, cover, layout, bounds, FIXED_POINT_ROUNDS)[0]
        return stego, self.window_soft_bits(stego, layout, key), word

    def read_window(self, wave: np.ndarray, layout: CellLayout, key: str | None, iterations: int = RECEIVER_ITERATIONS,
                    sender: bool = False, soft: tuple[int, np.ndarray] | None | bool = False, flooding: bool = True,
                    read_first: dict | None = None) -> tuple[str, int, list[bytes]] | None:
        """(kind, framed length, packets) from one window's samples, or None (no payload, or it fails its code).
        ``sender``: the sender's check of its own stego (:func:`code.decode`); ``soft``: :meth:`window_soft_bits` of
        ``wave`` where the caller has it (False: not yet taken). ``flooding=False``: the chain decoder alone, and
        ``UNREAD`` where the window carries packets by its pilots and head but the chain does not read its code.
        ``read_first``: one reveal's record of the construction that last read a quiet window, tried first (a file is
        all v4's or all v5's: a quiet 10-minute v4 file took v5 twice v4's time, trying the irregular code first in
        every window)."""
        soft = self.window_soft_bits(wave, layout, key) if soft is False else soft
        if soft is None:
            return None
        count, llr = soft
        # (the sender's check takes the chain decoder's word only: a window it does not read within
        # SENDER_CHAIN_ITERATIONS is written again with fewer packets, 0.3 s, where flooding took 1.2-4.9 s to decide)
        k = message_bits(count)
        order = self.codes(k, len(llr))[:1 if sender else None]
        if read_first and read_first["quiet"] in order:
            order = sorted(order, key=lambda drawn: drawn != read_first["quiet"])
        for drawn in order:
            bits, ok = code.decode(llr, k, iterations, drawn, sender, flooding=flooding and not sender)
            if ok:
                if read_first is not None and len(order) > 1:
                    read_first["quiet"] = drawn  # (threads share it: any order reads the same windows)
                break
        if not ok and not flooding and not sender:
            return UNREAD
        raw = payload.bits_to_bytes(bits) if ok else b""
        data = payload.checked(raw, len(raw) - 4) if len(raw) > 4 else None
        if data is None:
            return None
        version, kind, length, packets = HEAD.unpack(data[:HEAD.size])
        if version != VERSION or kind not in KINDS:
            raise PixinwavError(f"the hidden payload is of format version {version}, which this release of pixinwav "
                                "cannot read: it was written by a newer version")
        size = hidden_file.PACKET_ID + SYMBOL
        body = data[HEAD.size:]
        return KINDS[kind], length, [body[i * size:(i + 1) * size] for i in range(packets)]

    def window_soft_bits(self, wave: np.ndarray, layout: CellLayout, key: str | None) -> tuple[int, np.ndarray] | None:
        """(packets the window says it carries, its codeword's soft bits), or None where its pilots or head say it
        carries nothing."""
        win = self.window
        header_llr, llr, agreement, _ = win.soft_file(mdct.analyse(wave, self.hop, win.frames), layout, key)
        count = rung_of(header_llr)
        if agreement < NO_FILE_AGREEMENT or not 1 <= count <= MAX_PACKETS or message_bits(count) > MAX_RATE * len(llr):
            return None
        return count, llr

    # --- hiding -------------------------------------------------------------------------------------------------
    def capacities(self, mono: np.ndarray, key: str | None, channels: np.ndarray | None = None):
        """(grid index, packets it carries) of the loud windows, loudest first, measured as asked
        (:meth:`window_packets`): ``PROBE_THREADS`` windows at a time (each a pure function of its window: the same
        answers in the same order as one by one, at most that many measured past the last one asked for)."""
        n = self._slots(self.window.layout(key), key)
        loud = self.loud(mono).tolist()
        # the windows through the middle of the loudest stretches first: where the receiver of a trimmed file searches
        L = self.cfg.clip_samples
        first = [i for i in ((s + L // 2) // L for s in self.stretches(mono, channels)) if i in set(loud)]
        order = [int(i) for i in dict.fromkeys([*first, *loud])
                 if not self.clipped(mono if channels is None else channels, int(i) * L, int(i) * L + L)]

        sparse = []  # windows of fewer than FULL_WINDOW_PACKETS: after all the others
        # (each layout is derived in this thread, as its probe is submitted: the window model keeps the key's layout
        # in a cache; a quiet song probes every window before its photo is sized: seconds with nothing else to show)
        probes = (functools.partial(self.window_packets, mono, index, self.window_layout(key, index), key, channels, n)
                  for index in order)
        with progress(len(order), "measuring the song's room", unit="window") as bar, \
                ThreadPoolExecutor(PROBE_THREADS) as pool, \
                contextlib.closing(in_order(pool, probes, PROBE_THREADS)) as answers:
            for index, m in zip(order, answers):
                bar.update()
                if m >= FULL_WINDOW_PACKETS:
                    yield index, m
                elif m:
                    sparse.append((index, m))
        yield from sparse

    def window_packets(self, mono: np.ndarray, index: int, layout: CellLayout, key: str | None,
                       channels: np.ndarray | None, n: int) -> int:
        """The packets the window at grid ``index`` is given (``n``: its codeword's bits): its capacity estimated, or
        probed where the file nears full scale in it (``ESTIMATE_BELOW_PEAK``). A pure function of the window."""
        L = self.cfg.clip_samples
        s = index * L
        cover = mono[s:s + L].astype(np.float64)
        if np.abs((mono if channels is None else channels)[s:s + L]).max() < ESTIMATE_BELOW_PEAK:
            return self.packets_for(ESTIMATE_SHARE * self.window.estimate_capacity(cover, layout, key), n)
        probed = self.window.probe_capacity(cover, layout, key, self.bounds(channels, s), FIXED_POINT_ROUNDS)[0]
        return self.packets_for(probed, n)

    def embed(self, image: Array, cover: Array, key: str | None = None, max_side: int | None = None,
              quality: int | None = None, channels: np.ndarray | None = None) -> Hidden:
        """``image [1, C, H, W]`` at its own size -> the song with the photo as one AVIF frame at ``quality``
        (default ``QUALITY``) and at most ``max_side``, smaller where the song does not carry that."""
        self.check_cover(cover)
        if max_side is not None and max_side < 1:
            raise PixinwavError(f"--max-side must be a positive number of pixels, got {max_side}")
        if quality is not None and not 0 <= quality <= 100:
            raise PixinwavError(f"--quality must lie in 0-100, got {quality}")
        mono = as_numpy(cover)[0]  # (float32 from the API: windows go float64 one at a time)
        photo = as_numpy(image)[0].astype(np.float32, copy=False)
        side, top = max_side or self.max_side, QUALITY if quality is None else quality
        # A large photo is first encoded roughly (libavif's fastest encoder, a seventh of the time), and the song's
        # windows measured until they carry that: only where they do is it encoded for real at ``top`` (0.2.19 did
        # that first; WarMUX's Apnee2, which carries its 1.7 MP photo only at a lower quality, spent 2.2 s on it)
        rough = layers.rough(photo, hidden_file.MAX_BYTES, side, top)
        layer = None if rough else layers.encode(photo, "sharp", hidden_file.MAX_BYTES, side, top=top)
        windows = self.capacities(mono, key, channels)
        plan = self.plan(windows, len((rough or layer).frame()))
        if rough is not None and self.enough(plan, len(rough.frame())):
            layer = layers.encode(photo, "sharp", hidden_file.MAX_BYTES, side, top=top)
            # planned again over the same windows in the same order (usually fewer: the real frame is smaller); those
            # it leaves go back in front of the rest
            windows = itertools.chain(plan, windows)
            plan = self.plan(windows, len(layer.frame()))
        if layer is None or not self.enough(plan, len(layer.frame())):  # the song is too little: as much as it carries
            budget = self.frame_capacity(plan)
            if budget < MIN_PHOTO_BYTES:
                raise PixinwavError(f"this song's loud windows carry {max(budget, 0):,} bytes; a photo needs "
                                    f"{MIN_PHOTO_BYTES:,} or more: use a longer or louder song, or --model "
                                    "pixinwav-modulo-v1 (a 256 x 256 crop in 1.5 s of music)")
            with progress(None, "fitting the photo to the song", unit="encoding") as bar:
                layer = layers.encode(photo, "sharp", budget, side, top=top, tried=bar.update, before=layer,
                                      top_bytes=None if layer else layers.rough_bytes(rough))
        change, sent = self._send(mono, key, plan, windows, "photo", layer.frame(), channels)
        sent = replace(sent, bytes=len(layer.data), width=layer.width, height=layer.height, channels=photo.shape[0],
                       original=(photo.shape[2], photo.shape[1]), quality=layer.quality, codec=layer.codec,
                       compressed=layer.image(), photo=photo)
        return Hidden(cover, None, None, change=change, sent=sent)

    def embed_file(self, file: hidden_file.HiddenFile, cover: Array, key: str | None = None,
                   channels: np.ndarray | None = None) -> Hidden:
        """A file, bit-exact. Refuses a file larger than the song carries, saying how much it does."""
        self.check_cover(cover)
        mono = as_numpy(cover)[0]
        frame = file.frame()
        windows = self.capacities(mono, key, channels)
        plan = self.plan(windows, len(frame))
        slots = sum(m for _, m in plan)
        if not self.enough(plan, len(frame)):
            raise PixinwavError(f"{file.size_said()}; this song carries at most "
                                f"{max(0, self.frame_capacity(plan) - hidden_file.HiddenFile.frame_size(0, file.name)):,} "
                                f"({len(plan)} windows loud enough, {slots} packets of {SYMBOL} bytes with a tenth or "
                                f"two windows' worth spare): use a longer or louder song, or a smaller file")
        change, sent = self._send(mono, key, plan, windows, "file", frame, channels)
        return Hidden(cover, None, None, change=change, sent=replace(sent, bytes=len(file.data), name=file.name,
                                                                packing=file.packing_said() or None))

    @staticmethod
    def packets_needed(frame_bytes: int, window_packets: int = 0) -> int:
        """Source packets of a frame and the spares sent with them: a tenth, and at least the packets of
        ``SPARE_WINDOWS`` windows of ``window_packets``."""
        source = hidden_file.source_count(frame_bytes, SYMBOL)
        return source + max(hidden_file.MIN_SPARE, math.ceil(source * SPARE_SHARE), SPARE_WINDOWS * window_packets)

    @staticmethod
    def frame_capacity(plan: list[tuple[int, int]]) -> int:
        """The largest frame (bytes) the planned windows carry with its spares."""
        slots, largest = sum(m for _, m in plan), max((m for _, m in plan), default=0)
        source = min(int(slots / (1 + SPARE_SHARE)), slots - hidden_file.MIN_SPARE, slots - SPARE_WINDOWS * largest)
        return max(0, source) * SYMBOL

    def plan(self, windows: Iterator[tuple[int, int]], frame_bytes: int) -> list[tuple[int, int]]:
        """The next ``windows`` (:meth:`capacities`) until they carry a frame of ``frame_bytes`` and its spares (all
        of them when they do not)."""
        plan: list[tuple[int, int]] = []
        for index, m in windows:
            plan.append((index, m))
            if self.enough(plan, frame_bytes):
                break
        return plan

    def enough(self, plan: list[tuple[int, int]], frame_bytes: int) -> bool:
        return sum(m for _, m in plan) >= self.packets_needed(frame_bytes, max((m for _, m in plan), default=0))

    def _send(self, mono: np.ndarray, key: str | None, plan: list[tuple[int, int]], more: Iterator[tuple[int, int]],
              kind: str, frame: bytes, channels: np.ndarray | None = None) -> tuple[np.ndarray, Sent]:
        """(the change ``[T]`` float32, what was sent): write ``frame``'s packets into the planned windows, source
        packets first, then repair packets; where a window fails (:meth:`write_window`), it is left as the cover was
        and the next loud windows (``more``: the rest of :meth:`capacities`) make up for it."""
        source, need = hidden_file.source_count(len(frame), SYMBOL), sum(m for _, m in plan)
        packets = hidden_file.packets(frame, SYMBOL, need - source + 4 * MAX_PACKETS)
        change, at, sent, used, failed = np.zeros(len(mono), np.float32), 0, 0, [], 0
        bar = progress(need, "hiding")
        L = self.cfg.clip_samples

        def window(index: int, layout: CellLayout, packets_at: int, m: int):  # on a worker: written and checked
            s = index * L
            with one_numba_thread():
                return self.write_window(mono[s:s + L].astype(np.float64), layout, key, kind, len(frame),
                                         packets[packets_at:packets_at + m], self.bounds(channels, s))

        # Each window is written and checked on its own thread, its decoder on one core, ``SEND_THREADS`` at a time
        # (each window's packets are fixed by its place in the plan, whatever the others' checks say, so the answers
        # are the same as one by one), and taken in order. Windows that make up for failed ones come after the plan.
        planned, jobs = iter(plan), deque()
        with ThreadPoolExecutor(SEND_THREADS) as pool:
            def start(index: int, m: int) -> None:
                nonlocal at
                # (the layout is derived here, in one thread: the window model keeps the key's layout in a cache)
                jobs.append((index, pool.submit(window, index, self.window_layout(key, index), at, m)))
                at += m  # packets a window could not carry are not sent: the repair packets after them stand in

            for index, m in itertools.islice(planned, SEND_THREADS):
                start(index, m)
            while jobs:
                index, job = jobs.popleft()
                out, carried = job.result()
                following = next(planned, None)
                if following is not None:
                    start(*following)
                if out is None:
                    failed += 1
                else:
                    s = index * L
                    change[s:s + L] = out.astype(np.float32) - mono[s:s + L]
                    sent += carried
                    bar.update(min(carried, bar.total - bar.n))
                    used.append(index)
                if not jobs and sent < need:
                    extra = next(more, None)
                    if extra is not None and at + extra[1] <= len(packets):
                        start(*extra)
        bar.close()
        if sent < source:
            raise PixinwavError(f"only {sent} of the {source} packets the payload needs could be written in this song's "
                                "loud windows (near full scale, the change clips): use a quieter master of the song, or "
                                "a smaller payload")
        seconds, loud = self.cfg.clip_samples / self.cfg.sample_rate, len(self.loud(mono))
        places = f"{len(used)} of {loud} windows loud enough used" + (
            f"; {failed} left as they were, where the sender could not read its packets back (a clipped master, or a window "
            "at its limit)" if failed else "")
        return change, Sent(kind, 0, len(used) * seconds, places, sorted(i * seconds for i in used), len(used), loud,
                            packets=sent, needed=source)

    # --- revealing ----------------------------------------------------------------------------------------------
    def extract(self, wave: Array, key: str | None = None, channels: np.ndarray | None = None) -> Extracted:
        """``channels``: the file's channels ``[T, C]`` (at the model's rate), which tell where the sender left a
        clipped master alone."""
        if len(wave) != 1:
            raise PixinwavError("the song model reveals one file at a time")
        mono = as_numpy(wave)[0].astype(np.float64)
        blank = np.full((1, self.cfg.image_channels, self.cfg.image_size, self.cfg.image_size), 0.5, np.float32)
        none, found, lost = np.zeros(1, np.float32), np.ones(1, np.float32), np.ones(1, bool)
        start, first = self.find_grid(mono, key, channels)
        if start is None:
            return Extracted(blank, none, "no hidden image found (no window of this model's pilots: plain "
                                                    "audio, another --key, or a file changed after hiding)")
        windows = self._windows(mono, start, first, key)
        head = next(windows, None)  # the first window that decodes says what the payload is and how long
        if head is None:
            return Extracted(blank, none, "no hidden image found (the pilots agree but no window's code "
                                          "decodes: a file changed after hiding, another --key, or another of "
                                          "pixinwav-adaptive-v3, v4 and v5 wrote it: reveal without --model names it)", lost)
        decoded, count = 1, len(head[2])

        def packets():  # the windows' packets, decoded one window at a time while the fountain code still needs more
            nonlocal decoded, count
            yield from head[2]
            for kind, length, more in windows:
                if (kind, length) == head[:2]:  # (a window of another payload pasted in is left out)
                    decoded, count = decoded + 1, count + len(more)
                    bar.update(min(len(more), bar.total - bar.n))  # (the rebuild may need a spare or two more)
                    yield from more

        bar = progress(hidden_file.source_count(head[1], SYMBOL), "revealing", len(head[2]))
        raw = hidden_file.rebuild(packets(), head[1], SYMBOL)
        windows.close()  # (the windows still being read are waited for; those not started, dropped)
        bar.close()
        where = f"{decoded} windows decoded, {count} packets"
        if raw is None:
            return Extracted(blank, found, f"a hidden payload was found but too few of its packets arrived "
                                           f"intact to rebuild it ({where}): the file was cut or changed after "
                                           "hiding" + ("" if self.irregular else ", or pixinwav-adaptive-v5 wrote it "
                                                       "(reveal without --model reads it)"), lost)
        if head[0] == "file":
            file = hidden_file.HiddenFile.from_frame(raw)
            return Extracted(blank, found, f"the file passed its checksum ({where})", file=file,
                             verdict=EXACT)
        layer = layers.Layer.from_frame(raw)
        return Extracted(layer.image()[None], found, f"found a {layer.width} x {layer.height} {layer.codec} "
                                                     f"image ({len(layer.data):,} bytes; {where})",
                         verdict=EXACT)

    def _windows(self, mono: np.ndarray, start: int, first: int, key: str | None):
        """The payload of every window on the grid through ``start`` (grid index ``first`` there), loudest first, by
        the chain decoder; then, only while more are asked for, the windows the chain did not read, by flooding.
        ``READ_THREADS`` windows are read at once, each on its own thread with its decoder on one core, and taken in
        order (the same windows in the same order as one at a time; at most that many read past the last one asked
        for).

        Flooding is left for last because a window the chain does not read is mostly one the file damaged (the
        window a trimmed start cut into): flooding spent 12 s failing on one such window of 168,408 bits, where
        every other window's packets rebuilt the file. The same windows are read either way."""
        L = self.cfg.clip_samples
        begin = start - (start // L) * L
        index0 = first - start // L
        # every window of that grid, loudest first
        places = [(index0 + int(i), begin + int(i) * L) for i in self.loud(mono[begin:], floor_db=-np.inf)
                  if index0 + int(i) >= 0]
        unread = []

        read_first = {}

        def read(index: int, s: int, layout: CellLayout, flooding: bool):
            with one_numba_thread():
                return index, s, self.read_window(mono[s:s + L], layout, key, flooding=flooding, read_first=read_first)

        # (each layout is derived in this thread, as its window is submitted; once the fountain code has what it
        # needs, the windows not started are not read)
        chain = (functools.partial(read, index, s, self.window_layout(key, index), False) for index, s in places)
        flood = (functools.partial(read, index, s, self.window_layout(key, index), True) for index, s in unread)
        with ThreadPoolExecutor(READ_THREADS) as pool:
            for reads in (chain, flood):
                with contextlib.closing(in_order(pool, reads, READ_THREADS)) as got_back:
                    for index, s, got in got_back:
                        if got is UNREAD:
                            unread.append((index, s))
                        elif got is not None:
                            yield got

    def found_at(self, mono: np.ndarray, start: int, index: int, key: str | None) -> bool:
        """Whether the window at ``start`` carries grid index ``index``'s pilots: their agreement in standard errors
        of no agreement (``FOUND_Z``), so that a quiet stretch where few pilots count cannot pass by chance."""
        agreement, pilots = self.agreement_at(mono, start, index, key)
        return agreement * math.sqrt(2 * pilots) >= FOUND_Z

    def agreement_at(self, mono: np.ndarray, start: int, index: int, key: str | None) -> tuple[float, int]:
        """(the pilots' agreement, a mean cosine, of the window at ``start`` as grid index ``index``; how many pilots
        count): about 0.99 where this model wrote it. adaptive-v3 and v4 each find the other's windows (most cells get
        the same step either way), at about 0.8: ``identify`` tells them apart by it."""
        win = self.window
        coefs = mdct.analyse(mono[start:start + self.cfg.clip_samples], self.hop, win.frames)
        layout = self.window_layout(key, index)
        step, used, place = win.places(coefs, layout)
        return win.agreement(step, used, place, layout), int((used & (layout.coef < 0)).sum())

    def find_grid(self, mono: np.ndarray, key: str | None, channels: np.ndarray | None = None
                  ) -> tuple[int | None, int]:
        """(a window start, its grid index) of the stego's grid, or (None, 0): :meth:`grid_start`, else a window
        another model's search found (:meth:`window_found`), else :meth:`search`."""
        start, index = self.grid_start(mono, key)
        if start is None:
            start, index = self._searched(mono, key).get(FOUND_ELSEWHERE, (None, 0))
        return (start, index) if start is not None else self.search(mono, key, channels)

    def window_found(self, mono: np.ndarray, key: str | None, found: tuple[int, int]) -> None:
        """Keep ``found`` (a window start, its grid index), which another model's search found in ``mono`` and this
        model's pilots read best, for this model's reveal of it: ``identify`` names adaptive-v3 for a trimmed file
        that adaptive-v4's search found (v3 searched it again: 1.2 s)."""
        self._searched(mono, key)[FOUND_ELSEWHERE] = found

    def grid_start(self, mono: np.ndarray, key: str | None) -> tuple[int | None, int]:
        """(a window start, its grid index) when the grid starts at the first sample (the file as written) and its
        loudest windows agree with their pilots, else (None, 0); fast (a few windows)."""
        L = self.cfg.clip_samples
        searched = self._searched(mono, key)
        if FIRST_SAMPLE not in searched:
            searched[FIRST_SAMPLE] = None, 0
            for index in self.loud(mono)[:GRID_CHECKS]:  # (a clipped master's loudest windows may carry nothing)
                if self.found_at(mono, int(index) * L, int(index), key):
                    searched[FIRST_SAMPLE] = int(index) * L, int(index)
                    break
        return searched[FIRST_SAMPLE]

    def search(self, mono: np.ndarray, key: str | None, channels: np.ndarray | None = None, first: int | None = None,
               cancel: threading.Event | None = None) -> tuple[int | None, int]:
        """(a window start, its grid index) found around the loudest stretches of ``mono`` at any sample offset, or
        (None, 0). ``first``: search only that many of the stretches, loudest first (where the sender writes first:
        a quick look that finds a trimmed or pasted stego and gives up on other audio in a fraction of the time).
        ``cancel``: set by the caller when the answer is no longer wanted (then (None, 0) at the next block of offsets).

        The sender fills the grid window through the middle of the loudest stretch (:meth:`stretches`) first, and it
        lies in the two window lengths around that middle. For every start there (every sample offset of one hop x
        every frame) and every grid index the file can have, the agreement of the ``SEARCH_PILOTS`` pilots of the
        loudest bins with that index's dither: the MDCT at every offset of one hop (:func:`mdct.analyse_every`),
        the steps from it as the receiver derives them, and one complex matrix product per block of offsets over all
        indices at once."""
        win, L, hop = self.window, self.cfg.clip_samples, self.hop
        if len(mono) < L + hop:
            return None, 0
        layout = win.layout(key)
        pilots = np.flatnonzero(layout.coef < 0)[:SEARCH_PILOTS]
        frame_of, bin_of = np.divmod(layout.cells[pilots], hop)
        bins = int(bin_of.max()) + TIME_FREQ_MARGIN  # the steps of the pilots' bins need 4 bins above them
        indices = np.arange(len(mono) // L + 1)
        searched = self._searched(mono, key)
        if EXPECTED not in searched:  # (0.15 s: every index's dither)
            phases = np.stack([self._dither(key, int(i))[pilots] for i in indices]) + PILOT_CODE
            searched[EXPECTED] = np.exp(-2j * np.pi * phases).astype(np.complex64).T  # [pilots, indices]
        expected = searched[EXPECTED]
        # the stretches the sender fills first, then those of the first release's rule (its files keep revealing)
        order = list(dict.fromkeys([*self.stretches(mono, channels), *self.stretches(mono, legacy=True)]))[:first]
        stop = threading.Event()  # set once a stretch answers: the strips still running give up at their next block

        def strip(stretch: int) -> tuple[int | None, int] | None:
            return self._search_strip(mono, key, stretch, pilots, frame_of, bin_of, bins, expected, indices,
                                      lambda: stop.is_set() or (cancel is not None and cancel.is_set()))

        with ThreadPoolExecutor(SEARCH_THREADS) as pool:
            running = {s: pool.submit(strip, s) for s in order if s not in searched}
            try:
                for stretch in tqdm(order, desc="searching", unit="stretch", delay=PROGRESS_AFTER_S, disable=None,
                                    leave=False):
                    if stretch not in searched:
                        answer = running[stretch].result()
                        if answer is None:  # (cancelled: not searched to the end)
                            return None, 0
                        searched[stretch] = answer
                    if searched[stretch][0] is not None:
                        return searched[stretch]
            finally:
                stop.set()
                for future in running.values():
                    future.cancel()
        return None, 0

    def _searched(self, mono: np.ndarray, key: str | None) -> dict:
        """The answers already found in ``mono`` by this model (its settings and pilots) with this key, by stretch
        searched, ``FIRST_SAMPLE`` for the grid from the first sample (and ``EXPECTED``: the search's pilot phases): a new
        dict for new audio."""
        sampled = hashlib.blake2b(np.ascontiguousarray(mono[::97], np.float32).tobytes()).hexdigest()
        memo = (repr(self.cfg), key, self.window.layout(key).cells.tobytes(), len(mono), sampled)
        with _SEARCHED_LOCK:  # (identify searches the first stretch and the rest on two threads)
            if memo not in _SEARCHED:
                while len(_SEARCHED) >= SEARCHES_KEPT:
                    del _SEARCHED[next(iter(_SEARCHED))]  # (the oldest)
                _SEARCHED[memo] = {}
            return _SEARCHED[memo]

    def stretches(self, mono: np.ndarray, channels: np.ndarray | None = None, legacy: bool = False) -> list[int]:
        """Starts of the ``SEARCH_STRETCHES`` loudest stretches of a window's length (on a grid of hops, a window
        apart): where the receiver searches for the grid, and whose windows the sender fills first. The change is far
        under the music, so cover and stego rank them alike.

        A stretch counts only where no grid window through its middle can be a clipped master's (which the sender
        leaves alone): fewer than ``CLIPPED`` samples at full scale in any of ``channels`` (else the downmix) within
        a window's length of the middle. ``legacy``: the first release's rule (the downmix, inside the stretch only),
        which passed stretches whose middle window the sender had skipped (a stereo master clipped in one channel)."""
        hop, width = self.hop, self.cfg.clip_samples // self.hop
        blocks = len(mono) // hop
        if blocks < width:
            return []
        view = mono[: blocks * hop].reshape(blocks, hop)
        level = np.convolve(np.einsum("ij,ij->i", view, view, dtype=np.float64), np.ones(width), "valid")
        source = mono if channels is None or legacy else channels
        at_full = np.empty(blocks, np.int64)  # samples at full scale per hop, counted a block of hops at a time
        for a in range(0, blocks, COUNT_BLOCKS):
            b = min(a + COUNT_BLOCKS, blocks)
            at_full[a:b] = np.count_nonzero((np.abs(source[a * hop:b * hop]) >= FULL_SCALE).reshape(b - a, -1), axis=1)
        if legacy:
            full = np.convolve(at_full, np.ones(width), "valid")
        else:  # blocks from half a window before the stretch to half a window after it, one block more each side
            total = np.concatenate([[0], np.cumsum(at_full)])
            starts, half = np.arange(len(level)), width // 2 + 2
            full = total[np.minimum(blocks, starts + width + half)] - total[np.maximum(0, starts - half)]
        level[full >= CLIPPED] = -1.0
        out = []
        while len(out) < SEARCH_STRETCHES and level.max() > 0:
            at = int(np.argmax(level))
            out.append(at * hop)
            level[max(0, at - width + 1):at + width] = -1.0
        return out

    def _search_strip(self, mono: np.ndarray, key: str | None, stretch: int, pilots: np.ndarray, frame_of: np.ndarray,
                      bin_of: np.ndarray, bins: int, expected: np.ndarray, indices: np.ndarray,
                      stopped: Callable[[], bool]) -> tuple[int | None, int] | None:
        """:meth:`search` around one stretch: every window start up to a window before its middle; None where
        ``stopped()`` said so before it was done."""
        win, L, hop = self.window, self.cfg.clip_samples, self.hop
        first = max(0, stretch + L // 2 - L)
        strip = mono[first:first + 2 * L + hop]
        frames = (len(strip) - hop) // hop - 1
        starts = frames - win.frames + 1  # window starts (in frames) whose frames all lie in the strip
        if starts < 1:
            return None, 0
        cells = (np.arange(starts)[:, None] + frame_of[None]) * bins + bin_of[None]  # [starts, pilots]
        best = (0.0, 0, 0, 0)
        for chunk in np.array_split(np.arange(hop), max(1, hop // SEARCH_CHUNK)):
            if stopped():
                return None
            coefs = mdct.analyse_every(strip, hop, chunk, frames)[..., :bins]  # float32: steps 2x faster, as good here
            step, unsure = win.cell_steps(coefs)
            used = (step > 0) & ~unsure
            flat = lambda x: x.reshape(len(chunk), -1)[:, cells]  # [offsets, starts, pilots]
            value, step, used = flat(coefs), flat(step), flat(used)
            angle = (2 * np.pi * value / np.where(used, step, 1.0)).astype(np.float32)
            z = np.empty(angle.shape, np.complex64)
            z.real, z.imag = np.cos(angle) * used, np.sin(angle) * used
            # in standard errors of no agreement (a mean of n cosines of random phases: 1 / sqrt(2 n))
            count = used.sum(-1).reshape(-1, 1)
            score = (z.reshape(-1, len(pilots)) @ expected).real * np.sqrt(2.0 / np.maximum(count, 1))
            at = int(np.argmax(score))
            if score.flat[at] > best[0]:
                hypothesis, index = divmod(at, len(indices))
                offset, start = divmod(hypothesis, starts)
                best = (float(score.flat[at]), int(chunk[offset]), start, int(indices[index]))
        score, offset, start, index = best
        if score < SEARCH_Z:
            return None, 0
        at = first + offset + start * hop
        return (at, index) if self.found_at(mono, at, index, key) else (None, 0)
