"""The robust scheme over the whole song, rateless: a photo that grows with the song, or a file, bit-exact, in
self-contained packets that survive codecs, resampling, noise and cuts (``pixinwav-robust-v2``).

The channel is robust-v1's (``models/robust.py``): the song downmixed to 16 kHz, MDCT frames of 32 ms, groups of
``spread`` bins between 300 Hz and 7 kHz each carrying one bit by spread-transform dither modulation at
``change_db`` under the song's own masking level; one group numbers the frames with a keyed sequence, so the
receiver finds the frame grid and every frame's number with no offset (``robust/alignment.py``).

What changes is the payload. The song is cut into segments of ``segment_frames`` frames (2 s); each segment
carries one packet: an LDPC codeword of rate ``code_rate`` (interleaved over the segment) holding a short packet
head (format version, which stream, the stream's length), one RaptorQ packet of that stream and a CRC-32. The
streams are fountain codes (``hidden_file.py``): any enough packets from anywhere rebuild them, so a segment
lost to a codec's bad second, a cut or an excerpt costs nothing as long as enough others arrive, and a longer
song carries more packets, hence a larger image. A photo goes as two layers (``robust/layers.py``): every
``BASE_EVERY``-th segment carries the small base image (``BASE_SOURCE`` packets' worth: an excerpt of 30 s
holds enough of them), the others the sharp one, as large as ``seconds`` of music carry (default: the song over
``cfg.redundancy``: each packet sent about that many times over). A file fills every segment.
"""
from __future__ import annotations

import math
import struct
import zlib
from collections import Counter

import numpy as np
import torch

from .. import hidden_file
from ..tiles import scaled
from ..config import ModelConfig
from ..errors import PixinwavError
from ..robust import alignment, code, layers, mdct
from ..robust.stdm import Lattice, keyed_permutation
from .base import Extracted, Hidden, StegoScheme
from .robust import MIN_AGREEMENT

VERSION = 1  # the packet format: a receiver refuses a packet of another version with a message, never guesses
STREAMS = ("base", "sharp", "file")
HEAD = struct.Struct(">I")  # 4 bits format version, 4 bits stream, 24 bits the stream's framed length
OVERHEAD = HEAD.size + hidden_file.PACKET_ID + 4  # head, RaptorQ's packet id, CRC-32
MAX_STREAM = (1 << 24) - 1
BASE_EVERY = 3  # one segment in this many carries the base image (a 30 s excerpt holds 4 or 5)
BASE_SOURCE = 3  # packets the base image takes
MIN_PHOTO_BYTES = 400  # the smallest sharp layer worth sending (an AVIF file's own overhead is about 300 bytes)
NUMBERING_HZ = 1500  # the frame-numbering group sits here: loud in music, kept well by codecs
# Masking scale (per coefficient, full scale 1) under which the cover counts as silent: robust-v1's -75 dB left
# the groups of quiet, band-limited music empty (a WarMUX track: 33 of 65 segments decoded, 61 at -92 dB; the
# change there is 104 dB under full scale, at the 16-bit file's own rounding level)
FLOOR = 10 ** (-92 / 20)
MIN_USABLE = 0.4  # a segment whose data groups are over the floor this often decodes (the sender plans with it)
MIN_PRESENT = 0.75  # a segment cut by the file's ends is decoded when this share of its frames arrived
DECODE_ITERATIONS = 100


