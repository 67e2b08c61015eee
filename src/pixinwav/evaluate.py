"""Quality through a real file: hide -> 16-bit WAV on disk -> read back -> reveal, with metrics per pair."""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import torch

from . import metrics, tiles
from .channel import to_pcm16
from .data.audio import read_audio, resample, write_audio
from .errors import PixinwavError
from .models import StegoScheme


def to_numpy(x: torch.Tensor) -> np.ndarray:
    """The one way tensors leave for numpy and files: detached, on the CPU."""
    return x.detach().cpu().numpy()


def through_file(samples: np.ndarray, rate: int, path: Path) -> np.ndarray:
    """``[T]`` or ``[T, channels]`` audio written as `pixinwav hide` writes it (16-bit WAV) and read back
    ``[T, channels]``: the channel every evaluation puts between hiding and revealing."""
    return read_audio(write_audio(path, samples, rate, force=True)).samples


@torch.no_grad()
def through_wav(model: StegoScheme, images: torch.Tensor, covers: torch.Tensor,
                visqol: bool = False) -> tuple[list[dict], dict]:
    """Hide each image in its cover, write the container as a 16-bit WAV, read it back and reveal.

    ``images [V, C, H, W]``, ``covers [V, T]``. Returns (one metrics row per pair, tensors of the first pair
    for figures plus ``all_revealed [V, C, H, W]``). ``visqol`` adds ViSQOL MOS-LQO of stego against cover
    (NaN for clips under a second).
    The model is used in eval mode and put back in the mode it was in.
    """
    was_training = model.training
    model.eval()
    rows, first, revealed_all = [], {}, []
    rate = model.cfg.sample_rate
    with tempfile.TemporaryDirectory(prefix="pixinwav-val-") as tmp:
        for i in range(images.shape[0]):
            image, cover = images[i : i + 1], covers[i : i + 1]
            hidden = model.embed(image, cover)
            received = through_file(to_numpy(hidden.container[0]), rate, Path(tmp) / f"{i}.wav")[:, 0]
            wave = torch.from_numpy(received)[None].to(cover.device)
            revealed = model.extract(wave).image.clamp(0, 1)
            revealed_all.append(revealed[0])
            clean = to_numpy(cover[0])
            rows.append({
                "image/ssim": float(metrics.ssim(revealed, image)[0]),
                "image/psnr": float(metrics.psnr(revealed, image)[0]),
                "audio/snr": metrics.snr(clean, received),
                "audio/seg_snr": metrics.segmental_snr(clean, received),
            })
            if visqol:
                rows[-1]["audio/visqol"] = metrics.visqol_mos(clean, received, rate)
            if i == 0:
                first = {"secret": image[0], "revealed": revealed[0], "cover": cover[0],
                         "container": torch.from_numpy(received)}
    model.train(was_training)
    first = {k: v.cpu() for k, v in first.items()}
    first["all_revealed"] = torch.stack(revealed_all).cpu()
    return rows, first


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
                    **options) -> torch.Tensor:
    """``model.reveal`` (by default without its presence check), a blank image where it refuses (no image found, a
    compressed image that fails its code): a failure counts as an SSIM of about 0 instead of stopping the run.
    ``shape``: the blank's ``(C, H, W)`` (default the model's square image)."""
    try:
        return model.reveal(audio, rate, check=check, **options)
    except PixinwavError:
        return torch.zeros(shape or (model.cfg.image_channels, model.cfg.image_size, model.cfg.image_size))


def through_files(model, images: list, covers: list, offset: float = 0.5, visqol: bool = True,
                  progress: bool = True) -> tuple[list[dict], list[torch.Tensor]]:
    """What ``pixinwav hide`` then ``pixinwav reveal`` give: each image hidden in its cover at the cover's own rate
    (window models at ``offset`` seconds), written as a 16-bit WAV, read back and revealed. Audio metrics cover the
    samples the model changed. Returns (one row per pair, revealed images)."""
    from tqdm import tqdm

    rows, revealed = [], []
    where = {} if model.model.whole_file else {"offset": offset}
    with tempfile.TemporaryDirectory(prefix="pixinwav-eval-") as tmp:
        for i, (image, (cover, rate, label)) in enumerate(tqdm(list(zip(images, covers)), desc="eval", unit="pair",
                                                               disable=not progress)):
            if rate is None:  # a whole song, read now (see cover_clips)
                song = read_audio(cover)
                cover, rate = song.samples, song.sample_rate
            stego, report = model.hide(image, cover, rate, **where)
            if report.sample_rate and report.sample_rate != rate:  # a model that writes its own rate: compare there
                cover, rate = resample(cover, rate, report.sample_rate), report.sample_rate
            back = through_file(stego, rate, Path(tmp) / f"{i}.wav")
            secret = model.prepare_image(image)
            image_out = reveal_or_blank(model, back, rate, check=True, shape=tuple(secret.shape), **where)  # as the CLI
            revealed.append(image_out)
            secret = tiles.scaled(secret, image_out.shape[2], image_out.shape[1])  # as the song model sent it
            region = changed_region(cover, back)
            clean, heard = cover[region].mean(axis=1), back[region].mean(axis=1)
            row = {"cover": label, "image": Path(image).name, "sent": f"{image_out.shape[2]} x {image_out.shape[1]}",
                   "image/ssim": float(metrics.ssim(image_out[None], secret[None])[0]),
                   "image/psnr": float(metrics.psnr(image_out[None], secret[None])[0]),
                   "audio/snr": metrics.snr(clean, heard), "audio/seg_snr": metrics.segmental_snr(clean, heard)}
            if visqol:
                row["audio/visqol"] = metrics.visqol_mos(clean, heard, rate)
            rows.append(row)
    return rows, revealed


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
