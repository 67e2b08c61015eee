"""`reveal` without `--model`: which shipped model wrote a stego file, told by each model's own keyed marks.

The checks go in the order of the models people use now, cheapest first within that: the default model's grid
from the first sample (0.2 s), the earlier default's (pixinwav-adaptive-v3, whose cells' steps the default measures
otherwise), pixinwav-modulo-v2's sync marks (0.3 s), the robust song models' frame grid (about 2 s on a 3-minute
song; robust-v2 to v5 share it, and the format in its layout header tells them apart; v5 writes it 3 dB louder,
which a receiver at v4's level mostly finds too), the default model's search around the loudest stretch, where its
sender writes first (about 1 s; a trimmed stego of the default model is found there), the window the first default
wrote at offset 0, the robust song models' grid at v5's level, the first robust model's grid, and the default
model's search around every stretch it may have used. The first check that answers names the model; when none does,
the default model reads the file (its search already done) and says "no hidden image found". A robust grid found
only in pieces (a stretched file's) names its model only where a layout header is read behind it: plain music makes
such pieces by chance (``benchmarks/clean_songs.py`` reveals every clean song of the music packages so).

The default (pixinwav-adaptive-v5) writes its windows' pilots as pixinwav-adaptive-v4 did and reads v4's packets
too, so a file of v4 (the default of 0.2.22 and 0.2.23) is named and revealed by v5. The default and the earlier
default each find the other's windows, by their grids and by their searches (most cells
get the same step either way: the pilots agree 0.65-0.77 where the other model wrote them, 0.88-0.999 where the
model itself did, on three validation songs trimmed and whole, a one-off measurement); the one whose pilots agree
better where a window was found is named. The earlier default's searches are not run: its windows are found by the
default's (a second search took 3.5 s more to answer a song with nothing hidden).

The two cheap checks run first, one after the other; the rest two at a time on threads (their NumPy loops and FFTs
let go of the GIL), the first not yet answered and the one after it, each answer taken in order: a song with nothing
hidden took 22-27 s one check after another (release 0.2.15), every check running, and 9.5-11.5 s so on 3-minute
songs (``benchmarks/results/reveal_without_model_0.2.16.md``). A check started but not wanted any more (an earlier one
answered) runs to its end, but for the default model's searches, which give up at once. A file of an earlier default
keeps revealing with the command that revealed it then.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import numpy as np

from .data.audio import Audio, resample
from .errors import PixinwavError
from .loader import DEFAULT_MODEL, model_config
from .threads import one_blas_thread

# the default of releases up to 0.1: one 256 x 256 image in one window, at --offset (0 unless given)
PREVIOUS_DEFAULT = "pixinwav-modulo-v1"
# the default of releases 0.2 to 0.2.21: the default's windows and packets, its cells' steps measured otherwise
EARLIER_DEFAULT = "pixinwav-adaptive-v3"
# the robust song models share one channel and frame grid; each writes its own format in the layout header, at the
# level that format names (``robust_song.FORMAT_MODELS``, ``FORMAT_LEVELS``). The grid is searched at v2-v4's level
# first (with v2's receiver), at the loudest (robust_song.LOUDEST's) after the other models' marks
QUIET = "pixinwav-robust-v2"
CHECK_THREADS = 2


@one_blas_thread  # (as the reveal that follows: OpenBLAS's threads, spinning after each of the searches' small
# products, took as much CPU as the search itself from the checks beside it)
def identify(audio: Audio, key: str | None, offset: float | str = 0.0) -> str:
    """The shipped model to reveal ``audio`` with: the one whose marks it carries, else the default (which then
    searches the file, and says "no hidden image found" when it finds nothing either)."""
    from . import sync
    from .api import load_model
    from .models.robust_song import LOUDEST
    from .report import PRESENCE_MIN

    if offset not in (0, 0.0):  # only a window model takes an offset: the previous default wrote it
        return PREVIOUS_DEFAULT
    mono = audio.samples.mean(axis=1)
    seconds = len(mono) / audio.sample_rate
    defaults = {name: load_model(name).model for name in (DEFAULT_MODEL, EARLIER_DEFAULT)}
    ours = audio.sample_rate == defaults[DEFAULT_MODEL].cfg.sample_rate

    def named(found: tuple[int | None, int], finder: str) -> str | None:
        """The default or the earlier default, for a window ``finder`` found: each finds the other's windows (most
        cells get the same step either way), and the one that wrote it reads its pilots better (0.99 against 0.8);
        that one keeps the window for its reveal."""
        if found[0] is None:
            return None
        name = max(defaults, key=lambda name: defaults[name].agreement_at(mono, *found, key)[0])
        if name != finder:
            defaults[name].window_found(mono, key, found)
        return name

    for finder, model in defaults.items():
        if ours and (name := named(model.grid_start(mono, key), finder)):
            return name
    # (before the robust grid and the windows: its windows are the previous default's)
    if audio.sample_rate == model_config("pixinwav-modulo-v2").sample_rate and len(sync.find(mono, key)):
        return "pixinwav-modulo-v2"
    cancel = threading.Event()  # set once an answer is taken: the default model's searches still running give up
    resampled, resampling = {}, threading.Lock()

    def at_rate(rate: int) -> np.ndarray:  # the downmix at a robust model's rate, made once for all of them
        with resampling:
            if rate not in resampled:
                resampled[rate] = resample(mono, audio.sample_rate, rate).astype(np.float64)
            return resampled[rate]

    def searched(first: int | None) -> str | None:
        return named(defaults[DEFAULT_MODEL].search(mono, key, first=first, cancel=cancel), DEFAULT_MODEL) if ours else None

    def robust(name: str) -> str | None:
        found = _robust_grid(name, at_rate, seconds, key)
        return None if found is None else _robust_song_model(*found, key, name)

    def previous() -> str | None:
        try:
            at_zero = load_model(PREVIOUS_DEFAULT).presence_at(audio.samples, audio.sample_rate, 0.0, key)
        except PixinwavError:  # too short for its window
            return None
        return PREVIOUS_DEFAULT if at_zero >= PRESENCE_MIN else None

    def first_robust() -> str | None:  # (its lattice is not v2's)
        found = _robust_grid("pixinwav-robust-v1", at_rate, seconds, key)
        if found is None:
            return None
        wave, stretched = found
        # pieces only, which plain music makes by chance: named where a payload (an image, or blocks that failed
        # under a header) is read behind them
        if stretched:
            reading = load_model("pixinwav-robust-v1").model.read(wave, key)
            if reading.image is None and not reading.failed_blocks:
                return None
        return "pixinwav-robust-v1"

    checks = [lambda: robust(QUIET),  # (robust-v3 to v5 write on the same grid)
              lambda: searched(1), previous, lambda: robust(LOUDEST), first_robust, lambda: searched(None)]
    return first_answer(checks, cancel) or DEFAULT_MODEL


def first_answer(checks: list[Callable[[], str | None]], cancel: threading.Event) -> str | None:
    """The answer of the first of ``checks`` (in their order) that gives one. Two run at a time: the first not yet
    answered and the one after it (no further, so that little work is thrown away when one answers); ``cancel`` is
    set once the answer is known."""
    pool = ThreadPoolExecutor(CHECK_THREADS)
    running = {}
    try:
        for i in range(len(checks)):
            for j in range(i, min(i + CHECK_THREADS, len(checks))):
                if j not in running:
                    running[j] = pool.submit(checks[j])
            answer = running[i].result()
            if answer is not None:
                return answer
        return None
    finally:
        cancel.set()
        pool.shutdown(wait=False, cancel_futures=True)


def _robust_song_model(wave: np.ndarray, stretched: bool, key: str | None, found_by: str) -> str | None:
    """Which robust song model wrote a file (``wave``: at their rate) whose frame grid ``found_by``'s receiver found
    (``stretched``: only in pieces):
    the format of its layout header says, read at either level (first by that receiver, whose search is kept). Where
    no header is read: that model, which then says why, if it found one grid; None (not named) if it found only
    pieces of a stretched grid, which plain music makes by chance (WarMUX's clean `Apnee2`: 10.8 % of its loudest
    chunks in pieces, where 10 % count)."""
    from .api import load_model
    from .models.robust_song import FORMAT_MODELS, LOUDEST

    for name in (found_by, LOUDEST if found_by == QUIET else QUIET):
        format = load_model(name).model.format_at(wave, key)
        if format in FORMAT_MODELS:
            return FORMAT_MODELS[format]
    return None if stretched else found_by


def _robust_grid(name: str, at_rate: Callable[[int], np.ndarray], seconds: float,
                 key: str | None) -> tuple[np.ndarray, bool] | None:
    """(the file's downmix at the robust model ``name``'s rate (``at_rate`` makes it), whether its frame grid was
    found only in pieces) when the grid is there, else None; ``seconds``: the file's length."""
    from .api import load_model

    robust = load_model(name).model
    if seconds * robust.cfg.sample_rate >= robust.min_cover_samples:
        wave = at_rate(robust.cfg.sample_rate)
        where = robust.locate(wave, key)
        if where.found:
            return wave, where.stretched
    return None
