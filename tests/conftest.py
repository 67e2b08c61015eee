"""Shared fixtures: real photographs (scikit-image), music-like audio files, a tiny model file."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch
from PIL import Image

from pixinwav.checkpoint import save_model
from pixinwav.config import model_config
from pixinwav.models import build_model

PHOTOS = ["astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry", "hubble_deep_field", "retina"]


def photo(name: str) -> np.ndarray:
    import skimage.data

    return np.asarray(Image.fromarray(getattr(skimage.data, name)()).convert("RGB"))


def music(seconds: float, rate: int, seed: int, channels: int = 1) -> np.ndarray:
    """A music-like test signal: random notes with harmonics and decaying envelopes, plus a little noise;
    like real music, its energy falls steeply with frequency."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    out = np.zeros(n)
    for start in np.arange(0, seconds, 0.25):
        f0 = 110 * 2 ** (rng.integers(0, 36) / 12)
        env = np.exp(-np.clip(t - start, 0, None) * 4) * (t >= start)
        for h in range(1, 6):
            out += env * np.sin(2 * np.pi * f0 * h * t + rng.uniform(0, 6.3)) / h**2
    out = out / np.abs(out).max() * 0.5 + rng.normal(0, 1e-3, n)
    return np.repeat(out[:, None], channels, axis=1).astype(np.float32) if channels > 1 else out.astype(np.float32)


@pytest.fixture(scope="session")
def image_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("images")
    for name in PHOTOS:
        Image.fromarray(photo(name)).save(d / f"{name}.png")
    return d


@pytest.fixture(scope="session")
def audio_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("audio")
    for i in range(4):
        sf.write(d / f"track{i}.ogg", music(6.0, 44100, seed=i), 44100)
    sf.write(d / "track_48k.wav", music(4.0, 48000, seed=9), 48000)
    return d


@pytest.fixture(scope="session")
def tiny_model_file(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("model") / "tiny.safetensors"
    save_model(path, build_model(model_config("tiny-rgb")).eval(), card={"name": "untrained tiny"})
    return path


@pytest.fixture(scope="session")
def tiny_modulo_file(tmp_path_factory):
    """A 32 x 32 modulo model (2,288 samples) with statistics fitted on the test photos and music; refiner untrained."""
    from pixinwav.data.images import prepare_image

    model = build_model(model_config("modulo-rgb", image_size=32, frame=256, hop=16, frames=128, widths=[8, 8]))
    images = torch.stack([prepare_image(Image.fromarray(photo(p)), 32, 3) for p in PHOTOS])
    covers = torch.stack([torch.from_numpy(music(0.2, 44100, seed=100 + i)[:2288]) for i in range(16)])
    model.fit_statistics(images, covers)
    path = tmp_path_factory.mktemp("model") / "tiny-modulo.safetensors"
    save_model(path, model.eval(), card={"name": "tiny modulo"})
    return path


@pytest.fixture(scope="session")
def paper_modulo_file(tmp_path_factory):
    """The shipped geometry (256 x 256 in 67,522 samples, 512 pilots) with prior statistics: fast to build."""
    path = tmp_path_factory.mktemp("model") / "paper-modulo.safetensors"
    save_model(path, build_model(model_config("modulo-rgb")).eval(), card={"name": "modulo, prior statistics"})
    return path
