"""pixinwav-modulo-v2, the shipped song model: the photo at its own size over the whole song, through real
16-bit files, found without an offset."""
import numpy as np
import pytest
import soundfile as sf
import torch
from PIL import Image

from helpers import music, photo
from pixinwav import metrics
from pixinwav.api import load_model
from pixinwav.channel import pcm16_round_trip
from pixinwav.errors import PixinwavError

RATE = 44100


@pytest.fixture(scope="module")
def model():
    return load_model("pixinwav-modulo-v2")


@pytest.fixture(scope="module")
def cover():
    return music(16.0, RATE, seed=3, channels=2)  # 10 windows of 1.53 s


@pytest.fixture(scope="module")
def cat():
    return Image.fromarray(photo("chelsea"))  # 451 x 300: 2 x 2 tiles at its own size


@pytest.fixture(scope="module")
def stego(model, cover, cat, tmp_path_factory):
    """The stego as `pixinwav hide` writes it: a 16-bit WAV, read back."""
    audio, report = model.hide(cat, cover, RATE)
    path = tmp_path_factory.mktemp("song") / "stego.wav"
    sf.write(path, audio, RATE, subtype="PCM_16")
    return sf.read(path, dtype="float32")[0], report


def ssim_to(image, pil):
    target = torch.from_numpy(np.asarray(pil.convert("RGB"), np.float32) / 255).permute(2, 0, 1)
    return float(metrics.ssim(image[None], target[None])[0])


def test_the_photo_comes_back_at_its_own_size_through_a_16_bit_file(model, stego, cat):
    audio, report = stego
    assert report.payload.width == 451 and report.payload.height == 300 and report.payload.tiles == 4
    assert report.payload.seconds_used == pytest.approx(4 * 67522 / RATE)
    found = model.reveal_payload(audio, RATE)
    assert found.image.shape == (3, 300, 451) and found.verdict == "intact"
    assert "every tile found" in found.detail
    assert ssim_to(found.image, cat) > 0.9  # 0.93 measured
    assert report.snr_db > 40


def test_no_offset_needed_after_a_trimmed_start_or_audio_pasted_before(model, stego):
    audio, report = stego
    whole = model.reveal(audio, RATE)
    first = int(round(min(report.payload.starts) * RATE))
    pasted = np.concatenate([music(5.0, RATE, seed=8, channels=2), audio])
    for moved in (pcm16_round_trip(audio[first - 777:]), pcm16_round_trip(pasted)):
        assert np.array_equal(model.reveal(moved, RATE), whole)


def test_a_window_cut_away_costs_its_tile_with_a_warning(model, stego):
    audio, report = stego
    first = int(round(min(report.payload.starts) * RATE))
    found = model.reveal_payload(audio[first + 1000:], RATE)
    assert found.damaged and "3 of 4 tiles" in found.detail
    assert found.image.shape == (3, 300, 451)


def test_plain_audio_and_a_wrong_key_find_nothing(model, cover, cat):
    with pytest.raises(PixinwavError, match="no hidden image found"):
        model.reveal(pcm16_round_trip(cover), RATE)
    keyed, _ = model.hide(cat, cover, RATE, key="open sesame")
    keyed = pcm16_round_trip(keyed)
    with pytest.raises(PixinwavError, match="no hidden image found"):
        model.reveal(keyed, RATE)
    assert model.reveal(keyed, RATE, key="open sesame").shape == (3, 300, 451)


def test_a_photo_larger_than_the_song_is_sent_smaller_with_a_warning(model, cover):
    big = Image.fromarray(photo("astronaut")).resize((1024, 1024))  # 16 tiles; the song has 10 windows
    audio, report = model.hide(big, cover, RATE)
    w, h = report.payload.width, report.payload.height
    assert w == h and report.payload.tiles <= report.payload.units_loud == 10 and w > 512
    assert any("carries it at" in warning for warning in report.warnings())
    assert model.reveal(pcm16_round_trip(audio), RATE).shape == (3, h, w)
    _, small = model.hide(big, cover, RATE, max_side=300)
    assert (small.payload.width, small.payload.height) == (300, 300)


