"""Finding and undoing a change of playback speed (pitch and tempo together: a resampled upload, a sped-up copy,
a turntable or tape running fast) before the frame grid is searched.

A speed change of 1 % moves the frame grid by 5 samples per frame (the grid search tolerates half a sample over a
2 s segment, 1.5e-5) and every frequency by 1 % (the lattice's low groups tolerate about 0.3 %). So the search
has two scales, each at its own cost:

1. **Frequency**, coarse: a short loud segment is resampled by each candidate factor ``c`` in steps of
   ``FREQUENCY_STEP`` over +-``SPEED_LIMIT``; the lattice agreement of the low groups is computed at every sample
   offset and every frame (``agreement.agreement_map``: the same union-of-lattices measure as ``alignment.align``, which
   needs no bit of the payload).
2. **Time**, fine: in that map the frames of a residual speed ``1 + d`` sit at ``offset + j hop (1 + d)``; the
   sum along each such line (``drift_search``) is cheap, so every ``d`` within the candidate's frequency
   tolerance is tried in steps of half a sample over the segment. The best ``(c, d)`` gives the factor to
   ``1.5e-5``.
3. **Over the song**, precise: after undoing that factor, the grid's offset is measured in segments spread over
   the whole song; the residual drift between them (at most tens of samples over minutes, so unambiguous
   modulo the hop) is fitted by a line, whose slope corrects the factor to about ``1e-8``: a 3-minute song then
   drifts by well under a tenth of a sample, which the channel's highest groups (7 kHz) need.

Only the receiver changes: a file written before this search existed is found the same way.
"""
from __future__ import annotations

import numpy as np
import soxr

from .agreement import agreement_map, low_lattice
from .alignment import loudest_segments
from .stdm import Lattice

SPEED_LIMIT = 0.027  # +-2.7 %: the search's reach (speed changes of +-2 % are the target, with a margin)
FREQUENCY_STEP = 0.006  # between resampling candidates: the low groups still agree at 0.3 % off in frequency
COARSE_FRAMES, COARSE_SEGMENTS = 32, 2  # per candidate: two loud segments of 1 s
FINE_FRAMES = 64  # the chosen candidate is re-measured on 2 s segments
SONG_SEGMENTS, SONG_FRAMES = 12, 32  # step 3: one loud segment of 1 s in each twelfth of the song
# The best line of a candidate over segments of pure music sums to 0.18-0.22 (the maximum over offsets and drifts
# of noise); a payload at the right speed to 0.45-0.8 (0.3 through a codec). Under this, no speed is reported.
MIN_SCORE = 0.3
MIN_SEGMENT_SCORE = 0.3  # step 3 fits only the segments whose grid stands out this much
OUTLIER_SAMPLES = 2.0  # ... and refits without those further than this from the line


def undo(wave: np.ndarray, factor: float) -> np.ndarray:
    """``wave`` played ``factor`` times slower: the speed change ``factor`` undone (soxr, high quality)."""
    return soxr.resample(wave, 1.0, factor, quality="HQ").astype(np.float64)


