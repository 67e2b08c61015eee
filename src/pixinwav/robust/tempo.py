"""Reading a file whose tempo was changed with the pitch kept (FFmpeg's ``atempo``, a podcast player's speed
setting, an editor's "change tempo"): piece by piece.

Such a stretch is made by overlap-adding short stretches of the original where they fit best (WSOLA), so the
received file is the original in pieces of 0.1-1 s, each an exact copy at its own delay, joined where the
stretcher dropped (faster) or repeated (slower) a few milliseconds. Within a piece the frame grid and every
projection are intact; only the delay changes from one piece to the next. So the receiver measures, chunk by
chunk of ``CHUNK_FRAMES`` frames, the grid offset that best puts the low groups on the lattices (the measure of
``agreement.agreement_map``) and keeps chunks that agree with a neighbour (a piece, not chance). A chunk's offset gives
its delay modulo the frame hop; the delay follows a line (the tempo change) within less than half a hop, so the
line fitted to all chunks (:func:`delay_trend`) tells the whole frames, and each piece's numbering is checked
against the keyed frame-numbering sequence. Frames of chunks with a splice inside are read at the neighbouring
pieces' offsets. The projections are placed at their frame numbers, and frames nobody received stay empty (the
code and the repeated copies fill them in).
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy

from . import alignment, mdct, speed
from .agreement import agreement_map, low_lattice
from .alignment import loudest_segments
from .stdm import Lattice

# 64 ms: pieces last 0.1-1 s at +-1-2 % tempo (chunks of 4 frames decoded fewer packets in 4 of 8 stretched
# training songs, none more)
CHUNK_FRAMES = 2
BLOCK_FRAMES = 64  # chunks are measured in blocks of this many frames
MIN_CHUNK = 0.35  # a chunk whose best offset agrees less is left out (a splice inside it, or too quiet)
SAME_PIECE = 3.0  # samples: a chunk this close to its neighbour's offset continues its piece
# Under this share of chunks in pieces the audio holds no payload: plain music gives chance pieces (13 validation
# songs: 1-3 % of chunks over a whole song; in the loudest blocks, with a splice, 0 in 11 songs, 4 and 9 % in two),
# stretched stegos 16-75 % (six songs, tempo +-1-2 %).
MIN_PIECES = 0.1
TEST_BLOCKS = 3
# ... and where those hold no piece and no grid was found, this many more blocks spread over the file: a loud, dense
# master can leave its loudest blocks unreadable (a training song stretched by -1 %: its 3 loudest blocks 0-6 % of
# chunks in pieces, the whole file 23 %)
SPREAD_BLOCKS = 6
STRADDLE_REACH = 3  # chunks: a left-out chunk is read at the offsets of pieces this near
MIN_SINGLE = 0.6  # a left-out chunk this sure of its own offset is also read there (a piece of one chunk)
MIN_FRAME = 0.5  # a left-out frame is kept where all its groups agree this well (chance: about 0 +- 0.1)
BATCH = 256  # chunks read at once
TEMPO_LIMIT = 0.04  # the delay trend's slope is searched over +-4 % of tempo
LINE_BLOCK = 256  # slopes a block of the trend's search
CLEAR_WIN = 0.3  # of the piece's total evidence: the margin a piece's numbering needs over the next best to count


def piecewise(wave: np.ndarray, lattice: Lattice, hop: int, numbering_group: int,
              key: str | None) -> tuple[np.ndarray, np.ndarray, float] | None:
    """(projections ``[frames, groups]`` in the payload's frame order, from a frame of unknown number on; where they
    are usable ``[frames, groups]``; the share of chunks in pieces), or None when no pieces are found.
    ``numbering_group`` carries the keyed sequence that numbers the frames (``alignment.frame_sequence``)."""
    offsets, values = chunk_offsets(wave, lattice, hop)
    kept = _in_pieces(offsets, values, hop)
    share = float(kept.mean()) if len(kept) else 0.0
    if share < MIN_PIECES:
        return None
    chunks = np.flatnonzero(kept)
    trend = delay_trend(chunks, offsets[chunks], values[chunks], hop)
    numbers = _numbers(chunks, offsets[chunks], trend, hop)
    read = list(zip(*_projections(wave, lattice, hop, chunks, offsets[chunks])))
    pieces = np.cumsum(np.r_[True, (np.abs(speed.wrapped(np.diff(offsets[chunks]), hop)) > SAME_PIECE)
                             | (np.diff(chunks) > 1)]) - 1
    numbers = numbers + _corrections(numbers, pieces, [r[0][:, numbering_group] for r in read],
                                     [r[1][:, numbering_group] for r in read], key)
    every = np.ones(CHUNK_FRAMES, bool)
    frames = [(number + np.arange(CHUNK_FRAMES), p, u, every) for number, (p, u) in zip(numbers, read)]
    frames += _straddling(wave, lattice, hop, offsets, values, chunks, numbers, trend)  # after the pieces: surer
    start = min(rows.min() for rows, *_ in frames)
    total = max(rows.max() for rows, *_ in frames) - start + 1
    phase = np.zeros((total, lattice.groups))
    usable = np.zeros((total, lattice.groups), bool)
    for rows, chunk_phase, chunk_usable, take in frames:
        rows = rows - start
        new = take & ~usable[rows].any(1)  # frames of a stretch the stretcher repeated: the first copy stands
        phase[rows[new]], usable[rows[new]] = chunk_phase[new], chunk_usable[new]
    return phase, usable, share


def _straddling(wave: np.ndarray, lattice: Lattice, hop: int, offsets: np.ndarray, values: np.ndarray,
                chunks: np.ndarray, numbers: np.ndarray, trend: tuple[float, float]) -> list[tuple]:
    """The frames of chunks left out of the pieces (a splice inside them, or a piece of one chunk): each frame is
    read at the offset of the piece before, the piece after and the chunk's own best, and kept at the one where
    all its groups agree best, if they agree clearly. Returns (payload rows, projections, usable, kept) per reading
    that keeps a frame."""
    requests = []  # (chunk, offset, payload number of the chunk's first frame)
    for chunk in np.setdiff1d(np.arange(len(offsets)), chunks):
        i = int(np.searchsorted(chunks, chunk))
        for j in (i - 1, i):
            if 0 <= j < len(chunks) and abs(chunks[j] - chunk) <= STRADDLE_REACH:
                requests.append((chunk, offsets[chunks[j]], numbers[j] + (chunk - chunks[j]) * CHUNK_FRAMES))
        if values[chunk] >= MIN_SINGLE and requests and requests[-1][0] == chunk:  # a piece of one chunk
            requests.append((chunk, offsets[chunk], int(_numbers(np.array([chunk]), offsets[[chunk]], trend, hop)[0])))
    if not requests:
        return []
    asked = np.array([r[0] for r in requests])
    phase, usable = _projections(wave, lattice, hop, asked, np.array([r[1] for r in requests]))
    closeness = (np.cos(4 * np.pi * phase) * usable).sum(-1) / np.maximum(usable.sum(-1), 1)  # [request, frame]
    found = []
    for chunk in np.unique(asked):
        mine = np.flatnonzero(asked == chunk)
        best = mine[closeness[mine].argmax(0)]  # per frame, the reading where all groups agree best
        for k in mine:
            take = (best == k) & (closeness[k] >= MIN_FRAME)
            if take.any():
                found.append((requests[k][2] + np.arange(CHUNK_FRAMES), phase[k], usable[k], take))
    return found


def _corrections(numbers: np.ndarray, pieces: np.ndarray, phases: list, usables: list, key: str | None) -> np.ndarray:
    """Frames to add to each chunk's number so the frame-numbering sequence agrees, piece by piece: where a piece's
    delay strays more than half a hop from the trend, its number is one off. Each piece's numbering bits are
    compared with the keyed sequence at its number and one frame either side; a clear winner moves it."""
    evidence = [Lattice.evidence(p) * u for p, u in zip(phases, usables)]  # > 0: bit 0
    start = numbers.min()
    row_evidence = np.zeros(int(numbers.max() - start) + CHUNK_FRAMES)
    for number, value in zip(numbers, evidence):
        row_evidence[number - start:number - start + CHUNK_FRAMES] += value
    first = alignment.frame_number(row_evidence, key) - start  # the numbering most frames agree on
    sign = 1.0 - 2.0 * alignment.frame_sequence(key)
    corrections = np.zeros(len(numbers), np.int64)
    for piece in range(int(pieces.max()) + 1):
        members = np.flatnonzero(pieces == piece)
        rows = (numbers[members, None] + np.arange(CHUNK_FRAMES)[None] + first).reshape(-1)
        values = np.concatenate([evidence[m] for m in members])
        scores = np.array([(values * sign[(rows + d) % alignment.PN_PERIOD]).sum() for d in (-1, 0, 1)])
        order = np.argsort(scores)
        if scores[order[-1]] - scores[order[-2]] > CLEAR_WIN * np.abs(values).sum():
            corrections[members] = order[-1] - 1
    return corrections


def share_in_pieces(wave: np.ndarray, lattice: Lattice, hop: int, grid: float | None = None) -> float:
    """The share of chunks in pieces in the loudest ``TEST_BLOCKS`` blocks of ``wave``, or 0 where the file is not
    stretched: no piece ends in them, or (``grid``: the offset of one frame grid found there) most pieces sit on that
    grid. A quick test before :func:`piecewise` reads the whole file (a codec's noise can make chance pieces). With
    no grid, where the loudest blocks hold no stretch, ``SPREAD_BLOCKS`` blocks evenly over the file are tested too."""
    span = (BLOCK_FRAMES + 3) * hop
    loudest = loudest_segments(wave, span, TEST_BLOCKS)
    share = _share_in_blocks(wave, lattice, hop, loudest, grid)
    if share >= MIN_PIECES or grid is not None or len(wave) < 2 * span:
        return share
    # (block starts on whole hops, as the loudest blocks': every block's offsets are then on one frame grid)
    spread = [int(s) // hop * hop for s in np.linspace(0, len(wave) - span, SPREAD_BLOCKS + 2)[1:-1]]
    return max(share, _share_in_blocks(wave, lattice, hop, spread, None, one_grid_is_none=True))


def _share_in_blocks(wave: np.ndarray, lattice: Lattice, hop: int, starts: list[int], grid: float | None,
                     one_grid_is_none: bool = False) -> float:
    """:func:`share_in_pieces` over the blocks that begin at ``starts``. ``one_grid_is_none``: where most pieces
    share one offset, the file is not stretched either (an intact grid too weak to be found, as through a 64 kbit/s
    codec: its noise splits the pieces in quiet blocks, and they all sit on the grid)."""
    span = (BLOCK_FRAMES + 3) * hop
    shares, splices, kept_offsets = [], 0, []
    for start in starts:
        offsets, values = chunk_offsets(wave[start:start + span], lattice, hop)
        kept = _in_pieces(offsets, values, hop)
        shares.append(kept.mean())
        splices += int((np.abs(speed.wrapped(np.diff(offsets[kept]), hop)) > SAME_PIECE).sum())
        kept_offsets.append(offsets[kept])
    kept_offsets = np.concatenate([np.zeros(0), *kept_offsets])
    # where one grid may hold the pieces: the grid found, or (one_grid_is_none) any of the pieces' own offsets
    if grid is not None:
        centres = np.array([grid])
    else:
        centres = kept_offsets if one_grid_is_none else np.zeros(0)
    near = np.abs(speed.wrapped(kept_offsets[None] - centres[:, None], hop)) <= SAME_PIECE  # [centre, chunk kept]
    on_grid = int(near.sum(1).max(initial=0))
    if not splices or on_grid >= len(kept_offsets) / 2 > 0:
        return 0.0
    return float(np.mean(shares))


def _in_pieces(offsets: np.ndarray, values: np.ndarray, hop: int) -> np.ndarray:
    """``[chunks]`` bool: chunks that agree well enough and sit at their neighbour's offset."""
    near = np.abs(speed.wrapped(np.diff(offsets), hop)) <= SAME_PIECE
    in_piece = np.zeros(len(offsets), bool)
    in_piece[1:] |= near
    in_piece[:-1] |= near
    return in_piece & (values >= MIN_CHUNK)


def chunk_offsets(wave: np.ndarray, lattice: Lattice, hop: int) -> tuple[np.ndarray, np.ndarray]:
    """(grid offset in samples, fractional; its agreement) of every chunk of ``CHUNK_FRAMES`` frames of ``wave``."""
    low = low_lattice(lattice)
    chunks = (mdct.frame_count(len(wave), hop) - 3) // CHUNK_FRAMES
    per_block = BLOCK_FRAMES // CHUNK_FRAMES

    def block(first: int) -> tuple[np.ndarray, np.ndarray]:
        count = min(per_block, chunks - first)
        start = first * CHUNK_FRAMES * hop
        frames = count * CHUNK_FRAMES
        agreement = agreement_map(wave[start:start + (frames + 3) * hop], low, hop, frames, workers=1)
        return speed.parabolic_peak(agreement.reshape(hop, count, CHUNK_FRAMES).mean(-1))  # [offset, chunk]

    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:  # (NumPy and SciPy's FFT let go of the GIL)
        measured = list(pool.map(block, range(0, chunks, per_block)))
    if not measured:
        return np.zeros(0), np.zeros(0)
    return np.concatenate([m[0] for m in measured]), np.concatenate([m[1] for m in measured])


def delay_trend(chunks: np.ndarray, offsets: np.ndarray, weights: np.ndarray, hop: int) -> tuple[float, float]:
    """(slope, intercept) of the line that best fits the delay (payload position minus received position, in
    samples) of chunks at grid ``offsets``: the delay is known only modulo the hop (it is ``-offset``), so the line is
    the one along which ``exp(2 pi i (delay + offset) / hop)`` adds up best: its slope is the tempo change, and a
    piece's delay strays from it by what the stretcher's search allowed (under 300 samples at 16 kHz in every
    validation song, 150 in 99 % of chunks)."""
    at = chunks * CHUNK_FRAMES * hop + offsets
    scale = 2 * np.pi / hop
    base = weights * np.exp(1j * scale * offsets)

    def best(first: float, step: float, count: int) -> float:
        """The slope ``first + k step`` (``k < count``) along which the chunks add up best."""
        return first + step * int(np.argmax(_line_power(first, step, count, at, base, scale)))

    span = max(float(at.max() - at.min()), hop)
    step = hop / (8 * span)  # an eighth of a hop over the song between neighbouring slopes
    slope = best(-TEMPO_LIMIT, step, len(np.arange(-TEMPO_LIMIT, TEMPO_LIMIT + step, step)))
    slope = best(slope - step, step / 16, len(np.arange(-step, step * 1.05, step / 16)))
    intercept = -np.angle(np.sum(base * np.exp(1j * scale * slope * at))) / scale
    return slope, intercept


def _line_power(first: float, step: float, count: int, at: np.ndarray, base: np.ndarray, scale: float) -> np.ndarray:
    """``[count]``: ``|sum_c base_c exp(i scale s at_c)|`` for the slopes ``s = first + k step``: the exponentials taken
    exactly every ``LINE_BLOCK`` slopes and by powers of one step's rotation between them (an exponential per slope and
    chunk took 0.5 s a song, for the same values to 1e-12)."""
    rotation = np.exp(1j * scale * step * at)
    block = min(count, LINE_BLOCK)
    powers = np.cumprod(np.vstack([np.ones((1, len(at)), complex), np.broadcast_to(rotation, (block - 1, len(at)))]),
                        axis=0)  # [block, chunks]: the rotation to the power 0 ... block - 1
    return np.concatenate([np.abs(powers[:min(block, count - k)] @ (base * np.exp(1j * scale * (first + k * step) * at)))
                           for k in range(0, count, block)])


def _numbers(chunks: np.ndarray, offsets: np.ndarray, trend: tuple[float, float], hop: int) -> np.ndarray:
    """Payload frame number (up to one constant for all) of each chunk's first frame: its delay is ``-offset``
    modulo the hop, and of those values the one nearest the trend."""
    slope, intercept = trend
    at = chunks * CHUNK_FRAMES * hop + offsets
    return chunks * CHUNK_FRAMES + np.round((slope * at + intercept + offsets) / hop).astype(np.int64)


def _projections(wave: np.ndarray, lattice: Lattice, hop: int, chunks: np.ndarray,
                 offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(projections, usable) ``[len(chunks), CHUNK_FRAMES, groups]`` of each chunk's frames at its offset (with a
    frame either side for the masking scale's neighbourhood), in batches (one chunk at a time took 1-10 ms, mostly
    overhead)."""
    length = (CHUNK_FRAMES + 3) * hop
    padded = np.pad(wave, (length, length))
    size = scipy.fft.next_fast_len(length + 64, real=True)
    bins = size // 2 + 1
    frames = np.arange(CHUNK_FRAMES + 2)[:, None] * hop + np.arange(2 * hop)[None]
    phases, usables = [], []
    for part in range(0, len(chunks), BATCH):
        chunk, offset = np.asarray(chunks[part:part + BATCH]), np.asarray(offsets[part:part + BATCH], float)
        start = (chunk * CHUNK_FRAMES - 1) * hop + np.floor(offset).astype(np.int64) + length
        pieces = padded[start[:, None] + np.arange(length)[None]]
        # each piece advanced by its offset's fraction of a sample (as ``alignment.fractional_shift``): bin k turned by
        # the k-th power of one bin's turn (an exponential per bin and piece took a tenth of a second a song)
        turn = np.empty((len(chunk), bins), complex)
        turn[:, 0] = 1.0
        turn[:, 1:] = np.exp(2j * np.pi * (offset % 1) / size)[:, None]
        shifted = scipy.fft.irfft(scipy.fft.rfft(pieces, size, axis=1) * np.cumprod(turn, axis=1), size, axis=1)[:, :length]
        coefs = mdct.of_frames(shifted[:, frames], hop)  # [chunks, frames, bins] (the product with the basis: 1.6 s a song)
        scale = lattice.scale(coefs)
        phases.append(lattice.project(coefs, scale)[:, 1:-1])
        usables.append(lattice.usable(scale)[:, 1:-1])
    if not phases:
        return np.zeros((0, CHUNK_FRAMES, lattice.groups)), np.zeros((0, CHUNK_FRAMES, lattice.groups), bool)
    return np.concatenate(phases), np.concatenate(usables)