def test_quiet_windows_are_skipped_and_a_quiet_song_is_refused(model, cat):
    song = music(16.0, RATE, seed=4)
    song[: len(song) // 2] *= 0.003  # the first half far too quiet to carry a tile
    audio, report = model.hide(cat, song, RATE)
    assert min(report.payload.starts) >= 8.0 - 1.6
    assert model.reveal(pcm16_round_trip(audio), RATE).shape == (3, 300, 451)
    with pytest.raises(PixinwavError, match="loud enough"):
        model.hide(cat, song * 0.003, RATE)


def test_a_48_khz_cover_is_written_at_44_1_khz_and_reveals(model, cat):
    song = music(12.0, 48000, seed=6, channels=2)
    audio, report = model.hide(cat, song, 48000)
    assert report.sample_rate == RATE and len(audio) == pytest.approx(12.0 * RATE, abs=2)
    assert any("writes its stego at 44100 Hz" in warning for warning in report.warnings())
    assert model.reveal(pcm16_round_trip(audio), RATE).shape == (3, 300, 451)
    with pytest.raises(PixinwavError, match="resampled after hiding"):
        model.reveal(pcm16_round_trip(song), 48000)


def test_options_of_other_models_are_refused(model, cover, cat):
    with pytest.raises(PixinwavError, match="--seconds does not apply"):
        model.hide(cat, cover, RATE, seconds=30)
    with pytest.raises(PixinwavError, match="--max-side does not apply"):
        load_model("pixinwav-modulo-v1").hide(cat, cover, RATE, max_side=100)


def test_capacity_counts_the_windows_a_photo_needs(model, cover):
    report = model.capacity(cover, RATE, (1000, 750))
    assert report["tiles"] == 10 and report["photo"]["tiles"] == 12
    assert report["largest"]["4:3"] == [768, 576]  # 3 x 3 tiles; 1024 x 768 would need 12
    assert report["photo"]["sent_at"] == [768, 576]


def test_a_file_written_by_this_release_keeps_revealing(model):
    """A committed stego (2 tiles of a 300 x 200 photo in 4.6 s): files of a released model must keep revealing."""
    from pathlib import Path

    fixtures = Path(__file__).parents[1] / "fixtures"
    audio, rate = sf.read(fixtures / "modulo-v2-300x200.flac", dtype="float32")
    image, detail = model.reveal_with_report(audio, rate, key="fixture")
    assert image.shape == (3, 200, 300) and "every tile found" in detail
    assert ssim_to(image, Image.open(fixtures / "modulo-v2-300x200.png")) > 0.85  # 0.888 when written


def test_this_release_writes_the_committed_fixture_sample_for_sample(model):
    """The sender's own output is unchanged since the fixture's release (its DCTs torch's then, SciPy's since 0.2.12):
    the fixture's recipe (``tests/fixtures/make_fixtures.py``) gives the committed file's 16-bit samples exactly."""
    from pathlib import Path

    from pixinwav.channel import to_pcm16

    fixtures = Path(__file__).parents[1] / "fixtures"
    stego, _ = model.hide(Image.open(fixtures / "modulo-v2-300x200.png"), music(4.6, RATE, seed=11, channels=2), RATE,
                          key="fixture")
    assert np.array_equal(to_pcm16(stego), sf.read(fixtures / "modulo-v2-300x200.flac", dtype="int16")[0])


def test_cli_capacity_and_a_window_model_refusing_max_side(cover, cat, tmp_path, capsys):
    import json

    from pixinwav.cli import main

    song, image, out = tmp_path / "song.wav", tmp_path / "cat.png", tmp_path / "out.wav"
    sf.write(song, cover, RATE, subtype="PCM_16")
    cat.save(image)
    main(["capacity", str(song), "--model", "pixinwav-modulo-v2", "--image", str(image)])
    said = capsys.readouterr().out
    assert "10 of 10 windows" in said and "needs 4 tiles" in said and "fits at its own size" in said
    main(["capacity", str(song), "--model", "pixinwav-modulo-v2", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert report["tiles"] == 10 and report["largest"]["16:9"] == [911, 512]  # 4 x 2 tiles; 912 x 513 would need 3 rows
    main(["capacity", str(song), "--model", "pixinwav-modulo-v1"])  # a window model: one image in one window
    assert "one 256 x 256 image in one 1.53 s window" in capsys.readouterr().out
    code = main(["hide", "--image", str(image), "--cover", str(song), "-o", str(out), "--max-side", "100",
                 "--model", "pixinwav-modulo-v1"])
    err = capsys.readouterr().err.strip()
    assert code == 1 and "--max-side does not apply" in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_eval_measures_whole_songs_with_photos_at_their_own_size(tmp_path, capsys):
    import csv

    from pixinwav.cli import main

    songs, photos = tmp_path / "songs", tmp_path / "photos"
    songs.mkdir()
    photos.mkdir()
    sf.write(songs / "a.wav", music(16.0, RATE, seed=3, channels=2), RATE, subtype="PCM_16")
    sf.write(songs / "b.flac", music(12.0, 48000, seed=6, channels=2), 48000, subtype="PCM_16")  # written at 44.1 kHz
    Image.fromarray(photo("chelsea")).save(photos / "chelsea.png")  # 451 x 300
    Image.fromarray(photo("coffee")).save(photos / "coffee.png")  # 600 x 400
    rows, figure = tmp_path / "rows.csv", tmp_path / "pairs.png"
    assert main(["eval", "--model", "pixinwav-modulo-v2", "--images", str(photos), "--audio", str(songs), "--n", "2",
                 "-o", str(rows), "--figure", str(figure), "--no-visqol", "--quiet"]) == 0
    assert "whole songs, photos at their own size" in capsys.readouterr().out
    table = list(csv.DictReader(rows.open()))
    assert {r["sent"] for r in table} == {"451 x 300", "600 x 400"} and {r["cover"] for r in table} == {"a.wav", "b.flac"}
    assert all(float(r["image/ssim"]) > 0.85 and float(r["audio/snr"]) > 35 for r in table)
    assert Image.open(figure).format == "PNG"
