"""The robust scheme over the whole song: a photo that grows with the song, or a file, bit-exact, in packets that
survive codecs, resampling, noise and cuts, found with no offset (``pixinwav-robust-v2``).

The channel is robust-v1's (``models/robust.py``): the song downmixed to 16 kHz, MDCT frames of 32 ms, groups of
``spread`` bins between 300 Hz and 7 kHz each carrying one bit by spread-transform dither modulation at
``change_db`` under the song's own masking level; one group numbers the frames with a keyed sequence, so the
receiver finds the frame grid and every frame's number with no offset (``robust/alignment.py``), and one group
carries a short layout header over and over (what the song holds and how many packets), which the receiver adds
up over every frame it has.

The payload: the song is cut into segments of ``segment_frames`` frames (2 s); each carries one packet, an LDPC
codeword of rate ``code_rate`` (interleaved over the segment) holding a packet head (format version, stream, the
stream's length), one RaptorQ packet of that stream and a CRC-32. There are fewer distinct packets than
segments: segment ``s`` carries packet ``s mod classes``, so each packet is sent ``redundancy`` times over, in
segments far apart, and the receiver adds up the soft bits of every copy before decoding (through a 64 kbit/s
codec no single copy decodes, their sum does); where some packets fail, the bits of those that decoded re-weigh each
group's soft bits and the rest are decoded again (``robust/recalibrate.py``). Across packets a fountain code
(``hidden_file.py``) with a tenth of spare packets rebuilds a stream from any enough of them, so a cut, a silent
passage or a codec's bad second costs nothing while enough arrive. A photo goes as two layers (``robust/layers.py``):
every ``BASE_EVERY``-th segment carries one of ``base_packets + 1`` packets of a small base image (an excerpt of 30 s
holds them all), the others the sharp image, as large as ``seconds`` of music carry (default: the song over
``cfg.robust.redundancy``). A file takes every segment.

Four formats, named in the layout header (``FORMAT_CODES``): 1, robust-v2's packets (a regular code of rate 0.3375,
each sent 1.5 times over), 2, robust-v3's (an irregular code of rate 0.225, each sent once), 3, robust-v4's
(format 2's packets, the photo's layers as AV1 without the AVIF container: ``robust/layers.py``), and 4, robust-v5's
(format 3's, the change 9 dB under the song's level instead of 12: ``FORMAT_LEVELS``); the base image's packets are
format 1's in all. Every model reads every format (a file of another level is read again at the level its format
names) and writes the one its config makes.
"""
from __future__ import annotations

import math
import struct
from collections import Counter
from dataclasses import dataclass, replace

import numpy as np

from ..arrays import Array, as_numpy, like
from .. import hidden_file
from ..config import model_with
from ..errors import PixinwavError
from ..robust import alignment, code, layers, mdct, payload, recalibrate
from ..robust.stdm import TIME_RADIUS, keyed_permutation
from .base import DAMAGED, EXACT, Extracted, Hidden, Sent
from .robust import MIN_AGREEMENT, WRITE_FRAMES, Location, RobustChannel

VERSION = 1  # robust-v2's packet and layout format (a receiver refuses an unknown format with a message, never guesses)
STREAMS = ("base", "sharp", "file")
HEAD = struct.Struct(">I")  # 4 bits format version, 4 bits stream, 24 bits the stream's framed length
OVERHEAD = HEAD.size + hidden_file.PACKET_ID + 4  # head, RaptorQ's packet id, CRC-32
MAX_STREAM = (1 << 24) - 1


@dataclass(frozen=True)
class PacketCode:
    """The LDPC code of one stream's packets: its rate and how its matrix is drawn (``robust/code.py``)."""

    rate: float
    drawn: str  # "rows" (robust-v2's) or "irregular"


# Each format's code of the sharp image's and the file's packets, as the shipped models write it: format 1 is
# robust-v2's (regular, rate 0.3375, every packet 1.5 times over), format 2 robust-v3's (irregular, rate 0.225, every
# packet once: closer to the channel's capacity, benchmarks/robust_code.py), format 3 robust-v4's (format 2's code;
# its photo layers are bare AV1, which a release before it cannot decode: the layout says so first), format 4
# robust-v5's (format 3's code, louder). A model reads every format; it writes its own (its config's code, which a
# design experiment may change)
FORMAT_CODES = {1: PacketCode(0.3375, "rows"), 2: PacketCode(0.225, "irregular"), 3: PacketCode(0.225, "irregular"),
                4: PacketCode(0.225, "irregular")}
