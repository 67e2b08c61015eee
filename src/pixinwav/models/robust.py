"""The robust scheme: a compressed image, LDPC-coded, written by spread-transform dither modulation into the MDCT
of the whole song, with steps that follow the song's own masking, and found again after codecs, noise,
resampling, gain changes and cuts without any offset.

Layout (mono, ``sample_rate`` 16 kHz, MDCT hop ``hop`` = 512 samples = 32 ms; ``band`` 300 Hz-7 kHz):
every frame has ``groups`` groups of ``spread`` neighbouring bins, one bit each. Group ``PN_GROUP`` carries a
keyed pseudo-random sequence that numbers the frames (so a cut start or a codec delay is found), group
``HEADER_GROUP`` the 112-bit header over and over, the others the LDPC codewords of the image, interleaved over
one copy of ``K`` frames. Copies repeat until the song ends, and the receiver adds up what every copy says.

Finding the payload: the lattice points of all groups are the same in every frame, so the receiver can measure
how well a candidate alignment puts projections on the union of both bits' lattices without knowing any bit:
an integer-sample search over one hop on the low bins (which tolerate half a sample), then a fractional-sample
search (a delay of 1024 samples at 44.1 kHz is 371.5 samples at 16 kHz), then the pseudo-random sequence gives
the frame number.
"""
from __future__ import annotations

import hashlib
import math
import threading
from dataclasses import dataclass

import numpy as np

from ..arrays import Array, as_numpy, like
from ..config import ModelConfig
from ..errors import PixinwavError
from ..robust import alignment, code, mdct, payload, speed, tempo
from ..robust.alignment import PN_PERIOD, SYNC_FRAMES
from ..robust.stdm import (FIXED_POINT_ROUNDS, PIECE_NEIGHBOURS, TIME_RADIUS, Lattice, keyed_bits, keyed_lattice,
                           keyed_permutation)
from .base import EXACT, Extracted, Hidden, Sent, StegoScheme

BLOCK_BITS = 1024  # LDPC message bits per codeword (2048 coded bits)
MIN_BLOCKS = 4  # 3 of data (380 bytes: a quarter-size photo at the lowest AVIF quality takes 300-400) + parity
PN_GROUP, HEADER_GROUP = 3, 4  # 1.2-1.9 kHz: loud in music, kept well by codecs
FLOOR = 10 ** (-75 / 20)  # masking scale (per coefficient, full scale = 1) under which the cover counts as silent
# Below this alignment score there is no payload to read: clean 30 s clips of the validation music score
# 0.003-0.05 at their best alignment, stego files that still decode 0.25 or more (Opus 64 kbit/s the lowest).
# Above it, the header's CRC-32 decides; so a false find needs both a chance alignment and a chance CRC.
MIN_AGREEMENT = 0.1
# ... but through a 64 kbit/s codec (AAC 64, Opus 32) the loudest passages' agreement falls to 0.04-0.10 at the right
# grid (four validation songs: the shift found was right in every case): there the grid counts when the keyed frame
# numbering read along it over the whole file agrees this many standard errors over chance (plain audio: about 4.5
# at its best; such a file: 20 or more). Tried last, after the speed and tempo searches, so nothing found before
# is found differently.
NUMBERED_Z = 8.0
# The sender embeds this many frames at a time (``write``), with the frames each side whose masking scale reaches a
# block's frames over the fixed-point rounds (one frame per round and time radius, one round more to spare)
WRITE_FRAMES = 4096
WRITE_MARGIN = TIME_RADIUS * (FIXED_POINT_ROUNDS + 1)
_LOCATIONS: dict[tuple, "Location"] = {}  # the latest grid searches, by model, key and audio
# two: `reveal` without --model searches the grid at two levels at once (a location holds the wave, and the
# speed-corrected copy where there is one: 26 MB each for a 3-minute song)
KEPT_LOCATIONS = 2
_LOCATIONS_LOCK = threading.Lock()
# One whole-song reading on one grid at a time: its shift, MDCT and masking scale hold about 230 MB at once for a
# 10-minute song, and `reveal` without --model searches two levels' grids at once on threads
_WHOLE_SONG_READING = threading.Lock()


