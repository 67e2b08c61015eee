"""Figures: secret | revealed | cover and container log-spectrograms, saved as PNG."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure  # not pyplot: drawing a file never touches the caller's backend

from .arrays import as_numpy
from .transforms import STDCT


def log_spectrogram(wave: torch.Tensor, frame: int = 1024, hop: int = 256) -> np.ndarray:
    spec = STDCT(frame, hop)(wave[None].float())[0]
    return (20 * torch.log10(spec.abs() + 1e-7)).numpy()


def example_figure(path: str | Path, secret: torch.Tensor, revealed: torch.Tensor, cover: torch.Tensor,
                   container: torch.Tensor, sample_rate: int, title: str = "") -> Path:
    """``secret``/``revealed`` ``[C, H, W]``; ``cover``/``container`` ``[T]`` waveforms."""
    frame = min(1024, 2 ** int(np.log2(cover.shape[-1] // 4)))
    specs = [log_spectrogram(cover, frame, frame // 4), log_spectrogram(container, frame, frame // 4)]
    diff = log_spectrogram(container - cover, frame, frame // 4)
    fig = Figure(figsize=(20, 4))
    axes = fig.subplots(1, 5)
    for ax, img, name in zip(axes[:2], (secret, revealed), ("secret", "revealed")):
        arr = np.clip(as_numpy(img), 0, 1).transpose(1, 2, 0)
        ax.imshow(arr[..., 0] if arr.shape[2] == 1 else arr, cmap="gray" if arr.shape[2] == 1 else None)
        ax.set_title(name)
        ax.axis("off")
    duration = cover.shape[-1] / sample_rate
    extent = [0, duration, 0, sample_rate / 2000]
    vmax = max(s.max() for s in specs)
    for ax, spec, name in zip(axes[2:], (*specs, diff), ("cover", "stego (from file)", "stego - cover")):
        im = ax.imshow(spec, origin="lower", aspect="auto", extent=extent, vmin=vmax - 100, vmax=vmax, cmap="magma")
        ax.set_title(f"{name} (dB)")
        ax.set_xlabel("s")
        ax.set_ylabel("kHz")
    fig.colorbar(im, ax=axes[2:], shrink=0.8)
    if title:
        fig.suptitle(title)
    path = Path(path)
    fig.savefig(path, dpi=80)
    return path


def pairs_figure(path: str | Path, secrets, revealed, labels: list[str], title: str = "") -> Path:
    """Secrets (top row) over revealed images (bottom row, each with its label): ``[V, C, H, W]`` each, or lists of
    ``[C, H, W]`` of any sizes (photos at their own size)."""
    count = len(secrets)
    fig = Figure(figsize=(2.2 * count, 4.9))
    axes = fig.subplots(2, count, squeeze=False)
    for i in range(count):
        for row, img in enumerate((secrets[i], revealed[i])):
            arr = np.clip(as_numpy(img), 0, 1).transpose(1, 2, 0)
            ax = axes[row, i]
            ax.imshow(arr[..., 0] if arr.shape[2] == 1 else arr, cmap="gray" if arr.shape[2] == 1 else None)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[1, i].set_xlabel(labels[i], fontsize=8)
    axes[0, 0].set_ylabel("secret")
    axes[1, 0].set_ylabel("revealed from file")
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=90, format="png")  # the path may be an atomic-write temporary without .png
    return path
