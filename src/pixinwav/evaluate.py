"""Quality through a real file: hide -> 16-bit WAV on disk -> read back -> reveal, with metrics per pair."""
from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from . import metrics, tiles
from .arrays import as_numpy
from .channel import to_pcm16
from .data.audio import read_audio, resample, write_audio
from .errors import PixinwavError
from .models import StegoScheme


def to_numpy(x) -> np.ndarray:
    """The one way tensors leave for numpy and files: detached, on the CPU (an array as it is)."""
    return as_numpy(x)


def through_file(samples: np.ndarray, rate: int, path: Path) -> np.ndarray:
    """``[T]`` or ``[T, channels]`` audio written as `pixinwav hide` writes it (16-bit WAV) and read back
    ``[T, channels]``: the channel every evaluation puts between hiding and revealing."""
    return read_audio(write_audio(path, samples, rate, force=True)).samples


def cover_clips(folder: str, count: int, seconds: float, seed: int, whole: bool = False) -> list:
    """``count`` clips of ``seconds`` at each file's own rate and channels, one per file (files drawn without
    repetition while they last), from a loud-enough part. ``whole``: whole files of at least ``seconds`` instead,
    as (path, None, name): read when used, so a list of songs does not hold every song in memory."""
    import soundfile as sf

    from .data.audio import AUDIO_EXTENSIONS
    from .data.datasets import find_files

    files = find_files(folder, AUDIO_EXTENSIONS, "audio")
    rng = np.random.default_rng(seed)
    long_enough = [f for f in files if sf.info(str(f)).duration >= seconds]
    if not long_enough:
        raise PixinwavError(f"no audio file under {folder} lasts {seconds:g} s")

    def name(path: Path) -> str:  # under the folder, so a subfolder (a source of music) can be reported apart
        try:
            return Path(path).resolve().relative_to(Path(folder).resolve()).as_posix()
        except ValueError:  # (a single file given as the folder)
            return Path(path).name

    if whole:
        picks = rng.permutation(len(long_enough))[:count]
        return [(long_enough[i], None, name(long_enough[i])) for i in picks]
    out = []
    for i, index in enumerate(rng.permutation(len(long_enough))[:count] if count <= len(long_enough)
                              else rng.integers(0, len(long_enough), count)):
        info = sf.info(str(long_enough[index]))
        n = int(seconds * info.samplerate)
        for _ in range(10):
            start = int(rng.integers(0, info.frames - n + 1))
            audio, rate = sf.read(str(long_enough[index]), start=start, frames=n, dtype="float32", always_2d=True)
            if np.sqrt(np.mean(np.square(audio))) > 10 ** (-40 / 20):
                break
        out.append((audio, rate, f"{name(long_enough[index])}@{start / rate:.1f}s"))
    return out


def changed_region(cover: np.ndarray, stego: np.ndarray) -> slice:
    """The samples a model changed (as written to 16 bits): its window, or the whole file."""
    changed = np.flatnonzero(np.any(to_pcm16(cover) != to_pcm16(stego), axis=1))
    return slice(int(changed[0]), int(changed[-1]) + 1) if len(changed) else slice(0, len(cover))


def reveal_or_blank(model, audio: np.ndarray, rate: int, check: bool = False, shape: tuple | None = None,
                    **options) -> np.ndarray:
    """``model.reveal`` (by default without its presence check), a blank image where it refuses (no image found, a
    compressed image that fails its code): a failure counts as an SSIM of about 0 instead of stopping the run.
    ``shape``: the blank's ``(C, H, W)`` (default the model's square image)."""
    try:
        return model.reveal(audio, rate, check=check, **options)
    except PixinwavError:
        return np.zeros(shape or (model.cfg.image_channels, model.cfg.image_size, model.cfg.image_size), np.float32)


NO_ATTACK = (("none", 0.0),)
VISQOL_SECONDS = 20.0  # ViSQOL on the first seconds of the changed samples (it is slow on long files)
AUDIO_KEYS = ("audio/snr", "audio/snr_file", "audio/seg_snr", "audio/louder_cells", "audio/visqol")


@dataclass
class Measured:
    """What :func:`measure` returns: one row per model, pair and attack; with ``keep``, the revealed image of each
    pair through the first attack (None where nothing was revealed) and the first pair's audio, for figures."""

    rows: list[dict]
    revealed: list[torch.Tensor | None] = field(default_factory=list)
    first: dict | None = None