@dataclass
class Location:
    """Where a receiver found the frame grid: in ``wave`` (the received one, or with a speed change undone)."""

    wave: np.ndarray
    shift: float  # samples from the start of ``wave`` to the first whole frame, fractional
    agreement: float  # how well the projections sit on the lattices there (about 0 without a payload, 1 intact)
    speed: float = 1.0  # the speed change undone (1.01: the file played 1 % fast)
    stretched: bool = False  # the tempo was changed, the pitch kept: ``agreement`` is the share of chunks in pieces
    numbered: float | None = None  # a grid found by its frame numbering alone (``NUMBERED_Z``): how many standard errors
    llr: np.ndarray | None = None  # the frames' log-likelihood ratios there, where the search read them already
    pieces: tuple | None = None  # the piece-by-piece reading (location, log-likelihood ratios), where it was tried

    @property
    def found(self) -> bool:
        return self.stretched or self.agreement >= MIN_AGREEMENT or self.numbered is not None

    @property
    def note(self) -> str:
        """What the receiver undid, for its report (empty when nothing)."""
        if self.stretched:
            return "; the tempo was changed (pitch kept): read piece by piece"
        if self.numbered is not None:
            return (f"; the frame grid was found by its numbering ({self.numbered:.0f} standard errors over chance): the "
                    "file went through a strong codec")
        if abs(self.speed - 1) < 5e-5:
            return ""
        return f"; the file plays {abs(self.speed - 1) * 100:.2f} % {'fast' if self.speed > 1 else 'slow'}: undone"


@dataclass
class Reading:
    """What the receiver found. ``image`` is None unless the header and the image's CRC-32 both hold."""

    image: Array | None
    agreement: float  # how well the best alignment puts projections on the lattices (about 0 without a payload)
    detail: str  # one line: what was found, or why there is no image
    shift: float = 0.0  # samples (16 kHz) from the file's start to the first whole frame
    first_frame: int = 0  # the payload frame number of that frame
    failed_blocks: int = 0
    header_read: bool = True  # False where a payload-like pattern held no readable header


