"""Train a tiny model, then hide -> write a real 16-bit WAV -> read it back -> reveal: the revealed image
must be clearly closer to its own secret than to the other secrets (so the file carried the image)."""
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from helpers import PHOTOS, music, photo
from pixinwav import metrics
from pixinwav.api import load_model
from pixinwav.data.audio import write_audio
from pixinwav.config import load_config
from pixinwav.train import fit

ROOT = Path(__file__).parents[1]


@pytest.mark.slow
def test_tiny_model_carries_images_through_wav_files(tmp_path, image_dir, audio_dir):
    run = tmp_path / "run"
    cfg = load_config(ROOT / "configs/tiny.yaml", [
        f"data.train_images={image_dir}", f"data.train_audio={audio_dir}", f"train.out_dir={run}",
        "train.steps=400", "train.tensorboard=false", "train.log_every=50"])
    fit(cfg, progress=False)
    model = load_model(run / "model.safetensors")

    secrets, revealed, snrs = [], [], []
    for i, name in enumerate(PHOTOS):
        cover = music(1.0, 44100, seed=100 + i)  # covers never seen in training
        stego, report = model.hide(photo(name), cover, 44100, offset=0.25)
        path = tmp_path / f"{name}.wav"
        write_audio(path, stego, 44100)  # the writer `pixinwav hide` uses
        back, rate = sf.read(path, dtype="float32")
        revealed.append(model.reveal(back, rate, offset=0.25))
        secrets.append(model.prepare_image(photo(name)))
        snrs.append(report.snr_db)
    secrets, revealed = np.stack(secrets), np.stack(revealed)
    n = len(PHOTOS)
    table = np.array([[float(metrics.ssim(revealed[i : i + 1], secrets[j : j + 1])[0]) for j in range(n)] for i in range(n)])
    own = np.diag(table)
    others = (table.sum(1) - own) / (n - 1)
    print("own SSIM", own.round(3), "mean of others", others.round(3), "SNR", np.round(snrs, 2))
    assert np.all(np.abs(np.array(snrs) - 20.0) < 0.5)  # the preset's fixed 20 dB, measured on the file
    assert (own > others).sum() >= n - 1  # each revealed image matches its own secret best (one slip allowed)
    assert own.mean() - others.mean() > 0.1
