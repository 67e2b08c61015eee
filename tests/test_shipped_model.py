"""The model that ships in the package: it loads by name, its file is hash-checked, and on the bundled
sample it reveals the photo through a real 16-bit WAV at the quality its card reports."""
from importlib import resources
from pathlib import Path

import pytest

from pixinwav import PixinwavError, loader, load_model, metrics, tiles
from pixinwav.data.audio import read_audio, write_audio
from pixinwav.data.images import load_image

ASSETS = Path(str(resources.files("pixinwav") / "assets"))
# Measured on this project's CPU (scripts/demo.py prints the same numbers, `--model pixinwav-modulo-v1` for the
# second); margins cover platform differences in float rounding, not a failing model.
# model: (bundled clip, offset, min SSIM, min PSNR, SNR dB, min ViSQOL)
SAMPLES = {
    # the default (adaptive-v4): the photo at its own size in the 12 s clip; measured SSIM 0.985, PSNR 40.0 dB, SNR
    # 37.6 dB (its change 22 dB under the music's level), ViSQOL 4.73
    loader.DEFAULT_MODEL: ("drascula-track2-12s.ogg", 0.0, 0.95, 36.0, 37.6, 4.6),
    # the default of 0.2 to 0.2.21: the same, 24 dB under; measured SNR 38.0 dB
    "pixinwav-adaptive-v3": ("drascula-track2-12s.ogg", 0.0, 0.95, 36.0, 38.0, 4.6),
    # the default up to version 0.1: a 256 x 256 crop at 1.0 s; measured SSIM 0.934, PSNR 32.8, SNR 43.8, ViSQOL 4.73
    "pixinwav-modulo-v1": ("drascula-track2-3s.ogg", 1.0, 0.90, 30.0, 43.8, 4.6),
}


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


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_quality_on_the_bundled_sample(tmp_path, name):
    clip, offset, min_ssim, min_psnr, snr_db, min_visqol = SAMPLES[name]
    model = load_model(name)
    cover = read_audio(ASSETS / clip)
    stego, report = model.hide(ASSETS / "astronaut.jpg", cover.samples, cover.sample_rate, offset=offset)
    write_audio(tmp_path / "stego.wav", stego, cover.sample_rate)  # the writer `pixinwav hide` uses
    back = read_audio(tmp_path / "stego.wav")
    revealed = model.reveal(back.samples, back.sample_rate, offset=offset)[None]
    if model.whole_file:  # the photo at the size it was sent (its own: 256 x 256)
        secret = tiles.scaled(load_image(ASSETS / "astronaut.jpg", 256, 3), *revealed.shape[-2:][::-1])[None]
        window = slice(0, len(cover.samples))
    else:
        secret = load_image(ASSETS / "astronaut.jpg", model.cfg.image_size, model.cfg.image_channels)[None]
        window = slice(cover.sample_rate, cover.sample_rate + int(model.clip_seconds * cover.sample_rate))
    ssim, psnr = float(metrics.ssim(revealed, secret)[0]), float(metrics.psnr(revealed, secret)[0])
    mos = metrics.visqol_mos(cover.mono()[window], back.mono()[window], cover.sample_rate)
    print(f"{name} on the bundled sample through a WAV: SSIM {ssim:.3f}, PSNR {psnr:.2f} dB, SNR {report.snr_db:.2f} dB, "
          f"ViSQOL {mos:.3f}")
    assert ssim >= min_ssim and psnr >= min_psnr
    assert report.snr_db == pytest.approx(snr_db, abs=0.5)
    assert mos >= min_visqol and not report.warnings()