def drift_search(agreement: np.ndarray, hop: int, drifts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(score, offset) for each drift ``d`` in ``drifts``: the mean agreement along the best line of frames at
    ``offset + j hop (1 + d)`` through an :func:`agreement_map`."""
    frames = agreement.shape[1]
    flat = agreement.T.reshape(-1)  # sample position -> agreement of the frame starting there
    reach = int(np.ceil(np.abs(drifts).max() * frames * hop)) + 1
    lines = np.arange(frames - 1 - reach // hop - 1)
    scores, offsets = np.empty(len(drifts)), np.empty(len(drifts), np.int64)
    start = np.arange(hop)[:, None] + (reach if np.any(drifts < 0) else 0)
    for i, d in enumerate(drifts):
        total = flat[start + np.round(lines * hop * (1 + d)).astype(np.int64)].sum(1)
        offsets[i] = int(np.argmax(total))
        scores[i] = total[offsets[i]] / len(lines)
    return scores, offsets


def parabolic_peak(curves: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position, value) of the maximum of each column of ``curves [offsets, ...]``, circular in the offset, to a
    fraction of an offset by the parabola through the peak and its neighbours (within half an offset of it)."""
    best = curves.argmax(0)
    peak = np.take_along_axis(curves, best[None], 0)[0]
    left = np.take_along_axis(curves, (best - 1)[None] % len(curves), 0)[0]
    right = np.take_along_axis(curves, (best + 1)[None] % len(curves), 0)[0]
    bend = left - 2 * peak + right
    return best + np.where(bend < 0, 0.5 * (left - right) / np.where(bend < 0, bend, -1.0), 0.0), peak


def wrapped(difference: np.ndarray, hop: int) -> np.ndarray:
    """``difference`` in samples, modulo the hop, in ``[-hop / 2, hop / 2)``."""
    return (difference + hop / 2) % hop - hop / 2


def _best(wave: np.ndarray, start: int, factor: float, low: Lattice, hop: int, frames: int,
          tolerance: float) -> tuple[float, float]:
    """(score, speed) of the segment at ``start``, resampled by ``factor``, over residual drifts within
    +-``tolerance``."""
    span = (frames + 3) * hop
    piece = wave[start:start + int(span * (1 + SPEED_LIMIT)) + 2 * hop]
    x = undo(piece, factor)[:span]
    if len(x) < span:
        x = np.pad(x, (0, span - len(x)))
    step = 0.5 / (frames * hop)  # half a sample over the segment
    drifts = np.arange(-tolerance, tolerance + step / 2, step)
    scores, _ = drift_search(agreement_map(x, low, hop, frames), hop, drifts)
    i = int(np.argmax(scores))
    return float(scores[i]), factor / (1 + drifts[i])


def find(wave: np.ndarray, lattice: Lattice, hop: int) -> tuple[float, float] | None:
    """(speed factor, score) of the payload's frame grid in ``wave`` (1.01: played 1 % fast), measured to about
    1e-8, or None when no candidate speed shows the grid."""
    low = low_lattice(lattice)
    span = int((FINE_FRAMES + 3) * hop * (1 + SPEED_LIMIT)) + 2 * hop
    starts = loudest_segments(wave, span, COARSE_SEGMENTS + 1)
    candidates = 1 + np.arange(-SPEED_LIMIT, SPEED_LIMIT + 1e-9, FREQUENCY_STEP)
    tolerance = FREQUENCY_STEP / 2 + 1e-4
    coarse = [np.mean([_best(wave, s, c, low, hop, COARSE_FRAMES, tolerance)[0] for s in starts[:COARSE_SEGMENTS]])
              for c in candidates]
    best = int(np.argmax(coarse))
    if coarse[best] < MIN_SCORE:
        return None
    fine = [_best(wave, s, candidates[best], low, hop, FINE_FRAMES, tolerance) for s in starts]
    score = float(np.mean([s for s, _ in fine]))
    factor = float(np.median([f for _, f in fine]))
    return refine(wave, low, hop, factor), score


def refine(wave: np.ndarray, low: Lattice, hop: int, factor: float) -> float:
    """``factor`` corrected by the drift of the grid between loud segments spread over the whole song."""
    x = undo(wave, factor)
    part = len(x) // SONG_SEGMENTS
    span = (SONG_FRAMES + 3) * hop
    if part < span:
        return factor
    where, offsets, weights = [], [], []
    for k in range(SONG_SEGMENTS):
        start = k * part + loudest_segments(x[k * part:(k + 1) * part], span, 1)[0]
        position, value = parabolic_peak(agreement_map(x[start:start + span], low, hop, SONG_FRAMES).mean(1))
        if value < MIN_SEGMENT_SCORE:
            continue
        where.append(start)
        offsets.append((start + position) % hop)
        weights.append(value)
    if len(where) < 3:
        return factor
    where, offsets, weights = np.array(where, float), np.array(offsets), np.array(weights)
    offsets = wrapped(offsets - offsets[np.argmax(weights)], hop)  # unwrapped: drifts are tiny
    keep = np.ones(len(where), bool)
    for _ in range(2):  # a line, then again without the segments far from it
        slope, intercept = np.polyfit(where[keep], offsets[keep], 1, w=weights[keep])
        keep = np.abs(offsets - (intercept + slope * where)) < OUTLIER_SAMPLES
        if keep.sum() < 3:
            return factor
    slope, _ = np.polyfit(where[keep], offsets[keep], 1, w=weights[keep])
    return factor / (1 + slope)
