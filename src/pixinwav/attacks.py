"""What happens to audio between the sender and the receiver: lossy codecs, noise, resampling, trimming, playback.

Every attack has one signature, ``attack(audio, rate, strength, seed) -> (audio, rate)``: ``audio`` is float32
``[T, channels]`` in [-1, 1]; the result may have another rate (Opus decodes at 48 kHz) or length (a codec's
delay, a trimmed start). Codec delay is left in, as real decoders leave it: finding the payload is the
receiver's job. ``ATTACKS`` maps each name to the attack, its strengths for ``pixinwav eval --attacks``, and
what the strength means.

Codecs run through PyAV (FFmpeg's encoders and decoders in a wheel): LAME MP3, FFmpeg's AAC, libopus and FFmpeg's
Vorbis, in memory.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .channel import pcm16_round_trip
from .data.audio import resample
from .errors import PixinwavError

Attack = Callable[[np.ndarray, int, float, int], tuple[np.ndarray, int]]


@dataclass(frozen=True)
class AttackSpec:
    run: Attack
    strengths: tuple[float, ...]  # what `eval --attacks NAME` tries
    unit: str  # what the strength means


ENCODE_FRAME = 1 << 16  # samples per frame handed to an encoder


def _codec(codec: str, container: str, audio: np.ndarray, rate: int, bitrate_kbps: float,
           codec_rate: int | None = None) -> tuple[np.ndarray, int]:
    import av

    codec_rate = codec_rate or rate
    if codec_rate != rate:
        audio, rate = resample(audio, rate, codec_rate), codec_rate
    layout = "mono" if audio.shape[1] == 1 else "stereo"
    audio = audio if audio.shape[1] <= 2 else audio[:, :2]
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.bit_rate = int(bitrate_kbps * 1000)
        stream.layout = layout
        if codec == "vorbis":
            stream.codec_context.options = {"strict": "-2"}  # FFmpeg marks its native Vorbis encoder experimental
        # 65,536 samples at a time (the encoder's own buffer cuts its frames, so the bytes are those of one
        # whole-song frame, with a fraction of the copies: hide --survive encodes whole songs); FFmpeg's Vorbis
        # encoder packs blocks by the frames it is given, so it gets the song as one frame, as it always did
        step = len(audio) if codec == "vorbis" else ENCODE_FRAME
        for start in range(0, len(audio), max(step, 1)):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(audio[start:start + step].T, dtype=np.float32),
                                               format="fltp", layout=layout)
            frame.rate, frame.pts = rate, start
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    buffer.seek(0)
    chunks = []
    with av.open(buffer) as inp:
        stream = inp.streams.audio[0]
        for decoded in inp.decode(stream):
            chunk = decoded.to_ndarray()
            chunks.append((chunk.reshape(-1, decoded.samples) if decoded.format.is_planar
                           else chunk.reshape(decoded.samples, -1).T).T.astype(np.float32))
        rate = stream.rate
    out = np.empty((sum(len(c) for c in chunks), chunks[0].shape[1]), np.float32)
    at = 0
    for i, chunk in enumerate(chunks):  # each chunk let go once copied: a whole song is not held twice
        out[at:at + len(chunk)] = chunk
        at += len(chunk)
        chunks[i] = None
    return out, rate


def mp3(audio, rate, kbps, seed):
    return _codec("libmp3lame", "mp3", audio, rate, kbps, rate if rate in (32000, 44100, 48000) else 44100)


def aac(audio, rate, kbps, seed):
    return _codec("aac", "adts", audio, rate, kbps)


def opus(audio, rate, kbps, seed):
    return _codec("libopus", "ogg", audio, rate, kbps, 48000)


def vorbis(audio, rate, kbps, seed):
    return _codec("vorbis", "ogg", audio, rate, kbps)


def _noise_at(audio: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    power = np.mean(np.square(audio, dtype=np.float64))
    scale = np.sqrt(power / (np.mean(np.square(noise)) + 1e-30) / 10 ** (snr_db / 10))
    return np.clip(audio + scale * noise, -1, 1).astype(np.float32)


def white_noise(audio, rate, snr_db, seed):
    return _noise_at(audio, np.random.default_rng(seed).normal(size=audio.shape), snr_db), rate


def pink_noise(audio, rate, snr_db, seed):
    """Noise whose power falls as 1 / frequency (shaped in the frequency domain)."""
    white = np.random.default_rng(seed).normal(size=audio.shape)
    spectrum = np.fft.rfft(white, axis=0)
    freq = np.fft.rfftfreq(audio.shape[0], 1 / rate)
    spectrum /= np.sqrt(np.maximum(freq, 20.0))[:, None]
    return _noise_at(audio, np.fft.irfft(spectrum, n=audio.shape[0], axis=0), snr_db), rate


def resample_round_trip(audio, rate, via_hz, seed):
    return pcm16_round_trip(resample(pcm16_round_trip(resample(audio, rate, int(via_hz))), int(via_hz), rate)), rate


def gain(audio, rate, db, seed):
    return np.clip(audio * 10 ** (db / 20), -1, 32767 / 32768).astype(np.float32), rate


def trim_start(audio, rate, max_seconds, seed):
    """Cut a random number of samples (1 to ``max_seconds`` worth) from the start."""
    cut = int(np.random.default_rng(seed).integers(1, max(2, int(max_seconds * rate) + 1)))
    return audio[cut:], rate


def append_silence(audio, rate, seconds, seed):
    return np.concatenate([audio, np.zeros((int(seconds * rate), audio.shape[1]), np.float32)]), rate


def lowpass(audio, rate, cutoff_hz, seed):
    from scipy.signal import butter, sosfiltfilt

    if cutoff_hz >= rate / 2:
        return audio, rate
    sos = butter(8, cutoff_hz, fs=rate, output="sos")
    return sosfiltfilt(sos, audio, axis=0).astype(np.float32), rate


def mono(audio, rate, strength, seed):
    return audio.mean(axis=1, keepdims=True), rate


def quantise(audio, rate, bits, seed):
    levels = 2 ** (int(bits) - 1)
    return (np.clip(np.round(audio * levels), -levels, levels - 1) / levels).astype(np.float32), rate


def speed(audio, rate, percent, seed):
    """Play faster (positive) or slower: tempo and pitch change together, as a turntable or tape would."""
    factor = 1 + percent / 100
    return resample(audio, int(round(rate * factor)), rate), rate


def tempo(audio, rate, percent, seed):
    """Play faster (positive) or slower with the pitch kept: FFmpeg's ``atempo`` (time-domain overlap-add), as a
    podcast player's speed setting or an editor's "change tempo"."""
    import fractions

    import av

    layout = "mono" if audio.shape[1] == 1 else "stereo"
    audio = audio if audio.shape[1] <= 2 else audio[:, :2]
    graph = av.filter.Graph()
    source = graph.add_abuffer(format="fltp", sample_rate=rate, layout=layout, time_base=f"1/{rate}")
    stretch = graph.add("atempo", f"{1 + percent / 100:.6f}")
    sink = graph.add("abuffersink")
    source.link_to(stretch)
    stretch.link_to(sink)
    graph.configure()
    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(audio.T, dtype=np.float32), format="fltp", layout=layout)
    frame.sample_rate, frame.pts, frame.time_base = rate, 0, fractions.Fraction(1, rate)
    graph.push(frame)
    graph.push(None)
    chunks = []
    while True:
        try:
            out = graph.pull()
        except (av.error.EOFError, av.error.BlockingIOError):
            break
        chunks.append(out.to_ndarray().reshape(-1, out.samples) if out.format.is_planar
                      else out.to_ndarray().reshape(out.samples, -1).T)
    return np.concatenate(chunks, axis=1).T.astype(np.float32), rate


def excerpt(audio, rate, seconds, seed):
    """A stretch of ``seconds`` cut from a random place (the whole file if it is shorter), as a clip shared from a
    longer recording."""
    n = int(seconds * rate)
    if n >= len(audio):
        return pcm16_round_trip(audio), rate
    start = int(np.random.default_rng([seed, 31]).integers(0, len(audio) - n + 1))
    return pcm16_round_trip(audio[start:start + n]), rate


def over_the_air(audio, rate, snr_db, seed):
    """Playback in a small room: a loudspeaker band (150 Hz-8 kHz), the room's impulse response (image source
    method, pyroomacoustics, RT60 about 0.3 s), a microphone 1.5 m away, and room noise at ``snr_db``."""
    try:
        import pyroomacoustics as pra
    except ImportError:
        raise PixinwavError("the over_the_air attack needs pyroomacoustics: pip install pyroomacoustics") from None
    from scipy.signal import butter, fftconvolve, sosfiltfilt

    x = audio.mean(axis=1)
    x = sosfiltfilt(butter(4, [150, min(8000, rate / 2 - 1)], btype="band", fs=rate, output="sos"), x)
    absorption, order = pra.inverse_sabine(0.3, [4.0, 3.5, 2.6])
    room = pra.ShoeBox([4.0, 3.5, 2.6], fs=rate, materials=pra.Material(absorption), max_order=min(order, 12))
    room.add_source([1.0, 1.2, 1.4])
    room.add_microphone([2.4, 1.5, 1.2])
    room.compute_rir()
    rir = np.asarray(room.rir[0][0])
    wet = fftconvolve(x, rir / np.abs(rir).max())[: len(x) + len(rir) // 4]
    wet = wet / (np.abs(wet).max() + 1e-12) * np.abs(x).max()
    out, _ = pink_noise(wet[:, None].astype(np.float32), rate, snr_db, seed)
    return out, rate


def identity(audio, rate, strength, seed):
    return pcm16_round_trip(audio), rate


ATTACKS: dict[str, AttackSpec] = {
    "none": AttackSpec(identity, (0,), "16-bit WAV, nothing else"),
    "mp3": AttackSpec(mp3, (320, 128, 64), "kbit/s"),
    "aac": AttackSpec(aac, (128, 64), "kbit/s"),
    "opus": AttackSpec(opus, (64, 32), "kbit/s"),
    "vorbis": AttackSpec(vorbis, (128,), "kbit/s"),
    "white_noise": AttackSpec(white_noise, (40, 30, 20), "dB SNR"),
    "pink_noise": AttackSpec(pink_noise, (30, 20), "dB SNR"),
    "resample": AttackSpec(resample_round_trip, (16000, 22050, 48000), "Hz, and back"),
    "gain": AttackSpec(gain, (-6, 6), "dB"),
    "trim_start": AttackSpec(trim_start, (1.0,), "s at most (a random number of samples)"),
    "append_silence": AttackSpec(append_silence, (2.0,), "s"),
    "lowpass": AttackSpec(lowpass, (8000,), "Hz"),
    "mono": AttackSpec(mono, (0,), "downmix"),
    "quantise": AttackSpec(quantise, (8,), "bits"),
    "speed": AttackSpec(speed, (1.0, -1.0, 2.0, -2.0), "%"),
    "tempo": AttackSpec(tempo, (1.0, -1.0, 2.0, -2.0), "% (pitch kept)"),
    "excerpt": AttackSpec(excerpt, (30.0,), "s cut from anywhere"),
    "over_the_air": AttackSpec(over_the_air, (30,), "dB SNR of room noise"),
}


CHAIN = "+"  # "speed:1+mp3:128": a sped-up upload, then re-encoded


def steps(name: str, strength: float) -> list[tuple[str, float]]:
    """The attacks ``name`` runs, in order: itself, or a chain ``NAME:STRENGTH+NAME:STRENGTH...`` (each step with its
    own strength; ``strength`` is then unused). One-line error for an unknown name or a step without a strength."""
    if CHAIN not in name:
        parts = [(name, strength)]
    else:
        parts = []
        for step in name.split(CHAIN):
            step_name, _, step_strength = step.strip().partition(":")
            try:
                parts.append((step_name, float(step_strength)))
            except ValueError:
                raise PixinwavError(f"attack chain {name!r}: each step needs NAME:STRENGTH, got {step!r}") from None
    for step_name, _ in parts:
        if step_name not in ATTACKS:
            raise PixinwavError(f"unknown attack {step_name!r}; choose from {', '.join(ATTACKS)}")
    return parts


def describe(name: str, strength: float) -> str:
    """``mp3 128 kbit/s``, or a chain's steps joined by `` + ``."""
    return " + ".join(f"{n} {s:g} {ATTACKS[n].unit}" for n, s in steps(name, strength))


