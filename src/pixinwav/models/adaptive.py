"""Cover-adaptive modulo coding: the image's colour-DCT coefficients written as analog codes into MDCT cells of
the window (frames of 23 ms), each cell's step following this cover's own masking, re-derived by the receiver.

Why: the default scheme's steps follow the median music spectrum over the whole window, so in a quiet bar, a
cover without bass or a band a lossy source left empty the change is louder than the music and a simple detector
finds it. Here each cell's step is ``masking_db`` under the cover's local level (``robust/masking.py``: the RMS of
the 5 frames x 9 bins around the cell), so the change is loud where the music is loud and nothing where it is
quiet (adaptive embedding, as HUGO / S-UNIWARD do for images). Cells whose step would be under ``min_step_lsb``
are left alone.

The receiver computes the same steps from the file: the change is far under the local level, so the stego's
level is within a fraction of a decibel of the cover's; steps are quantised to an octave grid and the sender
iterates until the steps it derives from its own 16-bit stego are the ones it wrote with. A cell whose step
still comes out differently at the receiver (a level on a grid boundary) spoils one copy of one coefficient, not
the layout: which cell carries which coefficient is fixed in advance (cells ranked by the training music's median
level per bin, frames in a fixed shuffle), and the cells beyond the first ``sent_coefficients`` carry further
copies, so a coefficient whose cell is silent in this cover usually has a copy in a loud one. The receiver
combines the copies weighted by their steps (maximum-ratio combining) and makes the Wiener estimate.

The change is rounded to whole 16-bit steps with noise shaping (error feedback), because plain rounding adds white
noise at the 16-bit floor everywhere, and the empty band above a lossy source's cut-off shows that to any detector
(a stego that only flips least significant bits is found at ROC AUC 1.0 that way; a floor raised by a few
hundredths of a dB is still seen). Shaped, the rounding error aims ``notch_db`` (-60) under the floor in such bands
and follows the cover up to ``flat_above_floor_db`` (45 dB) over the floor, flat above; a filter per 11.6 ms follows a
band into its quiet moments. The receiver derives the same filters from the file and so knows the rounding noise
each cell carries: it weights the copies by it, and the pilots' error relative to it tells an intact file (about
1) from a damaged one. Shaping alone cannot take the rounding error far under the floor of an empty band (the
error's log spectrum averages at least the plain rounding's, so the notch reaches about 15-30 dB, and a detector
still saw the floor rise by a few hundredths of a dB); so the cover's cells also give up the power the rounding
will add, and the stego's expected power in every cell stays the cover's. (Tried and dropped: quantising the
whole window afresh after taking the change's power out of the cover's cells; cells with faint content next to
loud ones kept part of their old floor, and the feature detector's AUC rose to 0.89-0.95 in development runs;
that code is not kept.)

With ``bits_per_cell`` (``pixinwav-adaptive-v2``) the cells carry the image as a compressed file instead: each data
cell ``bits_per_cell`` Gray-coded bits (``robust/levels.py``), all of them one LDPC codeword (``robust/code.py``)
of an AVIF with a header and a CRC (``robust/payload.py``). The same cells that give an analog image SSIM 0.79
carry a 2-14 kB file (SSIM 0.90-0.97), because a file spends the capacity where an analog code spends it on
noise. The sender reads its own stego exactly as the receiver will: it measures the capacity, picks the largest
file its own decoder recovers, and where that would be poor (a quiet window) sends the analog codes instead (the
header's last index says so). A file arrives exact or not at all, and a file that fails is said so, never
returned as a wrong image.
"""
from __future__ import annotations

import functools
import math
import warnings
from dataclasses import replace
from typing import Callable, NamedTuple

import numpy as np
import scipy

from ..arrays import Array, as_numpy, like
from ..channel import LSB, ROUNDING_RMS_LSB
from ..config import ModelConfig
from ..errors import PixinwavError
from ..metrics import ssim
from ..robust import code, levels, mdct, payload
from ..robust.masking import masking_scale, past_magnitude
from ..robust.stdm import keyed_permutation
from .base import EXACT, Extracted, Hidden, StegoScheme, WindowSent
from .dither import GOLDEN, MIN_PILOTS_TO_TELL, PILOT_CODE, keyed_dither, wrap
from .image_coefficients import ImageCoefficients

PILOT_EVERY = 64  # one position in 64 carries the known code: presence, and the noise the channel added
# Masking neighbourhood: 5 frames (70 ms) x 9 bins (390 Hz at 44.1 kHz): wide enough that the change itself moves
# a cell's level by only a few hundredths of an octave (3 x 5 let whole clusters of cells cross a boundary).
TIME_RADIUS, FREQ_RADIUS = 2, 4
PAST_FRAMES = 2  # level_measure "past-magnitude": the cell's frame and the two before it (46 ms), the same 9 bins
GRID = 1.0  # steps are 2^(GRID * n) LSB: an octave grid (a half-octave one gave 10x more disagreeing cells)
# A cell whose level sits this close (in grid units) to a boundary may be read with the other step: the receiver
# does not use it (8 % of the cells).
AMBIGUOUS = 0.04
FIXED_POINT_ROUNDS = 6  # (the whole-song model stops after 3: ``adaptive_song.FIXED_POINT_ROUNDS``)
SHAPING_ORDER = 32
SHAPING_BLOCK = 512  # a filter per 11.6 ms: the error leaves a band in its quiet moments too (1024: feature AUC +0.05)
NOISE_PILOT_STEP_LSB = 32.0
# The pilots' error relative to the noise the shaped rounding leaves in each of their cells (which the receiver
# derives from the file: the filters follow the cover's spectrum, and the stego keeps it): intact 16-bit stegos
# read 0.84-1.09, a volume change of 0.05 dB 1.21 or more (close: a smaller change may pass unflagged), noise 60 dB
# under the music 1.51 or more (benchmarks/adaptive_damage.py, 28 validation clips).
INTACT_NOISE_RATIO = 1.2
SHAPED_NOISE_LSB = 2.0  # RMS of the shaped rounding error per MDCT coefficient in the bass, where it is loudest
# With ``bits_per_cell`` (the image as a compressed file): the message sizes the sender picks from, 10 % apart,
# the rung's index sent in the first data cells (one bit per cell, each bit 64 times), and how full a code it tries
# first: message bits = the capacity its own stego shows (the code's soft bits) times CODE_FILL, or times
# FILL_PER_CAPACITY x the capacity per coded bit where that is less (a cover whose cells mostly carry near-erasures
# needs more room: measured on validation clips, 0.73 of the capacity decoded at 0.82 bits per coded bit, 0.64
# at 0.40, 0.44 at 0.27, 0.37 at 0.22); 20 % less on each failure.
RUNG_BITS = 6
HEADER_CELLS = 64 * RUNG_BITS
# The last index says "analog codes" instead: where the file would be poor (a quiet window), the sender also tries
# v1's analog coefficients (the header cells excepted) and sends whichever its own read-back finds better.
ANALOG_RUNG = 2**RUNG_BITS - 1
ANALOG_BELOW = 0.8
CODE_FILL = 0.78
FILL_PER_CAPACITY = 1.6
MAX_RATE = 0.9
SEND_TRIES = 5
# The sender keeps a stego only if its decoder converges in this many iterations; the receiver allows
# RECEIVER_ITERATIONS, so a machine whose floating point differs a little still decodes it.
SENDER_ITERATIONS, RECEIVER_ITERATIONS = 40, 100  # an intact file's decode converges in 5-20
# Pilots that agree less than this carry no file the receiver tries to decode (decoding noise takes seconds; plain
# audio scores about 0); the sender never keeps a file stego whose pilots read under it.
NO_FILE_AGREEMENT = 0.2