# The change level (dB under the song's local level, ``robust.change_db``) each format is written at: the lattice's
# step follows it, so a receiver must read at the same level. A receiver at another level still finds the frame grid
# and reads the layout header (summed over every frame; the cover's projections mostly sit within a step of zero,
# where both levels' lattices nearly agree), then reads the file again at the level its format names
FORMAT_LEVELS = {1: -12.0, 2: -12.0, 3: -12.0, 4: -9.0}
# The shipped model that writes each format: `reveal` without --model names it from the layout header
FORMAT_MODELS = {1: "pixinwav-robust-v2", 2: "pixinwav-robust-v3", 3: "pixinwav-robust-v4", 4: "pixinwav-robust-v5"}
LOUDEST = FORMAT_MODELS[max(FORMAT_LEVELS, key=FORMAT_LEVELS.get)]  # (which a refused `hide --survive` may point to)
# The base image's packets keep robust-v2's code in every format: its bytes (three packets rebuild it) and the copies
# an excerpt of 30 s holds stay what they were
BASE_CODE = FORMAT_CODES[1]
DRAWN = {"regular": "rows", "irregular": "irregular"}  # config ``robust.code`` -> ``robust/code.py``'s construction
LAYOUT = struct.Struct(">BBHB")  # format version, kind (0 photo, 1 file), packet classes, base classes
LAYOUT_BITS = 8 * (LAYOUT.size + 4)  # and a CRC-32
KINDS = ("photo", "file")
BASE_EVERY = 3  # one segment in this many carries the base image (a 30 s excerpt holds 4 or 5)
SPARE = 0.1  # of the classes, fountain-code repair packets (at least one)
MIN_PHOTO_BYTES = 400  # the smallest sharp layer worth sending (an AVIF file's own overhead is about 300 bytes)
NUMBERING_HZ = 1500  # the frame-numbering group sits here, the layout group under it: loud in music, kept by codecs
# Masking scale (per coefficient, full scale 1) under which the cover counts as silent: robust-v1's -75 dB left
# the groups of quiet, band-limited music empty (a WarMUX track: 33 of 65 segments decoded, 61 at -92 dB; the
# change there is 104 dB under full scale, at the 16-bit file's own rounding level)
FLOOR = 10 ** (-92 / 20)
# ... but a codec drops what is that quiet: the sender counts on a segment only where its data groups are over
# robust-v1's -75 dB floor this often (the same WarMUX track lost its sharp photo to MP3 / AAC 128 when the
# sender planned with the receiver's floor; 40 % of groups over the floor is where segments stop decoding)
PLAN_FLOOR = 10 ** (-75 / 20)
MIN_USABLE = 0.4
MIN_PRESENT = 0.75  # a segment cut by the file's ends is decoded when this share of its frames arrived
DECODE_ITERATIONS = 100
# Where some packets failed, they are decoded again with each group's ratios re-weighed by the bits of those that
# decoded (``robust/recalibrate.py``), up to this many times while each time brings more
RECALIBRATION_PASSES = 3


@dataclass(frozen=True)
class Layout:
    """What the song holds, in its layout header: a photo (base and sharp streams) or a file, how many distinct
    packets (classes) each stream has (segment ``s`` carries the packet of :meth:`RobustSongStego.class_of`), and
    the format, which says how the packets are coded (``FORMAT_CODES``)."""

    kind: str
    classes: int  # distinct packets of the sharp image or the file
    base_classes: int = 0
    format: int = VERSION

    def to_bits(self) -> np.ndarray:
        return payload.bytes_to_bits(payload.with_crc(LAYOUT.pack(self.format, KINDS.index(self.kind), self.classes,
                                                                  self.base_classes)))

    @classmethod
    def from_bits(cls, bits: np.ndarray) -> "Layout | None":
        """None when the CRC fails or the fields make no sense; an error for a version this release does not read."""
        body = payload.checked(payload.bits_to_bytes(bits), LAYOUT.size)
        if body is None:
            return None
        version, kind, classes, base = LAYOUT.unpack(body)
        if version not in FORMAT_CODES or kind >= len(KINDS):
            raise PixinwavError(f"this file carries a robust payload of format {version}, which this release of pixinwav "
                                f"cannot read (it reads formats {', '.join(map(str, FORMAT_CODES))}): it was written by a "
                                "newer version")
        if not classes or (KINDS[kind] == "photo") != (base > 0):
            return None
        return cls(KINDS[kind], classes, base, version)


