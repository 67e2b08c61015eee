"""Inputs and outputs a user meets: phone photos, truncated files, format names, tags, permissions, races,
signals, float covers, keys and offsets. Each case: the right result, or one line and exit 1."""
import os
import stat

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from helpers import music, photo
from pixinwav import PixinwavError, load_model, metrics
from pixinwav.channel import to_pcm16
from pixinwav.cli import main
from pixinwav.data.audio import read_audio, write_audio
from pixinwav.data.images import open_image, prepare_image
from pixinwav.files import atomic_write


@pytest.fixture()
def cover(tmp_path):
    path = tmp_path / "cover.wav"
    sf.write(path, music(3.0, 44100, seed=5, channels=2), 44100, subtype="PCM_16")
    Image.fromarray(photo("chelsea")).save(tmp_path / "cat.png")
    return path


def test_phone_photos_are_turned_upright(tmp_path):
    upright = Image.fromarray(photo("astronaut")[:, :400])  # not square, so a wrong turn shows
    sideways = upright.transpose(Image.Transpose.ROTATE_90)  # stored as a phone stores a portrait photo
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to view"
    sideways.save(tmp_path / "phone.jpg", exif=exif, quality=95)
    opened = open_image(tmp_path / "phone.jpg")
    assert opened.size == upright.size
    a, b = prepare_image(opened, 64, 3), prepare_image(upright, 64, 3)
    assert float(metrics.ssim(a[None], b[None])[0]) > 0.9


def test_large_jpeg_is_decoded_reduced(tmp_path):
    Image.fromarray(np.tile(photo("coffee"), (8, 8, 1))).save(tmp_path / "big.jpg")  # 4800 x 3200
    assert max(open_image(tmp_path / "big.jpg", size_hint=256).size) < 1300
    assert open_image(tmp_path / "big.jpg").size == (3072, 2048)  # no hint: box-averaged to a 2,048-pixel short side