class RobustChannel(StegoScheme):
    """What the robust schemes share: the MDCT channel at ``cfg.hop`` over ``cfg.band``, its keyed lattice (masking
    floor ``floor``), whole files read as waveforms."""

    takes_key = True
    has_presence = True
    whole_file = True
    floor = FLOOR

    def __init__(self, cfg: ModelConfig):
        super().__init__(cfg)
        self.hop = cfg.hop
        self.low, self.high = round(cfg.band[0] * cfg.hop), round(cfg.band[1] * cfg.hop)

    def lattice(self, key: str | None) -> Lattice:
        return keyed_lattice(key or "", self.low, self.high, self.cfg.robust.spread, self.cfg.robust.change_db, self.floor)

    @property
    def numbering_group(self) -> int:
        """The group whose bits number the frames (a keyed sequence, ``alignment.frame_sequence``)."""
        return PN_GROUP

    @property
    def top_frequency(self) -> float:
        return self.high * self.cfg.sample_rate / (2 * self.hop)

    def analyse(self, wave: Array) -> Array:
        return wave

    def write(self, cover: np.ndarray, bits: np.ndarray, key: str | None) -> np.ndarray:
        """``cover [T]`` with ``bits [frames, groups]`` written into its first frames, ``WRITE_FRAMES`` at a time:
        each block is embedded with the frames around it whose scale reaches into it over the sender's rounds, and the
        blocks' syntheses add up as the whole song's does (each sample is the sum of the same two frames' halves). The
        stego is a whole-song embedding's (whose arrays peaked a 10-minute hide at 1.2 GB) but for the last bits of the
        masking scale's running sums, which begin anew in each block (robust-v1 on a 10-minute cover: 4 of 28.8
        million samples one step apart)."""
        lattice, hop, frames = self.lattice(key), self.hop, len(bits)
        coefs = mdct.analyse(cover, hop, frames)
        container, tail = cover.copy(), None
        for a in range(0, frames, WRITE_FRAMES):
            b = min(a + WRITE_FRAMES, frames)
            lo, hi = max(0, a - WRITE_MARGIN), min(frames, b + WRITE_MARGIN)
            change = mdct.synthesise(lattice.embed(coefs[lo:hi], bits[lo:hi])[a - lo:b - lo] - coefs[a:b], hop)
            if tail is not None:  # the last block's final frame's second half: these samples are now whole
                change[:hop] += tail
            container[a * hop:b * hop] += change[:-hop]
            tail = change[-hop:]
        if tail is not None:
            container[frames * hop:(frames + 1) * hop] += tail
        return container

    def locate(self, wave: np.ndarray, key: str | None) -> "Location":
        """Where the frame grid is in ``wave``: first as written; where it is not found so, after the speed search
        (``robust/speed.py``: a file played up to 2.7 % fast or slow, pitch and tempo together), in the wave with
        the speed change undone."""
        # `reveal` without --model locates the grid to recognise the file, then again to read it: the answer for the
        # latest wave is kept (the speed search, the tempo pieces and the numbered frames cost seconds)
        memo = (type(self).__name__, self.hop, self.low, self.high, self.cfg.robust.spread, self.cfg.robust.change_db, key,
                len(wave), hashlib.blake2b(np.ascontiguousarray(wave[::97], np.float32).tobytes()).hexdigest())
        found = _LOCATIONS.get(memo)
        if found is None:
            found = self._locate(wave, key)
            with _LOCATIONS_LOCK:
                _LOCATIONS[memo] = found
                while len(_LOCATIONS) > KEPT_LOCATIONS:  # (the oldest goes; dicts keep their order of insertion)
                    del _LOCATIONS[next(iter(_LOCATIONS))]
        return found

    def _locate(self, wave: np.ndarray, key: str | None) -> "Location":
        lattice = self.lattice(key)
        shift, agreement = alignment.align(wave, lattice, self.hop)
        if agreement >= MIN_AGREEMENT:
            # one grid in the loudest passages; unless the delay jumps inside them (a changed tempo), it holds over
            # the file (reading a stretched file with one grid decodes nothing, slowly)
            share = tempo.share_in_pieces(wave, lattice, self.hop, grid=shift)
            return Location(wave, shift, agreement) if share < tempo.MIN_PIECES else Location(wave, 0.0, share,
                                                                                               stretched=True)
        found = speed.find(wave, lattice, self.hop)
        if found is not None and abs(found[0] - 1) > 2e-5:  # (closer to 1, the grid search above would have held)
            undone = speed.undo(wave, found[0])
            undone_shift, undone_agreement = alignment.align(undone, lattice, self.hop)
            if undone_agreement >= MIN_AGREEMENT:
                return Location(undone, undone_shift, undone_agreement, found[0])
        share = tempo.share_in_pieces(wave, lattice, self.hop)
        if share >= tempo.MIN_PIECES:
            return Location(wave, 0.0, share, stretched=True)
        llr = self.frames_at(wave, shift, key)
        z = alignment.numbering_z(llr[:, self.numbering_group], key)
        return Location(wave, shift, agreement, numbered=z if z >= NUMBERED_Z else None, llr=llr)

    def frames_at(self, wave: np.ndarray, shift: float, key: str | None) -> np.ndarray:
        """The log-likelihood ratios ``[frames, groups]`` of the frames of ``wave`` on the grid at ``shift``."""
        with _WHOLE_SONG_READING:
            coefs = mdct.analyse(alignment.fractional_shift(wave, shift)[int(math.floor(shift)):], self.hop)
            return self.lattice(key).soft(coefs)[0]

    def soft_frames(self, wave: np.ndarray, key: str | None,
                    piecewise: bool = False) -> tuple["Location", np.ndarray | None]:
        """(where the grid is, log-likelihood ratios ``[frames, groups]`` of the frames from there on; None when no
        payload is found). For a stretched file the frames are the payload's, in its order, read piece by piece;
        ``piecewise`` reads so wherever the loudest blocks show a splice (a receiver's second try, where one grid
        found in the loudest passages gave no header)."""
        if piecewise:
            share = tempo.share_in_pieces(wave, self.lattice(key), self.hop)
            where = Location(wave, 0.0, share, stretched=share >= tempo.MIN_PIECES)
        else:
            where = self.locate(wave, key)
        if not where.found:
            return where, None
        if where.stretched and where.llr is None:  # (kept with the search's answer, as below)
            pieces = tempo.piecewise(where.wave, self.lattice(key), self.hop, self.numbering_group, key)
            if pieces is None:
                return Location(wave, 0.0, 0.0), None
            where.llr = self.lattice(key).soft_phases(pieces[0], pieces[1], around=PIECE_NEIGHBOURS)[0]
        if where.llr is None:  # (kept with the search's answer: `reveal` without --model reads them twice)
            where.llr = self.frames_at(where.wave, where.shift, key)
        return where, where.llr

    def reveal_spec(self, spec: Array, key: str | None = None) -> Array:
        return self.extract(spec, key).image


