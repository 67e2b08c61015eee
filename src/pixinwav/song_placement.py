"""Where a whole-song model's payload goes: the whole song (windows or segments are the scheme's own business), found
again anywhere in the file without an offset; in memory (:class:`SongPlacement`, behind :class:`~pixinwav.api.Stego`)
and on files (:meth:`SongPlacement.hide_path`: the song read whole, the stego written into its own memory), with
``hide --survive``'s read-back through the attacks named."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from . import hidden_file, tiles
from .arrays import as_numpy
from .channel import pcm16_mono, pcm16_round_trip
from .data.audio import resample
from .errors import NotFound, PixinwavError
from .hidden_file import HiddenFile
from .checks import audio_array
from .models.base import EXACT, INTACT
from .report import BAND_LIMIT_FRACTION, HideReport, Revealed, refuse_louder_than_music

# hide --survive: stegos made and read back through the attacks before the photo is given up on; each next photo takes
# the share of packets that came back times this (a smaller photo's own packets fare a little differently)
SURVIVE_TRIES = 3
SURVIVE_MARGIN = 0.9
# hide without --survive: where the model's own check (``checked_attacks``) loses packets, one smaller photo is tried
# if at least this share of them came back (a song that keeps fewer goes out at full size, with a warning: shrinking
# its photo further would cost more than the check is worth)
CHECK_SHRINKS_FROM = 0.7
ROUND_BLOCK = 1 << 20  # samples put on the 16-bit grid at a time (--survive's read-back)
OFFSET_REFUSED = ("this model fills the whole song and needs no --offset (it finds the image anywhere): drop --offset, "
                  "or pass --model pixinwav-modulo-v1 to hide a 256 x 256 crop in one window at an offset (the default "
                  "up to version 0.1)")


class SongPlacement:
    """The payload spread over the whole song by the scheme itself; no hide option of its own."""

    options: tuple[str, ...] = ()

    def __init__(self, stego):
        self.stego, self.model, self.cfg = stego, stego.model, stego.cfg

    def hide(self, secret: np.ndarray | HiddenFile, cover: np.ndarray, sample_rate: int, keyed: dict, options: dict,
             owned: bool = False) -> tuple[np.ndarray, HideReport]:
        """An image ``[C, H, W]`` (the photo at its own size, or a whole-file model's square) or a file over the song;
        ``owned``: ``cover`` may become the stego."""
        mono = self.stego._song_mono(cover, sample_rate)  # (a model that writes its own rate: the cover, downmixed later)
        seconds, quality = options.get("seconds"), options.get("quality")
        if seconds is not None and not (np.isfinite(seconds) and seconds > 0):
            raise PixinwavError(f"--seconds must be a positive number of seconds, got {seconds}")
        if quality is not None and not 0 <= quality <= 100:
            raise PixinwavError(f"--quality must lie in 0-100, got {quality}")
        if not np.any(mono):
            raise PixinwavError("the cover is silent; an image hidden in silence would be plainly audible")

        if BAND_LIMIT_FRACTION * sample_rate / 2 < self.model.top_frequency:  # the payload would be cut off
            need = int(np.ceil(2 * self.model.top_frequency / BAND_LIMIT_FRACTION / 1000))
            raise PixinwavError(f"the cover's sample rate ({sample_rate} Hz) keeps only frequencies under "
                                f"{sample_rate / 2:.0f} Hz; this model writes up to {self.model.top_frequency:.0f} Hz: "
                                f"use a cover sampled at {need} kHz or more")
        written_rate = None
        if self.model.writes_model_rate:  # its mark lives in the exact 16-bit samples at the model's rate
            if sample_rate != self.cfg.sample_rate:
                written_rate = sample_rate
                at_rate = resample(cover, sample_rate, self.cfg.sample_rate)
                if owned and cover.flags.c_contiguous and cover.flags.writeable and at_rate.size <= cover.size:
                    # into the cover's own memory (a lower rate fits): the song is not held at both rates
                    cover.reshape(-1)[:at_rate.size] = at_rate.reshape(-1)
                    at_rate = cover.reshape(-1)[:at_rate.size].reshape(at_rate.shape)
                cover, sample_rate, owned = at_rate, self.cfg.sample_rate, True
                del at_rate
            mono = pcm16_mono(cover)  # the downmix the receiver will read from the file
        if self.model.writes_model_rate:  # the channels as the file holds them: none may clip
            options = {**options, "channels": cover}
        is_file, share, checked, at_risk = isinstance(secret, HiddenFile), 1.0, 0, None
        survive = options.pop("survive", None)
        # no --survive: a photo is read back through the model's own check (a changed tempo), which makes it smaller
        # once where it loses packets and warns where it still does, but never refuses
        lenient = survive is None and not is_file
        attacks = list(getattr(self.model, "checked_attacks", ())) if lenient else survive_attacks(survive)
        while True:
            if is_file:
                hidden = self.model.embed_file(secret, mono[None], **keyed, **options)
            else:
                try:
                    hidden = self.model.embed(secret[None], mono[None], **options, **keyed,
                                              **({"share": share} if share < 1.0 else {}))
                except PixinwavError:
                    if not (lenient and share < 1.0):
                        raise
                    # the check's smaller photo is below the smallest worth sending (a short song): the full one goes
                    share, attacks = 1.0, []
                    continue
            payload, change = hidden.sent, hidden.change
            payload.asked_seconds = options.get("seconds")  # what was asked, to say when the song was shorter
            if change is None:  # (a scheme that gave its container)
                change = as_numpy(hidden.container)[0]
                if change.dtype == mono.dtype and change.flags.writeable and not np.shares_memory(change, mono):
                    change -= mono  # in place, and the downmix let go: a whole song's copies are what peak memory is
                else:
                    change = change - mono
            del hidden
            if not attacks:  # (the last pass: a 10-minute song's downmix goes before the stego is made)
                del mono
            stego, clipped, snr, power = self.stego._add(cover, change, 0, sample_rate, self.model.writes_model_rate,
                                                         owned and not attacks)
            del change
            if not attacks:
                break
            arrived, limit = self._survival(stego, sample_rate, attacks, keyed)
            checked += 1
            if arrived >= 1.0:
                from .attacks import describe

                payload.survives = ", ".join(describe(*attack) for attack in attacks) + \
                    (f" ({checked} tries)" if checked > 1 else "")
                at_risk = None  # (a smaller photo that came back)
                break
            if lenient:
                from .attacks import as_flag

                at_risk = (f"only {100 * arrived:.0f} % of the packets the sharp photo needs came back when the sender "
                           f"read its stego back after {limit}: a receiver of such a copy may get only the coarse base "
                           f"image (hide --survive {as_flag(attacks)} refuses instead, --survive none skips the "
                           f"check)")
                if checked == 1 and arrived >= CHECK_SHRINKS_FROM:
                    share *= arrived * SURVIVE_MARGIN
                    del stego
                    continue
                break
            if is_file or arrived == 0.0 or checked == SURVIVE_TRIES:
                kept = f"; about {int(payload.bytes * arrived):,} of its {payload.bytes:,} bytes would" \
                    if is_file and arrived else ""
                raise PixinwavError(f"{'the file' if is_file else 'the photo'} does not come back after {limit} in this song: "
                                    f"{100 * min(arrived, 1.0):.0f} % of the packets it needs arrived{kept}; use a longer "
                                    f"or louder song or a milder --survive{getattr(self.model, 'louder_advice', '')}")
            share *= arrived * SURVIVE_MARGIN  # the packets that came back, with a margin: the next photo's bytes
            del stego  # (before the next one is made: a whole song less at the peak)
        payload.at_risk = at_risk  # (the check's warning, where the photo sent still loses packets)
        refuse_louder_than_music(snr, power, "")
        duration = cover.shape[0] / sample_rate
        return stego, HideReport(snr, snr, (0.0, duration), clipped,
                                 sample_rate / 2 if sample_rate / 2 < self.model.top_frequency else None,
                                 payload=payload,
                                 sample_rate=sample_rate if written_rate else None, resampled_from=written_rate)

    def _survival(self, stego: np.ndarray, sample_rate: int, attacks: list[tuple[str, float]],
                  keyed: dict) -> tuple[float, str]:
        """(the smallest share of the payload's packets that came back, the attack it came back through in words):
        the stego as the 16-bit file holds it, through each attack, read as ``pixinwav reveal`` reads it. ``stego`` (this
        hide's own array) is put on the 16-bit grid in place, a block at a time: the file written from it is the same,
        and a whole song is not held twice."""
        from .attacks import apply, describe
        from .progress import progress

        for a in range(0, len(stego), ROUND_BLOCK):
            stego[a:a + ROUND_BLOCK] = pcm16_round_trip(stego[a:a + ROUND_BLOCK])
        worst = (math.inf, "")
        with progress(len(attacks), "reading it back through --survive", unit="attack") as bar:
            for name, strength in attacks:
                attacked, rate = apply(name, stego, sample_rate, strength)
                mono = self.stego._mono(attacked, rate)
                del attacked  # (the receiver reads the downmix: the attacked song goes before the reading)
                try:
                    found = self.model.extract(mono[None], **keyed)
                    arrived = max(found.arrived or 0.0, 1.0 if found.verdict == EXACT else 0.0)
                except PixinwavError:  # (nothing read: as a receiver would say it found nothing)
                    arrived = 0.0
                worst = min(worst, (arrived, describe(name, strength)))
                bar.update()
        return worst

    def presence_at(self, audio: np.ndarray, sample_rate: int, offset: float, keyed: dict) -> float:
        raise PixinwavError("this model has no window pilots to measure")

    def reveal(self, audio: np.ndarray, sample_rate: int, offset: float | str, check: bool, keyed: dict,
               origin: float) -> Revealed:
        """Whatever the song holds, found anywhere in it (:meth:`~pixinwav.api.Stego.reveal_payload`)."""
        if offset not in (0, 0.0, "auto"):
            raise PixinwavError("this model finds the image anywhere in the file: drop --offset")
        # a model that writes the exact samples reads the file's channels too (where its sender left clipped ones alone)
        channels = {"channels": audio_array(audio)} if self.model.writes_model_rate and sample_rate == self.cfg.sample_rate \
            else {}
        found = self.model.extract(self.stego._mono(audio, sample_rate)[None], **keyed, **channels)
        if float(found.presence[0]) == 0.0:  # nothing true to write (robust: no image that passes its CRC)
            resampled = self.model.writes_model_rate and sample_rate != self.cfg.sample_rate
            raise NotFound(found.detail + (f"; this model writes {self.cfg.sample_rate} Hz files and this one is "
                                                f"at {sample_rate} Hz: it was resampled after hiding" if resampled else ""))
        if found.lost is not None and bool(found.lost[0]):  # found, but nothing exact to give back
            raise NotFound(found.detail, lost=True)
        if found.file is not None:
            return Revealed(None, found.file, found.detail, EXACT)
        return Revealed(np.clip(as_numpy(found.image)[0], 0, 1), None, found.detail, found.verdict or INTACT)

    def capacity(self, audio: np.ndarray, mono: np.ndarray, sample_rate: int, photo: tuple[int, int] | None,
                 file_bytes: int | None) -> dict:
        """:meth:`~pixinwav.api.Stego.capacity`: the scheme's own plan where it makes one, else its tiles. ``mono``:
        ``Stego._song_mono``'s (for a model that writes its own rate, the checked cover itself)."""
        channels = None
        if self.model.writes_model_rate:  # measured on what hide measures: the 16-bit file's downmix and channels (the
            # float downmix lacks the file's 16-bit floor, where the rounding's noise is shaped: up to 0.2.21 it
            # understated a quiet song's room by a third)
            channels = resample(mono, sample_rate, self.cfg.sample_rate)
            mono = pcm16_mono(channels)
        planned = self.model.song_capacity(mono, photo, file_bytes, channels)
        if planned is not None:
            return planned
        seconds = len(mono) / self.cfg.sample_rate
        side, window_s = self.cfg.image_size, self.cfg.clip_samples / self.cfg.sample_rate
        if not self.model.full_image:  # (robust-v1: one square image, repeated)
            return {"seconds": seconds, "tiles": None,
                    "lines": [f"carries one {side} x {side} image (a compressed copy per --seconds of music, default "
                              f"{self.cfg.robust.payload_seconds:g} s)"]}
        if channels is None:
            channels = resample(np.asarray(audio, np.float32).reshape(len(audio), -1), sample_rate, self.cfg.sample_rate)
        channels = pcm16_round_trip(channels)  # as hide reads the song
        usable = len(self.model.usable(channels.mean(axis=1), self.model.window_peaks(channels)))
        report = {"seconds": seconds, "tiles": usable, "tile_seconds": window_s, "largest": {}}
        lines = [f"{usable} of {int(seconds // window_s)} windows of {window_s:.2f} s are loud enough to carry a "
                 f"{side} x {side} tile ({usable * window_s:.1f} s of music)"]
        for name, (w, h) in (("4:3", (4000, 3000)), ("3:2", (3000, 2000)), ("16:9", (3840, 2160)), ("1:1", (4096, 4096))):
            if usable:
                fw, fh = tiles.fit(w, h, side, usable, 4096)
                report["largest"][name] = [fw, fh]
                lines.append(f"largest {name} photo: {fw} x {fh} ({fw * fh / 1e6:.2f} MP)")
        if photo is not None:
            need = tiles.count(*photo, side)
            sent = tiles.fit(*photo, side, usable, 4096) if usable else None
            report["photo"] = {"size": list(photo), "tiles": need, "seconds": need * window_s,
                               "sent_at": list(sent) if sent else None}
            lines.append(f"the photo ({photo[0]} x {photo[1]}) needs {need} tiles, {need * window_s:.1f} s of loud music: "
                         + ("it fits at its own size" if sent == tuple(photo) else
                            f"this song carries it at {sent[0]} x {sent[1]}" if sent else "this song carries none"))
        if self.model.carries_files:
            most = self.model.file_capacity(usable)
            report["file_bytes"] = most
            lines.append(f"or a file of up to {most:,} bytes ({most / 1e6:.2f} MB), exactly ({self.model.symbol_bytes:,} "
                         "bytes per window)")
        if file_bytes is not None:
            framed = HiddenFile.frame_size(file_bytes, "x" * 64)  # a name of up to 64 bytes
            need = hidden_file.source_count(framed, self.model.symbol_bytes)
            report["file"] = {"bytes": file_bytes, "windows": need, "seconds": need * window_s, "fits": need <= usable}
            lines.append(f"the file ({file_bytes:,} bytes) needs {need} windows, {need * window_s:.1f} s of loud music: "
                         + (f"it fits, with {hidden_file.spare_count(need, usable)} spare windows" if need <= usable
                            else "this song is too short or too quiet for it"))
        report["lines"] = lines
        return report

    @property
    def eval_seconds(self) -> float:
        """The clips `pixinwav eval` measures on: whole songs for a model that sends the photo at its own size (the
        shortest cover it takes is the least), 30 s of music for one that repeats a square image."""
        return self.stego.clip_seconds if self.model.full_image else 30.0

    # --- on files ---------------------------------------------------------------------------------------------
    def hide_path(self, secret, cover: str | Path, out: str | Path, key: str | None, options: dict, force: bool = False,
                  fmt: str | None = None) -> tuple[HideReport, dict]:
        """Hide an image or a :class:`HiddenFile` in a song file, the song read whole and the stego written into its
        own memory (a 10-minute song is not held twice). Returns (report, the file's rate, channels, seconds)."""
        from .data.audio import read_audio, write_audio

        song = read_audio(cover)
        if isinstance(secret, HiddenFile):
            stego, report = self.stego.hide_file(secret, song.samples, song.sample_rate, key=key, in_place=True,
                                                 survive=options.get("survive"))
        else:
            stego, report = self.stego.hide(secret, song.samples, song.sample_rate, key=key, in_place=True, **options)
        rate = report.sample_rate or song.sample_rate
        write_audio(out, stego, rate, force=force, fmt=fmt, tags=song.tags)
        return report, {"rate": rate, "channels": song.channels, "seconds": song.duration}

    def reveal_path(self, path: str | Path, offset: float | str, check: bool, key: str | None, audio=None) -> Revealed:
        """Reveal from a song file (``audio``: the file already read, if it was)."""
        from .data.audio import read_audio

        audio = read_audio(path) if audio is None else audio
        return self.stego.reveal_payload(audio.samples, audio.sample_rate, offset, check=check, key=key)


def survive_attacks(survive: str | None) -> list[tuple[str, float]]:
    """``--survive``'s attacks ("aac:64,opus:32"; a name alone: all its strengths), or [] without it or for "none"."""
    if survive is None or survive.strip().lower() == "none":
        return []
    from .attacks import parse_attacks

    attacks = parse_attacks(survive)
    if not attacks:
        raise PixinwavError("--survive names no attack: give one or more as NAME:STRENGTH, e.g. aac:64,opus:32")
    return attacks
