"""Informed modulo coding: the image's colour-DCT coefficients written as analog values into the position of the
cover's full-window DCT coefficients within a step; optionally a small CNN on the decoded image (``widths``:
:class:`RefinedModuloStego`, the only part that needs torch).

Why not the paper's residual: a receiver that does not know the cover hears it as noise many times louder than
the hidden signal, which is why blind residuals stall near SSIM 0.3-0.7 through a real file. The encoder,
however, knows the cover. So each used audio coefficient ``X_k`` is moved by less than half a step ``s_k`` to
the nearest value whose place inside its step equals the code: ``(X_k + r_k) / s_k = c_k + d_k (mod 1)``. The
receiver reads ``c_k`` back from the file alone; its only noise is the 16-bit rounding (0.29 LSB RMS per
coefficient, the orthonormal DCT keeps it white), so the cover's loudness no longer matters for the image.

Where the change goes: steps follow the median spectrum of the training music, ``bin_snr_db`` below it, so the
change sits under the cover's own energy where music masks it (measured: ViSQOL 4.71 of 4.73 at 30 dB per
bin); bins where the step would fall under ``min_step_lsb`` (the high band music leaves empty) are not used.
The most important image coefficients (largest variance in the training photos) go to the largest steps.

One used bin in 64 (at most 512) is a pilot carrying a known code: from them the receiver measures the file's
gain (a volume change scales every coefficient and scrambles the codes of the loud bins) and the noise the
channel added, which sets how much each code is trusted.

Everything the receiver needs is in three stored buffers (identical bits at both ends, so the layout derived
from them is identical): the per-coefficient image mean and deviation, and the per-bin steps.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import scipy

from ..arrays import Array, as_numpy, like
from ..channel import LSB, ROUNDING_RMS_LSB
from ..config import ModelConfig
from .base import Extracted, Hidden, StegoScheme
from .dither import GOLDEN, MIN_PILOTS_TO_TELL, PILOT_CODE, keyed_dither, wrap
from .image_coefficients import ImageCoefficients

MAX_PILOTS = 512  # bins with a known code, for the receiver to measure gain and noise (1 % of the capacity)
NOISE_PILOT_STEP_LSB = 32.0  # noise is measured on pilots with steps at least this large
# The receiver's gain search: +-6.5 dB, so that halving or doubling a file (6.02 dB, the commonest volume change)
# lies inside it (at +-6.0 dB exactly, a halved file was read at the edge, at a gain 0.2 % off: SSIM 0.4, no warning)
GAIN_SEARCH_DB = 6.5


class Layout(NamedTuple):
    """Where everything goes; derived from the model's buffers, so identical at both ends."""

    bins: np.ndarray  # audio DCT bins carrying image codes, largest step first
    step: np.ndarray  # their steps (waveform units, float64)
    dither: np.ndarray  # their fixed offsets in [0, 1)
    margin: np.ndarray  # their guard margins (codes stay in [margin, 1 - margin])
    coefs: np.ndarray  # the image coefficient (flat colour-DCT index) each bin carries
    pilots: np.ndarray  # bins carrying the known code PILOT_CODE
    pilot_step: np.ndarray
    pilot_dither: np.ndarray