class RobustSongStego(StegoScheme):
    takes_key = True
    has_presence = True
    whole_file = True
    full_image = True
    carries_files = True
    max_side = 4096
    hide_options = ("seconds", "max_side")

    def __init__(self, cfg: ModelConfig):
        super().__init__(cfg)
        self.hop = cfg.hop
        self.low, self.high = round(cfg.band[0] * cfg.hop), round(cfg.band[1] * cfg.hop)
        self._lattices: dict[str, Lattice] = {}

    # --- geometry --------------------------------------------------------------------------------------------
    def lattice(self, key: str | None) -> Lattice:
        key = key or ""
        if key not in self._lattices:
            self._lattices = {key: Lattice.make(key, self.low, self.high, self.cfg.spread, self.cfg.change_db, FLOOR)}
        return self._lattices[key]

    @property
    def groups(self) -> int:
        return (self.high - self.low) // self.cfg.spread

    @property
    def numbering_group(self) -> int:
        bin_ = round(NUMBERING_HZ * 2 * self.hop / self.cfg.sample_rate)
        return min(self.groups - 1, max(0, (bin_ - self.low) // self.cfg.spread))

    @property
    def data_groups(self) -> list[int]:
        return [g for g in range(self.groups) if g != self.numbering_group]

    @property
    def coded_bits(self) -> int:
        """Bits of one segment's codeword."""
        return self.cfg.segment_frames * len(self.data_groups)

    @property
    def symbol_bytes(self) -> int:
        """Bytes of a stream per packet (RaptorQ's symbol: a multiple of 8)."""
        return (int(self.coded_bits * self.cfg.code_rate) // 8 - OVERHEAD) // 8 * 8

    @property
    def packet_bytes(self) -> int:
        """Bytes of one segment's message: the symbol and the packet's overhead."""
        return self.symbol_bytes + OVERHEAD

    @property
    def segment_seconds(self) -> float:
        return self.cfg.segment_frames * self.hop / self.cfg.sample_rate

    @property
    def min_cover_samples(self) -> int:
        return (BASE_EVERY * self.cfg.segment_frames + 2) * self.hop

    @property
    def top_frequency(self) -> float:
        return self.high * self.cfg.sample_rate / (2 * self.hop)

    def segments(self, samples: int) -> int:
        """Whole segments a cover of ``samples`` holds."""
        return min(mdct.frame_count(samples, self.hop), alignment.PN_PERIOD) // self.cfg.segment_frames

    def carries(self) -> dict:
        return {"segment_seconds": round(self.segment_seconds, 3), "bytes_per_segment": self.symbol_bytes,
                "code_rate": self.cfg.code_rate, "spread": self.cfg.spread, "change_db": self.cfg.change_db}

    def carrying(self, mono: np.ndarray) -> np.ndarray:
        """``[segments]`` bool: the segments of a mono cover (the model's rate) loud enough across the band to
        decode (a packet in the others is sent, but the sender does not count on it)."""
        segments, seg = self.segments(len(mono)), self.cfg.segment_frames
        lattice = self.lattice(None)  # (the floor test does not depend on the key)
        usable = lattice.usable(lattice.scale(mdct.analyse(mono, self.hop, segments * seg)))[:, self.data_groups]
        return usable.reshape(segments, -1).mean(axis=1) >= MIN_USABLE

    def file_capacity(self, good: int) -> int:
        """The largest file (bytes, with its name) that ``good`` carrying segments hold, each packet sent
        ``redundancy`` times."""
        source = int(good / self.cfg.redundancy)
        return max(0, source * self.symbol_bytes - hidden_file.HiddenFile.frame_size(0))

    def image_budget(self, good: np.ndarray, seconds: float | None) -> tuple[int, int]:
        """(bytes of the base image's frame, of the sharp image's frame) for a song whose segments carry where
        ``good`` says, the sharp image as large as ``seconds`` of music carry (default: the song over
        ``cfg.redundancy``)."""
        sharp = int(sum(g for s, g in enumerate(good) if s % BASE_EVERY))
        share = seconds / (len(good) * self.segment_seconds) if seconds else 1 / self.cfg.redundancy
        source = max(1, int(sharp * min(share, 1.0)))
        return BASE_SOURCE * self.symbol_bytes, source * self.symbol_bytes

    def capacity(self, mono: np.ndarray, photo: tuple[int, int] | None, file_bytes: int | None) -> dict:
        good = self.carrying(mono)
        segments, samples = len(good), len(mono)
        base, sharp = self.image_budget(good, None) if segments else (0, 0)
        most = self.file_capacity(int(good.sum()))
        lines = [f"{segments} segments of {self.segment_seconds:.2f} s ({int(good.sum())} loud enough across the band "
                 f"to count on), one packet of {self.symbol_bytes} bytes each; every packet sent {self.cfg.redundancy:g} "
                 f"times over: a sharp image of up to {sharp - layers.OVERHEAD:,} "
                 f"bytes (AVIF) and a coarse base of {base - layers.OVERHEAD} bytes (WebP) that any 30 s carry"]
        report = {"seconds": samples / self.cfg.sample_rate, "segments": segments, "sharp_bytes": sharp - layers.OVERHEAD,
                  "base_bytes": base - layers.OVERHEAD, "file_bytes": most, "largest": {}}
        for name, (w, h) in (("4:3", (4000, 3000)), ("3:2", (3000, 2000)), ("16:9", (3840, 2160)), ("1:1", (4096, 4096))):
            fw, fh = layers.planned_size(w, h, sharp)
            report["largest"][name] = [fw, fh]
            lines.append(f"a {name} photo goes at about {fw} x {fh} (about {layers.SHARP_BPP:g} bit per pixel)")
        if photo is not None:
            sent = layers.planned_size(*photo, sharp)
            report["photo"] = {"size": list(photo), "sent_at": list(sent)}
            lines.append(f"the photo ({photo[0]} x {photo[1]}) goes at about {sent[0]} x {sent[1]}"
                         + ("" if sent == tuple(photo) else "; a longer song carries it larger"))
        lines.append(f"or a file of up to {most:,} bytes, exactly")
        if file_bytes is not None:
            need = hidden_file.source_count(hidden_file.HiddenFile.frame_size(file_bytes, "x" * 64), self.symbol_bytes)
            fits = need * self.cfg.redundancy <= good.sum()
            report["file"] = {"bytes": file_bytes, "packets": need, "seconds": need * self.cfg.redundancy
                              * self.segment_seconds, "fits": fits}
            lines.append(f"the file ({file_bytes:,} bytes) needs {need} packets, {report['file']['seconds']:.0f} s of "
                         "music with its spares: " + ("it fits" if fits else "this song is too short for it"))
        report["lines"] = lines
        return report

    def min_photo_seconds(self) -> float:
        """Seconds of music the smallest useful photo needs at the default redundancy."""
        segments = BASE_EVERY
        while self.image_budget(np.ones(segments, bool), None)[1] < MIN_PHOTO_BYTES:
            segments += 1
        return segments * self.segment_seconds

    # --- packets -------------------------------------------------------------------------------------------
    def _message(self, stream: str, length: int, packet: bytes) -> np.ndarray:
        body = HEAD.pack(VERSION << 28 | STREAMS.index(stream) << 24 | length) + packet
        body += bytes(self.packet_bytes - 4 - len(body))
        return np.unpackbits(np.frombuffer(body + struct.pack(">I", zlib.crc32(body)), dtype=np.uint8))

    def _parse(self, message: np.ndarray) -> tuple[str, int, bytes] | None:
        """(stream, its framed length, RaptorQ packet) of a decoded message, or None when its CRC fails."""
        raw = np.packbits(message).tobytes()
        if zlib.crc32(raw[:-4]) != struct.unpack(">I", raw[-4:])[0]:
            return None
        (head,) = HEAD.unpack(raw[:HEAD.size])
        version, stream, length = head >> 28, head >> 24 & 15, head & MAX_STREAM
        if version != VERSION or stream >= len(STREAMS):
            raise PixinwavError(f"this file carries robust packets of format {version}, which this release of pixinwav "
                                f"cannot read (it reads format {VERSION}): it was written by a newer version")
        return STREAMS[stream], length, raw[HEAD.size:HEAD.size + hidden_file.PACKET_ID + self.symbol_bytes]

    def _interleave(self, key: str | None) -> np.ndarray:
        return keyed_permutation(key or "", f"segment{self.coded_bits}", self.coded_bits)

    # --- hiding --------------------------------------------------------------------------------------------
    def analyse(self, wave: torch.Tensor) -> torch.Tensor:
        return wave

    def embed(self, image: torch.Tensor, cover: torch.Tensor, key: str | None = None, seconds: float | None = None,
              max_side: int | None = None) -> Hidden:
        """``image [1, C, H, W]`` at its own size, ``cover [1, T]`` (mono, 16 kHz) -> container ``[1, T]``."""
        self.check_cover(cover)
        if max_side is not None and max_side < 1:
            raise PixinwavError(f"--max-side must be a positive number of pixels, got {max_side}")
        mono = cover[0].detach().cpu().double().numpy()
        good = self.carrying(mono)
        segments = len(good)
        base_bytes, sharp_bytes = self.image_budget(good, seconds)
        need = math.ceil(MIN_PHOTO_BYTES / self.symbol_bytes) * self.segment_seconds * BASE_EVERY / (BASE_EVERY - 1)
        if sharp_bytes < MIN_PHOTO_BYTES and seconds and seconds < need:
            raise PixinwavError(f"--seconds {seconds:g} of music carry {sharp_bytes} bytes of photo; a photo needs "
                                f"{MIN_PHOTO_BYTES} or more: give --seconds {math.ceil(need)} or more")
        if sharp_bytes < MIN_PHOTO_BYTES:
            quiet = f", of which {int(good.sum()) * self.segment_seconds:.0f} s loud enough across the band" \
                if good.mean() < 0.9 else ""
            raise PixinwavError(f"this model needs about {self.min_photo_seconds():.0f} s of music to carry a photo; the "
                                f"cover has {len(mono) / self.cfg.sample_rate:.1f} s{quiet}: use a longer or louder song")
        photo = image[0].detach().cpu().float()
        sharp = layers.encode(photo, "sharp", sharp_bytes, max_side)
        base = layers.encode(photo, "base", base_bytes, show=(sharp.width, sharp.height))
        streams = {}
        for layer in (base, sharp):
            frame = layer.frame()
            count = sum(1 for s in range(segments) if (s % BASE_EVERY == 0) == (layer.layer == "base"))
            streams[layer.layer] = (frame, hidden_file.packets(frame, self.symbol_bytes,
                                                               count - hidden_file.source_count(len(frame), self.symbol_bytes)))
        plan = [("base", 0) if s % BASE_EVERY == 0 else ("sharp", 0) for s in range(segments)]
        used = Counter()
        for s, (name, _) in enumerate(plan):
            plan[s] = (name, used[name])
            used[name] += 1
        container = self._write(mono, key, [(name, len(streams[name][0]), streams[name][1][i]) for name, i in plan])
        info = {"kind": "layers", "width": sharp.width, "height": sharp.height, "channels": photo.shape[0],
                "original": (photo.shape[2], photo.shape[1]), "sharp_bytes": len(sharp.data),
                "base_bytes": len(base.data), "quality": sharp.quality, "codec": sharp.codec,
                "segments": segments, "packets": {name: (hidden_file.source_count(len(f), self.symbol_bytes), len(p))
                                                  for name, (f, p) in streams.items()},
                "seconds_used": segments * self.segment_seconds,
                "sent": scaled(photo, sharp.width, sharp.height), "compressed": sharp.image()}
        out = torch.from_numpy(container)[None].to(cover.dtype)
        return Hidden(cover, out, out, info=[info])

    def embed_file(self, file: hidden_file.HiddenFile, cover: torch.Tensor, key: str | None = None) -> Hidden:
        """A file, bit-exact, its fountain-code packets in every segment. Refuses a file larger than the song
        carries at ``cfg.redundancy``, saying how much it does."""
        self.check_cover(cover)
        mono = cover[0].detach().cpu().double().numpy()
        good = self.carrying(mono)
        segments, loud = len(good), int(good.sum())
        frame = file.frame()
        source = hidden_file.source_count(len(frame), self.symbol_bytes)
        if source * self.cfg.redundancy > loud:
            raise PixinwavError(f"the file is {len(file.data):,} bytes; this song carries at most "
                                f"{self.file_capacity(loud):,} ({loud} of its {segments} segments of "
                                f"{self.segment_seconds:.2f} s are loud enough, {self.symbol_bytes} bytes each, every "
                                f"packet sent {self.cfg.redundancy:g} times over): use a longer song or a smaller file")
        packets = hidden_file.packets(frame, self.symbol_bytes, segments - source)
        container = self._write(mono, key, [("file", len(frame), p) for p in packets[:segments]])
        info = {"kind": "file", "name": file.name, "bytes": len(file.data), "segments": segments, "packets": segments,
                "needed": source, "seconds_used": segments * self.segment_seconds}
        out = torch.from_numpy(container)[None].to(cover.dtype)
        return Hidden(cover, out, out, info=[info])

    def _write(self, mono: np.ndarray, key: str | None, packets: list[tuple[str, int, bytes]]) -> np.ndarray:
        """The cover with segment ``i`` carrying ``packets[i]`` (stream, framed length, RaptorQ packet), every
        frame its number."""
        lattice, seg, data_groups = self.lattice(key), self.cfg.segment_frames, self.data_groups
        frames = len(packets) * seg
        order = self._interleave(key)
        bits = np.zeros((frames, lattice.groups), np.uint8)
        bits[:, self.numbering_group] = alignment.frame_sequence(key)[np.arange(frames) % alignment.PN_PERIOD]
        for s, (stream, length, packet) in enumerate(packets):
            word = code.encode(self._message(stream, length, packet), self.coded_bits, drawn="rows")
            slots = np.empty(self.coded_bits, np.uint8)
            slots[order] = word
            bits[s * seg:(s + 1) * seg, data_groups] = slots.reshape(seg, len(data_groups))
        coefs = mdct.analyse(mono, self.hop, frames)
        change = mdct.synthesise(lattice.embed(coefs, bits) - coefs, self.hop)
        container = mono.copy()
        container[: len(change)] += change
        return container

    # --- revealing -----------------------------------------------------------------------------------------
    def reveal_spec(self, spec: torch.Tensor, key: str | None = None) -> torch.Tensor:
        return self.extract(spec, key).image

    def extract(self, wave: torch.Tensor, key: str | None = None) -> Extracted:
        if len(wave) != 1:
            raise PixinwavError("the robust song model reveals one file at a time")
        blank = torch.full((1, self.cfg.image_channels, self.cfg.image_size, self.cfg.image_size), 0.5)
        found, detail = self.packets(wave[0].detach().cpu().double().numpy(), key)
        if not found:
            return Extracted(blank, torch.zeros(1), detail)
        kinds = Counter("file" if stream == "file" else "image" for stream, _, _ in found)
        if kinds["file"] > kinds["image"]:
            return self._extract_file([p for p in found if p[0] == "file"], detail, blank)
        rebuilt = {}
        for name in ("sharp", "base"):
            mine = [(length, packet) for stream, length, packet in found if stream == name]
            if mine:
                length = Counter(length for length, _ in mine).most_common(1)[0][0]
                raw = hidden_file.rebuild((p for n, p in mine if n == length), length, self.symbol_bytes)
                if raw is not None:
                    rebuilt[name] = layers.Layer.from_frame(raw)
        counts = {name: sum(1 for s, _, _ in found if s == name) for name in ("base", "sharp")}
        if "sharp" in rebuilt:
            layer = rebuilt["sharp"]
            return Extracted(layer.image()[None], torch.ones(1),
                             f"found a {layer.width} x {layer.height} {layer.codec} image ({len(layer.data):,} bytes) in "
                             f"{counts['sharp']} packets; {detail}")
        if "base" in rebuilt:
            layer = rebuilt["base"]
            return Extracted(layer.image()[None], torch.tensor([0.5]),
                             f"warning: only the coarse base image came back ({len(layer.data)} bytes, shown at "
                             f"{layer.width} x {layer.height}): too few packets of the sharp image arrived "
                             f"({counts['sharp']}); {detail}")
        return Extracted(blank, torch.ones(1), f"a hidden image was found but too few of its packets arrived intact to "
                                               f"rebuild it ({counts['base']} of the base, {counts['sharp']} of the "
                                               f"sharp image); {detail}", torch.ones(1, dtype=torch.bool))

    def _extract_file(self, found: list, detail: str, blank: torch.Tensor) -> Extracted:
        length = Counter(length for _, length, _ in found).most_common(1)[0][0]
        raw = hidden_file.rebuild((p for _, n, p in found if n == length), length, self.symbol_bytes)
        need = hidden_file.source_count(length, self.symbol_bytes)
        if raw is None:
            return Extracted(blank, torch.ones(1), f"a hidden file was found but it cannot be rebuilt: {len(found)} "
                                                   f"packets arrived intact, {need} or a few more are needed; {detail}",
                             torch.ones(1, dtype=torch.bool))
        file = hidden_file.HiddenFile.from_frame(raw)
        return Extracted(blank, torch.ones(1), f"the file passed its checksum ({len(found)} packets, {need} needed); "
                                               f"{detail}", file=file)

    def packets(self, wave: np.ndarray, key: str | None = None) -> tuple[list[tuple[str, int, bytes]], str]:
        """(every intact packet in a mono 16 kHz waveform, one line on the search) from any start, any length."""
        lattice, seg = self.lattice(key), self.cfg.segment_frames
        if mdct.frame_count(len(wave), self.hop) < alignment.SYNC_FRAMES:
            return [], f"no hidden payload found: the audio is too short ({len(wave) / self.cfg.sample_rate:.1f} s)"
        shift, agreement = alignment.align(wave, lattice, self.hop)
        if agreement < MIN_AGREEMENT:
            return [], (f"no hidden image found (alignment score {agreement:.3f}; a payload scores {MIN_AGREEMENT} or "
                        "more): plain audio, another --key, or a change too strong")
        whole = int(math.floor(shift))
        coefs = mdct.analyse(alignment.fractional_shift(wave, shift)[whole:], self.hop)
        llr, _, _ = lattice.soft(coefs)
        first = alignment.frame_number(llr[:, self.numbering_group], key)
        numbers = first + np.arange(len(llr))
        order = self._interleave(key)
        data = llr[:, self.data_groups]
        found, tried = [], 0
        for s in range(numbers[0] // seg, numbers[-1] // seg + 1):
            rows = np.arange(s * seg, (s + 1) * seg) - first
            present = (rows >= 0) & (rows < len(llr))
            if present.mean() < MIN_PRESENT:
                continue
            tried += 1
            slots = np.zeros((seg, len(self.data_groups)))
            slots[present] = data[rows[present]]
            message, ok = code.decode(slots.reshape(-1)[order], 8 * self.packet_bytes, DECODE_ITERATIONS, drawn="rows")
            parsed = self._parse(message) if ok else None
            if parsed is not None:
                found.append(parsed)
        return found, (f"{len(found)} of {tried} segments decoded (alignment score {agreement:.3f})")
