"""The cover-adaptive scheme carrying the image as a compressed file (pixinwav-adaptive-v2): the file comes back
exactly through a real 16-bit WAV (the SSIM is the compressed image's, which the sender reports), at other sample
rates too; a damaged stego or the wrong key gives a clear error, never a wrong image; a cover too quiet to carry a
file is said so at hide time, and one where a file would be poor gets v1's analog codes instead."""
from __future__ import annotations

import pytest

from pixinwav import metrics
from pixinwav.api import load_model
from pixinwav.channel import pcm16_round_trip
from pixinwav.data.audio import read_audio, resample, write_audio
from pixinwav.data.images import load_image
from pixinwav.errors import NotFound, PixinwavError

from test_shipped_model import ASSETS

NAME = "pixinwav-adaptive-v2"


@pytest.fixture(scope="module")
def model():
    return load_model(NAME)


@pytest.fixture(scope="module")
def cover():
    return read_audio(ASSETS / "drascula-track2-3s.ogg")


@pytest.fixture(scope="module")
def hidden(model, cover):
    return model.hide(ASSETS / "astronaut.jpg", cover.samples, cover.sample_rate, offset=1.0)


def ssim_of(revealed) -> float:
    return float(metrics.ssim(revealed[None], load_image(ASSETS / "astronaut.jpg", 256, 3)[None])[0])


def test_the_image_file_comes_back_exactly_through_a_wav_file(model, cover, hidden, tmp_path):
    stego, report = hidden
    write_audio(tmp_path / "stego.wav", stego, cover.sample_rate)
    back = read_audio(tmp_path / "stego.wav")
    revealed, line = model.reveal_with_report(back.samples, back.sample_rate, offset=1.0)
    print(f"adaptive-v2 through a WAV: SSIM {ssim_of(revealed):.3f}; {line}")
    assert ssim_of(revealed) >= 0.85 and ssim_of(revealed) == pytest.approx(report.expected_ssim, abs=1e-6)
    assert not report.warnings() and line.endswith("the image file passed its checksum")
    assert model.reveal_payload(back.samples, back.sample_rate, offset=1.0).verdict == "exact"


def test_damage_and_a_wrong_key_give_an_error_not_a_wrong_image(model, cover, hidden):
    """A volume change of 0.1 dB: the pilots still find the image, but its code fails (the analog v1 gives a
    ruined image with a warning here); a file is all or nothing, and never a wrong image."""
    stego, _ = hidden
    with pytest.raises(NotFound, match="cannot be decoded") as lost:
        model.reveal(pcm16_round_trip(stego * 10 ** (-0.1 / 20)), cover.sample_rate, offset=1.0)
    with pytest.raises(NotFound, match="no hidden image") as nothing:
        model.reveal(stego, cover.sample_rate, offset=1.0, key="another")
    assert lost.value.lost and not nothing.value.lost  # found but not rebuilt, against nothing there


def test_a_48_khz_cover_carries_the_file_too(model, cover):
    rate = 48000
    wave = pcm16_round_trip(resample(cover.samples, cover.sample_rate, rate))
    stego, report = model.hide(ASSETS / "astronaut.jpg", wave, rate, offset=1.0)
    revealed = model.reveal(pcm16_round_trip(stego), rate, offset=1.0)
    assert report.expected_ssim >= 0.8 and ssim_of(revealed) == pytest.approx(report.expected_ssim, abs=1e-6)


def test_a_quiet_window_falls_back_to_analog_codes_and_says_so(model, cover):
    """30 dB quieter, no file the cover carries would look better than v1's analog codes: the sender sends those
    (the header says so), the receiver reads them, and hide warns about the quality it measured itself."""
    quiet = pcm16_round_trip(cover.samples * 10 ** (-30 / 20))
    stego, report = model.hide(ASSETS / "astronaut.jpg", quiet, cover.sample_rate, offset=1.0)
    revealed = model.reveal(pcm16_round_trip(stego), cover.sample_rate, offset=1.0, check=False)
    assert report.image_bytes is None and 0.2 < report.expected_ssim < 0.6
    assert ssim_of(revealed) == pytest.approx(report.expected_ssim, abs=1e-4)
    assert any("too quiet in this window to carry the image" in w for w in report.warnings())


@pytest.mark.parametrize("db", [-40, -66])
def test_quiet_cover_is_said_to_carry_no_image_reveal_will_find(model, cover, db):
    """40 dB quieter the analog codes' pilots agree under what `reveal` needs to say an image is there: hide says
    reveal will not find it (not a quality it will never see); 66 dB quieter not even a file's header fits."""
    quiet = pcm16_round_trip(cover.samples * 10 ** (db / 20))
    stego, report = model.hide(ASSETS / "astronaut.jpg", quiet, cover.sample_rate, offset=1.0)
    assert report.expected_ssim < 0.6
    assert any("too quiet in this window" in w for w in report.warnings())
    if report.presence is not None and report.presence < 0.35:
        assert any("`reveal` will not find the image there" in w for w in report.warnings())
        with pytest.raises(PixinwavError, match="no hidden image"):
            model.reveal(pcm16_round_trip(stego), cover.sample_rate, offset=1.0)
    assert db == -66 or report.presence < 0.35  # (measured: 0.26 at -40 dB)