# Pilots in the loudest cells (step at max_step_lsb) read their code to a fraction of a step in an intact file
# (0 of them off by LOUD_OFF_STEPS in 10 validation windows); after a volume change by a whole octave (halved,
# doubled, x0.25: steps follow the level on an octave grid, so most cells still read right) 27-80 % are off, because
# their step stays capped while their coefficient moved (measured on the same 10 windows). Fewer than LOUD_PILOTS of
# them: the test is not made.
LOUD_OFF_STEPS, LOUD_OFF_SHARE, LOUD_PILOTS = 0.15, 0.1, 8


def damage(noise: float, loud_off: float | None = None) -> str | None:
    """The warning for analog codes whose pilots read ``noise`` times an intact file's noise, or whose pilots in the
    loudest cells are off in a share ``loud_off``: they can agree on an image whose codes are all a little off (a
    volume change), and their noise or the loudest cells tell."""
    if loud_off is not None and loud_off >= LOUD_OFF_SHARE:
        return (f"{100 * loud_off:.0f} % of the pilots in the loudest cells are off (an intact file: none): the image is "
                "damaged (the volume was changed after hiding)")
    return (f"the pilots read {noise:.1f} times the noise an intact 16-bit file leaves (under {INTACT_NOISE_RATIO}): the "
            "image is damaged (the volume was changed, noise was added, or the cover is too quiet here)"
            ) if noise > INTACT_NOISE_RATIO else None


def rung_bits(rung: int) -> int:
    """Message bits of size rung ``rung`` (0-62): 2,048 bits up to 5.6 million, 10 % apart, whole bytes."""
    return 8 * round(256 * 1.1**rung)


def header_places(rung: int, cells: int) -> np.ndarray:
    """The places of the ``cells`` header cells that carry ``rung``: its bits in turn, one bit per cell."""
    bits = (rung >> np.arange(RUNG_BITS - 1, -1, -1)) & 1
    return levels.to_places(np.resize(bits, cells)[:, None])


def rung_of(header_llr: np.ndarray) -> int:
    return int((header_llr < 0).astype(int) @ (1 << np.arange(RUNG_BITS - 1, -1, -1)))


class CellLayout(NamedTuple):
    """Which cell carries what; fixed in advance (derived from the model's buffers and the key)."""

    cells: np.ndarray  # [P] flat cell index (frame * hop + bin) of each position
    coef: np.ndarray  # [P] image coefficient index (into the importance order) carried, -1 for a pilot
    dither: np.ndarray  # [P] offsets in [0, 1)
    sent: int  # image coefficients sent (the first of the importance order: :meth:`AdaptiveStego.order`)


