"""The robust scheme through the user-level API: hide in a whole song, write a 16-bit file, attack it, reveal with
no offset. The revealed image is exactly the compressed image that was sent, or there is a one-line error."""
import numpy as np
import pytest
import torch
from PIL import Image

from helpers import music, photo
from pixinwav import PixinwavError, load_model, metrics
from pixinwav.attacks import apply
from pixinwav.channel import pcm16_round_trip


@pytest.fixture(scope="module")
def hidden():
    model = load_model("pixinwav-robust-v1")
    cover = music(20.0, 44100, seed=3, channels=2)
    stego, report = model.hide(Image.fromarray(photo("coffee")), cover, 44100)
    return model, cover, pcm16_round_trip(stego), report


def test_hide_fills_the_song_and_reports_the_payload(hidden):
    model, cover, stego, report = hidden
    assert stego.shape == cover.shape and report.payload.codec == "AVIF"
    assert report.payload.copy_seconds <= 20.0 and report.payload.bytes > 300
    assert not any("quiet" in w for w in report.warnings())  # its level follows the music by design
    # the change follows the cover: far fewer cells where it is louder than the cover than a white change of the
    # same energy has (this synthetic cover has wide gaps between harmonics; real music: see the model card)
    change = stego - cover
    white = np.random.default_rng(0).normal(size=change.shape) * change.std()
    assert metrics.louder_cells(cover, stego, 44100) < 0.5 * metrics.louder_cells(cover, cover + white, 44100)


@pytest.mark.parametrize("attack,strength", [("none", 0), ("mp3", 128), ("aac", 128), ("resample", 22050),
                                             ("trim_start", 1.0), ("gain", -6)])
def test_the_image_survives(hidden, attack, strength):
    model, _, stego, report = hidden
    attacked, rate = apply(attack, stego, 44100, strength, seed=1)
    image = model.reveal(attacked, rate)
    sent = report.payload.compressed
    assert float(metrics.psnr(image[None], sent[None])[0]) > 40  # the very bytes that were sent
    assert float(metrics.ssim(image[None], model.prepare_image(Image.fromarray(photo("coffee")))[None])[0]) > 0.5


def test_no_image_in_plain_audio_or_under_another_key(hidden):
    model, cover, stego, _ = hidden
    with pytest.raises(PixinwavError, match="no hidden image found"):
        model.reveal(cover, 44100)
    with pytest.raises(PixinwavError, match="no hidden image found"):
        model.reveal(stego, 44100, key="not the key")


def test_a_key_is_needed_to_reveal_a_keyed_image():
    model = load_model("pixinwav-robust-v1")
    cover = music(20.0, 44100, seed=4)
    stego, _ = model.hide(Image.fromarray(photo("rocket")), cover, 44100, key="k1")
    assert model.reveal(stego, 44100, key="k1").shape == (3, 256, 256)
    with pytest.raises(PixinwavError, match="no hidden image found"):
        model.reveal(stego, 44100)


def test_offsets_are_refused_and_short_covers_explained():
    model = load_model("pixinwav-robust-v1")
    with pytest.raises(PixinwavError, match="drop --offset"):
        model.hide(Image.fromarray(photo("rocket")), music(20.0, 44100, seed=5), 44100, offset=1.0)
    with pytest.raises(PixinwavError, match="--seconds must be a positive"):
        model.hide(Image.fromarray(photo("rocket")), music(20.0, 44100, seed=5), 44100, seconds=-5)
    with pytest.raises(PixinwavError, match="--quality must lie in 0-100"):
        model.hide(Image.fromarray(photo("rocket")), music(20.0, 44100, seed=5), 44100, quality=101)
    with pytest.raises(PixinwavError, match="long"):
        model.hide(Image.fromarray(photo("rocket")), music(10.0, 44100, seed=5), 44100)


def test_decoded_bits_are_checked_not_trusted():
    """Flip the stego's payload region heavily: reveal must refuse, never return a wrong image."""
    model = load_model("pixinwav-robust-v1")
    cover = music(20.0, 44100, seed=6)
    stego, _ = model.hide(Image.fromarray(photo("rocket")), cover, 44100)
    noisy, _ = apply("white_noise", stego, 44100, 0.0, seed=0)  # noise as loud as the music
    with pytest.raises(PixinwavError):
        model.reveal(noisy, 44100)
    assert torch.isfinite(torch.tensor(np.asarray(noisy))).all()


def test_a_cover_too_narrow_for_the_band_is_refused():
    model = load_model("pixinwav-robust-v1")
    with pytest.raises(PixinwavError, match="8000 Hz.*16 kHz or more"):
        model.hide(Image.fromarray(photo("rocket")), music(20.0, 8000, seed=7), 8000)
