"""The Python API: ``load_model(name_or_path)``, then ``model.hide(image, audio, sample_rate)`` and
``model.reveal(audio, sample_rate)``; with models that carry files, ``model.hide_file(path_or_HiddenFile, audio,
sample_rate)`` and ``model.reveal_payload(audio, sample_rate)`` (an image or the file, exactly).

Audio arrays are ``[T]`` or ``[T, channels]`` floats in [-1, 1] at any rate; images come back as ``[C, H, W]``
float32 arrays in [0, 1]. The stego audio keeps the cover's
rate, channel count and length: only the model's window (``clip_seconds`` from ``offset``) changes, by one
difference signal added to every channel.
"""
from __future__ import annotations

import functools
import unicodedata
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image

from . import metrics
from .channel import PCM16_SCALE, pcm16_round_trip
from .checks import MAX_RATE, audio_array, check_offset, check_rate, image_array, over_full_scale
from .data.audio import resample
from .data.images import MIN_SIDE, prepare_array, to_array
from .errors import PixinwavError
from .hidden_file import HiddenFile
from .loader import DEFAULT_MODEL, load_scheme
from .models import StegoScheme
from .report import BAND_LIMIT_FRACTION, PRESENCE_INTACT, PRESENCE_MIN, HideReport, Revealed
from .song_placement import OFFSET_REFUSED, SongPlacement
from .threads import one_blas_thread
from .window_placement import WindowPlacement

__all__ = ["DEFAULT_MODEL", "HiddenFile", "HideReport", "MAX_RATE", "PRESENCE_INTACT", "PRESENCE_MIN", "Revealed", "Stego",
           "audio_array", "check_offset", "check_rate", "image_array", "load_model"]
ADD_BLOCK = 1 << 20  # samples per block where the change is added to the cover


class Added(NamedTuple):
    """What :meth:`Stego._add` returns."""

    stego: np.ndarray  # [T, channels] float32
    clipped: int  # samples the change took beyond 16-bit full scale (clipped)
    snr: float  # dB, stego against the cover, over the whole file
    cover_power: float  # the cover's mean square


def inference(method):
    """The call under the scheme's inference context (a net scheme's: no autograd)."""
    @functools.wraps(method)
    def inner(self, *args, **kwargs):
        with self.model.inference():
            return method(self, *args, **kwargs)
    return inner