def shaping_filter(wave: np.ndarray, block: int | None, notch_db: float, flat_above_floor_db: float) -> np.ndarray:
    """``[blocks, p]`` LPC coefficients ``a[1..p]``, one filter per ``block`` samples (None: one for the whole
    window): the rounding error is shaped by ``1 / A(z)``, whose power follows a target that is flat where the
    cover (``wave``, in LSB) stands ``flat_above_floor_db`` above the 16-bit floor around that moment and falls
    with it to ``notch_db`` where the cover is at the floor (an empty band: a lossy source's cut-off, a quiet moment of a
    band), since there the floor itself is all a detector sees. Zeros where the cover is silent."""
    block = block or len(wave)
    blocks = -(-len(wave) // block)
    size = 2 * block if blocks > 1 else len(wave)
    padded = np.pad(wave, (block // 2, blocks * block + size - len(wave))) if blocks > 1 else wave
    n = 1 << int(np.ceil(np.log2(size)))
    taper = np.hanning(size)
    floor = np.sum(taper**2) / 12  # what 16-bit rounding alone leaves in a bin
    # every block at once (each row's transforms and filter are computed as one block's alone would be)
    segments = np.lib.stride_tricks.sliding_window_view(padded, size)[::block][:blocks]
    power = np.abs(np.fft.rfft(segments * taper, n, axis=1)) ** 2
    smooth = scipy.ndimage.uniform_filter1d(power, max(1, n // 2048), axis=1, mode="nearest")  # about 20 Hz
    target = np.clip(smooth / (floor * 10 ** (flat_above_floor_db / 10)), 10 ** (notch_db / 10), 1.0)
    r = np.fft.irfft(target, axis=1)[:, : SHAPING_ORDER + 1]
    r[:, 0] *= 1 + 1e-6  # a little white noise keeps the predictor stable and its gain bounded
    out = levinson_durbin(r)
    return out * 0.995 ** np.arange(1, SHAPING_ORDER + 1)  # bandwidth expansion: inside the unit circle


def levinson_durbin(r: np.ndarray) -> np.ndarray:
    """``[blocks, p + 1]`` autocorrelations -> ``[blocks, p]`` predictor coefficients ``a`` solving the Yule-Walker
    equations ``toeplitz(r[:p]) a = -r[1:]`` for every block at once (the Levinson-Durbin recursion, one order at a
    time over all blocks: ``scipy.linalg.solve_toeplitz`` row by row took 8 ms a window, most of it checking its
    arguments while holding the GIL, and windows are written on threads). The same coefficients to 1e-9 relative."""
    blocks, p = r.shape[0], r.shape[1] - 1
    a = np.zeros((blocks, p))
    error = r[:, 0].copy()
    for i in range(p):
        reflection = -(r[:, i + 1] + np.einsum("bj,bj->b", a[:, :i], r[:, i:0:-1])) / error
        a[:, :i] += reflection[:, None] * a[:, :i][:, ::-1]  # (the right side is a new array: the old a)
        a[:, i] = reflection
        error *= 1.0 - reflection**2
    return a


def shaped_round(change: np.ndarray, filters: np.ndarray, base: np.ndarray,
                 bounds: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Integer samples (in LSB) close to ``change`` such that ``base + result`` stays in the 16-bit range (or within
    ``bounds``, the lowest and highest change each sample allows: every channel of a stereo file in range), with
    the rounding error shaped by ``1 / A(z)`` (error feedback; ``filters [blocks, p]``: one filter per equal block
    of the signal). Where the change is zero and the feedback has died down, the result is exactly zero: a silent
    stretch gets no rounding noise at all."""
    blocks, p = filters.shape
    block = -(-len(change) // blocks)
    low, high = (np.ceil(-32768 - base), np.floor(32767 - base)) if bounds is None else bounds
    args = (np.asarray(change, np.float64), filters[:, ::-1].copy(), block, low, high)
    try:
        return _feedback_kernel()(*args)
    except Exception as exc:  # numba missing or its on-disk cache unreadable: the same samples, 65x slower
        warnings.warn(f"the compiled rounding loop failed ({exc}); using the Python one", RuntimeWarning, stacklevel=2)
        return _feedback(*args)


def _feedback(change: np.ndarray, reverse: np.ndarray, block: int, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """The error-feedback loop (each sample's rounding depends on the errors before it, so it cannot be
    vectorised); compiled by numba, it gives the same samples as this Python 65x faster."""
    p = reverse.shape[1]
    noise = np.zeros(len(change) + p)  # noise[n + p] = result[n] - change[n]
    out = np.zeros(len(change))
    for n in range(len(change)):
        r = reverse[n // block]
        acc = 0.0
        for j in range(p):
            acc += r[j] * noise[n + j]
        y = min(max(np.round(change[n] - acc), low[n]), high[n])
        out[n] = y
        noise[n + p] = y - change[n]
    return out


@functools.cache
def _feedback_kernel() -> Callable:
    import numba  # imported here: only the adaptive models need it; compiled once per machine (cached on disk)

    return numba.njit(cache=True, nogil=True)(_feedback)  # nogil: windows are probed on threads


def image_ssim(revealed: Array, image: Array) -> np.ndarray:
    """``[B]`` SSIM of revealed images ``[B, C, H, W]`` (clamped to [0, 1]) against the images sent."""
    return ssim(np.clip(as_numpy(revealed), 0, 1), as_numpy(image))


def read_back_capacity(word: np.ndarray, llr: np.ndarray) -> float:
    """The bits a known codeword ``word [n]`` gets through, from its soft bits as read back ``llr [n]``: the sum of
    ``1 - log2(1 + exp(-L))`` over its bits, L being each bit's log-likelihood ratio toward its true value (a bit
    read confidently wrong counts against)."""
    return float(np.sum(1 - np.logaddexp(0, -np.where(word == 0, llr, -llr)) / math.log(2)))


@functools.lru_cache(maxsize=4)
def _interleaver(key: str, count: int) -> np.ndarray:
    return keyed_permutation(key, f"adaptive-cells{count}", count)


class AdaptiveStego(ImageCoefficients, StegoScheme):
    """The container transform is the MDCT of the window, ``[B, frames, hop]``. Takes a key, measures
    statistics, tells whether an image is present (its pilots), follows the cover's band limit and changes the
    cover by whole 16-bit steps."""

    takes_key = True
    measures_statistics = True
    has_presence = True
    follows_band_limit = True
    whole_step_changes = True

    def __init__(self, cfg: ModelConfig):
        super().__init__(cfg)
        self._layouts: dict[tuple, CellLayout] = {}
        self.hop = cfg.adaptive.cell_hop
        self.frames = mdct.frame_count(cfg.clip_samples, self.hop)
        self.init_image_coefficients(cfg)
        # ``steps`` here: the training music's median level per MDCT bin, which only ranks the bins (the most
        # important coefficients go to the bins music usually fills); the steps themselves come from the cover.
        self.register_buffer("steps", np.sqrt(np.arange(self.hop) + 0.5) ** -1.3)

    # --- statistics ---------------------------------------------------------------------------------------------
    def fit_statistics(self, images: Array, covers: Array) -> None:
        self.fit_image_statistics(images)
        levels = np.stack([np.abs(mdct.analyse(c, self.hop, self.frames)) for c in as_numpy(covers).astype(np.float64)])
        self.set_buffer("steps", np.median(levels.reshape(-1, self.hop), axis=0))

    # --- layout -------------------------------------------------------------------------------------------------
    def layout(self, key: str | None = None, band_limit_hz: float | None = None) -> CellLayout:
        cache = ("cells", key, band_limit_hz, self.state_version)
        if cache not in self._layouts:
            self._layouts = {cache: self._make_cells(key, band_limit_hz)}
        return self._layouts[cache]

    def _make_cells(self, key: str | None, band_limit_hz: float | None) -> CellLayout:
        lo, hi = round(self.cfg.band[0] * self.hop), round(self.cfg.band[1] * self.hop)
        if band_limit_hz is not None:
            hi = min(hi, int(band_limit_hz / (self.cfg.sample_rate / 2) * self.hop))
        lo = max(lo, 1)  # never the lowest bin: a constant offset (writers that floor) lands there
        bins = lo + np.argsort(-self.steps[lo:hi], kind="stable")
        shuffle = np.argsort(keyed_dither("frames:" + (key or ""), self.frames), kind="stable")
        # bin-major; each bin visits the frames in a shuffled order, rotated per bin, so that the copies of a
        # coefficient (``sent`` positions apart) land in different frames
        cells = np.concatenate([np.roll(shuffle, 37 * i) * self.hop + b for i, b in enumerate(bins)])
        positions = len(cells)
        dither = (np.remainder(np.arange(positions) * GOLDEN, 1.0) if key is None
                  else keyed_dither(key, positions))
        pilot = np.arange(positions) % PILOT_EVERY == PILOT_EVERY // 2
        coef = np.full(positions, -1)
        sent = min(self.cfg.adaptive.sent_coefficients, self.coef_std.size, int((~pilot).sum()))
        coef[~pilot] = np.arange(int((~pilot).sum())) % max(sent, 1)
        return CellLayout(cells, coef, dither, sent)

    def order(self, layout: CellLayout):
        """``[K]`` flat colour-DCT index of the k-th most important coefficient sent (the analog codes)."""
        cache = ("order", self.state_version)
        if cache not in self._layouts:
            self._layouts[cache] = self.importance_order()
        return self._layouts[cache][:layout.sent]

    @property
    def top_frequency(self) -> float:
        return round(self.cfg.band[1] * self.hop) * self.cfg.sample_rate / (2 * self.hop)

    @property
    def capacity(self) -> int:
        return self.layout().sent

    @property
    def takes_room(self) -> bool:  # (a file: bits_per_cell; analog codes degrade instead)
        return bool(self.cfg.adaptive.bits_per_cell)

    def carries(self) -> dict:
        layout = self.layout()
        pilots = int((layout.coef < 0).sum())
        if self.cfg.adaptive.bits_per_cell:
            return {"payload": f"the image as an LDPC-coded {self.cfg.image_codec.upper()} file",
                    "cells": len(layout.cells), "pilots": pilots, "header_cells": HEADER_CELLS,
                    "bits_per_cell": self.cfg.adaptive.bits_per_cell, "coded_bits": len(self.file_slots(layout, None)[2]),
                    "file_bytes": "as many as this cover carries (the sender measures it; 2-14 kB on typical music); "
                                  "a quiet window: analog coefficients instead"}
        return {"coefficients_sent": layout.sent, "cells": len(layout.cells), "pilots": pilots,
                "copies_per_coefficient": round((len(layout.cells) - pilots) / max(layout.sent, 1), 2),
                "cells_used": "as many as this cover's masking allows (steps under min_step_lsb are left alone)"}

    def shaping(self, wave: np.ndarray) -> np.ndarray:
        """The noise-shaping filters for a cover ``wave`` (in LSB) with this model's settings: the sender's, and the
        receiver's from the file."""
        return shaping_filter(wave, SHAPING_BLOCK, self.cfg.adaptive.notch_db, self.cfg.adaptive.flat_above_floor_db)

    def whole_steps(self, change: np.ndarray, cover: np.ndarray) -> np.ndarray:
        """At another rate than the model's, the change is resampled after the sender's rounding; it is rounded
        again here with the same noise shaping (else a 48 kHz file would get plain rounding noise on its floor)."""
        filters = self.shaping(cover)
        coefs = mdct.analyse(cover * LSB, self.hop)
        give_up = mdct.synthesise(self.give_up_power(coefs, filters), self.hop) / LSB  # as the sender's rounding does
        return shaped_round(change + np.pad(give_up, (0, len(change) - len(give_up))), filters, cover)

    # --- steps from the received audio --------------------------------------------------------------------------
    def local_level(self, coefs: np.ndarray) -> np.ndarray:
        """``[..., frames, hop]`` MDCT coefficients -> each cell's local level (RMS, waveform units), measured as
        ``level_measure`` says (``robust/masking.py``)."""
        if self.cfg.adaptive.level_measure == "past-magnitude":
            return past_magnitude(coefs, PAST_FRAMES, FREQ_RADIUS, floor=LSB / 64)
        return masking_scale(coefs, TIME_RADIUS, FREQ_RADIUS, floor=LSB / 64)

    def cell_steps(self, coefs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``[frames, hop]`` MDCT coefficients -> (per-cell step in waveform units, 0 = cell not used, on the
        half-octave grid; whether the cell's level is too close to a grid boundary to trust the step)."""
        scale = self.local_level(coefs)
        ideal = 10 ** (self.cfg.adaptive.masking_db / 20) * math.sqrt(12) * scale / LSB  # uniform change: RMS = step / sqrt 12
        level = np.log2(ideal) / GRID
        # (np.exp2 of whole numbers: the same powers of two as ``2.0 **``, 6x faster)
        steps = np.minimum(np.exp2(GRID * np.round(level)), self.cfg.modulo.max_step_lsb)
        steps[steps < self.cfg.modulo.min_step_lsb] = 0.0
        # near a boundary, unless both grid values on either side give the same step (both capped, both unused);
        # that is asked of the cells near one only (a few %: the powers for every cell took a third of the time)
        floor = np.floor(level)
        middle = np.subtract(level, floor, out=level)  # (level is not needed after this: its arrays reused)
        middle -= 0.5
        unsure = np.abs(middle, out=middle) < AMBIGUOUS
        below, above = (np.clip(np.exp2(GRID * (floor[unsure] + i)), 0, self.cfg.modulo.max_step_lsb) for i in (0, 1))
        unsure[unsure] = ~((below == above) | (above < self.cfg.modulo.min_step_lsb))
        return steps * LSB, unsure

    def analyse(self, wave: Array) -> Array:
        rows = as_numpy(wave).astype(np.float64).reshape(-1, wave.shape[-1])
        spec = np.stack([mdct.analyse(row, self.hop, self.frames) for row in rows])
        return like(spec, wave)

    # --- image <-> codes ------------------------------------------------------------------------------------
    def units(self, image: Array, layout: CellLayout) -> np.ndarray:
        """``[C, H, W]`` -> ``[K]`` values in [0, 1], most important coefficient first."""
        z = self.image_units(as_numpy(image)[None], self.order(layout))[0]
        return 0.5 + 0.5 * np.clip(z / self.cfg.modulo.code_range, -1.0, 1.0)

    @staticmethod
    def margin(step: np.ndarray) -> np.ndarray:
        """Codes stay this far from the wrap point: 4 deviations of the shaped rounding noise where it is loudest
        (the bass), at least 3 % and at most a quarter of the step."""
        with np.errstate(divide="ignore"):
            return np.clip(4 * SHAPED_NOISE_LSB * LSB / step, 0.03, 0.25)

    def code_places(self, units: np.ndarray, layout: CellLayout, step: np.ndarray) -> np.ndarray:
        """Per position: the place inside its step (before the dither) that carries its coefficient's code."""
        value = np.where(layout.coef >= 0, units[np.maximum(layout.coef, 0)], PILOT_CODE)
        m = np.where(layout.coef >= 0, self.margin(np.maximum(step, LSB)), 0.0)
        return m + (1 - 2 * m) * value

    # --- hiding -------------------------------------------------------------------------------------------------
    def embed(self, image: Array, cover: Array, key: str | None = None,
              band_limit_hz: float | None = None, room: float = 1.0) -> Hidden:
        """``room`` (with ``bits_per_cell``): the share of the measured capacity the file may fill (the API lowers it
        when a cover at another rate loses the file to the resampling, which the sender's read-back cannot see)."""
        self.check_cover(cover)
        layout = self.layout(key, band_limit_hz)
        containers, infos = [], []  # (WindowSent per item)
        for one_image, one_cover in zip(image, as_numpy(cover).astype(np.float64)):
            if self.cfg.adaptive.bits_per_cell:
                container, info = self._send_file(one_image, one_cover, layout, key, room)
                if info.expected_ssim < ANALOG_BELOW:
                    analog = self._send_analog(one_image, one_cover, layout, key)
                    container, info = analog if analog[1].expected_ssim > info.expected_ssim else (container, info)
            else:
                units = self.units(one_image, layout)
                container, info = self._embed_one(lambda step: self.code_places(units, layout, step), one_cover, layout)
            containers.append(container)
            infos.append(info)
        container = like(np.stack(containers).astype(as_numpy(cover).dtype), cover)
        received = self.analyse(container)
        # The sender can read its own stego exactly as the receiver will: how well the image came through this
        # cover (a quiet one leaves few cells) is known now, not after the file is sent.
        if min(image.shape[-2:]) >= 11 and not self.cfg.adaptive.bits_per_cell:  # SSIM's window; a file: known when sent
            read = self._reveal_waves(received, layout)
            expected = image_ssim(read.image, image)
            infos = [replace(info, expected_ssim=value, presence=None if read.presence is None else float(read.presence[i]))
                     for i, (info, value) in enumerate(zip(infos, expected.tolist()))]
        return Hidden(self.analyse(cover), received, container, window_sent=infos)

    def _embed_one(self, places: Callable[[np.ndarray], np.ndarray], cover: np.ndarray,
                   layout: CellLayout, bounds: tuple[np.ndarray, np.ndarray] | None = None,
                   rounds: int = FIXED_POINT_ROUNDS) -> tuple[np.ndarray, WindowSent]:
        """The sender's fixed point: embed with the steps the receiver would derive from the previous stego,
        until they agree (or ``rounds``). ``places(step)``: per position, the place inside its step
        (before the dither) it must carry; ``bounds``: as in :func:`shaped_round`, for the window's first
        ``(frames + 1) * hop`` samples."""
        # The change is a whole number of LSBs: added to a 16-bit cover (or to each channel of a stereo one) it is
        # stored exactly, and the file gets no second rounding (the API hands a float cover over as the 16-bit
        # file will hold it: ``whole_step_changes``).
        base = cover / LSB
        span = (self.frames + 1) * self.hop
        coefs = mdct.analyse(base * LSB, self.hop, self.frames)
        shaping = self.shaping(base[:span])
        step = self.cell_steps(coefs)[0].reshape(-1)[layout.cells]
        # the cover's cells give up the power the shaped rounding will add: where it is at the 16-bit floor (a band a
        # lossy source left empty) the stego's floor then keeps the cover's level instead of rising above it
        give_up = self.give_up_power(coefs, shaping)
        start = (coefs + give_up).reshape(-1)[layout.cells]
        for round_ in range(rounds):
            used = step > 0
            move = np.zeros(len(layout.cells))
            target = places(step) + layout.dither
            move[used] = wrap(target[used] - start[used] / step[used]) * step[used]
            change = give_up.copy()
            change.reshape(-1)[layout.cells[used]] += move[used]
            stego = base.copy()
            stego[:span] += shaped_round(mdct.synthesise(change, self.hop) / LSB, shaping, base[:span], bounds)
            received = mdct.analyse(stego * LSB, self.hop, self.frames)
            seen, unsure = (x.reshape(-1)[layout.cells] for x in self.cell_steps(received))
            disagree = (seen != step) & ~unsure
            if not disagree.any():
                break
            step = seen
        return stego * LSB, WindowSent(len(step), int((step > 0).sum()), int(disagree.sum()), round_ + 1)

    # --- the image as a compressed file (bits_per_cell > 0) -----------------------------------------------------
    def file_slots(self, layout: CellLayout, key: str | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(positions of the rung header, positions of the codeword, the codeword bit each slot of those carries:
        ``[positions x bits_per_cell]``, a keyed interleaver so that no part of the code sits in one band)."""
        data = np.flatnonzero(layout.coef >= 0)
        body = data[HEADER_CELLS:]
        count = len(body) * self.cfg.adaptive.bits_per_cell
        return data[:HEADER_CELLS], body, _interleaver(key or "", count)

    def file_places(self, word: np.ndarray, rung: int, layout: CellLayout, key: str | None) -> np.ndarray:
        """Per position, the place (before the dither) for a codeword and its rung; pilots at their known code."""
        header, body, interleave = self.file_slots(layout, key)
        slots = np.empty(len(interleave), np.uint8)
        slots[interleave] = word
        places = np.full(len(layout.cells), PILOT_CODE)
        places[header] = header_places(rung, len(header))
        places[body] = levels.to_places(slots.reshape(len(body), self.cfg.adaptive.bits_per_cell))
        return places

    def soft_file(self, coefs: np.ndarray, layout: CellLayout, key: str | None) -> tuple[np.ndarray, np.ndarray, float, float]:
        """One received window's MDCT -> (the header's summed log-likelihood ratios ``[RUNG_BITS]``, the codeword's
        ``[n]`` (0 for cells the receiver cannot use), pilot agreement, the pilots' noise relative to the expected)."""
        step, used, place = self.places(coefs, layout)
        sigma = self.expected_noise(coefs).reshape(-1)[layout.cells]
        agreement, noise = self.agreement(step, used, place, layout), self.pilot_noise(step, used, place, sigma, layout)
        relative = np.where(used, noise * sigma / np.maximum(step, 1e-300), 1.0)  # noise in steps
        header, body, interleave = self.file_slots(layout, key)
        head = levels.soft_bits(place[header], relative[header], 1)[:, 0] * used[header]
        header_llr = np.bincount(np.arange(len(header)) % RUNG_BITS, head, minlength=RUNG_BITS)
        slots = levels.soft_bits(place[body], relative[body], self.cfg.adaptive.bits_per_cell) * used[body, None]
        return header_llr, slots.reshape(-1)[interleave], agreement, noise

    def decode_file(self, rung: int, word_llr: np.ndarray, iterations: int, sender: bool = False
                    ) -> tuple[bytes | None, str]:
        """Soft bits of a codeword of size ``rung`` -> (the image file's bytes, or None; one line on what went
        wrong). ``sender``: the sender's check of its own stego (:func:`code.decode`)."""
        k = rung_bits(rung)
        if k > MAX_RATE * len(word_llr):
            return None, "the message-size header is unreadable"
        message, ok = code.decode(word_llr, k, iterations, sender=sender)
        head = payload.Header.from_bits(message[: payload.HEADER_BITS])
        if not ok or head is None:
            return None, f"the error-correcting code failed ({k} message bits)"
        data = payload.checked(payload.bits_to_bytes(message[payload.HEADER_BITS:]), head.length)
        return (data, "") if data is not None else (None, "the image bytes fail their checksum")

    def probe_capacity(self, cover: np.ndarray, layout: CellLayout, key: str | None,
                       bounds: tuple[np.ndarray, np.ndarray] | None = None, rounds: int = FIXED_POINT_ROUNDS
                       ) -> tuple[float, np.ndarray, WindowSent]:
        """(the capacity (bits) of this cover's window: the soft bits a random codeword gets through the sender's own
        stego; that stego; its :meth:`_embed_one` info). ``bounds``, ``rounds``: as in :meth:`_embed_one`."""
        probe, llr, stego, info = self.probe_soft_bits(cover, layout, key, bounds, rounds)
        return read_back_capacity(probe, llr), stego, info

    def probe_soft_bits(self, cover: np.ndarray, layout: CellLayout, key: str | None,
                        bounds: tuple[np.ndarray, np.ndarray] | None = None, rounds: int = FIXED_POINT_ROUNDS,
                        probe: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, WindowSent]:
        """(the probe codeword ``[n]``, its soft bits as the receiver reads them from the sender's own stego, that
        stego, its :meth:`_embed_one` info): :meth:`probe_capacity`'s parts. ``probe``: the codeword (default: the
        sender's, random bits of seed 0)."""
        if probe is None:
            probe = np.random.default_rng(0).integers(0, 2, len(self.file_slots(layout, key)[2])).astype(np.uint8)
        probe_places = self.file_places(probe, 0, layout, key)
        stego, info = self._embed_one(lambda step: probe_places, cover, layout, bounds, rounds)
        _, llr, _, _ = self.soft_file(mdct.analyse(stego, self.hop, self.frames), layout, key)
        return probe, llr, stego, info

    def estimate_capacity(self, cover: np.ndarray, layout: CellLayout, key: str | None) -> float:
        """:meth:`probe_capacity`'s number without writing a probe: each codeword cell's bits carry
        :func:`levels.capacity` of its expected rounding noise over its step, both taken from the cover as the
        receiver takes them from the stego. The probe read 0.94-1.003 of it on the loud windows of training songs, at
        eight times the estimate's time (``benchmarks/capacity_estimate.py``); not where the change would clip (the
        rounding then bends the change, which only a probe shows), nor where the sender's fixed point does not settle
        (a rare window whose probe reads half: the sender's check of what it writes catches those)."""
        coefs = mdct.analyse(cover, self.hop, self.frames)
        step, unsure = (x.reshape(-1)[layout.cells] for x in self.cell_steps(coefs))
        noise = self.expected_noise_of(cover[:(self.frames + 1) * self.hop] / LSB).reshape(-1)[layout.cells]
        body = self.file_slots(layout, key)[1]
        used = (step[body] > 0) & ~unsure[body]
        return float(levels.capacity(noise[body][used] / step[body][used], self.cfg.adaptive.bits_per_cell).sum())

    def _send_file(self, image: Array, cover: np.ndarray, layout: CellLayout, key: str | None,
                   room: float) -> tuple[np.ndarray, WindowSent]:
        """The image compressed to the largest message this cover carries. The file is lossless and the sender
        reads its own stego exactly as the receiver will, so it measures the capacity (the soft bits a random
        codeword gets through), and keeps a stego only when its own decoder recovers the image."""
        n = len(self.file_slots(layout, key)[2])
        capacity, stego, info = self.probe_capacity(cover, layout, key)
        fill = min(CODE_FILL, FILL_PER_CAPACITY * capacity / n)
        rung = max(r for r in range(ANALOG_RUNG) if rung_bits(r) <= max(room * fill * capacity, rung_bits(0))
                   and rung_bits(r) <= MAX_RATE * n)
        for tries in range(1, SEND_TRIES + 1):
            k = rung_bits(rung)
            budget = k // 8 - payload.HEADER_BITS // 8 - 4  # bytes left for the image after its header and CRC
            try:
                data, quality = payload.compress(image, budget, self.cfg.image_codec.upper())
            except PixinwavError:
                data, quality = None, None
            if data is not None:
                head = payload.Header(self.cfg.image_codec.upper(), image.shape[2], image.shape[1], 1, len(data))
                message = np.concatenate([head.to_bits(), payload.bytes_to_bits(payload.with_crc(data))])
                places = self.file_places(code.encode(np.pad(message, (0, k - len(message))), n), rung, layout, key)
                stego, info = self._embed_one(lambda step: places, cover, layout)  # the same whatever the steps
                received = self.soft_file(mdct.analyse(stego, self.hop, self.frames), layout, key)
                if (received[2] >= NO_FILE_AGREEMENT
                        and self.decode_file(rung_of(received[0]), received[1], SENDER_ITERATIONS, sender=True)[0] == data):
                    decoded = payload.decompress(data, image.shape[0], image.shape[1:])
                    return stego, replace(info, payload="file", bytes=len(data), quality=quality, message_bits=k,
                                          capacity_bits=round(capacity), tries=tries, presence=1.0,
                                          expected_ssim=float(image_ssim(decoded[None], image[None])[0]))
            if rung == 0:
                break
            rung = max(rung - 2, 0)  # 20 % less
        # nothing fits: the stego carries the last message tried, which the receiver may well not decode; say so
        return stego, replace(info, payload="file", bytes=0, message_bits=k, capacity_bits=round(capacity),
                              tries=SEND_TRIES, expected_ssim=0.0)

    def _send_analog(self, image: Array, cover: np.ndarray, layout: CellLayout,
                     key: str | None) -> tuple[np.ndarray, WindowSent]:
        """v1's analog codes in the file layout (the header says so), with the SSIM the receiver will get, or 0
        where the header would not read back."""
        units, header = self.units(image, layout), self.file_slots(layout, key)[0]

        def places(step: np.ndarray) -> np.ndarray:
            out = self.code_places(units, layout, step)
            out[header] = header_places(ANALOG_RUNG, len(header))
            return out

        stego, info = self._embed_one(places, cover, layout)
        coefs = mdct.analyse(stego, self.hop, self.frames)
        if rung_of(self.soft_file(coefs, layout, key)[0]) != ANALOG_RUNG:
            return stego, replace(info, expected_ssim=0.0)
        revealed, agreement, _ = self.analog_image(coefs, layout, header)
        return stego, replace(info, presence=agreement,
                              expected_ssim=float(image_ssim(revealed[None], image[None])[0]))

    # --- revealing ----------------------------------------------------------------------------------------------
    def places(self, coefs: np.ndarray, layout: CellLayout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One received window's MDCT ``[frames, hop]`` -> per position (step, whether it is used, its place inside
        the step minus the dither)."""
        step, unsure = (x.reshape(-1)[layout.cells] for x in self.cell_steps(coefs))
        used = (step > 0) & ~unsure
        place = np.zeros(len(step))
        place[used] = np.remainder(coefs.reshape(-1)[layout.cells][used] / step[used] - layout.dither[used], 1.0)
        return step, used, place

    def rounding_noise(self, filters: np.ndarray, frames: int) -> np.ndarray:
        """``[frames, hop]`` RMS (waveform units) of the shaped rounding error in each MDCT cell: white 16-bit
        rounding noise through the filter ``1 / A`` of that moment (``filters``: :func:`shaping_filter`'s)."""
        omega = np.pi * (np.arange(self.hop) + 0.5) / self.hop
        response = 1 + filters @ np.exp(-1j * np.outer(np.arange(1, filters.shape[1] + 1), omega))  # A at each bin
        block = np.minimum((np.arange(frames) * self.hop + self.hop) // SHAPING_BLOCK, len(filters) - 1)
        return ROUNDING_RMS_LSB * LSB / np.abs(response[block])

    def give_up_power(self, coefs: np.ndarray, filters: np.ndarray) -> np.ndarray:
        """``[frames, hop]`` change that shrinks each cover cell so that, once the shaped rounding noise is added,
        its expected power is the cover's (by at most a factor of 4: a cell the noise would drown stays audible)."""
        noise = self.rounding_noise(filters, len(coefs)) ** 2
        local = self.local_level(coefs) ** 2
        return (np.sqrt(np.clip(1 - noise / local, 0.25, 1.0)) - 1) * coefs

    def expected_noise(self, coefs: np.ndarray) -> np.ndarray:
        """``[frames, hop]`` RMS (waveform units) of the shaped rounding error in each cell, the sender's filters
        derived again from the window."""
        return self.expected_noise_of(mdct.synthesise(coefs, self.hop) / LSB)

    def expected_noise_of(self, wave: np.ndarray) -> np.ndarray:
        """:meth:`expected_noise` from the window's samples ``wave`` (in LSB)."""
        # (at most 20 dB under plain rounding: deeper notches are what the filter aims at, not what it reaches)
        return np.maximum(self.rounding_noise(self.shaping(wave), self.frames), 0.1 * ROUNDING_RMS_LSB * LSB)

    @staticmethod
    def agreement(step: np.ndarray, used: np.ndarray, place: np.ndarray, layout: CellLayout) -> float:
        """How well the pilots read their known code, from :meth:`places`: about 1 with an image, 0 without."""
        pilots = used & (layout.coef < 0)
        return float(np.cos(2 * np.pi * wrap(place[pilots] - PILOT_CODE)).mean()) if pilots.any() else 0.0

    @staticmethod
    def pilot_noise(step: np.ndarray, used: np.ndarray, place: np.ndarray, sigma: np.ndarray,
                    layout: CellLayout) -> float:
        """The pilots' error relative to the rounding noise expected in their cells (``sigma``), robustly: about
        1 for an intact file (the pilots with coarse steps, where a code cannot wrap, when there are enough)."""
        pilots = used & (layout.coef < 0)
        error = wrap(place[pilots] - PILOT_CODE)
        coarse = step[pilots] >= NOISE_PILOT_STEP_LSB * LSB
        ratio = (error * step[pilots] / sigma[pilots])[coarse if coarse.sum() >= 16 else slice(None)]
        return max(1.4826 * float(np.median(np.abs(ratio))) if len(ratio) else 1.0, 0.5)

    def read(self, coefs: np.ndarray, layout: CellLayout, skip: np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray, float, float, float | None]:
        """One received window's MDCT ``[frames, hop]`` -> (z estimate per sent coefficient ``[K]``, its weight
        (inverse noise variance in training deviations, 0 = no copy arrived), pilot agreement, the pilots' noise
        relative to the expected rounding noise, the share of the loudest cells' pilots that are off
        (:meth:`loud_pilots_off`)). ``skip``: positions that carry something else (a header)."""
        step, used, place = self.places(coefs, layout)
        sigma = self.expected_noise(coefs).reshape(-1)[layout.cells]
        agreement, noise = self.agreement(step, used, place, layout), self.pilot_noise(step, used, place, sigma, layout)
        data = used & (layout.coef >= 0)
        if skip is not None:
            data[skip] = False
        m = self.margin(step[data])
        unit = np.clip((place[data] - m) / (1 - 2 * m), 0.0, 1.0)
        span = 2 * self.cfg.modulo.code_range
        z = (unit - 0.5) * span
        # a code read with noise n on a step s: z's noise is span * n / (s (1 - 2m)) deviations; n is the rounding
        # noise of that cell, scaled by what the pilots measured
        weight = (step[data] * (1 - 2 * m) / (span * noise * sigma[data])) ** 2
        k = layout.sent
        total = np.bincount(layout.coef[data], weight, minlength=k)
        estimate = np.bincount(layout.coef[data], weight * z, minlength=k) / np.maximum(total, 1e-12)
        return estimate, total, agreement, noise, self.loud_pilots_off(step, used, place, layout)

    def _reveal_file(self, spec: Array, layout: CellLayout, key: str | None) -> Extracted:
        images, agreements, lost, details, exact = [], [], [], [], []
        size = (self.cfg.image_size, self.cfg.image_size)
        for row in as_numpy(spec).astype(np.float64):
            header_llr, word_llr, agreement, noise = self.soft_file(row, layout, key)
            rung = rung_of(header_llr)
            if rung == ANALOG_RUNG:
                image, agreement, warning = self.analog_image(row, layout, self.file_slots(layout, key)[0])
                images.append(image)
                agreements.append(agreement)
                lost.append(False)
                details.append(warning)
                exact.append(False)
                continue
            data, why = (self.decode_file(rung, word_llr, RECEIVER_ITERATIONS) if agreement >= NO_FILE_AGREEMENT
                         else (None, f"its pilots agree {agreement:.2f}"))
            agreements.append(1.0 if data is not None else agreement)  # its checksum holds: the image is there, exact
            lost.append(data is None)
            exact.append(data is not None)
            images.append(np.zeros((self.cfg.image_channels, *size), np.float32) if data is None
                          else payload.decompress(data, self.cfg.image_channels, size))
            details.append(None if data is not None else
                           f"a hidden image was found but it cannot be decoded ({why}; the pilots read {noise:.1f} times "
                           "the noise of an intact 16-bit file): the audio was changed after hiding (volume, noise, "
                           "a codec) or hidden with another --key")
        detail = details[0]
        pilots = int((layout.coef < 0).sum())
        presence = np.array(agreements, np.float32) if pilots >= MIN_PILOTS_TO_TELL else None
        return Extracted(np.stack(images), presence, detail, np.array(lost), verdict=EXACT if exact[0] else None)

    def _reveal_waves(self, spec: Array, layout: CellLayout, key: str | None = None) -> Extracted:
        """NumPy arrays, whatever ``spec`` is."""
        if self.cfg.adaptive.bits_per_cell:
            return self._reveal_file(spec, layout, key)
        images, agreements, warnings = [], [], []
        for row in as_numpy(spec).astype(np.float64):
            image, agreement, warning = self.analog_image(row, layout)
            images.append(image)
            agreements.append(agreement)
            warnings.append(warning)
        pilots = int((layout.coef < 0).sum())
        presence = np.array(agreements, np.float32) if pilots >= MIN_PILOTS_TO_TELL else None
        return Extracted(np.stack(images), presence, warnings[0])

    def loud_pilots_off(self, step: np.ndarray, used: np.ndarray, place: np.ndarray, layout: CellLayout) -> float | None:
        """The share of pilots in cells at the largest step that read their code ``LOUD_OFF_STEPS`` off or more (None
        with fewer than ``LOUD_PILOTS`` such pilots): see ``LOUD_OFF_SHARE``."""
        loud = used & (layout.coef < 0) & (step >= self.cfg.modulo.max_step_lsb * LSB)
        if loud.sum() < LOUD_PILOTS:
            return None
        return float(np.mean(np.abs(wrap(place[loud] - PILOT_CODE)) > LOUD_OFF_STEPS))

    def analog_image(self, coefs: np.ndarray, layout: CellLayout, skip: np.ndarray | None = None
                     ) -> tuple[np.ndarray, float, str | None]:
        """One received window's MDCT -> (the image ``[C, H, W]`` float32 from its analog codes, pilot agreement, a
        warning that it is damaged or None)."""
        estimate, weight, agreement, noise, loud_off = self.read(coefs, layout, skip)
        warning = damage(noise, loud_off)
        # Wiener: a unit-deviation coefficient read with noise variance 1 / weight is shrunk by weight / (1 + weight)
        shrunk = (estimate * weight / (1 + weight)).astype(np.float32)[None]
        return self.image_from(shrunk, self.order(layout))[0], agreement, warning

    def reveal_spec(self, spec: Array, key: str | None = None) -> Array:
        return like(self._reveal_waves(spec, self.layout(key), key).image, spec)

    def extract(self, wave: Array, key: str | None = None, band_limit_hz: float | None = None) -> Extracted:
        return self._reveal_waves(self.analyse(wave), self.layout(key, band_limit_hz), key)

    def presence(self, wave: Array, search: bool = True, layout: CellLayout | None = None) -> float | None:
        layout = layout or self.layout()
        if int((layout.coef < 0).sum()) < MIN_PILOTS_TO_TELL:
            return None
        return self.agreement(*self.places(as_numpy(self.analyse(wave[None]))[0], layout), layout)

    def presence_many(self, waves: Array, key: str | None = None,
                      band_limit_hz: float | None = None) -> np.ndarray | None:
        layout = self.layout(key, band_limit_hz)
        if int((layout.coef < 0).sum()) < MIN_PILOTS_TO_TELL:
            return None
        return np.array([self.agreement(*self.places(row, layout), layout) for row in as_numpy(self.analyse(waves))])


