"""`reveal` without `--model`: which shipped model wrote a stego file, told by each model's own keyed marks.

The checks go in the order of the models people use now, cheapest first within that: the default model's grid
from the first sample (0.2 s), pixinwav-modulo-v2's sync marks (0.1 s), the robust song models' frame grid (about
1.5 s on a 3-minute song; robust-v2 to v5 share it, and the format in its layout header tells them apart; v5 writes
it 3 dB louder, which a receiver at v4's level mostly finds too), the default model's search around the loudest
stretch, where its sender writes first (about 1 s; a trimmed stego of the default model is found there), the window
the previous default wrote at offset 0, the robust song models' grid at v5's level, the first robust model's grid;
when none of them answers, the default model reads the file, and its search around
every stretch it may have used (seconds of work) is the last resort. A file of an earlier default keeps revealing
with the command that revealed it then.
"""
from __future__ import annotations

import numpy as np

from .data.audio import Audio, resample
from .errors import PixinwavError
from .loader import DEFAULT_MODEL, model_config

# the default of releases up to 0.1: one 256 x 256 image in one window, at --offset (0 unless given)
PREVIOUS_DEFAULT = "pixinwav-modulo-v1"
# the robust song models share one channel and frame grid; each writes its own format in the layout header, at the
# level that format names (``robust_song.FORMAT_MODELS``, ``FORMAT_LEVELS``). The grid is searched at v2-v4's level
# first (with v2's receiver), at the loudest (robust_song.LOUDEST's) after the other models' marks
QUIET = "pixinwav-robust-v2"


def identify(audio: Audio, key: str | None, offset: float | str = 0.0) -> str:
    """The shipped model to reveal ``audio`` with: the one whose marks it carries, else the default (which then
    searches the file, and says "no hidden image found" when it finds nothing either)."""
    from . import sync
    from .api import load_model
    from .report import PRESENCE_MIN

    if offset not in (0, 0.0):  # only a window model takes an offset: the previous default wrote it
        return PREVIOUS_DEFAULT
    mono = audio.samples.mean(axis=1)
    default = load_model(DEFAULT_MODEL).model
    ours = audio.sample_rate == default.cfg.sample_rate
    if ours and default.grid_start(mono, key)[0] is not None:
        return DEFAULT_MODEL
    if audio.sample_rate == model_config("pixinwav-modulo-v2").sample_rate and len(sync.find(mono, key)):
        return "pixinwav-modulo-v2"  # (before the window check: its windows are the previous default's windows)
    wave = _robust_grid(QUIET, mono, audio.sample_rate, key)  # (robust-v3 to v5 write on the same grid)
    if wave is not None:
        return _robust_song_model(wave, key, QUIET)
    if ours and default.search(mono, key, first=1)[0] is not None:
        return DEFAULT_MODEL
    window = load_model(PREVIOUS_DEFAULT)
    try:
        if window.presence_at(audio.samples, audio.sample_rate, 0.0, key) >= PRESENCE_MIN:
            return PREVIOUS_DEFAULT
    except PixinwavError:  # too short for its window
        pass
    from .models.robust_song import LOUDEST  # (imported by the search at v2's level above)

    wave = _robust_grid(LOUDEST, mono, audio.sample_rate, key)
    if wave is not None:
        return _robust_song_model(wave, key, LOUDEST)
    if _robust_grid("pixinwav-robust-v1", mono, audio.sample_rate, key) is not None:  # (its lattice is not v2's)
        return "pixinwav-robust-v1"
    return DEFAULT_MODEL


def _robust_song_model(wave: np.ndarray, key: str | None, found_by: str) -> str:
    """Which robust song model wrote a file (``wave``: at their rate) whose frame grid ``found_by``'s receiver found:
    the format of its layout header says, read at either level (first by that receiver, whose search is kept; where
    no header is read, that model, which then says why)."""
    from .api import load_model
    from .models.robust_song import FORMAT_MODELS, LOUDEST

    for name in (found_by, LOUDEST if found_by == QUIET else QUIET):
        format = load_model(name).model.format_at(wave, key)
        if format in FORMAT_MODELS:
            return FORMAT_MODELS[format]
    return found_by


def _robust_grid(name: str, mono: np.ndarray, sample_rate: int, key: str | None) -> np.ndarray | None:
    """``mono`` at the robust model ``name``'s rate when its frame grid is there, else None."""
    from .api import load_model

    robust = load_model(name).model
    if len(mono) >= robust.min_cover_samples * sample_rate / robust.cfg.sample_rate:
        wave = resample(mono, sample_rate, robust.cfg.sample_rate).astype(np.float64)
        if robust.locate(wave, key).found:
            return wave
    return None