def _name(image) -> str:
    return Path(image).name if isinstance(image, (str, Path)) else ""


def _audio_metrics(cover: np.ndarray, stego: np.ndarray, rate: int, visqol: bool) -> dict:
    """The stego ``[T, channels]`` against its cover: SNR, segmental SNR and ViSQOL over the samples the model
    changed (a window model's window, or the song), downmixed; SNR and louder cells over the whole file."""
    region = changed_region(cover, stego)
    clean, heard = cover[region].mean(axis=1), stego[region].mean(axis=1)
    out = {"audio/snr": metrics.snr(clean, heard), "audio/snr_file": metrics.snr(cover, stego),
           "audio/seg_snr": metrics.segmental_snr(clean, heard) if len(clean) >= 1024 else float("nan"),
           "audio/louder_cells": metrics.louder_cells(cover, stego, rate), "audio/visqol": float("nan")}
    if visqol:
        n = int(VISQOL_SECONDS * rate)
        out["audio/visqol"] = metrics.visqol_mos(clean[:n], heard[:n], rate)
    return out


def _compared(secret, revealed, full_image: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """(reference, revealed) tensors at one size and channel count (from arrays or tensors): a model that sends the
    photo at its own size is measured against the photo at the size it sent; a square of another size is brought to
    the secret's."""
    secret, revealed = torch.as_tensor(secret), torch.as_tensor(revealed)
    if full_image:
        secret = torch.as_tensor(tiles.scaled(secret, revealed.shape[2], revealed.shape[1]))
    elif revealed.shape[1:] != secret.shape[1:]:
        revealed = torch.nn.functional.interpolate(revealed[None].float(), size=tuple(secret.shape[1:]), mode="area")[0]
    if revealed.shape[0] != secret.shape[0]:  # a greyscale model against a colour photo, or the other way round
        channels = max(revealed.shape[0], secret.shape[0])
        revealed, secret = revealed.expand(channels, -1, -1), secret.expand(channels, -1, -1)
    return secret.float(), revealed.float()


def measure(models: dict, images: list, covers: list, attacks=NO_ATTACK, offset: float | str = "auto",
            visqol: bool = True, progress: bool = True, payload_seconds: float | None = None,
            keep: bool = False) -> Measured:
    """The one evaluation loop: what ``pixinwav hide`` then ``pixinwav reveal`` give, through every attack.

    Each model (a :class:`pixinwav.api.Stego` or a baseline) hides each image (a path or a ``[C, H, W]`` tensor) in
    its cover (``evaluate.cover_clips``: samples at their own rate and channels, or a song's path read when used) as
    ``hide`` does (window models at ``offset``, "auto" as ``--offset auto``; whole-file models need none; their
    ``--seconds`` from ``payload_seconds``); the stego is written as a 16-bit WAV and read back, then each attack
    (``attacks.py``) runs on it and the model reveals as ``reveal`` does (window models at ``offset``). A failed
    ``hide`` or ``reveal`` is a row with ``recovered`` 0 and an SSIM of 0; an image written with a warning that it
    is damaged counts as ``warned``, not ``recovered``. SSIM is measured against the photo at the size it was sent."""
    from tqdm import tqdm

    from .attacks import apply

    out = Measured([])
    bar = tqdm(total=len(models) * len(covers) * len(attacks), desc="eval", unit="reveal", disable=not progress)
    with tempfile.TemporaryDirectory(prefix="pixinwav-eval-") as tmp:
        for name, model in models.items():
            where = {"offset": offset} if "offset" in model.options else {}
            for i, ((cover, rate, label), image) in enumerate(zip(covers, images)):
                base = {"model": name, "pair": i, "cover": label, "source": label.split("/")[0] if "/" in label else "",
                        "image": _name(image)}
                if rate is None:  # a whole song, read now (``cover_clips(whole=True)``)
                    song = read_audio(cover)
                    cover, rate = song.samples, song.sample_rate
                secret = model.prepare_image(image)
                seconds = {"seconds": payload_seconds} if payload_seconds and "seconds" in model.options else {}
                try:
                    stego, report = model.hide(image, cover, rate, **where, **seconds)
                except PixinwavError as exc:  # e.g. the image does not fit the music: a failure through every attack
                    failed = {"sent": "", "image/ssim": 0.0, "image/psnr": float("nan"), "recovered": 0, "warned": 0,
                              **dict.fromkeys(AUDIO_KEYS, float("nan")), "hide_error": str(exc)}
                    out.rows += [{**base, "attack": attack, "strength": strength, **failed} for attack, strength in attacks]
                    out.revealed += [None] if keep else []
                    bar.update(len(attacks))
                    continue
                if report.sample_rate and report.sample_rate != rate:  # a model that writes its own
                    cover, rate = resample(cover, rate, report.sample_rate), report.sample_rate  # rate: compare there
                stego = through_file(stego, rate, Path(tmp) / f"{i}.wav")
                audio = _audio_metrics(cover, stego, rate, visqol)
                for a, (attack, strength) in enumerate(attacks):
                    attacked, attacked_rate = apply(attack, stego, rate, strength, seed=i)
                    revealed = None
                    try:
                        found = model.reveal_payload(attacked, attacked_rate, **where)
                        if found.image is None:
                            raise PixinwavError("a file came back where a photo was hidden")
                        reference, revealed = _compared(secret, found.image, model.full_image)
                        warned = found.damaged
                        quality = {"sent": f"{revealed.shape[2]} x {revealed.shape[1]}",
                                   "image/ssim": float(metrics.ssim(revealed[None], reference[None])[0]),
                                   "image/psnr": float(metrics.psnr(revealed[None], reference[None])[0]),
                                   "recovered": int(not warned), "warned": int(warned)}
                    except PixinwavError:
                        quality = {"sent": "", "image/ssim": 0.0, "image/psnr": float("nan"), "recovered": 0, "warned": 0}
                    out.rows.append({**base, "attack": attack, "strength": strength, **quality, **audio,
                                     "hide_error": ""})
                    if keep and a == 0:
                        out.revealed.append(revealed)
                        if out.first is None:
                            out.first = {"pair": i, "secret": torch.as_tensor(secret), "revealed": revealed, "cover": cover,
                                         "stego": stego, "rate": rate}
                    bar.update(1)
    bar.close()
    return out


def measure_scheme(model: StegoScheme, images: torch.Tensor, covers: torch.Tensor, visqol: bool = False) -> Measured:
    """A scheme being trained, measured the way :func:`measure` measures a released model: wrapped as
    ``pixinwav.load_model`` wraps one, each image ``[V, C, H, W]`` hidden at the start of its window ``[V, T]`` (the
    model's rate), written as a 16-bit WAV, read back and revealed. The API's path runs on the CPU, so a model on
    another device is measured as a copy there; the model is left in the mode it was in. Keeps the revealed images
    and the first pair's audio (for figures)."""
    from .api import Stego

    was_training = model.training
    try:
        stego = Stego(model.cpu_copy())
        clips = [(to_numpy(c).astype(np.float32)[:, None], model.cfg.sample_rate, f"validation {i}")
                 for i, c in enumerate(covers)]
        out = measure({"model": stego}, [to_numpy(x) for x in images], clips, offset=0.0, visqol=visqol,
                      progress=False, keep=True)
    finally:
        model.train(was_training)
    if not visqol:
        for row in out.rows:
            del row["audio/visqol"]
    return out


def metric_rows(measured: Measured) -> list[dict]:
    """The rows' metrics alone (``image/...``, ``audio/...``), for :func:`summarise`."""
    return [{k: v for k, v in r.items() if k.startswith(("image/", "audio/"))} for r in measured.rows]


def summarise(rows: list[dict], stats=("mean",)) -> dict[str, float]:
    """Per metric: ``mean`` (key as is), ``median`` and ``p10`` (keys suffixed); infinite values are left out."""
    out = {}
    for key in rows[0]:
        values = np.array([r[key] for r in rows], dtype=np.float64)
        values = values[np.isfinite(values)]
        for stat in stats:
            name = key if stat == "mean" else f"{key}/{stat}"
            if not len(values):
                out[name] = float("nan")
            elif stat == "mean":
                out[name] = float(values.mean())
            elif stat == "median":
                out[name] = float(np.median(values))
            else:
                out[name] = float(np.percentile(values, 10))
    return out
