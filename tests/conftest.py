"""Shared fixtures: real photographs (scikit-image), music-like audio files, a tiny model file."""
from __future__ import annotations

import pytest
import soundfile as sf
import torch
from PIL import Image

from pixinwav.checkpoint import save_model
from pixinwav.config import model_config
from pixinwav.models import build_model

from helpers import PHOTOS, music, photo  # noqa: E402,F401  (fixtures below use them; tests import helpers)


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