class Stego:
    """A loaded model with the user-level operations. ``model`` is the underlying :class:`StegoScheme`."""

    def __init__(self, model: StegoScheme, card: dict | None = None, source: str = ""):
        self.model = model.eval()
        self.card = card or {}
        self.source = source
        self.cfg = model.cfg
        # where the payload goes: one window at an offset, or the whole song (the scheme's own windows or segments)
        self.placement = SongPlacement(self) if model.whole_file else WindowPlacement(self)

    @property
    def whole_file(self) -> bool:
        """The model fills the whole song and needs no offset (see :class:`StegoScheme`)."""
        return self.model.whole_file

    @property
    def options(self) -> tuple[str, ...]:
        """The hide options this model takes (``offset`` for a window model; ``survive`` where it sizes its photo
        to attacks; the scheme's own: ``seconds``, ``quality``, ``max_side``)."""
        return self.placement.options + self.model.hide_options + (("survive",) if self.model.sizes_to_survive else ())

    @property
    def full_image(self) -> bool:
        """The model sends the photo at its own size and reveals it at the size sent (see :class:`StegoScheme`)."""
        return self.model.full_image

    @property
    def clip_seconds(self) -> float:
        """The model's window, or for whole-file models the shortest cover they take."""
        return self.model.min_cover_samples / self.cfg.sample_rate

    # --- inputs -----------------------------------------------------------------------------------------
    def prepare_image(self, image) -> np.ndarray:
        """Path, Pillow image, ``[H, W(, C)]`` array (uint8 or float in [0, 1]) or ``[C, H, W]`` tensor ->
        the model input, float32 in [0, 1]: ``[C, size, size]`` (a centred square crop), or for models that take
        the photo at its own size (``full_image``) ``[C, H, W]``."""
        image = self._as_pil(image, self.model.max_side)
        if self.model.full_image:
            return np.ascontiguousarray(to_array(image, self.cfg.image_channels).transpose(2, 0, 1))
        return prepare_array(image, self.cfg.image_size, self.cfg.image_channels)

    @staticmethod
    def _as_pil(image, long_side: int | None = None) -> Image.Image:
        if isinstance(image, (str, Path)):
            from .data.images import open_image
            image = open_image(image, long_side=long_side)
        if hasattr(image, "detach"):  # a torch tensor
            image = image.detach().cpu().numpy()
        if isinstance(image, np.ndarray):
            image = Image.fromarray(image_array(image))
        if not isinstance(image, Image.Image):
            raise PixinwavError(f"cannot use {type(image).__name__} as an image (a path, a Pillow image, an array or a "
                                "tensor)")
        if min(image.size) < MIN_SIDE:
            raise PixinwavError(f"image is {image.size[0]} x {image.size[1]} pixels; need at least {MIN_SIDE} x {MIN_SIDE}")
        return image

    def _mono(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        """The cover downmixed and resampled to the model rate (done once per call)."""
        return resample(self._checked(audio, sample_rate).mean(axis=1), sample_rate, self.cfg.sample_rate)

    def _song_mono(self, cover: np.ndarray, sample_rate: int) -> np.ndarray:
        """A whole-song model's view of the cover: its downmix at the model's rate, or, for a model that writes its
        own rate, the cover itself (checked), downmixed later as the file will hold it."""
        return self._checked(cover, sample_rate) if self.model.writes_model_rate else self._mono(cover, sample_rate)

    def _checked(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        """``audio`` as ``[T, channels]`` float32, refused with a reason when it is not audio this model takes."""
        audio = audio_array(audio)
        check_rate(sample_rate)
        self.check_length(audio.shape[0], sample_rate)
        return audio

    def check_length(self, frames: int, sample_rate: int, offset: float = 0.0) -> None:
        """Refuse audio too short for the model (from ``offset`` seconds on), in seconds and samples."""
        duration = frames / sample_rate
        if offset < 0:
            raise PixinwavError(f"offset must be >= 0 seconds, got {offset}")
        if offset + self.clip_seconds > duration + 1e-6:
            need = int(np.ceil(self.clip_seconds * sample_rate))
            start = f" starting at {offset:.6f} s" if offset else ""
            raise PixinwavError(f"audio is {duration:.3f} s long ({frames:,} samples at {sample_rate} Hz); the model "
                                f"needs {self.clip_seconds:.3f} s ({need:,} samples){start}: shorter covers are refused, "
                                "not padded, so the file keeps its length")

    @inference
    @one_blas_thread
    def presence_at(self, audio: np.ndarray, sample_rate: int, offset: float = 0.0, key: str | None = None) -> float:
        """A window model's pilot agreement at ``offset`` seconds (a stego window scores about 0.98, other audio
        about 0); an error for models without pilots, or audio too short for the window."""
        return self.placement.presence_at(audio, check_rate(sample_rate), check_offset(offset), self._keyed(key))

    # --- operations ---------------------------------------------------------------------------------------
    def _band(self, sample_rate: int) -> dict:
        """``band_limit_hz`` for schemes that follow the cover's band, when the cover's rate is too low for all of
        the model's band (the receiver derives the same from the file's rate)."""
        limit = BAND_LIMIT_FRACTION * sample_rate / 2
        return {"band_limit_hz": limit} if self.model.follows_band_limit and limit < self.model.top_frequency else {}

    def _keyed(self, key: str | None) -> dict:
        if key is None:
            return {}
        if not isinstance(key, str):
            raise PixinwavError(f"key must be a string (a passphrase), got {type(key).__name__}")
        if not self.model.takes_key:
            raise PixinwavError("this model takes no key (every shipped model but pixinwav-small-v0 does)")
        if not key:
            raise PixinwavError("the key is empty")
        return {"key": unicodedata.normalize("NFC", key)}  # the same passphrase from any keyboard or file system

    @inference
    @one_blas_thread
    def hide(self, image, audio: np.ndarray, sample_rate: int, offset: float | str = 0.0,
             key: str | None = None, seconds: float | None = None, quality: int | None = None,
             max_side: int | None = None, in_place: bool = False,
             survive: str | None = None) -> tuple[np.ndarray, HideReport]:
        """Hide ``image`` in ``audio`` at ``offset`` seconds ("auto": the loudest window on the 0.5 s grid);
        with ``key``, only a receiver with the same key can reveal it, or tell it is there. Whole-file models
        (``pixinwav-robust-v1``) take no offset: they fill the song, one copy of the payload per ``seconds`` of
        music, the image compressed at the best quality that fits (or at ``quality``); ``pixinwav-modulo-v2`` sends
        the photo at its own size, or with its long side at most ``max_side``; ``pixinwav-robust-v2`` the photo at
        its own aspect ratio, as large as ``seconds`` of music carry (default: the song over 1.5). Returns (stego
        ``[T, channels]`` float32, report; the stego is at the cover's rate unless ``report.sample_rate`` says otherwise).
        ``in_place``: a whole-song model may write the stego into ``audio`` itself (a float32 ``[T, channels]``
        array the caller no longer needs; afterwards it holds the stego or, after an error, part of it): a
        10-minute stereo song is then not held twice (212 MB at 44.1 kHz). ``survive`` (models that size their photo
        to it, the robust song models): attacks as ``pixinwav eval --attacks`` names them ("aac:64,opus:32"); the
        stego is read back through each, and a smaller photo sent until it comes back after all of them. Without it
        such a model reads its photo back through its own check (a 1 % slower tempo), makes it smaller once where
        packets are lost, and warns (``report.warnings()``) where they still are; ``"none"`` skips the check."""
        keyed, offset, sample_rate = self._keyed(key), check_offset(offset), check_rate(sample_rate)
        given = self.check_options({"seconds": seconds, "quality": quality, "max_side": max_side, "survive": survive,
                                    "offset": offset})
        secret = self.prepare_image(image)
        cover, beyond = self._cover(audio)
        stego, report = self.placement.hide(secret, cover, sample_rate, keyed, given,
                                            in_place or not np.may_share_memory(cover, audio))
        report.cover_over_full_scale = beyond
        return stego, report

    @inference
    @one_blas_thread
    def hide_file(self, file: HiddenFile | str | Path, audio: np.ndarray, sample_rate: int,
                  key: str | None = None, in_place: bool = False, survive: str | None = None) -> tuple[np.ndarray, HideReport]:
        """Hide a file bit-exact (a :class:`HiddenFile`, or a path) in the whole song, with models that carry files
        (``pixinwav-modulo-v2``, ``pixinwav-robust-v2``); ``reveal_payload`` gives it back. Returns (stego
        ``[T, channels]``, report), as :meth:`hide` (``in_place`` and ``survive`` too: a file that does not come back
        after the attacks is refused, saying how much would)."""
        from . import hidden_file

        if not self.model.carries_files:
            raise PixinwavError("this model carries images only; hiding a file needs pixinwav-adaptive-v5, v4 or v3, "
                                "pixinwav-modulo-v2 or pixinwav-robust-v2")
        keyed, sample_rate = self._keyed(key), check_rate(sample_rate)
        if not isinstance(file, HiddenFile):
            file = hidden_file.read(file)
        if not file.data:
            raise PixinwavError("the file is empty: there is nothing to hide")
        cover, beyond = self._cover(audio)
        stego, report = self.placement.hide(file, cover, sample_rate, keyed, self.check_options({"survive": survive}),
                                            in_place or not np.may_share_memory(cover, audio))
        report.cover_over_full_scale = beyond
        return stego, report

    @staticmethod
    def _cover(audio: np.ndarray) -> tuple[np.ndarray, int]:
        """(the cover as ``[T, channels]`` float32 within 16-bit full scale, samples that were beyond it)."""
        cover = audio_array(audio)
        beyond = over_full_scale(cover)
        if beyond:  # the 16-bit file will clip these samples: hide in the cover as the file will hold it, since a
            # modulo code sees a 19-sample overshoot in every coefficient of its window (v1 lost its image so)
            cover = np.clip(cover, -1.0, 32767 / 32768)
        return cover, beyond

    def check_options(self, options: dict) -> dict:
        """The hide options that are set (not None; an offset of 0, where `hide` puts a window unless told, counts as
        not set); an error naming the model that takes one this model does not."""
        given = {name: value for name, value in options.items()
                 if value is not None and not (name == "offset" and value in (0, 0.0))}
        for name in given:
            if name == "offset" and name not in self.options:
                raise PixinwavError(OFFSET_REFUSED)
            if name not in self.options:
                users = {"max_side": "pixinwav-adaptive-v5, v4 or v3, pixinwav-modulo-v2 or pixinwav-robust-v2 to v5",
                         "seconds": "pixinwav-robust-v1 to v5",
                         "quality": "pixinwav-robust-v1 or pixinwav-adaptive-v5, v4 or v3",
                         "survive": "pixinwav-robust-v5, v4, v3 or v2"}[name]
                raise PixinwavError(f"--{name.replace('_', '-')} does not apply to this model ({users} takes it)")
        return given

    def _add(self, cover: np.ndarray, delta: np.ndarray, start: int, sample_rate: int,
             on_grid: bool = False, in_place: bool = False) -> Added:
        """The cover plus a difference signal made at the model's rate from sample ``start`` on, brought to the
        cover's rate and added to every channel, clipped to 16 bits; ``on_grid``: added to the cover's samples
        as a 16-bit file holds them; ``in_place``: written into ``cover`` itself (a whole song is then not held
        twice), else into a copy. The SNR over the whole file is taken on the way, block by block."""
        delta = np.asarray(delta)
        if sample_rate == self.cfg.sample_rate:
            at = start
        else:  # take the difference back to the cover's rate, with a margin for the resampler's filter
            margin = self.cfg.sample_rate // 10
            # (float32, as the resampler returns it: added to the float64 cover block by block, exactly as a float64
            # copy of it would be, without a whole song at double width)
            delta = resample(np.pad(delta.astype(np.float64), margin), self.cfg.sample_rate, sample_rate)
            at = int(round((start - margin) * sample_rate / self.cfg.sample_rate))
        lo, hi = max(at, 0), min(at + len(delta), cover.shape[0])
        part = delta[lo - at:hi - at]
        if sample_rate != self.cfg.sample_rate and self.model.whole_step_changes:  # rounded the scheme's way
            # the downmix of the channels as the file will hold them (not rounded again: that would add a floor
            # the file does not have, and the rounding would be shaped against it)
            mono = pcm16_round_trip(cover[lo:hi]).astype(np.float64).mean(axis=1) * PCM16_SCALE
            part = self.model.whole_steps(part.astype(np.float64) * PCM16_SCALE, mono) / PCM16_SCALE
        stego, clipped = cover if in_place and cover.flags.writeable else cover.copy(), 0
        power = float(np.sum(np.square(cover[:lo], dtype=np.float64)) + np.sum(np.square(cover[hi:], dtype=np.float64)))
        noise = 0.0
        for a in range(lo, hi, ADD_BLOCK):  # float64 a block at a time: a whole song is not copied at double width
            b = min(a + ADD_BLOCK, hi)
            before = cover[a:b].astype(np.float64)
            window = (pcm16_round_trip(cover[a:b]).astype(np.float64) if on_grid else before) + part[a - lo:b - lo, None]
            # `hide` clipped a float cover that went beyond full scale, so whatever is over now, the change put there
            clipped += int(np.count_nonzero((window < -1.0) | (window > 32767 / 32768)))
            stego[a:b] = np.clip(window, -1.0, 32767 / 32768)
            power += float(np.sum(np.square(before)))
            noise += float(np.sum(np.square(stego[a:b] - before)))
        return Added(stego, clipped, metrics.snr_of(power, noise), power / max(cover.size, 1))

    @one_blas_thread
    def capacity(self, audio: np.ndarray, sample_rate: int, photo: tuple[int, int] | None = None,
                 file_bytes: int | None = None) -> dict:
        """What a song carries with this model: for the song model, tiles (windows loud enough), the largest photo
        of common aspect ratios, and for ``photo`` (width, height) the tiles and seconds it needs at its own size;
        the largest file it carries exactly, and for a file of ``file_bytes`` the windows and seconds it needs;
        ``lines``: the same in words."""
        sample_rate = check_rate(sample_rate)
        if file_bytes is not None and not self.model.carries_files:
            raise PixinwavError("this model carries images only; a file needs pixinwav-adaptive-v5, v4 or v3, "
                                "pixinwav-modulo-v2 or pixinwav-robust-v2")

        return self.placement.capacity(audio, self._song_mono(audio, sample_rate), sample_rate, photo, file_bytes)

    @inference
    def reveal(self, audio: np.ndarray, sample_rate: int, offset: float | str = 0.0, check: bool = True,
               key: str | None = None) -> np.ndarray:
        """Reveal the image hidden at ``offset`` seconds ("auto": the window the model's pilots recognise on the
        0.5 s grid; models without pilots cannot find it; whole-file models need no offset) with the ``key`` it was
        hidden with, if any; returns ``[C, H, W]`` in [0, 1]. With ``check``, a model that can tell refuses audio
        where no image is hidden (at that offset, or with that key). See :meth:`reveal_with_report`."""
        return self.reveal_with_report(audio, sample_rate, offset, check, key)[0]

    @inference
    def reveal_with_report(self, audio: np.ndarray, sample_rate: int, offset: float | str = 0.0, check: bool = True,
                           key: str | None = None, origin: float = 0.0) -> tuple[np.ndarray, str]:
        """(image, one line on what was found: where, and how sure; it starts with "warning: " when the image
        is written although the model says it is damaged). ``origin``: where ``audio`` starts in its file
        (seconds), for the report. :meth:`reveal_payload` gives the verdict as a word."""
        found = self.reveal_payload(audio, sample_rate, offset, check, key, origin)
        if found.file is not None:
            raise PixinwavError(f"this audio carries a file ({found.file.name or 'unnamed'}, {len(found.file.data):,} "
                                "bytes), not an image: use reveal_payload (the CLI's reveal writes it)")
        return found.image, found.line()

    @inference
    @one_blas_thread
    def reveal_payload(self, audio: np.ndarray, sample_rate: int, offset: float | str = 0.0, check: bool = True,
                       key: str | None = None, origin: float = 0.0) -> Revealed:
        """Whatever the audio holds: an image, or (models that carry files) the file exactly, with its verdict. Raises
        :class:`~pixinwav.errors.NotFound` when nothing is found, or (``lost``) when a payload is found but cannot be
        rebuilt exactly; :class:`PixinwavError` for input it cannot read. A window
        model reads the window at ``offset`` seconds ("auto": the one its pilots recognise on the 0.5 s grid);
        ``origin``: where ``audio`` starts in its file (seconds), for the report."""
        offset, sample_rate = check_offset(offset), check_rate(sample_rate)
        return self.placement.reveal(audio, sample_rate, offset, check, self._keyed(key), origin)

    # --- files ---------------------------------------------------------------------------------------------
    @inference
    @one_blas_thread
    def hide_path(self, secret, cover: str | Path, out: str | Path, key: str | None = None, force: bool = False,
                  fmt: str | None = None, **options) -> tuple[HideReport, dict]:
        """`pixinwav hide`: an image (a path or a Pillow image) or a :class:`HiddenFile` into the song file ``cover``,
        the stego written to ``out`` (16-bit WAV or FLAC: ``fmt``, else the extension) with the cover's tags, never
        half-written; ``options`` as :meth:`hide` takes them (``offset``, ``seconds``, ``quality``, ``max_side``,
        ``survive``). Returns (report, the stego's ``rate``, ``channels`` and ``seconds``); ``report.notes`` are lines
        to print after it. A window model reads and writes around its window only; a whole-song model the whole song."""
        given = self.check_options(options)
        return self.placement.hide_path(secret, cover, out, key, given, force, fmt)

    @inference
    @one_blas_thread
    def reveal_path(self, path: str | Path, offset: float | str = 0.0, check: bool = True, key: str | None = None,
                    audio=None) -> Revealed:
        """`pixinwav reveal` of a file (``audio``: the file as :func:`~pixinwav.data.audio.read_audio` read it, if
        it was): what :meth:`reveal_payload` gives."""
        return self.placement.reveal_path(path, check_offset(offset), check, key, audio)


def load_model(name_or_path: str | Path | None = None) -> Stego:
    """A shipped model by name (default: the package's default model, hash-checked) or a model / checkpoint file."""
    model, card, path = load_scheme(name_or_path)
    return Stego(model, card, str(path))
