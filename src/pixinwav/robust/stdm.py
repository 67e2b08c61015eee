"""Spread-transform dither modulation (STDM) on masking-normalised MDCT coefficients: one bit per group of
``spread`` neighbouring coefficients of a frame.

Each coefficient is divided by its masking scale (``masking.py``), so every normalised coefficient has about unit
size. A group's normalised coefficients are projected on a secret +-1 / sqrt(spread) pattern; the projection is
moved to the nearest point of the lattice ``step (Z + dither + bit / 2)`` and the move is spread back over the
group along the pattern (informed embedding: the cover's own projection is cancelled, not added to). A change of
``change_db`` under the local level per coefficient sets ``step = 10^(change_db / 20) sqrt(12 spread)``.
The receiver re-derives the scale from what it received, projects, and turns the distance to the two lattices
into a log-likelihood ratio with the noise it measures per group.
"""
from __future__ import annotations

import functools
import hashlib
import math
from dataclasses import dataclass

import numpy as np

import scipy

from .masking import masking_scale

# Masking neighbourhood: 3 frames (96 ms at 16 kHz, hop 512) x 5 bins (78 Hz): narrow enough in frequency to
# follow a melody's harmonics instead of filling the gaps between them.
TIME_RADIUS, FREQ_RADIUS = 1, 2
SOFT_FRAMES = 4096  # frames whose phases, usability and gains are taken at a time (``Lattice.soft``)
FIXED_POINT_ROUNDS = 3  # the sender re-derives the scale from its own stego this often (the receiver's view)
# The receiver measures each bit's noise over its neighbours (frames, groups each side). A file read on one frame grid:
# 61 frames (2 s) x 9 groups, where up to 0.2.12 it was 25 frames x 5: robust-v4 on the 12 training songs of
# benchmarks/robust_song.py --split train --neighbours F,G decoded 233 packets through AAC 64 instead of 195, 308
# through Opus 32 instead of 271, 732 through MP3 64 instead of 718, and the sharp photo came back through Opus 64 in
# 12 songs instead of 11 (the rest alike). A stretched file read piece by piece keeps the narrower one: its pieces are
# aligned one by one (in a one-off comparison on training songs through -1 % tempo, wider ones decoded 1-3 packets
# of 57 fewer).
GRID_NEIGHBOURS, PIECE_NEIGHBOURS = (30, 4), (12, 2)
_WRAP = 8 * np.pi**2
# Codec noise has heavier tails than the Gaussian the noise estimate assumes (through Opus 64 on training music, bits
# given 2 % odds of being wrong were wrong 14 % of the time): the log-likelihood ratios are scaled down by this. 0.6
# decoded the most packets on four training songs through Vorbis 128, Opus 64, MP3 64 and white noise (0.45: as many)
CALIBRATION = 0.6


def keyed_stream(key: str, label: str, count: int) -> np.ndarray:
    """``count`` uint64 words from SHAKE-256 of the key and a label: the same on every machine and NumPy version."""
    raw = hashlib.shake_256(f"pixinwav-robust:{label}:{key}".encode("utf-8")).digest(8 * count)
    return np.frombuffer(raw, dtype="<u8").copy()


def keyed_uniform(key: str, label: str, count: int) -> np.ndarray:
    return (keyed_stream(key, label, count) >> np.uint64(11)).astype(np.float64) / 2.0**53


def keyed_bits(key: str, label: str, count: int) -> np.ndarray:
    return (keyed_stream(key, label, count) & np.uint64(1)).astype(np.uint8)


def keyed_permutation(key: str, label: str, count: int) -> np.ndarray:
    return np.argsort(keyed_stream(key, label, count), kind="stable")


@functools.lru_cache(maxsize=4)
def keyed_lattice(key: str, low: int, high: int, spread: int, change_db: float, floor: float) -> "Lattice":
    """:meth:`Lattice.make`, kept for the last few keys (a reveal asks for it many times)."""
    return Lattice.make(key, low, high, spread, change_db, floor)


