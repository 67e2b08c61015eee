"""Quality through a real file: hide -> 16-bit WAV on disk -> read back -> reveal, with metrics per pair."""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import torch

from . import metrics
from .data.audio import read_audio, write_audio
from .models import StegoScheme


def to_numpy(x: torch.Tensor) -> np.ndarray:
    """The one way tensors leave for numpy and files: detached, on the CPU."""
    return x.detach().cpu().numpy()


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
            path = write_audio(Path(tmp) / f"{i}.wav", to_numpy(hidden.container[0]), rate)  # as `pixinwav hide` writes
            received = read_audio(path).samples[:, 0]
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
