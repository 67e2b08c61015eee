"""The interface every stego scheme implements, and the typed result of hiding.

A scheme turns an image ``[B, C, H, W]`` in [0, 1] and a cover waveform ``[B, T]`` (mono, the model's rate) into
a container waveform, and reads an image back from a received waveform. The pipeline around it (the channel,
the loss, the API, the CLI) only calls what is declared here and asks the declared capabilities, never
``hasattr``:

- ``takes_key``: ``embed`` / ``extract`` accept a secret ``key``.
- ``measures_statistics``: ``fit_statistics(images, covers)`` is part of training (data statistics, no gradient).
- ``has_presence``: ``extract`` returns a presence score that tells "an image is here" from "nothing is here".
- ``follows_band_limit``: ``embed`` / ``extract`` accept ``band_limit_hz`` and then write only under it (a cover
  at a low sample rate cannot carry more; the receiver knows the limit from the file's rate).
- ``whole_step_changes``: ``embed`` changes the cover by whole 16-bit steps, so it wants the cover as a 16-bit
  file holds it (the API rounds a float cover's window first, then the file stores the change exactly), and
  ``whole_steps`` rounds the change again, the scheme's way, after it is resampled to another cover rate.
- ``full_image``: ``embed`` takes the photo ``[1, C, H, W]`` at its own size (any aspect ratio), not a square of
  ``cfg.image_size``, and ``extract`` returns it at the size it was sent.
- ``writes_model_rate``: the stego must be written at the model's rate, from a cover as the 16-bit file holds it
  (the scheme's mark lives in the exact samples; a resampler would erase it); ``embed`` and ``extract`` take the
  file's ``channels`` ``[T, C]`` beside the downmix.
- ``takes_room``: ``embed`` accepts ``room``, the share of its measured capacity a compressed image may fill (the
  API lowers it when a cover at another rate loses the image to the resampling, which the sender cannot see).
- ``hide_options``: the keyword options of ``embed`` a user may set (robust: ``seconds``, ``quality``).
- ``carries_files``: ``embed_file(file, cover, key)`` hides a :class:`HiddenFile` bit-exact, and ``extract`` returns
  it in ``Extracted.file`` when that is what the audio holds.
- ``sizes_to_survive``: ``embed`` accepts ``share`` (of the bytes the song carries for the photo, the share it may
  take) and ``extract`` reports ``Extracted.arrived``: ``hide --survive`` reads the stego back through the attacks
  named and sends a smaller photo until it comes back (a file cannot shrink: it is refused instead).
  ``checked_attacks`` (such models): the attacks a photo is read back through when no ``--survive`` is given; there a
  photo that loses packets is made smaller once and otherwise sent with a warning, never refused.
- ``whole_file``: the scheme takes a cover of any length of at least ``min_cover_samples`` (the payload is spread
  over all of it and found again without an offset) instead of a window of exactly ``cfg.clip_samples``.

Two kinds of scheme: those whose state is a few measured arrays and whose arithmetic is NumPy's (``StegoScheme``
itself: the modulo, adaptive and robust schemes, which then load and run without importing torch, 0.7 s and 220 MiB
of a command's start) and those with learned nets (:class:`~pixinwav.models.net_scheme.NetScheme`: the U-Nets and
the modulo scheme with a refiner, ``nn.Module`` s). Images and waveforms pass between the API and a scheme as
NumPy arrays or CPU tensors (a net scheme takes either); what a scheme returns, the API reads with ``np.asarray``.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import NamedTuple

from contextlib import nullcontext
from typing import Iterator

import numpy as np

from ..arrays import Array, as_numpy
from ..config import ModelConfig
from ..errors import PixinwavError
from ..hidden_file import HiddenFile


@dataclass
class Sent:
    """What a whole-file scheme sent: one record for every scheme. ``hide``'s report carries it, the CLI prints
    :meth:`describe` and the web page shows the same line (:meth:`summary`), so nothing downstream asks which scheme
    wrote it. Fields that do not apply to a scheme stay None."""

    kind: str  # "photo" or "file"
    bytes: int  # the photo's compressed file (a layered photo's sharp layer), or the user's file; 0: tiles of pixels
    seconds_used: float  # music that carries it
    places: str  # where, in words: "63 of 94 windows loud enough", "87 segments of 2.05 s"
    starts: list[float] = field(default_factory=list)  # window schemes: where each window that carries it starts (s)
    units_used: int | None = None  # windows (or segments) that carry it
    units_loud: int | None = None  # windows (or segments) loud enough to carry
    packets: int | None = None  # fountain-code packets sent (distinct ones)
    needed: int | None = None  # any this many of them rebuild it
    copies: float | None = None  # times each packet (or the one copy) is sent over
    copy_seconds: float | None = None  # one repeated copy: the music it takes
    asked_seconds: float | None = None  # ``--seconds`` as given (to warn when the song is shorter)
    width: int | None = None  # a photo at the size sent
    height: int | None = None
    channels: int | None = None
    original: tuple[int, int] | None = None  # (width, height) of the photo given
    codec: str | None = None  # the photo's file format (AVIF, WebP); None: pixels (tiles)
    quality: int | None = None
    tiles: int | None = None  # a photo sent as tiles of pixels, one per window
    tile_side: int | None = None
    base_bytes: int | None = None  # a layered photo's coarse base image, and its packets
    base_packets: int | None = None
    base_needed: int | None = None
    name: str | None = None  # a file's name
    packing: str | None = None  # a file sent packed: how, in words (``HiddenFile.packing_said``)
    survives: str | None = None  # hide --survive: the attacks the sender ran on its stego and read it back through
    at_risk: str | None = None  # hide's own check (no --survive) lost packets of the photo: what, in words (a warning)
    # for measurement, not for the user: the photo given ``[C, H, W]`` (``sent``: at the size sent), and the compressed
    # photo as an intact stego gives it
    photo: Array | None = field(default=None, repr=False, compare=False)
    compressed: Array | None = field(default=None, repr=False, compare=False)

    @property
    def sent(self) -> Array | None:
        """The photo at the size sent (scaled as the sender scaled it; torch's bicubic, so only measurement asks)."""
        from .. import tiles

        return None if self.photo is None else tiles.scaled(self.photo, self.width, self.height)

    def describe(self) -> str:
        """One line on what was sent and where."""
        where = f"{self.seconds_used:.1f} s of music used ({self.places}); reveal needs no offset"
        if self.kind == "file":
            spare = self.packets - self.needed
            checked = f"; checked: it comes back after {self.survives}" if self.survives else ""
            packed = f"; {self.packing}" if self.packing else ""
            return (f"the file {self.name} ({self.bytes:,} bytes, exact{packed}) in {self.packets} packets, {self.needed} needed "
                    f"and {spare} spare (any {self.needed} of them rebuild it): {where}{checked}")
        text = f"the photo at {self.width} x {self.height}"
        if self.codec:
            text += f" ({self.codec}, {self.bytes:,} bytes, quality {self.quality})"
        if self.tiles:
            text += f" in {self.tiles} tiles of {self.tile_side} x {self.tile_side}, one per window"
        if self.packets:
            text += f" in {self.packets} packets, any {self.needed} of which rebuild it"
        if self.base_bytes:
            text += (f", and a coarse base image ({self.base_bytes} bytes) in {self.base_packets} packets, any "
                     f"{self.base_needed} of which rebuild it")
        if self.copy_seconds:
            text += f", one copy per {self.copy_seconds:.1f} s of music, {self.copies:.1f} copies"
        checked = f"; checked: it comes back after {self.survives}" if self.survives else ""
        return f"{text}: {where}{checked}"

    def summary(self) -> dict:
        """The fields a JSON reader wants (no tensors, nothing unset), and ``line``: :meth:`describe`."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("photo", "compressed")}
        return {**{k: v for k, v in out.items() if v is not None}, "line": self.describe()}


@dataclass
class WindowSent:
    """What a window scheme measured while writing one window (the adaptive scheme reads its own stego exactly as the
    receiver will, so it knows these before the file is sent)."""

    cells: int  # cells of the window's layout
    cells_used: int  # of them, those loud enough to carry a code
    step_disagreements: int  # cells whose step the receiver will read differently from the sender's
    rounds: int  # rounds of the sender's fixed point (steps read back from its own stego)
    payload: str = "analog"  # "analog": the image's colour-DCT coefficients; "file": the image compressed
    expected_ssim: float | None = None  # the SSIM the receiver will get (None: not measured)
    presence: float | None = None  # the pilots' agreement the receiver will read (1.0: a file that passes its checksum)
    bytes: int | None = None  # payload "file": the compressed image's bytes (0: none fitted)
    quality: int | None = None  # ... its codec quality
    message_bits: int | None = None  # ... the code's message, and the capacity measured by the sender's probe (bits)
    capacity_bits: int | None = None
    tries: int | None = None  # ... messages tried before one read back


@dataclass
class Hidden:
    """What :meth:`StegoScheme.forward` returns (``embed`` fills the first three fields).

    ``cover_spec`` / ``container_spec`` / ``received_spec`` are the scheme's own transform of the cover, of the
    container and of what the receiver got: ``[B, F, N]`` (STDCT or STFT) for ``unet``, ``[B, T]`` (the
    full-window DCT) for ``modulo``, ``[B, frames, hop]`` (the window's MDCT) for ``adaptive``, ``[B, T]`` waveforms
    for ``robust``. ``container`` is the container
    waveform ``[B, T]`` before quantisation; ``revealed`` the image ``[B, C, H, W]``. A whole-file scheme that
    changes a song in places may give ``change`` instead of the container (then None)."""

    cover_spec: Array
    container_spec: Array | None
    container: Array | None
    received_spec: Array | None = None
    revealed: Array | None = None
    # window schemes that measure what they send (adaptive), per item
    window_sent: list[WindowSent] | None = None
    # whole-file schemes, one song: what was sent
    sent: Sent | None = None
    # whole-file schemes, one song: the container minus the cover, ``[T]`` float32, zeros where nothing was written
    # (made by np.zeros, whose untouched pages take no memory: a 10-minute song's container would take 106 MB)
    change: np.ndarray | None = None


# What a reveal says about what it gives back (``Extracted.verdict``, ``api.Revealed.verdict``): one word every
# caller reads, never the wording of a detail line.
EXACT = "exact"  # bytes that passed their checksum: the file, or the compressed photo, exactly as sent
INTACT = "intact"  # an image of analog codes whose pilots agree as an unchanged stego's do
DAMAGED = "damaged"  # an image the model gives back although it says it is damaged (a warning goes with it)
UNCHECKED = "unchecked"  # the model cannot tell (no pilots)


class Extracted(NamedTuple):
    image: Array  # [B, C, H, W] in about [0, 1] (not clamped)
    presence: Array | None  # [B] in [0, 1] where the scheme can tell (has_presence), else None
    detail: str | None = None  # one line on the first item: what was found, or why nothing was
    # [B] bool where the scheme found an image it cannot return (a compressed file that fails its code): the image
    # is a blank placeholder, nothing true to write
    lost: Array | None = None
    # schemes that carry files (carries_files): the file found, exact (then ``image`` is a blank placeholder)
    file: "HiddenFile | None" = None
    # the first item's verdict where the scheme decides it (whole-file schemes); None: the API judges a window
    # scheme's image by its presence score (and calls it damaged where ``detail`` gives a reason)
    verdict: str | None = None
    # fountain-coded schemes that size their payload (robust song): of the packets that rebuild the main payload (the
    # sharp image, or the file), the share that arrived intact (1 or more: it was rebuilt); None: not measured
    arrived: float | None = None


class StegoScheme:
    """Base class of the schemes. Subclasses set the capability flags and implement ``analyse``, ``embed``,
    ``reveal_spec``, ``extract`` and ``top_frequency``.

    The state of a scheme without nets: NumPy arrays registered with :meth:`register_buffer` (attributes of that
    name), and those of the schemes it holds as attributes (keys ``part.name``), saved and loaded with
    :meth:`state_dict` / :meth:`load_state_dict`. ``state_version`` counts the changes, for caches built from
    the state. ``train`` / ``eval`` / ``to`` are what the training loop calls on any scheme: here there is
    nothing to move and no mode."""

    takes_key = False
    measures_statistics = False
    has_presence = False
    follows_band_limit = False
    whole_step_changes = False
    whole_file = False
    full_image = False
    carries_files = False
    max_side: int | None = None  # full_image models: the longest side they send (a larger photo is reduced on opening)
    writes_model_rate = False
    takes_room = False
    hide_options: tuple[str, ...] = ()
    sizes_to_survive = False
    training = False

    def __init__(self, cfg: ModelConfig):
        self.cfg = cfg
        self._buffers: list[str] = []
        self.state_version = 0

    # --- state (schemes without nets) ---------------------------------------------------------------------------
    def register_buffer(self, name: str, array: np.ndarray) -> None:
        self._buffers.append(name)
        setattr(self, name, np.asarray(array))

    def set_buffer(self, name: str, array: Array) -> None:
        """A new value (an array or a tensor) of a registered buffer, its dtype and shape kept."""
        old = getattr(self, name)
        setattr(self, name, np.asarray(as_numpy(array), dtype=old.dtype).reshape(old.shape).copy())
        self.state_version += 1

    def _parts(self) -> Iterator[tuple[str, "StegoScheme"]]:
        return ((name, value) for name, value in vars(self).items() if isinstance(value, StegoScheme))

    def state_dict(self) -> dict[str, np.ndarray]:
        state = {name: getattr(self, name) for name in self._buffers}
        for part, scheme in self._parts():
            state.update({f"{part}.{k}": v for k, v in scheme.state_dict().items()})
        return state

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        for name in self._buffers:
            self.set_buffer(name, np.asarray(state[name]))
        for part, scheme in self._parts():
            scheme.load_state_dict({k[len(part) + 1:]: v for k, v in state.items() if k.startswith(part + ".")})
        self.state_version += 1

    def train(self, mode: bool = True) -> "StegoScheme":
        return self

    def eval(self) -> "StegoScheme":
        return self

    def to(self, *_args, **_kwargs) -> "StegoScheme":
        return self

    def cpu_copy(self) -> "StegoScheme":
        """The scheme on the CPU, where the API runs (itself when it is there)."""
        return self

    @property
    def trainable(self) -> bool:
        """Whether training has weights to fit by gradient (else measuring the statistics is the whole training)."""
        return False

    @property
    def parameter_count(self) -> int:
        return 0

    def inference(self):
        """A context for the API's calls (net schemes: no autograd)."""
        return nullcontext()

    def __call__(self, image: Array, cover: Array) -> Hidden:
        return self.forward(image, cover)

    # --- shared ---------------------------------------------------------------------------------------------
    @property
    def min_cover_samples(self) -> int:
        return self.cfg.clip_samples

    def check_cover(self, cover: Array) -> None:
        """Refuse a cover the scheme cannot use (a window of the wrong length, or too short a file)."""
        n = cover.shape[-1]
        if self.whole_file and n < self.min_cover_samples:
            raise PixinwavError(f"cover has {n} samples, the model needs at least {self.min_cover_samples}")
        if not self.whole_file and n != self.cfg.clip_samples:
            raise PixinwavError(f"cover has {n} samples, the model needs {self.cfg.clip_samples}")

    def receive(self, hidden: Hidden) -> Array:
        """The container's transform as the receiver gets it through ``cfg.channel``: "wav16" (a 16-bit file,
        straight-through gradient), "float" (no quantisation) or "spectrogram" (the papers' path: the receiver
        gets the container array itself and no audio ever exists)."""
        from ..channel import quantise_pcm16  # (training only: torch)

        if self.cfg.channel == "spectrogram":
            return hidden.container_spec
        wave = quantise_pcm16(hidden.container) if self.cfg.channel == "wav16" else hidden.container
        return self.analyse(wave)

    def forward(self, image: Array, cover: Array) -> Hidden:
        """Hide, pass through the channel, reveal: the training pipeline."""
        hidden = self.embed(image, cover)
        hidden.received_spec = self.receive(hidden)
        hidden.revealed = self.reveal_spec(hidden.received_spec)
        return hidden

    # --- per scheme -----------------------------------------------------------------------------------------
    def analyse(self, wave: Array) -> Array:
        """Waveform ``[B, T]`` -> the scheme's transform (see :class:`Hidden`)."""
        raise NotImplementedError

    def embed(self, image: Array, cover: Array, key: str | None = None) -> Hidden:
        raise NotImplementedError

    def reveal_spec(self, spec: Array, key: str | None = None) -> Array:
        """The received transform -> image ``[B, C, H, W]``."""
        raise NotImplementedError

    def extract(self, wave: Array, key: str | None = None) -> Extracted:
        """Reveal from a received waveform ``[B, T]`` (already read from a file)."""
        raise NotImplementedError

    def presence_many(self, waves: Array, key: str | None = None,
                      band_limit_hz: float | None = None) -> Array | None:
        """Schemes with ``has_presence`` and a window: the presence score of each window ``[W, T]``, ``[W]``
        (None where the geometry is too small to tell)."""
        raise NotImplementedError

    def carries(self) -> dict:
        """What the audio carries, for ``pixinwav info`` (coefficients, pilots, ...); empty if nothing to say."""
        return {}

    def geometry(self) -> dict:
        """Where the payload goes, for ``pixinwav info``: a window's seconds, or for a whole-file scheme the shortest
        cover it takes (and the music per copy of a scheme with ``--seconds``)."""
        if not self.whole_file:
            return {"audio_seconds": round(self.cfg.clip_samples / self.cfg.sample_rate, 4)}
        out = {"min_cover_seconds": round(self.min_cover_samples / self.cfg.sample_rate, 3)}
        if "seconds" in self.hide_options:
            out["payload_seconds"] = self.cfg.robust.payload_seconds
        return out

    def song_capacity(self, mono: np.ndarray, photo: tuple[int, int] | None, file_bytes: int | None,
                      channels: np.ndarray | None = None) -> dict | None:
        """Whole-song models that plan from the mono cover (the model's rate) alone: what it carries, as
        ``Stego.capacity`` reports it (with ``lines``); None: the caller measures it. ``channels``: for a model that
        writes its own rate, the cover's channels at it (``mono``: their 16-bit downmix), as ``hide`` gives them."""
        return None

    def whole_steps(self, change: np.ndarray, cover: np.ndarray) -> np.ndarray:
        """Schemes with ``whole_step_changes``: a change ``[T]`` (in 16-bit steps) brought to a cover's own rate,
        as whole steps rounded the scheme's way for that mono cover ``[T]`` (in steps)."""
        raise NotImplementedError

    @property
    def top_frequency(self) -> float:
        """Hz of the top of the band the scheme writes to: a cover sampled below twice this loses part of it."""
        raise NotImplementedError