def apply(name: str, audio: np.ndarray, rate: int, strength: float, seed: int = 0) -> tuple[np.ndarray, int]:
    """Run attack ``name`` (or a chain, see :func:`steps`) on ``[T]`` or ``[T, channels]`` audio; one-line error for
    an unknown name."""
    out = np.asarray(audio, dtype=np.float32)
    for step_name, step_strength in steps(name, strength):
        out, rate = ATTACKS[step_name].run(out[:, None] if out.ndim == 1 else out, rate, step_strength, seed)
        out = np.ascontiguousarray(out, dtype=np.float32)
    return out, rate


def as_flag(attacks: list[tuple[str, float]]) -> str:
    """``attacks`` written back as :func:`parse_attacks` reads them ("tempo:-1,speed:1+mp3:128")."""
    return ",".join(CHAIN.join(f"{n}:{s:g}" for n, s in steps(name, strength)) for name, strength in attacks)


def parse_attacks(text: str) -> list[tuple[str, float]]:
    """``all``, or ``NAME[:STRENGTH],...`` (a name without a strength runs all its strengths; a chain
    ``NAME:STRENGTH+NAME:STRENGTH`` runs its steps in turn)."""
    out = []
    for item in (ATTACKS if text == "all" else text.split(",")):
        if CHAIN in item:
            steps(item.strip(), 0.0)  # (checks every step)
            out.append((item.strip(), 0.0))
            continue
        name, _, strength = item.strip().partition(":")
        if name not in ATTACKS:
            raise PixinwavError(f"unknown attack {name!r}; choose from {', '.join(ATTACKS)} or 'all'")
        out += [(name, float(strength))] if strength else [(name, s) for s in ATTACKS[name].strengths]
    return out