def test_truncated_wav_is_refused(tmp_path, capsys):
    sf.write(tmp_path / "full.wav", music(4.0, 44100, seed=1), 44100, subtype="PCM_16")
    data = (tmp_path / "full.wav").read_bytes()
    (tmp_path / "cut.wav").write_bytes(data[: len(data) * 2 // 5])
    with pytest.raises(PixinwavError, match="truncated"):
        read_audio(tmp_path / "cut.wav")
    assert read_audio(tmp_path / "full.wav").samples.shape[0] == 4 * 44100


def test_tags_are_kept(tmp_path):
    write_audio(tmp_path / "a.flac", music(1.0, 44100, seed=2), 44100, tags={"title": "Song", "artist": "Band"})
    assert read_audio(tmp_path / "a.flac").tags == {"title": "Song", "artist": "Band"}


def test_output_checks_come_before_the_work(cover, tmp_path, capsys, tiny_model_file):
    hide = ["hide", "--image", str(tmp_path / "cat.png"), "--cover", str(cover), "--model", str(tiny_model_file)]
    cases = [
        ([*hide, "-o", str(tmp_path / "x.wav"), "--format", "flac"], "does not match"),
        ([*hide, "-o", "-"], "standard output"),
        ([*hide, "-o", str(tmp_path / "missing" / "x.wav")], "does not exist"),
        (["reveal", str(cover), "-o", str(cover), "--force", "--model", str(tiny_model_file)], "one of the inputs"),
    ]
    for argv, words in cases:
        before = cover.read_bytes()
        assert main(argv) == 1
        err = capsys.readouterr().err.strip()
        assert words in err and len(err.splitlines()) == 1, err
        assert cover.read_bytes() == before and not (tmp_path / "x.wav").exists() and not (tmp_path / "-").exists()


def test_outputs_follow_the_umask_and_leave_no_temporary(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "a.txt", lambda tmp: open(tmp, "w").write("x"), force=False)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o644

    def killed(tmp):
        open(tmp, "w").write("half")
        raise SystemExit(143)  # what the CLI's SIGTERM handler raises

    with pytest.raises(SystemExit):
        atomic_write(tmp_path / "b.txt", killed, force=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_a_racing_writer_does_not_overwrite(tmp_path):
    target = tmp_path / "out.txt"

    def write_while_someone_else_creates_the_file(tmp):
        open(tmp, "w").write("mine")
        target.write_text("theirs")  # appears after the early check, before the move

    with pytest.raises(PixinwavError, match="exists"):
        atomic_write(target, write_while_someone_else_creates_the_file, force=False)
    assert target.read_text() == "theirs" and len(list(tmp_path.iterdir())) == 1


def test_float_cover_outside_the_window_is_the_cover_as_16_bit(paper_modulo_file):
    model = load_model(paper_modulo_file)
    cover = music(4.0, 44100, seed=3)[:, None] * np.float32(0.9)
    cover[:1000] = 1.0  # exactly full scale: no false alarm
    cover[-1000:] = 1.5  # beyond full scale (a float file), outside the window
    stego, report = model.hide(Image.fromarray(photo("rocket")), cover, 44100, offset=1.0)
    window = slice(44100, 44100 + 67522)
    outside = np.ones(len(cover), bool)
    outside[window] = False
    written = to_pcm16(stego)
    assert np.array_equal(written[outside], to_pcm16(cover)[outside])
    assert report.clipped == 0 and report.cover_over_full_scale > 0
    assert any("beyond full scale" in w and "not affected" in w for w in report.warnings())


def test_keys_empty_env_unset_and_unicode_forms_equal(paper_modulo_file, tmp_path, monkeypatch, capsys):
    Image.fromarray(photo("rocket")).save(tmp_path / "r.png")
    sf.write(tmp_path / "c.wav", music(2.0, 44100, seed=4), 44100, subtype="PCM_16")
    monkeypatch.setenv("PIXINWAV_KEY", "")
    base = ["--model", str(paper_modulo_file)]
    assert main(["hide", "--image", str(tmp_path / "r.png"), "--cover", str(tmp_path / "c.wav"), "-o",
                 str(tmp_path / "plain.wav"), *base]) == 0
    assert main(["reveal", str(tmp_path / "plain.wav"), "-o", str(tmp_path / "p.png"), *base]) == 0
    nfc, nfd = "caf\u00e9", "cafe\u0301"
    assert main(["hide", "--image", str(tmp_path / "r.png"), "--cover", str(tmp_path / "c.wav"), "-o",
                 str(tmp_path / "keyed.wav"), "--key", nfc, *base]) == 0
    assert main(["reveal", str(tmp_path / "keyed.wav"), "-o", str(tmp_path / "k.png"), "--key", nfd, *base]) == 0


def test_anti_phase_stereo_is_not_silence(paper_modulo_file):
    model = load_model(paper_modulo_file)
    left = music(2.0, 44100, seed=6)
    stego, _ = model.hide(Image.fromarray(photo("rocket")), np.stack([left, -left], axis=1), 44100)
    assert stego.shape == (len(left), 2)


def test_hide_prints_the_offset_reveal_needs(paper_modulo_file, cover, tmp_path, capsys):
    assert main(["hide", "--image", str(tmp_path / "cat.png"), "--cover", str(cover), "-o", str(tmp_path / "s.wav"),
                 "--offset", "0.123456789", "--model", str(paper_modulo_file)]) == 0
    printed = capsys.readouterr().out.split("reveal with --offset ")[1].split()[0]
    assert main(["reveal", str(tmp_path / "s.wav"), "-o", str(tmp_path / "r.png"), "--offset", printed,
                 "--model", str(paper_modulo_file)]) == 0
    assert "pilot agreement" in capsys.readouterr().out


def test_eval_refuses_no_pairs(tmp_path, capsys):
    for extra in ([], ["--attacks", "all"]):
        assert main(["eval", "--images", str(tmp_path), "--audio", str(tmp_path), "--n", "-3", *extra]) == 1
        assert "--n must be at least 1" in capsys.readouterr().err


def test_hiding_over_an_image_warns_and_revealing_it_says_damaged(paper_modulo_file):
    model = load_model(paper_modulo_file)
    cover = music(4.0, 44100, seed=7)
    first, report = model.hide(Image.fromarray(photo("rocket")), cover, 44100, offset=1.0)
    assert report.overwritten is None
    again, report = model.hide(Image.fromarray(photo("coffee")), first[:, 0], 44100, offset=1.0)
    assert report.overwritten is not None and any("already carried" in w for w in report.warnings())
    shifted, _ = model.hide(Image.fromarray(photo("coffee")), first[:, 0], 44100, offset=1.5)
    with pytest.raises(PixinwavError, match="no hidden image found"):  # half the window rewritten: nothing left
        model.reveal_with_report(shifted, 44100, offset=1.0)
    noisy = first + np.random.default_rng(0).normal(0, 10 ** (-80 / 20), first.shape).astype(np.float32)
    found = model.reveal_payload(noisy, 44100, offset=1.0)  # damaged but useful: written, with a warning
    assert found.damaged and "damaged" in found.detail and found.image.shape == (3, 256, 256)


@pytest.mark.parametrize("rate", [8000, 16000])
def test_low_rate_covers_carry_the_image_in_their_band(paper_modulo_file, rate):
    model = load_model(paper_modulo_file)
    cover = music(3.0, rate, seed=9)
    stego, report = model.hide(Image.fromarray(photo("rocket")), cover, rate, offset=0.5)
    assert report.band_limit_hz == pytest.approx(0.9 * rate / 2) and report.lost_above_hz is None
    found = model.reveal_payload(to_pcm16(stego) / 32768.0, rate, offset=0.5)
    assert found.verdict == "intact" and float(found.detail.rsplit(" ", 1)[-1]) > 0.9


@pytest.mark.parametrize("gain", [1.1, 1.3])
def test_float_cover_beyond_full_scale_in_the_window_keeps_the_image(gain):
    """A decoded MP3 / OGG often goes over full scale: the image is hidden in the cover as the 16-bit file will
    hold it, so the clipping the file applies does not spoil it (before, x1.1 gave SSIM 0.29 with this warning)."""
    model = load_model("pixinwav-modulo-v1")
    cover = music(3.0, 44100, seed=8)[:, None] * np.float32(0.5)
    cover[50000:50100] = gain  # a loud burst inside the window
    image = Image.fromarray(photo("rocket"))
    stego, report = model.hide(image, cover, 44100, offset=0.5)
    assert report.cover_over_full_scale == 100
    assert any("not affected" in w for w in report.warnings())
    written = to_pcm16(stego).astype(np.float32) / 32768
    revealed, detail = model.reveal_with_report(written, 44100, offset=0.5)
    expected = model.prepare_image(image)[None]
    assert metrics.ssim(revealed[None], expected).item() > 0.8, detail
