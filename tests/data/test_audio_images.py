import numpy as np
import pytest
import soundfile as sf
import torch
from PIL import Image

from helpers import music, photo
from pixinwav.channel import quantise_pcm16, to_pcm16
from pixinwav.data.audio import read_audio, resample, write_audio
from pixinwav.data.images import load_image, open_image, save_image
from pixinwav.errors import PixinwavError


@pytest.mark.parametrize("fmt,subtype,ext", [("WAV", "PCM_16", "wav"), ("WAV", "FLOAT", "wav"), ("FLAC", "PCM_24", "flac"),
                                             ("OGG", "VORBIS", "ogg"), ("OGG", "OPUS", "opus"),
                                             ("MP3", "MPEG_LAYER_III", "mp3")])
def test_reads_every_format(tmp_path, fmt, subtype, ext):
    rate = 48000 if subtype == "OPUS" else 44100
    x = music(1.0, rate, seed=1, channels=2)
    path = tmp_path / f"a.{ext}"
    sf.write(path, x, rate, format=fmt, subtype=subtype)
    audio = read_audio(path)
    assert audio.sample_rate == rate and audio.channels == 2
    assert abs(audio.samples.shape[0] - x.shape[0]) < 0.1 * rate  # codecs may pad


def test_write_is_16bit_exact_and_never_overwrites(tmp_path):
    x = music(0.5, 22050, seed=2, channels=3)
    path = write_audio(tmp_path / "out.wav", x, 22050)
    info = sf.info(path)
    assert info.subtype == "PCM_16" and info.channels == 3 and info.samplerate == 22050
    back = read_audio(path).samples
    np.testing.assert_array_equal(back, to_pcm16(x) / 32768.0)  # the file holds exactly our quantisation
    torch.testing.assert_close(quantise_pcm16(torch.from_numpy(x)), torch.from_numpy(back))
    with pytest.raises(PixinwavError, match="exists"):
        write_audio(path, x, 22050)
    write_audio(path, x * 0, 22050, force=True)
    assert not read_audio(path).samples.any()
    assert sf.info(write_audio(tmp_path / "o.flac", x, 22050)).format == "FLAC"


def test_resample_keeps_a_tone():
    t = np.arange(48000) / 48000
    y = resample(np.sin(2 * np.pi * 1000 * t).astype(np.float32), 48000, 44100)
    assert len(y) == 44100
    ref = np.sin(2 * np.pi * 1000 * np.arange(44100) / 44100)
    assert np.abs(y[1000:-1000] - ref[1000:-1000]).max() < 1e-3


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "P", "LA", "I;16", "CMYK", "1"])
def test_image_modes(tmp_path, mode):
    rgb = Image.fromarray(photo("astronaut"))
    if mode == "I;16":  # a real 16-bit picture uses the full 0..65535 range
        img = Image.fromarray((np.asarray(rgb.convert("L"), np.uint16) * 257).astype(np.uint16))
    else:
        img = rgb.convert(mode)
    path = tmp_path / ("a.tif" if mode in ("I;16", "CMYK") else "a.png")
    img.save(path)
    x = load_image(path, 32, 3)
    assert x.shape == (3, 32, 32) and x.dtype == torch.float32 and 0 <= x.min() and x.max() <= 1
    assert x.std() > 0.05  # a picture, not a flat field
    assert load_image(path, 16, 1).shape == (1, 16, 16)


def test_sixteen_bit_uses_full_range(tmp_path):
    arr = (np.linspace(0, 65535, 64 * 64).reshape(64, 64)).astype(np.uint16)
    Image.fromarray(arr).save(tmp_path / "g.png")
    x = load_image(tmp_path / "g.png", 64, 1)
    assert x.max() > 0.95 and x.min() < 0.05


def test_non_square_image_is_centre_cropped(tmp_path):
    arr = np.zeros((100, 300, 3), np.uint8)
    arr[:, 100:200] = 255  # white centre square, black sides
    Image.fromarray(arr).save(tmp_path / "w.png")
    assert load_image(tmp_path / "w.png", 32, 3).min() > 0.95


