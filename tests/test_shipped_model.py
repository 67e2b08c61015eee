"""The model that ships in the package: it loads by name, its file is hash-checked, and on the bundled
sample it reveals the photo through a real 16-bit WAV at the quality its card reports."""
from importlib import resources
from pathlib import Path

import pytest

from pixinwav import PixinwavError, loader, load_model, metrics
from pixinwav.data.audio import read_audio, write_audio
from pixinwav.data.images import load_image

ASSETS = Path(str(resources.files("pixinwav") / "assets"))
# Measured on this project's CPU (scripts/demo.py prints the same numbers); margins cover platform
# differences in float rounding, not a failing model.
# Measured here: SSIM 0.934, PSNR 32.8 dB, SNR 43.8 dB, ViSQOL 4.73.
MIN_SSIM, MIN_PSNR, SNR_DB, MIN_VISQOL = 0.90, 30.0, 43.8, 4.6


def test_default_model_is_registered_and_loads():
    assert loader.DEFAULT_MODEL in loader.registry()
    model = load_model()
    assert model.card["name"] == loader.DEFAULT_MODEL and model.cfg.channel == "wav16"


@pytest.mark.parametrize("name", sorted(loader.registry()))
def test_every_shipped_model_loads_with_its_card(name):
    model = load_model(name)
    assert model.card["name"] == name and (Path(__file__).parents[1] / model.card["card"]).is_file()


def test_corrupt_shipped_file_is_refused(monkeypatch):
    entry = dict(loader.registry()[loader.DEFAULT_MODEL], sha256="0" * 64)
    monkeypatch.setattr(loader, "registry", lambda: {loader.DEFAULT_MODEL: entry})
    with pytest.raises(PixinwavError, match="corrupt"):
        load_model()


def test_quality_on_the_bundled_sample(tmp_path):
    model = load_model()
    cover = read_audio(ASSETS / "drascula-track2-3s.ogg")
    stego, report = model.hide(ASSETS / "astronaut.jpg", cover.samples, cover.sample_rate, offset=1.0)
    write_audio(tmp_path / "stego.wav", stego, cover.sample_rate)  # the writer `pixinwav hide` uses
    back = read_audio(tmp_path / "stego.wav")
    revealed = model.reveal(back.samples, back.sample_rate, offset=1.0)[None]
    secret = load_image(ASSETS / "astronaut.jpg", model.cfg.image_size, model.cfg.image_channels)[None]
    ssim, psnr = float(metrics.ssim(revealed, secret)[0]), float(metrics.psnr(revealed, secret)[0])
    window = slice(cover.sample_rate, cover.sample_rate + int(model.clip_seconds * cover.sample_rate))
    mos = metrics.visqol_mos(cover.mono()[window], back.mono()[window], cover.sample_rate)
    print(f"bundled sample through a WAV: SSIM {ssim:.3f}, PSNR {psnr:.2f} dB, SNR {report.snr_db:.2f} dB, ViSQOL {mos:.3f}")
    assert ssim >= MIN_SSIM and psnr >= MIN_PSNR
    assert report.snr_db == pytest.approx(SNR_DB, abs=0.5)
    assert mos >= MIN_VISQOL and not report.warnings()
