"""The one evaluation loop (``evaluate.measure``): `eval`, `eval --attacks` and training's validation measure through
the same hide -> 16-bit WAV -> attack -> reveal path, and a refusal is a counted failure, never a skipped pair."""
import numpy as np
import pytest
import torch
from PIL import Image

from pixinwav.api import Stego, load_model
from pixinwav.evaluate import measure, measure_scheme
from pixinwav.metrics import ssim

from helpers import music, photo

RATE = 44100


@pytest.fixture(scope="module")
def modulo(tiny_modulo_file):
    return load_model(str(tiny_modulo_file))


def test_rows_through_attacks_and_a_refused_hide(modulo, tmp_path):
    path = tmp_path / "coffee.png"
    Image.fromarray(photo("coffee")).save(path)
    loud = music(0.5, RATE, seed=4, channels=2)
    silent = np.zeros_like(loud)  # hide refuses a silent cover: every attack's row says so
    out = measure({"m": modulo}, [path, path], [(loud, RATE, "band/a.wav"), (silent, RATE, "b.wav")],
                  [("none", 0.0), ("white_noise", 10.0)], offset=0.0, visqol=False, progress=False, keep=True)
    rows = out.rows
    assert [(r["pair"], r["attack"]) for r in rows] == [(0, "none"), (0, "white_noise"), (1, "none"), (1, "white_noise")]
    intact, noisy, *refused = rows
    assert intact["recovered"] == 1 and intact["sent"] == "32 x 32" and intact["image/ssim"] > 0.5
    assert intact["source"] == "band" and intact["image"] == "coffee.png" and intact["hide_error"] == ""
    assert intact["audio/snr"] > 20 and intact["audio/snr_file"] >= intact["audio/snr"]  # the window, then the file
    assert noisy["image/ssim"] < intact["image/ssim"]  # 10 dB of noise over the window: the attack ran
    assert all(r["recovered"] == 0 and r["image/ssim"] == 0.0 and "silent" in r["hide_error"] for r in refused)
    # the revealed image of each pair through the first attack (None where nothing was hidden), for figures
    assert out.revealed[0].shape == (3, 32, 32) and out.revealed[1] is None
    assert out.first["pair"] == 0 and out.first["stego"].shape == loud.shape


def test_training_validation_is_the_api_path(modulo):
    """``measure_scheme`` (what `pixinwav train` validates with) gives what `eval`'s loop gives for the same model,
    photo and window, and leaves a model in training mode as it found it."""
    scheme = modulo.model
    window = scheme.cfg.clip_samples
    cover = torch.from_numpy(music(0.2, RATE, seed=8)[:window])
    image = modulo.prepare_image(Image.fromarray(photo("astronaut")))
    scheme.train()
    validated = measure_scheme(scheme, image[None], cover[None])
    assert scheme.training  # put back
    through_eval = measure({"m": Stego(scheme)}, [image], [(cover.numpy()[:, None], RATE, "clip")], offset=0.0,
                           visqol=False, progress=False, keep=True)
    assert validated.rows[0]["image/ssim"] == pytest.approx(through_eval.rows[0]["image/ssim"], abs=1e-6)
    assert "audio/visqol" not in validated.rows[0]  # (not measured there)
    revealed = validated.revealed[0]
    assert float(ssim(revealed[None], image[None])[0]) == pytest.approx(validated.rows[0]["image/ssim"], abs=1e-5)