def test_bad_images(tmp_path):
    (tmp_path / "t.png").write_text("not an image")
    with pytest.raises(PixinwavError, match="not an image"):
        open_image(tmp_path / "t.png")
    Image.new("RGB", (1, 1)).save(tmp_path / "one.png")
    with pytest.raises(PixinwavError, match="1 x 1 pixels"):
        open_image(tmp_path / "one.png")
    Image.new("1", (12000, 12000)).save(tmp_path / "bomb.png")
    with pytest.raises(PixinwavError, match="pixel"):
        open_image(tmp_path / "bomb.png")
    good = tmp_path / "good.jpg"
    Image.fromarray(photo("coffee")).save(good)
    (tmp_path / "cut.jpg").write_bytes(good.read_bytes()[:2000])
    with pytest.raises(PixinwavError, match="corrupt or truncated"):
        open_image(tmp_path / "cut.jpg")


def test_save_image_roundtrip(tmp_path):
    x = torch.rand(3, 16, 16)
    save_image(tmp_path / "x.png", x)
    back = np.asarray(Image.open(tmp_path / "x.png"), dtype=np.float32) / 255
    np.testing.assert_allclose(back, x.permute(1, 2, 0).numpy(), atol=1 / 255)
    with pytest.raises(PixinwavError, match="exists"):
        save_image(tmp_path / "x.png", x)


def test_large_photo_is_reduced_when_decoded_and_keeps_its_orientation(tmp_path):
    """A photo with a short side over 2048 pixels is box-averaged to 2048 right after decoding (the later
    copies then cost megabytes, not the photo's size), the EXIF turn still applies, and what the model gets
    matches a straight centre crop and resize of the full photo."""
    import subprocess
    import sys

    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:2600, 0:3900]
    grey = ((np.sin(x / 97) + np.cos(y / 53) + 2) * 16000 + rng.normal(0, 200, x.shape)).clip(0, 65535).astype(np.uint16)
    Image.fromarray(grey).save(tmp_path / "big16.png")
    img = open_image(tmp_path / "big16.png")
    assert img.mode == "I;16" and img.size == (3072, 2048)
    direct = torch.from_numpy(grey[:, 650:3250].astype(np.float32) / 65535)[None, None]
    direct = torch.nn.functional.interpolate(direct, size=(64, 64), mode="area")[0, 0]
    assert (load_image(tmp_path / "big16.png", 64, 1)[0] - direct).abs().max() < 0.02

    wide = np.zeros((2600, 3900, 3), np.uint8)
    wide[:, :1950] = 255  # left half white
    exif = Image.new("RGB", (1, 1)).getexif()
    exif[0x0112] = 6  # stored sideways: turn 90 degrees clockwise to view
    Image.fromarray(wide).save(tmp_path / "sideways.png", exif=exif.tobytes())
    upright = np.asarray(open_image(tmp_path / "sideways.png"))
    assert upright.shape[:2] == (3072, 2048) and upright[0].min() == 255 and upright[-1].max() == 0

    # the command line opens the photo before torch is imported, so their memory peaks do not add up
    probe = "import sys, pixinwav.cli, pixinwav.data.images, pixinwav.files; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout.strip() == "False"


@pytest.mark.parametrize("dtype,shape,rates", [(np.float32, (700_001, 2), (48000, 44100)), (np.float64, (300_007,), (16000, 44100))])
def test_a_long_signal_resamples_in_chunks_to_the_same_samples_as_one_call(dtype, shape, rates):
    import soxr

    from pixinwav.data import audio

    x = (np.random.default_rng(8).normal(size=shape) * 0.1).astype(dtype)
    assert len(x) > audio.RESAMPLE_CHUNK  # (the chunked path)
    whole = soxr.resample(x, *rates, quality="HQ").astype(np.float32)
    got = audio.resample(x, *rates)
    assert got.dtype == np.float32 and got.shape == whole.shape and np.array_equal(got, whole)