def spaced(last: int, count: int) -> np.ndarray:
    """``count`` indices spread evenly over ``0 ... last``, rounded half to even: the places every release has used
    (torch's float32 ``linspace`` up to 0.2.11, whose arithmetic this repeats: the first half counted up from 0, the
    second down from ``last``), so that layouts, and the files written with them, stay the same."""
    if count == 1:
        return np.zeros(1, np.int64)
    step = np.float32(np.float32(last) / np.float32(count - 1))
    index = np.arange(count)
    up = np.float32(0) + step * index.astype(np.float32)
    down = np.float32(last) - step * (count - 1 - index).astype(np.float32)
    return np.round(np.where(index < count // 2, up, down)).astype(np.int64)


def dct(wave: np.ndarray) -> np.ndarray:
    """Orthonormal DCT-II over the last axis, float64."""
    return scipy.fft.dct(np.asarray(wave, np.float64), norm="ortho", axis=-1)


def idct(spec: np.ndarray) -> np.ndarray:
    return scipy.fft.idct(spec, norm="ortho", axis=-1)


def music_envelope_prior(num_bins: int, sample_rate: int) -> np.ndarray:
    """Median orthonormal-DCT magnitude per bin of typical music (fit by eye to the Debian training tracks:
    -26 dB at 1 kHz, -42 dB at 4 kHz, -49 dB at 8 kHz); used until ``fit_statistics`` measures the real one."""
    freq = (np.arange(num_bins, dtype=np.float64) + 0.5) * sample_rate / (2 * num_bins)
    return 0.05 * (np.maximum(freq, 100.0) / 1000.0) ** -1.3


class ModuloStego(ImageCoefficients, StegoScheme):
    """The container "spectrogram" is the full-window DCT ``[B, T]``. Takes a key, measures statistics, tells
    whether an image is present (its pilots). NumPy throughout: it loads and runs without torch."""

    takes_key = True
    measures_statistics = True
    has_presence = True
    follows_band_limit = True

    def __init__(self, cfg: ModelConfig):
        super().__init__(cfg)
        self._layouts: dict[tuple, Layout] = {}
        self.init_image_coefficients(cfg)
        # a prior until fit_statistics: music as the envelope above
        self.register_buffer("steps", self.steps_from_envelope(music_envelope_prior(cfg.clip_samples, cfg.sample_rate)))

    # --- statistics ---------------------------------------------------------------------------------------
    def steps_from_envelope(self, envelope: np.ndarray) -> np.ndarray:
        """Per-bin step (float64, waveform units; 0 = bin not used): ``bin_snr_db`` under the envelope, capped,
        inside ``band``, and dropped where it would be under ``min_step_lsb``."""
        cfg = self.cfg
        # a uniform change of +- step / 2 has RMS step / sqrt 12
        steps = math.sqrt(12) * np.asarray(envelope, np.float64) * 10 ** (-cfg.modulo.bin_snr_db / 20)
        steps = np.minimum(steps, cfg.modulo.max_step_lsb * LSB)
        steps[steps < cfg.modulo.min_step_lsb * LSB] = 0.0
        t = steps.shape[0]
        lo, hi = round(cfg.band[0] * t), round(cfg.band[1] * t)
        steps[:lo] = 0.0
        steps[hi:] = 0.0
        # Never the DC bin: a constant offset lands there alone, and writers that floor instead of round (libsndfile
        # turns float into int16 that way) add -0.5 LSB to every sample, shifting the luma DC code by a quarter step.
        steps[0] = 0.0
        return steps

    def fit_statistics(self, images: Array, covers: Array) -> None:
        """Measure the image-coefficient statistics on training images ``[N, C, H, W]`` and the music envelope
        (median magnitude per bin, smoothed over about 130 Hz in the log domain) on training covers ``[N, T]``."""
        self.fit_image_statistics(images)
        magnitudes = np.sort(np.abs(dct(as_numpy(covers))), axis=0)
        envelope = np.log(np.maximum(magnitudes[(len(magnitudes) - 1) // 2], 1e-12))  # (the lower median)
        width = max(1, envelope.shape[-1] // 168) | 1
        # a running mean of ``width`` bins, over the bins that exist at the ends
        total = scipy.ndimage.uniform_filter1d(envelope, width, mode="constant") * width
        count = scipy.ndimage.uniform_filter1d(np.ones_like(envelope), width, mode="constant") * width
        self.set_buffer("steps", self.steps_from_envelope(np.exp(total / count)))

    # --- layout (derived from the buffers; deterministic) ---------------------------------------------------
    def layout(self, key: str | None = None, band_limit_hz: float | None = None) -> Layout:
        """Which bins carry which image coefficients (largest steps to the most important coefficients), and
        which carry pilots: one bin in 64 (at most 512), spread over all step sizes. The offsets added to every
        code are a fixed public sequence, or with ``key`` a secret one (see :func:`keyed_dither`). Cached per
        key until the buffers change.

        ``band_limit_hz``: use only bins under it (a cover sampled at 16 kHz keeps nothing above 8 kHz); the
        receiver knows it from the file's rate, so both ends derive the same, smaller layout."""
        cache = (key, band_limit_hz, self.state_version)
        if cache not in self._layouts:
            self._layouts = {cache: self._make_layout(key, band_limit_hz)}  # one entry: a key serves a file or two
        return self._layouts[cache]

    def _make_layout(self, key: str | None, band_limit_hz: float | None) -> Layout:
        steps = self.steps.astype(np.float64, copy=True)
        if band_limit_hz is not None:
            steps[int(band_limit_hz / (self.cfg.sample_rate / 2) * len(steps)):] = 0.0
        used = np.argsort(-steps, kind="stable")[: int((steps > 0).sum())]
        if key is None:
            dither = np.remainder(np.arange(len(used), dtype=np.float64) * GOLDEN, 1.0)
        else:
            dither = keyed_dither(key, len(used))
        count = min(MAX_PILOTS, len(used) // 64)
        is_pilot = np.zeros(len(used), bool)
        if count:
            is_pilot[spaced(len(used) - 1, count)] = True
        coefs = self.importance_order()
        data = np.flatnonzero(~is_pilot)[: len(coefs)]
        step = steps[used[data]]
        # Keep codes 4 rounding-noise deviations away from the wrap point, so noise never flips an end value.
        # (times the reciprocal, as torch divided a number by an array up to 0.2.11: the same margins to the last bit)
        margin = np.minimum(4 * ROUNDING_RMS_LSB * LSB * (1 / step), 0.2)
        return Layout(used[data], step, dither[data], margin, coefs[: len(data)],
                      used[is_pilot], steps[used[is_pilot]], dither[is_pilot])

    @property
    def top_frequency(self) -> float:
        """Hz of the highest audio bin that carries a code: a cover sampled below twice this loses codes."""
        layout = self.layout()
        bins = np.concatenate([layout.bins, layout.pilots])
        return (float(bins.max()) + 0.5) * self.cfg.sample_rate / (2 * self.cfg.clip_samples) if len(bins) else 0.0

    @property
    def capacity(self) -> int:
        """How many image coefficients the audio carries."""
        return len(self.layout().bins)

    def carries(self) -> dict:
        layout = self.layout()
        return {"coefficients_sent": len(layout.bins), "pilots": len(layout.pilots)}

    # --- image <-> codes ----------------------------------------------------------------------------------
    def codes(self, image: np.ndarray, layout: Layout) -> np.ndarray:
        """``[B, C, H, W] -> [B, K]`` codes in [margin, 1 - margin]."""
        z = self.image_units(image, layout.coefs)
        unit = 0.5 + 0.5 * np.clip(z / self.cfg.modulo.code_range, -1.0, 1.0)
        return layout.margin + (1 - 2 * layout.margin) * unit

    def decode(self, codes: np.ndarray, layout: Layout, noise_lsb: np.ndarray | float = ROUNDING_RMS_LSB) -> np.ndarray:
        """Codes ``[B, K]`` -> image ``[B, C, H, W]`` before any refiner (unsent coefficients at their mean).

        Each coefficient is the linear least-squares (Wiener) estimate from its code: noise of deviation
        ``noise_lsb`` per bin (the file's rounding, or what the pilots measured, ``[B]``) becomes ``noise``
        training deviations on a coefficient of unit deviation, so the estimate is the reading times
        ``1 / (1 + noise^2)``. The smallest steps carry codes about as noisy as the coefficients themselves;
        shrinking them raised validation SSIM from 0.896 to 0.918 (a development prototype)."""
        margin = layout.margin
        unit = ((np.clip(codes, margin, 1 - margin) - margin) / (1 - 2 * margin)).astype(np.float32)
        noise_lsb = np.asarray(noise_lsb, np.float64).reshape(-1, 1)
        noise = (2 * self.cfg.modulo.code_range * noise_lsb * LSB / (layout.step * (1 - 2 * margin))).astype(np.float32)
        return self.image_from((2 * unit - 1) * self.cfg.modulo.code_range / (1 + np.square(noise)), layout.coefs)

    # --- the scheme interface -----------------------------------------------------------------------------
    def analyse(self, wave: Array) -> Array:
        return like(dct(as_numpy(wave)), wave)

    def embed(self, image: Array, cover: Array, key: str | None = None,
              band_limit_hz: float | None = None) -> Hidden:
        self.check_cover(cover)
        layout = self.layout(key, band_limit_hz)
        spec = dct(as_numpy(cover))
        container_spec = spec.copy()
        pilots = np.full((len(spec), len(layout.pilots)), PILOT_CODE)
        for bins, step, target in ((layout.bins, layout.step, self.codes(as_numpy(image), layout) + layout.dither),
                                   (layout.pilots, layout.pilot_step, pilots + layout.pilot_dither)):
            offset = wrap(target - spec[:, bins] / step)  # in steps, within +-1/2
            container_spec[:, bins] += offset * step
        # Spectra stay float64: a float32 coefficient of a loud bin is only good to about 0.3 LSB.
        container = idct(container_spec).astype(as_numpy(cover).dtype)
        return Hidden(like(spec, cover), like(container_spec, cover), like(container, cover))

    def read_codes(self, spec: np.ndarray, layout: Layout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Container spectrum ``[B, T]`` -> (codes ``[B, K]``, noise per bin in LSB ``[B]``, pilot agreement ``[B]``).

        The pilots carry the known code 1/2. If the file's gain was changed they stop agreeing, and the gain
        that makes them agree again is searched (within ``GAIN_SEARCH_DB``); their remaining spread is the noise the
        channel added, which sets how much the decoder trusts each code."""
        codes, noises, agreements = [], [], []
        for row in np.asarray(spec, np.float64):
            gain = self.find_gain(row, layout)
            error = self.pilot_error(row, layout, np.array([gain]))[0]
            agreements.append(np.cos(2 * math.pi * error).mean() if len(error) else 1.0)
            coarse = layout.pilot_step >= NOISE_PILOT_STEP_LSB * LSB  # small steps saturate under loud noise
            error_lsb = (error * layout.pilot_step / LSB)[coarse if coarse.sum() >= 16 else slice(None)]
            noise = 1.4826 * lower_median(np.abs(error_lsb)) if len(error_lsb) else ROUNDING_RMS_LSB
            noises.append(max(noise, 0.5 * ROUNDING_RMS_LSB))
            codes.append(np.remainder(gain * row[layout.bins] / layout.step - layout.dither, 1.0))
        return np.stack(codes), np.array(noises), np.array(agreements)

    @staticmethod
    def pilot_error(row: np.ndarray, layout: Layout, gains: np.ndarray) -> np.ndarray:
        """``[G, P]``: how far (in steps, within +-1/2) each pilot of a spectrum ``row`` read at each gain sits
        from its code."""
        ratio, phase = row[layout.pilots] / layout.pilot_step, layout.pilot_dither + PILOT_CODE
        return wrap(np.asarray(gains, np.float64)[:, None] * ratio - phase)

    @staticmethod
    def agreement(row: np.ndarray, layout: Layout, gains: np.ndarray) -> np.ndarray:
        """Mean cosine of the pilots' errors at each gain ``[G]``: 1 when all sit on their code, about 0 for
        audio that carries no pilots."""
        return np.cos(2 * math.pi * ModuloStego.pilot_error(row, layout, gains)).mean(axis=1)

    def presence(self, wave: Array, search: bool = True, layout: Layout | None = None) -> float | None:
        """How well the pilots of a received window ``[T]`` agree at the gain the receiver finds: near 1 for a
        stego window, near 0 for audio without an image here (another offset, a lossy copy, an ordinary file).
        ``search=False`` skips the gain grid (fast, for scanning many windows of a file whose volume was not
        changed). None when the model has too few pilots to tell (tiny test geometries)."""
        row, layout = dct(as_numpy(wave)), layout or self.layout()
        if len(layout.pilots) < MIN_PILOTS_TO_TELL:
            return None
        return float(self.agreement(row, layout, np.array([self.find_gain(row, layout, search)]))[0])

    def presence_many(self, waves: Array, key: str | None = None,
                      band_limit_hz: float | None = None) -> np.ndarray | None:
        """:meth:`presence` without the gain grid for many windows ``[W, T]`` at once (the scan of
        ``--offset auto``): batched DCTs and a vectorised least-squares gain. ``[W]``, or None with too few
        pilots to tell."""
        layout = self.layout(key, band_limit_hz)
        if len(layout.pilots) < MIN_PILOTS_TO_TELL:
            return None
        rows = dct(as_numpy(waves))[:, layout.pilots]  # [W, P]
        ratio, weight = rows / layout.pilot_step, np.square(layout.pilot_step / LSB)
        phase = layout.pilot_dither + PILOT_CODE
        gain = np.ones((len(rows), 1))
        with np.errstate(invalid="ignore", divide="ignore"):
            for _ in range(3):
                error = wrap(gain * ratio - phase)
                gain = gain - (weight * error * ratio).sum(1, keepdims=True) / (weight * np.square(ratio)).sum(1, keepdims=True)
            # a silent window has no pilots to read (0 / 0 above): it scores 0, not NaN (which argmax would pick)
            return np.nan_to_num(np.cos(2 * math.pi * wrap(gain * ratio - phase)).mean(axis=1), nan=0.0)

    @staticmethod
    def find_gain(row: np.ndarray, layout: Layout, search: bool = True) -> float:
        """The gain (within ``GAIN_SEARCH_DB``; 1.0 for an untouched file) that re-aligns the pilots.

        Near the right gain each pilot's error (in steps) grows linearly with its ratio ``X / step``, so a
        weighted least-squares line through the errors gives the correction; weights favour pilots with large
        steps, whose rounding noise is the smallest fraction of a step. Starting at 1 this finds the 30 ppm of
        a writer scaling by 32767 instead of 32768; if the pilots still disagree afterwards (and ``search``), a
        grid over that range finds the neighbourhood first."""
        if not len(layout.pilots):
            return 1.0
        ratio, weight = row[layout.pilots] / layout.pilot_step, np.square(layout.pilot_step / LSB)
        error = lambda gain: ModuloStego.pilot_error(row, layout, np.array([gain]))[0]
        agreement = lambda gains: ModuloStego.agreement(row, layout, gains)

        def refine(gain: float) -> float:
            for _ in range(3):
                gain -= float((weight * error(gain) * ratio).sum() / (weight * np.square(ratio)).sum())
            return gain

        gain = refine(1.0)
        if not search or agreement(np.array([gain]))[0] > 0.9:
            return gain
        best, score = 1.0, -1.0
        span = GAIN_SEARCH_DB / 20 * math.log(10)
        grid = np.exp(np.arange(-span, span, 2e-5, dtype=np.float64))
        for start in range(0, len(grid), 8192):
            chunk = grid[start:start + 8192]
            values = agreement(chunk)  # the loudest pilots' peaks are a few 1e-5 wide: a 2e-5 grid lands on them
            if values.max() > score:
                score, best = float(values.max()), float(chunk[values.argmax()])
        gain = refine(best)
        return gain if agreement(np.array([gain]))[0] > 0.5 else 1.0

    def _reveal(self, spec: np.ndarray, layout: Layout) -> Extracted:
        codes, noise, agreement = self.read_codes(spec, layout)
        return Extracted(self.decode(codes, layout, noise), agreement if len(layout.pilots) >= MIN_PILOTS_TO_TELL else None)

    def reveal_spec(self, spec: Array, key: str | None = None) -> Array:
        return like(self._reveal(as_numpy(spec), self.layout(key)).image, spec)

    def extract(self, wave: Array, key: str | None = None, band_limit_hz: float | None = None) -> Extracted:
        """(revealed image ``[B, C, H, W]``, pilot agreement ``[B]``, or None with too few pilots to tell; see
        :meth:`presence`) from one read of the received waveform ``[B, T]``."""
        return self._reveal(dct(as_numpy(wave)), self.layout(key, band_limit_hz))


def lower_median(values: np.ndarray) -> float:
    """The lower of the two middle values for an even count (torch's median, which releases up to 0.2.11 used)."""
    return float(np.sort(values)[(len(values) - 1) // 2])