class RobustSongStego(RobustChannel):
    floor = FLOOR
    full_image = True
    carries_files = True
    max_side = 4096
    hide_options = ("seconds", "max_side")
    sizes_to_survive = True
    # a photo is read back through a 1 % slower tempo (pitch kept) unless --survive says otherwise: a sparse song's
    # stretched pieces are too short to read, and only reading the stretched stego shows which songs those are
    checked_attacks = (("tempo", -1.0),)

    # --- geometry --------------------------------------------------------------------------------------------
    @property
    def groups(self) -> int:
        return (self.high - self.low) // self.cfg.robust.spread

    @property
    def numbering_group(self) -> int:
        bin_ = round(NUMBERING_HZ * 2 * self.hop / self.cfg.sample_rate)
        return min(self.groups - 1, max(1, (bin_ - self.low) // self.cfg.robust.spread))

    @property
    def layout_group(self) -> int:
        return self.numbering_group - 1

    @property
    def data_groups(self) -> list[int]:
        return [g for g in range(self.groups) if g not in (self.numbering_group, self.layout_group)]

    @property
    def format(self) -> int:
        """The format this model writes: with bare AV1 layers 4 at format 4's level, else 3; else 2 with the irregular
        code, else robust-v2's 1."""
        if self.cfg.robust.layer_codec == "bare-av1":
            return 4 if self.cfg.robust.change_db == FORMAT_LEVELS[4] else 3
        return 2 if self.cfg.robust.code == "irregular" else VERSION

    def packet_code(self, stream: str, format: int | None = None) -> PacketCode:
        """The code of a stream's packets in a file of ``format`` (default: the one this model writes, with its
        config's code)."""
        if stream == "base":
            return BASE_CODE
        if format is None or format == self.format:
            return PacketCode(self.cfg.robust.code_rate, DRAWN[self.cfg.robust.code])
        return FORMAT_CODES[format]

    @property
    def louder_advice(self) -> str:
        """Words for a refusal of ``hide --survive``: the louder model, where this one is written under its level."""
        loudest = max(FORMAT_LEVELS.values())
        return "" if self.cfg.robust.change_db >= loudest else \
            f", or --model {LOUDEST} (the change {loudest - self.cfg.robust.change_db:g} dB louder)"

    @property
    def coded_bits(self) -> int:
        """Bits of one segment's codeword."""
        return self.cfg.robust.segment_frames * len(self.data_groups)

    @property
    def copies_said(self) -> str:
        redundancy = self.cfg.robust.redundancy
        return "every packet sent once" if redundancy == 1 else f"every packet sent {redundancy:g} times over"

    def symbol_bytes_of(self, code_: PacketCode) -> int:
        """Bytes of a stream per packet of that code (RaptorQ's symbol: a multiple of 8)."""
        return (int(self.coded_bits * code_.rate) // 8 - OVERHEAD) // 8 * 8

    @property
    def symbol_bytes(self) -> int:
        """Bytes of the sharp image or the file per packet, as this model writes them."""
        return self.symbol_bytes_of(self.packet_code("sharp"))

    @property
    def base_symbol_bytes(self) -> int:
        return self.symbol_bytes_of(BASE_CODE)

    @property
    def base_bytes(self) -> int:
        """The base image's frame: ``base_packets`` packets' worth."""
        return self.cfg.robust.base_packets * self.base_symbol_bytes

    @property
    def segment_seconds(self) -> float:
        return self.cfg.robust.segment_frames * self.hop / self.cfg.sample_rate

    @property
    def min_cover_samples(self) -> int:
        return (BASE_EVERY * self.cfg.robust.segment_frames + 2) * self.hop

    def segments(self, samples: int) -> int:
        """Whole segments a cover of ``samples`` holds."""
        return min(mdct.frame_count(samples, self.hop), alignment.PN_PERIOD) // self.cfg.robust.segment_frames

    def carries(self) -> dict:
        style = self.cfg.robust.layer_codec
        return {"image": f"the photo at its own aspect ratio (long side up to {self.max_side}) as an "
                         f"{layers.said(style, 'sharp')} of about {layers.SHARP_BPP:g} bit per pixel, as large as the "
                         f"song carries, and a coarse {layers.said(style, 'base')} base",
                "payload_seconds": f"the song over {self.cfg.robust.redundancy:g} (hide --seconds)",
                "segment_seconds": round(self.segment_seconds, 3), "bytes_per_packet": self.symbol_bytes,
                "code_rate": self.cfg.robust.code_rate, "code": self.cfg.robust.code, "format": self.format,
                "spread": self.cfg.robust.spread, "change_db": self.cfg.robust.change_db,
                "redundancy": self.cfg.robust.redundancy}

    def class_of(self, segments: np.ndarray, layout: Layout) -> tuple[np.ndarray, np.ndarray]:
        """(stream index into ``STREAMS``, packet class) of each segment number in ``segments``: the classes of a
        stream repeat through the song, so every packet has copies far apart."""
        segments = np.asarray(segments)
        if layout.kind == "file":
            return np.full(len(segments), STREAMS.index("file")), segments % layout.classes
        base = segments % BASE_EVERY == 0
        sharp_index = segments - segments // BASE_EVERY - 1  # segments before this one that carry the sharp image
        return (np.where(base, STREAMS.index("base"), STREAMS.index("sharp")),
                np.where(base, (segments // BASE_EVERY) % layout.base_classes, sharp_index % layout.classes))

    # --- planning ----------------------------------------------------------------------------------------------
    def carrying(self, mono: np.ndarray) -> np.ndarray:
        """``[segments]`` bool: the segments of a mono cover (the model's rate) loud enough across the band to
        decode (a packet in the others is sent, but the sender does not count on it)."""
        segments, seg, hop = self.segments(len(mono)), self.cfg.robust.segment_frames, self.hop
        lattice = replace(self.lattice(None), floor=PLAN_FLOOR)  # (the floor test does not depend on the key)
        frames, usable = segments * seg, []
        for a in range(0, frames, WRITE_FRAMES):  # (a block of frames at a time, with the frames its scale reaches)
            b = min(a + WRITE_FRAMES, frames)
            lo, hi = max(0, a - TIME_RADIUS), min(frames, b + TIME_RADIUS)
            scale = lattice.scale(mdct.analyse(mono[lo * hop:(hi + 1) * hop], hop, hi - lo))[a - lo:b - lo]
            usable.append(lattice.usable(scale)[:, self.data_groups])
        return np.concatenate(usable).reshape(segments, -1).mean(axis=1) >= MIN_USABLE

    def classes(self, good: np.ndarray, kind: str, seconds: float | None = None) -> int:
        """Distinct packets of the sharp image (or the file) for a song whose segments carry where ``good`` says:
        its loud segments for that stream in ``seconds`` of music (default: all of them over ``cfg.robust.redundancy``)."""
        mine = good if kind == "file" else good[np.arange(len(good)) % BASE_EVERY != 0]
        share = seconds / (len(good) * self.segment_seconds) if seconds else 1 / self.cfg.robust.redundancy
        return int(mine.sum() * min(share, 1.0))  # (under 2: nothing can be sent)

    @staticmethod
    def source_of(classes: int) -> int:
        """Of ``classes`` distinct packets, the source packets (the rest are the fountain code's spares)."""
        return classes - max(1, math.ceil(SPARE * classes))

    def stream_bytes(self, classes: int) -> int:
        """Bytes of the framed stream ``classes`` distinct packets carry (one source packet and a spare at least)."""
        return self.source_of(classes) * self.symbol_bytes if classes >= 2 else 0

    def file_capacity(self, good: np.ndarray) -> int:
        """The largest file (bytes, with its name) a song whose segments carry where ``good`` says holds."""
        return max(0, self.stream_bytes(self.classes(good, "file")) - hidden_file.HiddenFile.frame_size(0))

    def song_capacity(self, mono: np.ndarray, photo: tuple[int, int] | None, file_bytes: int | None,
                      channels: np.ndarray | None = None) -> dict:
        good = self.carrying(mono)
        segments, loud = len(good), int(good.sum())
        sharp, base = self.stream_bytes(self.classes(good, "photo")), self.base_bytes
        style = self.cfg.robust.layer_codec
        fits_photo = sharp >= MIN_PHOTO_BYTES
        most = self.file_capacity(good)
        lines = [f"{segments} segments of {self.segment_seconds:.2f} s ({loud} loud enough across the band to count on), "
                 f"one packet of {self.symbol_bytes} bytes each, {self.copies_said}: " +
                 (f"a sharp image of up to {sharp - layers.OVERHEAD:,} bytes ({layers.said(style, 'sharp')}) and a "
                  f"coarse base of {base - layers.OVERHEAD} bytes ({layers.said(style, 'base')}) that any 30 s carry"
                  if fits_photo else
                  f"too little for a photo (about {self.min_photo_seconds():.0f} s of loud music needed)")]
        report = {"seconds": len(mono) / self.cfg.sample_rate, "segments": segments, "loud_segments": loud,
                  "sharp_bytes": max(sharp, layers.OVERHEAD) - layers.OVERHEAD, "base_bytes": base - layers.OVERHEAD,
                  "file_bytes": most, "largest": {}}
        sizes = (("4:3", (4000, 3000)), ("3:2", (3000, 2000)), ("16:9", (3840, 2160)), ("1:1", (4096, 4096)))
        for name, (w, h) in sizes if fits_photo else ():
            fw, fh = layers.planned_size(w, h, sharp)
            report["largest"][name] = [fw, fh]
            lines.append(f"a {name} photo goes at about {fw} x {fh} (about {layers.SHARP_BPP:g} bit per pixel)")
        if photo is not None and fits_photo:
            sent = layers.planned_size(*photo, sharp)
            report["photo"] = {"size": list(photo), "sent_at": list(sent)}
            lines.append(f"the photo ({photo[0]} x {photo[1]}) goes at about {sent[0]} x {sent[1]}"
                         + ("" if sent == tuple(photo) else "; a longer song carries it larger"))
        lines.append(f"or a file of up to {most:,} bytes, exactly")
        if file_bytes is not None:
            framed = hidden_file.HiddenFile.frame_size(file_bytes, "x" * 64)
            fits = framed <= self.stream_bytes(self.classes(good, "file"))
            need = math.ceil(hidden_file.source_count(framed, self.symbol_bytes) / (1 - SPARE) * self.cfg.robust.redundancy)
            report["file"] = {"bytes": file_bytes, "segments": need, "seconds": need * self.segment_seconds, "fits": fits}
            lines.append(f"the file ({file_bytes:,} bytes) needs about {need * self.segment_seconds:.0f} s of loud music: "
                         + ("it fits" if fits else "this song is too short or too quiet for it"))
        report["lines"] = lines
        return report

    def min_photo_seconds(self) -> float:
        """Seconds of loud music the smallest useful photo needs at the default redundancy."""
        segments = BASE_EVERY
        while self.stream_bytes(self.classes(np.ones(segments, bool), "photo")) < MIN_PHOTO_BYTES:
            segments += 1
        return segments * self.segment_seconds

    # --- packets -------------------------------------------------------------------------------------------
    def _message(self, stream: str, length: int, packet: bytes, code_: PacketCode, format: int) -> np.ndarray:
        body = HEAD.pack(format << 28 | STREAMS.index(stream) << 24 | length) + packet
        return payload.bytes_to_bits(payload.with_crc(body + bytes(self.symbol_bytes_of(code_) + OVERHEAD - 4 - len(body))))

    def _parse(self, message: np.ndarray, code_: PacketCode, format: int) -> tuple[str, int, bytes] | None:
        """(stream, its framed length, RaptorQ packet) of a decoded message of that code, or None when its CRC fails."""
        symbol = self.symbol_bytes_of(code_)
        raw = payload.checked(payload.bits_to_bytes(message), symbol + OVERHEAD - 4)
        if raw is None:
            return None
        (head,) = HEAD.unpack(raw[:HEAD.size])
        version, stream, length = head >> 28, head >> 24 & 15, head & MAX_STREAM
        if version != format or stream >= len(STREAMS):
            raise PixinwavError(f"this file carries robust packets of format {version} under a layout of format {format}, "
                                "which this release of pixinwav cannot read: it was written by a newer version")
        return STREAMS[stream], length, raw[HEAD.size:HEAD.size + hidden_file.PACKET_ID + symbol]

    def _interleave(self, key: str | None) -> np.ndarray:
        return keyed_permutation(key or "", f"segment{self.coded_bits}", self.coded_bits)

    # --- hiding --------------------------------------------------------------------------------------------
    def embed(self, image: Array, cover: Array, key: str | None = None, seconds: float | None = None,
              max_side: int | None = None, share: float = 1.0) -> Hidden:
        """``image [1, C, H, W]`` at its own size, ``cover [1, T]`` (mono, 16 kHz) -> container ``[1, T]``;
        ``share``: of the bytes the song carries for the sharp image, the share it may take (the rest of its packets
        are spares: ``hide --survive``)."""
        self.check_cover(cover)
        if max_side is not None and max_side < 1:
            raise PixinwavError(f"--max-side must be a positive number of pixels, got {max_side}")
        mono = as_numpy(cover[0]).astype(np.float64)
        layout, streams, sharp, base, good = self.plan_photo(image, mono, seconds, max_side, share)
        photo = as_numpy(image)[0].astype(np.float32, copy=False)
        container = self.write(mono, self.sent_bits(len(mono), key, layout, streams), key)
        (base_needed, base_packets), (needed, packets) = (
            (hidden_file.source_count(streams[name][0], self.symbol_bytes_of(self.packet_code(name))), len(streams[name][1]))
            for name in ("base", "sharp"))
        sent = Sent("photo", len(sharp.data), len(good) * self.segment_seconds, self._places(good),
                    units_used=len(good), units_loud=int(good.sum()), packets=packets,
                    needed=needed, copies=(len(good) - math.ceil(len(good) / BASE_EVERY)) / layout.classes,
                    width=sharp.width, height=sharp.height, channels=photo.shape[0],
                    original=(photo.shape[2], photo.shape[1]), codec=sharp.codec, quality=sharp.quality,
                    base_bytes=len(base.data), base_packets=base_packets, base_needed=base_needed,
                    photo=photo, compressed=sharp.image())
        out = like(container[None].astype(as_numpy(cover).dtype), cover)
        return Hidden(cover, out, out, sent=sent)

    def _places(self, good: np.ndarray) -> str:
        return f"{len(good)} segments of {self.segment_seconds:.2f} s, one packet each, {int(good.sum())} loud enough"

    def plan_photo(self, image: Array, mono: np.ndarray, seconds: float | None = None, max_side: int | None = None,
                   share: float = 1.0) -> tuple[Layout, dict, layers.Layer, layers.Layer, np.ndarray]:
        """(layout, streams, sharp layer, base layer, the segments loud enough) of a photo ``[1, C, H, W]`` in a mono
        cover at the model's rate: what :meth:`embed` writes (deterministic: a benchmark rebuilds the bits sent)."""
        good = self.carrying(mono)
        classes = self.classes(good, "photo", seconds)
        sharp_bytes = self.stream_bytes(classes)
        if share < 1.0 and sharp_bytes:  # fewer source packets, the rest spares (hide --survive)
            sharp_bytes = max(1, int(self.source_of(classes) * share)) * self.symbol_bytes
            if sharp_bytes < MIN_PHOTO_BYTES:
                raise PixinwavError(f"too few packets come back through the attack for a photo: about "
                                    f"{sharp_bytes} bytes of it would ({MIN_PHOTO_BYTES} at least are needed); use a "
                                    f"longer or louder song, or a milder --survive{self.louder_advice}")
        if sharp_bytes < MIN_PHOTO_BYTES:
            need = self.min_photo_seconds()
            classes_needed = next(c for c in range(2, 1000) if self.stream_bytes(c) >= MIN_PHOTO_BYTES)
            per_copy = classes_needed * self.segment_seconds * BASE_EVERY / (BASE_EVERY - 1)  # of loud music
            if seconds and seconds < per_copy:
                raise PixinwavError(f"--seconds {seconds:g} of music carry {sharp_bytes} bytes of photo; a photo needs "
                                    f"{MIN_PHOTO_BYTES} or more: give --seconds {math.ceil(per_copy)} or more")
            quiet = f", of which {int(good.sum()) * self.segment_seconds:.0f} s loud enough across the band" \
                if good.mean() < 0.9 else ""
            raise PixinwavError(f"this model needs about {need:.0f} s of music to carry a photo; the cover has "
                                f"{len(mono) / self.cfg.sample_rate:.1f} s{quiet}: use a longer or louder song")
        photo = as_numpy(image)[0].astype(np.float32, copy=False)
        style = self.cfg.robust.layer_codec
        sharp = layers.encode(photo, "sharp", sharp_bytes, max_side, style=style)
        base = layers.encode(photo, "base", self.base_bytes, show=(sharp.width, sharp.height), style=style)
        base_classes = self.cfg.robust.base_packets + 1  # one spare: an excerpt of 30 s holds 4 or 5 base segments
        layout = Layout("photo", classes, base_classes, self.format)
        streams = {"base": self._stream(base.frame(), base_classes, self.base_symbol_bytes),
                   "sharp": self._stream(sharp.frame(), classes, self.symbol_bytes)}
        return layout, streams, sharp, base, good

    def embed_file(self, file: hidden_file.HiddenFile, cover: Array, key: str | None = None) -> Hidden:
        """A file, bit-exact, its packets in every segment. Refuses a file larger than the song carries at
        ``cfg.robust.redundancy``, saying how much it does."""
        self.check_cover(cover)
        mono = as_numpy(cover[0]).astype(np.float64)
        good = self.carrying(mono)
        frame = file.frame()
        classes = self.classes(good, "file")
        if len(frame) > self.stream_bytes(classes):
            raise PixinwavError(f"{file.size_said()}; this song carries at most "
                                f"{self.file_capacity(good):,} ({int(good.sum())} of its {len(good)} segments of "
                                f"{self.segment_seconds:.2f} s are loud enough, {self.symbol_bytes} bytes each, "
                                f"{self.copies_said}): use a longer song or a smaller file")
        streams = {"file": self._stream(frame, classes, self.symbol_bytes)}
        container = self.write(mono, self.sent_bits(len(mono), key, Layout("file", classes, format=self.format), streams),
                               key)
        sent = Sent("file", len(file.data), len(good) * self.segment_seconds, self._places(good),
                    units_used=len(good), units_loud=int(good.sum()), packets=classes,
                    needed=hidden_file.source_count(len(frame), self.symbol_bytes), copies=len(good) / classes,
                    name=file.name, packing=file.packing_said() or None)
        out = like(container[None].astype(as_numpy(cover).dtype), cover)
        return Hidden(cover, out, out, sent=sent)

    def _stream(self, frame: bytes, classes: int, symbol: int) -> tuple[int, list[bytes]]:
        """(framed length, ``classes`` packets of ``symbol`` bytes: the source packets, then repair packets)."""
        if len(frame) > MAX_STREAM:
            raise PixinwavError(f"{len(frame):,} bytes are more than one stream carries")
        packets = hidden_file.packets(frame, symbol, classes - hidden_file.source_count(len(frame), symbol))
        return len(frame), packets[:classes]

    def sent_bits(self, samples: int, key: str | None, layout: Layout,
                  streams: dict[str, tuple[int, list[bytes]]]) -> np.ndarray:
        """``[frames, groups]`` the bits a cover of ``samples`` carries: every frame numbered and carrying its bit of
        the layout, and segment ``s`` the packet of its class (:meth:`class_of`)."""
        seg, data_groups = self.cfg.robust.segment_frames, self.data_groups
        segments = self.segments(samples)
        frames = segments * seg
        order = self._interleave(key)
        bits = np.zeros((frames, self.groups), np.uint8)
        number = np.arange(frames)
        bits[:, self.numbering_group] = alignment.frame_sequence(key)[number % alignment.PN_PERIOD]
        bits[:, self.layout_group] = layout.to_bits()[number % LAYOUT_BITS]
        laid: dict[tuple[int, int], np.ndarray] = {}  # each codeword interleaved over its segment
        for s, (stream, cls) in enumerate(zip(*self.class_of(np.arange(segments), layout))):
            if (stream, cls) not in laid:
                slots = np.empty(self.coded_bits, np.uint8)
                slots[order] = self.codeword(streams, stream, cls, layout.format)
                laid[stream, cls] = slots.reshape(seg, len(data_groups))
            bits[s * seg:(s + 1) * seg, data_groups] = laid[stream, cls]
        return bits

    def codeword(self, streams: dict[str, tuple[int, list[bytes]]], stream: int, cls: int, format: int) -> np.ndarray:
        """``[coded_bits]`` the codeword of packet ``cls`` of stream ``STREAMS[stream]`` in a file of ``format`` (in
        the order the receiver's :meth:`summed_copies` gives its soft bits)."""
        name = STREAMS[stream]
        length, packets = streams[name]
        code_ = self.packet_code(name, format)
        return code.encode(self._message(name, length, packets[cls], code_, format), self.coded_bits, drawn=code_.drawn)

    # --- revealing -----------------------------------------------------------------------------------------
    def extract(self, wave: Array, key: str | None = None) -> Extracted:
        if len(wave) != 1:
            raise PixinwavError("the robust song model reveals one file at a time")
        return self.extracted(*self.packets(as_numpy(wave[0]).astype(np.float64), key))

    def extracted(self, layout: Layout | None, found: list[tuple[str, int, bytes]], detail: str) -> Extracted:
        """What :meth:`extract` gives for :meth:`packets`'s answer: the sharp image, the base with a warning, a file,
        or nothing with the reason."""
        blank = np.full((1, self.cfg.image_channels, self.cfg.image_size, self.cfg.image_size), 0.5, np.float32)
        if layout is None:
            return Extracted(blank, np.zeros(1, np.float32), detail)
        if layout.kind == "file":
            return self._extract_file(found, detail, blank, layout)
        rebuilt, counts = {}, Counter(stream for stream, _, _ in found)
        for name in ("sharp", "base"):
            raw = self._rebuild(found, name, layout.format)
            if raw is not None:
                rebuilt[name] = layers.Layer.from_frame(raw)
        arrived = self._arrived(found, "sharp", layout)
        if "sharp" in rebuilt:
            layer = rebuilt["sharp"]
            return Extracted(layer.image()[None], np.ones(1, np.float32),
                             f"found a {layer.width} x {layer.height} {layer.codec} image ({len(layer.data):,} bytes); "
                             f"{detail}", verdict=EXACT, arrived=max(arrived, 1.0))
        if "base" in rebuilt:
            layer = rebuilt["base"]
            return Extracted(layer.image()[None], np.full(1, 0.5, np.float32),
                             f"only the coarse base image came back ({len(layer.data)} bytes, shown at "
                             f"{layer.width} x {layer.height}): too few packets of the sharp image arrived intact "
                             f"({counts['sharp']} of the {self.source_of(layout.classes)} needed); {detail}", verdict=DAMAGED,
                             arrived=arrived)
        return Extracted(blank, np.ones(1, np.float32), f"a hidden image was found but too few of its packets arrived intact to "
                                               f"rebuild it ({counts['base']} of the base, {counts['sharp']} of the "
                                               f"sharp image); {detail}", np.ones(1, bool), arrived=arrived)

    def _arrived(self, found: list[tuple[str, int, bytes]], stream: str, layout: Layout) -> float:
        """Of the packets that rebuild ``stream``, the share that arrived intact (0 when none did): the count needed
        follows from the length most of its packets state, as :meth:`_rebuild` reads them."""
        mine = [length for name, length, _ in found if name == stream]
        if not mine:
            return 0.0
        length = Counter(mine).most_common(1)[0][0]
        needed = hidden_file.source_count(length, self.symbol_bytes_of(self.packet_code(stream, layout.format)))
        return sum(1 for n in mine if n == length) / max(needed, 1)

    def _rebuild(self, found: list[tuple[str, int, bytes]], stream: str, format: int) -> bytes | None:
        """The framed stream from its intact packets (those of the length most of them state) in a file of ``format``,
        or None."""
        mine = [(length, packet) for name, length, packet in found if name == stream]
        if not mine:
            return None
        length = Counter(length for length, _ in mine).most_common(1)[0][0]
        symbol = self.symbol_bytes_of(self.packet_code(stream, format))
        return hidden_file.rebuild((p for n, p in mine if n == length), length, symbol)

    def _extract_file(self, found: list, detail: str, blank: Array, layout: Layout) -> Extracted:
        raw = self._rebuild(found, "file", layout.format)
        arrived = self._arrived(found, "file", layout)
        if raw is None:
            intact = sum(1 for stream, _, _ in found if stream == "file")
            return Extracted(blank, np.ones(1, np.float32), f"a hidden file was found but it cannot be rebuilt: {intact} "
                                                   f"packets arrived intact, too few; {detail}",
                             np.ones(1, bool), arrived=arrived)
        file = hidden_file.HiddenFile.from_frame(raw)
        return Extracted(blank, np.ones(1, np.float32), f"the file passed its checksum; {detail}", file=file, verdict=EXACT,
                         arrived=max(arrived, 1.0))

    def packets(self, wave: np.ndarray, key: str | None = None) -> tuple[Layout | None, list[tuple[str, int, bytes]], str]:
        """(the layout, every intact packet, one line on the search) in a mono 16 kHz waveform from any start, any
        length; the layout is None when no payload is found."""
        if mdct.frame_count(len(wave), self.hop) < alignment.SYNC_FRAMES:
            return None, [], f"no hidden image found: the audio is too short ({len(wave) / self.cfg.sample_rate:.1f} s)"
        where, llr, first, layout = self.layout_frames(wave, key)
        own = self.cfg.robust.change_db
        shipped = own in FORMAT_LEVELS.values()  # (a design experiment at another level reads its own files only)
        if layout is None and where.found and shipped:  # a grid but no header: a short file, read at the wrong level?
            for level in sorted({level for level in FORMAT_LEVELS.values() if level != own}):
                layout = self.at_level(level).layout_frames(wave, key)[3]
                if layout is not None:
                    break
        if layout is None or layout.format == self.format or FORMAT_LEVELS[layout.format] == own or not shipped:
            return self._read(where, llr, first, layout, key)
        # written at another level: its packets are read there, on the grid that level's own search finds (a grid found
        # at the other level and kept lost packets through 64 kbit/s codecs: benchmarks/results/
        # pixinwav-robust-v5_val_adopted_grid.md), on that level's frames (the header, read at either level, names the
        # file; the frames' numbers are that reading's own)
        level = FORMAT_LEVELS[layout.format]
        reader = self.at_level(level)
        there, there_llr, there_first, there_layout = reader.layout_frames(wave, key)
        got = reader._read(there, there_llr, there_first, there_layout or layout, key)
        return got[0], got[1], f"{got[2]}; read at {level:g} dB under the song's level, as its format ({layout.format}) says"

    def at_level(self, level: float) -> "RobustSongStego":
        """This model with the change at ``level`` dB under the song's level (a reader of files written there)."""
        from . import build_model  # (the package imports this module)

        return build_model(model_with(self.cfg, change_db=level))

    def read_frames(self, wave: np.ndarray, key: str | None) -> tuple[Location, np.ndarray | None, tuple]:
        """(where the grid is, the frames' log-likelihood ratios ``[frames, groups]`` or None, :meth:`packets`'s
        answer from them): the reading that numbers a layout, piece by piece where one grid does not."""
        where, llr, first, layout = self.layout_frames(wave, key)
        return where, llr, self._read(where, llr, first, layout, key)

    def layout_frames(self, wave: np.ndarray, key: str | None) -> tuple[Location, np.ndarray | None, int, Layout | None]:
        """(where the grid is, the frames' log-likelihood ratios or None, the payload's number of their first frame,
        the layout header they add up to or None): one grid, or piece by piece where one grid numbers no layout."""
        where, llr = self.soft_frames(wave, key)
        first, layout = self.layout_of(llr, key) if llr is not None else (0, None)
        if layout is None and where.found and not where.stretched:  # a grid of the loudest passages that numbers no
            if where.pieces is None:  # layout: a changed tempo after all? (kept: `reveal` without --model reads twice)
                where.pieces = self.soft_frames(wave, key, piecewise=True)
            stretched, pieces = where.pieces
            if pieces is not None:
                again = self.layout_of(pieces, key)
                if again[1] is not None:
                    return stretched, pieces, *again
        return where, llr, first, layout

    def frame_number(self, llr: np.ndarray, key: str | None) -> int:
        """The payload's number of the first frame of ``llr`` (:meth:`read_frames`), from its numbering group."""
        return alignment.frame_number(llr[:, self.numbering_group], key)

    def summed_copies(self, llr: np.ndarray, first: int, layout: Layout, key: str | None) -> dict[tuple[int, int], list]:
        """{(stream, class): [copies, the codeword's summed log-likelihood ratios ``[coded_bits]``]} of the frames
        ``llr`` whose first is payload frame ``first``: every segment at least ``MIN_PRESENT`` there adds its copy."""
        seg, order = self.cfg.robust.segment_frames, self._interleave(key)
        data = llr[:, self.data_groups]
        copies: dict[tuple[int, int], list] = {}
        for s in range(first // seg, (first + len(llr) - 1) // seg + 1):  # add up the copies of each packet
            rows = np.arange(s * seg, (s + 1) * seg) - first
            present = (rows >= 0) & (rows < len(llr))
            if present.mean() < MIN_PRESENT:
                continue
            slots = np.zeros((seg, len(self.data_groups)))
            slots[present] = data[rows[present]]
            stream, cls = (int(x[0]) for x in self.class_of(np.array([s]), layout))
            entry = copies.setdefault((stream, cls), [0, np.zeros(self.coded_bits)])
            entry[0] += 1
            entry[1] += slots.reshape(-1)[order]
        return copies

    def layout_of(self, llr: np.ndarray, key: str | None) -> tuple[int, Layout | None]:
        """(the payload's number of the first frame of ``llr``, the layout header its frames add up to, or None)."""
        first = self.frame_number(llr, key)
        summed = np.zeros(LAYOUT_BITS)
        np.add.at(summed, (first + np.arange(len(llr))) % LAYOUT_BITS, llr[:, self.layout_group])
        return first, Layout.from_bits((summed < 0).astype(np.uint8))

    def format_at(self, wave: np.ndarray, key: str | None) -> int | None:
        """The format of the payload in a mono waveform at the model's rate (which model wrote it), or None when no
        layout header is read (the search and the frames it reads are kept for the reveal that follows)."""
        try:
            layout = self.layout_frames(wave, key)[3]
        except PixinwavError:  # a format this release does not read: the reveal says so
            return None
        return None if layout is None else layout.format

    def _read(self, where: Location, llr: np.ndarray | None, first: int, layout: Layout | None,
              key: str | None) -> tuple[Layout | None, list, str]:
        """:meth:`packets` from the frames' log-likelihood ratios, the number of their first frame and their layout."""
        agreement = where.agreement
        if llr is None:
            return None, [], (f"no hidden image found (alignment score {agreement:.3f}; a payload scores {MIN_AGREEMENT} "
                              "or more): plain audio, another --key, or a change too strong")
        if layout is None:
            return None, [], (f"no hidden image found: a payload-like pattern (alignment score {agreement:.3f}) but no "
                              "readable layout header")
        copies = self.summed_copies(llr, first, layout, key)
        decoded = self._decode(copies, layout, {})
        first_pass = len(decoded)
        for _ in range(RECALIBRATION_PASSES):  # the packets that failed, again with each group's ratios re-weighed
            if not decoded or len(decoded) == len(copies):
                break
            weighed = llr.copy()
            weighed[:, self.data_groups] *= recalibrate.group_scales(llr[:, self.data_groups],
                                                                     self.known_signs(decoded, len(llr), first, layout, key))
            more = self._decode(self.summed_copies(weighed, first, layout, key), layout, decoded)
            if len(more) == len(decoded):
                break
            decoded = more
        found = [parsed for parsed, _ in decoded.values()]
        segments = sum(entry[0] for entry in copies.values())
        again = f" ({len(found) - first_pass} of them with the ratios re-weighed)" if len(found) > first_pass else ""
        return layout, found, (f"{len(found)} of {len(copies)} packets decoded{again} from {segments} segments (alignment "
                               f"score {agreement:.3f}){where.note}")

    def _decode(self, copies: dict[tuple[int, int], list], layout: Layout,
                decoded: dict[tuple[int, int], tuple]) -> dict[tuple[int, int], tuple]:
        """``decoded`` and every other packet of ``copies`` (:meth:`summed_copies`) that decodes and passes its CRC:
        {(stream, class): (:meth:`_parse`'s answer, the codeword's bits)}."""
        decoded = dict(decoded)
        for (stream, cls), (_, summed_llr) in copies.items():
            if (stream, cls) in decoded:
                continue
            code_ = self.packet_code(STREAMS[stream], layout.format)
            message_bits = 8 * (self.symbol_bytes_of(code_) + OVERHEAD)
            message, ok = code.decode(summed_llr, message_bits, DECODE_ITERATIONS, drawn=code_.drawn)
            parsed = self._parse(message, code_, layout.format) if ok else None
            if parsed is not None:
                decoded[stream, cls] = parsed, code.encode(message, self.coded_bits, drawn=code_.drawn)
        return decoded

    def known_signs(self, decoded: dict[tuple[int, int], tuple], frames: int, first: int, layout: Layout,
                    key: str | None) -> np.ndarray:
        """``[frames, data groups]``: +1 / -1 where a decoded packet's codeword says bit 0 / 1 (every segment that
        carries it), 0 elsewhere, for frames whose first is payload frame ``first``."""
        seg, order = self.cfg.robust.segment_frames, self._interleave(key)
        signs = np.zeros((frames, len(self.data_groups)))
        segments = np.arange(first // seg, (first + frames - 1) // seg + 1)
        for s, stream, cls in zip(segments, *self.class_of(segments, layout)):
            if (int(stream), int(cls)) not in decoded:
                continue
            slots = np.empty(self.coded_bits)
            slots[order] = 1.0 - 2.0 * decoded[int(stream), int(cls)][1]
            rows = np.arange(s * seg, (s + 1) * seg) - first
            inside = (rows >= 0) & (rows < frames)
            signs[rows[inside]] = slots.reshape(seg, -1)[inside]
        return signs
