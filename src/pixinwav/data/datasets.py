"""Folder datasets for training and validation.

Images and audio are found recursively, so an ImageNet tree, the FSDnoisy18k folders or the Debian-package
folders all work as plain folders. Training samples are a pure function of (seed, step, rank, slot): no
sampler state exists, so a resumed run draws exactly the batches the uninterrupted run would have drawn,
and DDP ranks draw different ones.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from PIL import Image

from ..config import DataConfig, ModelConfig
from ..errors import PixinwavError
from .audio import AUDIO_EXTENSIONS, resample
from .images import IMAGE_EXTENSIONS, crop_square, open_image, prepare_image


def find_files(root: str | Path, extensions: set[str], what: str) -> list[Path]:
    root = Path(root)
    if not str(root) or not root.exists():
        raise PixinwavError(f"{what} folder not found: {root}")
    files = sorted(Path(d) / name for d, _, names in os.walk(root, followlinks=True)  # symlinked folders too
                   for name in names if Path(name).suffix.lower() in extensions)
    if not files:
        raise PixinwavError(f"no {what} files ({', '.join(sorted(extensions))}) under {root}")
    return files


SILENCE_DBFS = -60.0  # windows quieter than this (RMS) are redrawn: nothing can hide in 16-bit near-silence


class AudioPool:
    """Random or fixed windows of ``clip`` samples at ``rate`` (mono) from a set of audio files."""

    def __init__(self, root: str | Path, rate: int, clip: int):
        self.files = find_files(root, AUDIO_EXTENSIONS, "audio")
        self.rate, self.clip = rate, clip
        infos = [sf.info(str(f)) for f in self.files]
        self.file_rates = np.array([i.samplerate for i in infos])
        self.frames = np.array([i.frames for i in infos])
        weights = self.frames / self.file_rates  # long files are drawn in proportion to their duration
        self.weights = weights / weights.sum()

    def window(self, rng: np.random.Generator, tries: int = 20) -> np.ndarray:
        """A random ``[clip]`` float32 window that is not near-silent (after ``tries`` draws, the last one)."""
        for _ in range(tries):
            wave = self.read(rng)
            if 20 * np.log10(np.sqrt(np.mean(wave.astype(np.float64) ** 2)) + 1e-12) > SILENCE_DBFS:
                break
        return wave

    def read(self, rng: np.random.Generator, index: int | None = None, position: float | None = None) -> np.ndarray:
        """A ``[clip]`` float32 window; ``position`` in [0, 1] picks where (random when None). Files shorter
        than a window are zero-padded at a random offset (PixInWav 2)."""
        i = int(rng.choice(len(self.files), p=self.weights)) if index is None else index
        rate = int(self.file_rates[i])
        need = int(np.ceil(self.clip * rate / self.rate)) + 64  # margin for the resampler
        spare = int(self.frames[i]) - need
        pos = rng.random() if position is None else position
        start = int(pos * spare) if spare > 0 else 0
        data, _ = sf.read(str(self.files[i]), start=start, frames=need, dtype="float32", always_2d=True)
        wave = resample(data.mean(axis=1), rate, self.rate)[: self.clip]
        if len(wave) < self.clip:
            pad = self.clip - len(wave)
            left = int(rng.integers(0, pad + 1))
            wave = np.pad(wave, (left, pad - left))
        return wave.astype(np.float32)


class ImagePool:
    def __init__(self, root: str | Path):
        self.files = find_files(root, IMAGE_EXTENSIONS, "image")
        self._cache: dict[int, Image.Image] = {}

    def get(self, i: int) -> Image.Image:
        if i not in self._cache:
            if len(self._cache) > 256:
                self._cache.clear()
            self._cache[i] = open_image(self.files[i]).copy()
        return self._cache[i]


class TrainBatches(torch.utils.data.Dataset):
    """``dataset[step]`` is this rank's batch for that step: (images ``[B, C, H, W]``, covers ``[B, T]``)."""

    def __init__(self, model: ModelConfig, data: DataConfig, batch_size: int, seed: int, rank: int = 0):
        self.images = ImagePool(data.train_images)
        self.audio = AudioPool(data.train_audio, model.sample_rate, model.clip_samples)
        self.model, self.data = model, data
        self.batch_size, self.seed, self.rank = batch_size, seed, rank

    def __len__(self) -> int:
        return 2**62

    def random_crop(self, img: Image.Image, rng: np.random.Generator) -> torch.Tensor:
        lo, hi = self.data.crop_scale
        side = max(8, int(min(img.size) * rng.uniform(lo, hi)))
        left = int(rng.integers(0, img.size[0] - side + 1))
        top = int(rng.integers(0, img.size[1] - side + 1))
        crop = crop_square(img, side, left, top)
        if rng.random() < 0.5:
            crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        return prepare_image(crop, self.model.image_size, self.model.image_channels)

    def __getitem__(self, step: int):
        images, covers = [], []
        for slot in range(self.batch_size):
            rng = np.random.default_rng([self.seed, step, self.rank, slot])
            images.append(self.random_crop(self.images.get(int(rng.integers(len(self.images.files)))), rng))
            covers.append(torch.from_numpy(self.audio.window(rng)))
        return torch.stack(images), torch.stack(covers)


def validation_pairs(model: ModelConfig, data: DataConfig, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A fixed, seeded pairing: image i (centre crop) with a cover window chosen by ``seed``; the same on
    every run and every resume. Returns (images ``[V, C, H, W]``, covers ``[V, T]``)."""
    images = ImagePool(data.val_images)
    audio = AudioPool(data.val_audio, model.sample_rate, model.clip_samples)
    rng = np.random.default_rng([seed, 12345])
    n = min(data.val_pairs, len(images.files)) if data.val_pairs else len(images.files)
    picks = rng.permutation(len(images.files))[:n]
    imgs = [prepare_image(images.get(int(i)), model.image_size, model.image_channels) for i in picks]
    covers = [torch.from_numpy(audio.window(rng)) for _ in picks]
    return torch.stack(imgs), torch.stack(covers)


def statistics_sample(model: ModelConfig, data: DataConfig, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` training crops and cover windows (a stream of its own, not the training batches) for models that
    measure data statistics before training. Returns (images ``[n, C, H, W]``, covers ``[n, T]``)."""
    batches = TrainBatches(model, data, 1, seed=seed + 7919)
    pairs = [batches[i] for i in range(n)]
    return torch.cat([p[0] for p in pairs]), torch.cat([p[1] for p in pairs])