@dataclass(frozen=True)
class Lattice:
    low: int  # first MDCT bin used
    groups: int  # groups per frame; group g is bins low + g * spread ... + spread - 1
    spread: int
    signs: np.ndarray  # [groups, spread], +-1 / sqrt(spread)
    dither: np.ndarray  # [groups] in [0, 1)
    step: float
    floor: float  # masking scale where the cover counts as silent

    @classmethod
    def make(cls, key: str, low: int, high: int, spread: int, change_db: float, floor: float) -> "Lattice":
        groups = (high - low) // spread
        signs = (1.0 - 2.0 * keyed_bits(key, "signs", groups * spread).reshape(groups, spread)) / math.sqrt(spread)
        step = 10 ** (change_db / 20) * math.sqrt(12 * spread)
        return cls(low, groups, spread, signs, keyed_uniform(key, "dither", groups), step, floor)

    @property
    def high(self) -> int:
        return self.low + self.groups * self.spread

    def normalised(self, coefs: np.ndarray, scale: np.ndarray) -> np.ndarray:
        """``[..., frames, bins]`` -> ``[..., frames, groups, spread]`` coefficients over their scale."""
        band = slice(self.low, self.high)
        return (coefs[..., band] / scale[..., band]).reshape(*coefs.shape[:-1], self.groups, self.spread)

    def project(self, coefs: np.ndarray, scale: np.ndarray) -> np.ndarray:
        """``[..., frames, bins]`` -> ``[..., frames, groups]`` projections in steps, minus the dither, mod 1."""
        y = (self.normalised(coefs, scale) * self.signs).sum(-1)
        return np.mod(y / self.step - self.dither, 1.0)

    def scale(self, coefs: np.ndarray) -> np.ndarray:
        return masking_scale(coefs, TIME_RADIUS, FREQ_RADIUS, self.floor)

    def usable(self, scale: np.ndarray) -> np.ndarray:
        """``[..., frames, bins]`` masking scale -> ``[..., frames, groups]``: where a group is not in near-silence
        (most of its bins over twice the floor); elsewhere it carries nothing readable."""
        band = scale[..., self.low:self.high].reshape(*scale.shape[:-1], self.groups, self.spread)
        return (band > 2 * self.floor).mean(-1) > 0.5

    def embed(self, coefs: np.ndarray, bits: np.ndarray) -> np.ndarray:
        """``coefs [frames, bins]``, ``bits [frames, groups]`` -> stego coefficients. The scale is taken from the
        stego itself (a few fixed-point rounds), so the receiver, which only has the stego, derives the same."""
        stego = coefs
        target = 0.5 * bits  # project() already took the dither off
        for _ in range(FIXED_POINT_ROUNDS):
            scale = self.scale(stego)
            phase = self.project(coefs, scale)
            move = (target - phase + 0.5) % 1.0 - 0.5  # to the nearest point of the bit's lattice, in steps
            change = (move * self.step)[..., None] * self.signs  # [frames, groups, spread], normalised units
            stego = coefs.copy()
            stego[:, self.low:self.high] += change.reshape(len(coefs), -1) * scale[:, self.low:self.high]
        return stego

    def agreement(self, coefs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Received ``coefs [frames, bins]`` -> (agreement per group ``[groups]``, 1 for an exact stego and 0 for
        audio without one; usable ``[frames, groups]``)."""
        scale = self.scale(coefs)
        usable = self.usable(scale)
        closeness = np.cos(4 * np.pi * self.project(coefs, scale)) * usable
        return closeness.sum(0) / np.maximum(usable.sum(0), 1), usable

    def soft(self, coefs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Received ``coefs [frames, bins]`` -> (LLR ``[frames, groups]``, positive for bit 0; agreement per group
        ``[groups]`` as :meth:`agreement`; usable ``[frames, groups]``). The scale is taken over the whole song at once
        (its running sums would differ a little begun anywhere else); what follows from it frame by frame is taken
        ``SOFT_FRAMES`` at a time, the same values without a whole song's worth of each step at once (a 10-minute
        reveal peaked at 1.03 GB so)."""
        scale = self.scale(coefs)
        blocks = [slice(a, a + SOFT_FRAMES) for a in range(0, max(len(coefs), 1), SOFT_FRAMES)]
        phase, usable, gain = (np.concatenate(parts) for parts in zip(*[
            (self.project(coefs[b], scale[b]), self.usable(scale[b]), self.gain(scale[b])) for b in blocks]))
        return self.soft_phases(phase, usable, gain)

    def gain(self, scale: np.ndarray) -> np.ndarray:
        """``[..., frames, bins]`` masking scale -> ``[..., frames, groups]``: the variance (steps^2) a unit of noise
        power per coefficient adds to each group's projection."""
        band = scale[..., self.low:self.high].reshape(*scale.shape[:-1], self.groups, self.spread)
        return np.mean(band**-2.0, axis=-1) / self.step**2

    def soft_phases(self, phase: np.ndarray, usable: np.ndarray, gain: np.ndarray | None = None,
                    around: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`soft` from the projections ``phase [frames, groups]`` (:meth:`project`), where they are usable and,
        where known, each bit's ``gain`` (:meth:`soft`; without it the noise is all taken as relative); ``around``: the
        neighbourhood the noise is measured over (default ``GRID_NEIGHBOURS``).

        Each bit's noise (variance in steps^2) has two parts. One follows the music (a codec spends its bits
        unevenly, so it is measured locally: ``around`` the bit). The
        other sits at a fixed level under it (hiss, added noise: it drowns a quiet frame and spares the loud one
        beside it, which a local average mixes up; measured: white noise at 30 dB SNR made bits the local estimate
        called 2 % likely wrong 25 % wrong): its power is fitted per group over the file (:func:`additive_noise`)
        and reaches each bit through the bit's own ``gain``."""
        closeness = np.cos(4 * np.pi * phase) * usable
        agreement = closeness.sum(0) / np.maximum(usable.sum(0), 1)
        additive = np.zeros_like(phase) if gain is None else additive_noise(closeness, usable, gain) * gain
        # wrapped-Gaussian noise of deviation sigma (in steps) gives E cos(4 pi e) = exp(-8 pi^2 sigma^2): the
        # additive part alone would leave ``kept`` of each bit's closeness; the relative part is the local
        # least-squares factor on top of it
        kept = np.exp(-_WRAP * additive) * usable
        frames, groups = around or GRID_NEIGHBOURS
        size = (2 * frames + 1, 2 * groups + 1)
        local = scipy.ndimage.uniform_filter(kept * closeness, size=size, mode="nearest") / np.maximum(
            scipy.ndimage.uniform_filter(kept * kept, size=size, mode="nearest"), 1e-6)
        relative = -np.log(np.clip(local, 1e-3, 0.999)) / _WRAP
        llr = CALIBRATION * self.evidence(phase) / (2 * (relative + additive)) * usable
        return np.clip(llr, -30, 30), agreement, usable

    @staticmethod
    def evidence(phase: np.ndarray) -> np.ndarray:
        """Squared distance to bit 1's lattice minus bit 0's (positive for bit 0): a log-likelihood ratio before
        the noise's scale."""
        d0 = np.minimum(phase, 1 - phase)
        d1 = np.abs(phase - 0.5)
        return d1**2 - d0**2


def additive_noise(closeness: np.ndarray, usable: np.ndarray, gain: np.ndarray, bins: int = 12) -> np.ndarray:
    """``[groups]`` noise power (per unit of ``gain``) at a fixed level under the music, 0 where none shows: per group,
    the frames are sorted by gain into ``bins`` equal parts and the mean closeness of each part is fitted with
    ``exp(-8 pi^2 (relative + power * gain))`` over a grid (a codec's noise, relative to the music, fits with no
    power; hiss makes the quiet frames' closeness fall with their gain). (Keeping a power only where it fits 3x better
    than none decoded fewer packets on the training music, 418 against 421 of 584: not kept.)"""
    powers = np.concatenate([[0.0], np.logspace(-4, 1, 41)])  # times each group's median gain: steps^2
    relatives = np.linspace(0.0, 0.3, 31) ** 2
    found = np.zeros(closeness.shape[-1])
    for g in range(closeness.shape[-1]):
        mine = usable[:, g]
        if mine.sum() < 10 * bins:
            continue
        own_gain, own_closeness = gain[mine, g], closeness[mine, g]
        parts = np.array_split(np.argsort(own_gain), bins)
        level = np.array([own_gain[p].mean() for p in parts])
        mean = np.array([own_closeness[p].mean() for p in parts])
        weight = np.array([len(p) for p in parts])
        power = powers / np.median(own_gain)
        model = np.exp(-_WRAP * (relatives[:, None, None] + power[None, :, None] * level))
        misfit = (weight * (mean - model) ** 2).sum(-1)
        found[g] = power[np.unravel_index(np.argmin(misfit), misfit.shape)[1]]
    return found