class RobustStego(RobustChannel):
    hide_options = ("seconds", "quality")

    # --- layout -------------------------------------------------------------------------------------------------

    @property
    def data_groups(self) -> list[int]:
        groups = (self.high - self.low) // self.cfg.robust.spread
        return [g for g in range(groups) if g not in (PN_GROUP, HEADER_GROUP)]

    def copy_frames(self, blocks: int) -> int:
        return math.ceil(blocks * 2 * BLOCK_BITS / len(self.data_groups))

    @property
    def min_cover_samples(self) -> int:
        return (self.copy_frames(MIN_BLOCKS) + 2) * self.hop

    def frame_seconds(self, frames: int) -> float:
        return frames * self.hop / self.cfg.sample_rate

    # --- hiding --------------------------------------------------------------------------------------------------
    def embed(self, image: Array, cover: Array, key: str | None = None,
              seconds: float | None = None, quality: int | None = None) -> Hidden:
        """Hide ``image [B, C, H, W]`` in whole covers ``[B, T]``: one copy of the payload in ``seconds`` of music
        (default ``cfg.robust.payload_seconds``, at most the cover), repeated to the end. The image is compressed at the
        best quality that fits (or at ``quality``). ``Hidden.sent``: what was sent (the first item's, where a batch
        was given: a whole-file scheme hides one photo in one song)."""
        self.check_cover(cover)
        containers, sents = [], []
        for one_image, one_cover in zip(image, cover):
            container, sent = self._embed_one(one_image, as_numpy(one_cover).astype(np.float64), key,
                                              seconds or self.cfg.robust.payload_seconds, quality)
            containers.append(container)
            sents.append(sent)
        container = like(np.stack(containers).astype(as_numpy(cover).dtype), cover)
        return Hidden(cover, container, container, sent=sents[0])

    def _embed_one(self, image: Array, cover: np.ndarray, key: str | None, seconds: float,
                   quality: int | None) -> tuple[np.ndarray, Sent]:
        lattice = self.lattice(key)
        frames = min(mdct.frame_count(len(cover), self.hop), PN_PERIOD)
        budget = min(frames, int(seconds * self.cfg.sample_rate / self.hop))
        data_groups = self.data_groups
        blocks = budget * len(data_groups) // (2 * BLOCK_BITS)
        if blocks < MIN_BLOCKS:
            raise PixinwavError(f"the cover is too short: one copy of the payload needs at least "
                                f"{self.min_cover_samples / self.cfg.sample_rate:.1f} s of music")
        capacity = (blocks - 1) * BLOCK_BITS // 8 - 4  # one block is the parity of the others
        data, used_quality = payload.compress(image, capacity, self.cfg.image_codec.upper(), quality)
        message = payload.bytes_to_bits(payload.with_crc(data))
        blocks = math.ceil(len(message) / BLOCK_BITS)  # the fewest that hold it: the more copies fit
        message = np.concatenate([message, np.zeros(blocks * BLOCK_BITS - len(message), np.uint8)]).reshape(blocks, -1)
        # a parity block (the XOR of the others) rebuilds any one block that fails to decode
        message = np.concatenate([message, np.bitwise_xor.reduce(message, axis=0)[None]])
        blocks += 1
        coded = np.concatenate([code.encode(b) for b in message])
        k = self.copy_frames(blocks)
        slots = keyed_bits(key or "", f"filler{k}", k * len(data_groups))  # slots the codewords leave free
        slots[keyed_permutation(key or "", f"interleave{k}", k * len(data_groups))[: len(coded)]] = coded
        # the header's size is the one to show the image at (the bytes may hold a smaller, scaled-down encoding)
        header = payload.Header(self.cfg.image_codec.upper(), image.shape[2], image.shape[1], blocks, len(data))
        header_bits = header.to_bits()
        pn = alignment.frame_sequence(key)

        index = np.arange(frames)
        bits = np.zeros((frames, lattice.groups), np.uint8)
        bits[:, PN_GROUP] = pn[index]
        bits[:, HEADER_GROUP] = header_bits[index % len(header_bits)]
        bits[:, data_groups] = slots.reshape(k, len(data_groups))[index % k]
        container = self.write(cover, bits, key)
        sent = Sent("photo", len(data), self.frame_seconds(frames), f"{blocks} coded blocks a copy", copies=frames / k,
                    copy_seconds=self.frame_seconds(k), width=image.shape[2], height=image.shape[1],
                    channels=image.shape[0], codec=header.codec, quality=used_quality, photo=image,
                    compressed=payload.decompress(data, image.shape[0], image.shape[1:]))
        return container, sent

    # --- revealing ------------------------------------------------------------------------------------------------
    def extract(self, wave: Array, key: str | None = None) -> Extracted:
        readings = [self.read(as_numpy(w).astype(np.float64), key) for w in wave]
        size, channels = self.cfg.image_size, self.cfg.image_channels
        images = [r.image if r.image is not None else np.zeros((channels, size, size), np.float32) for r in readings]
        presence = np.array([1.0 if r.image is not None else 0.0 for r in readings], np.float32)
        return Extracted(np.stack(images), presence, readings[0].detail, verdict=EXACT)

    def read(self, wave: np.ndarray, key: str | None = None) -> Reading:
        """Find and decode the payload in a mono waveform at the model's rate (any start, any length)."""
        if mdct.frame_count(len(wave), self.hop) < SYNC_FRAMES:
            return Reading(None, 0.0, f"the audio is too short to hold a payload ({len(wave) / self.cfg.sample_rate:.1f} s)")
        where, llr = self.soft_frames(wave, key)
        reading = self._decode(where, llr, key)
        if not reading.header_read and not where.stretched:
            stretched, pieces = self.soft_frames(wave, key, piecewise=True)  # no header under one grid: a changed
            if pieces is not None:                                            # tempo after all?
                again = self._decode(stretched, pieces, key)
                reading = again if again.image is not None else reading
        return reading

    def _decode(self, where: Location, llr: np.ndarray | None, key: str | None) -> Reading:
        """:meth:`read` from the frames' log-likelihood ratios."""
        shift, agreement = where.shift, where.agreement
        if llr is None:
            return Reading(None, agreement, f"no hidden image found (alignment score {agreement:.3f}; a payload scores "
                                            f"{MIN_AGREEMENT} or more): plain audio, another --key, or a change too strong")
        first = alignment.frame_number(llr[:, PN_GROUP], key)
        index = first + np.arange(len(llr))
        header_llr = np.zeros(payload.HEADER_BITS)
        np.add.at(header_llr, index % payload.HEADER_BITS, llr[:, HEADER_GROUP])
        header = payload.Header.from_bits((header_llr < 0).astype(np.uint8))
        if header is None:
            return Reading(None, agreement, f"no hidden image found: a payload-like pattern (score {agreement:.3f}) "
                                            "but no readable header", shift, first, header_read=False)
        k, data_groups = self.copy_frames(header.blocks), self.data_groups
        slot_llr = np.zeros((k, len(data_groups)))
        np.add.at(slot_llr, index % k, llr[:, data_groups])
        order = keyed_permutation(key or "", f"interleave{k}", k * len(data_groups))
        coded = slot_llr.reshape(-1)[order[: header.blocks * 2 * BLOCK_BITS]].reshape(header.blocks, -1)
        decoded = [code.decode(block) for block in coded]
        failed = [i for i, (_, ok) in enumerate(decoded) if not ok]
        messages = np.stack([m for m, _ in decoded])
        if len(failed) == 1:  # the parity block restores it
            others = np.delete(messages, failed[0], axis=0)
            messages[failed[0]] = np.bitwise_xor.reduce(others, axis=0)
        raw = payload.bits_to_bytes(messages[:-1].reshape(-1))
        data = payload.checked(raw, header.length)
        if data is None:
            return Reading(None, agreement, f"a hidden image was found but it is damaged beyond repair ({len(failed)} "
                                            f"of {header.blocks} code blocks failed): the audio changed too much{where.note}",
                           shift, first, len(failed))
        try:
            image = payload.decompress(data, self.cfg.image_channels, (self.cfg.image_size, self.cfg.image_size))
        except Exception as exc:  # a CRC-exact payload that Pillow cannot read: not something this scheme wrote
            return Reading(None, agreement, f"a payload was found but its image does not decode ({exc})", shift, first)
        return Reading(image, agreement, f"found a {header.width} x {header.height} {header.codec} image "
                                         f"({header.length} bytes, alignment score {agreement:.3f}){where.note}", shift, first)
