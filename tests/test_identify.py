"""`reveal` without --model: the file's own marks pick the model, and a file of the first default model
(pixinwav-modulo-v1, written by releases up to 0.1 without --model) keeps revealing with the command that
revealed it then."""
import json
from importlib import resources
from pathlib import Path

import pytest
import soundfile as sf
from PIL import Image

from helpers import music, photo
from pixinwav import load_model, loader, metrics
from pixinwav.attacks import apply
from pixinwav.channel import pcm16_round_trip
from pixinwav.cli import main
from pixinwav.data.audio import Audio, read_audio
from pixinwav.data.images import load_image
from pixinwav.identify import EARLIER_DEFAULT, PREVIOUS_DEFAULT, identify
from pixinwav.models import robust

FIXTURES = Path(__file__).parent / "fixtures"
ASSETS = Path(str(resources.files("pixinwav") / "assets"))


@pytest.mark.parametrize("fixture, expected", [("modulo-v1-default.flac", PREVIOUS_DEFAULT),
                                               ("modulo-v2-file.flac", "pixinwav-modulo-v2"),
                                               ("robust-v2-file.flac", "pixinwav-robust-v2"),
                                               ("robust-v3-file.flac", "pixinwav-robust-v3"),
                                               ("robust-v4-file.flac", "pixinwav-robust-v4"),
                                               ("robust-v5-file.flac", "pixinwav-robust-v5"),
                                               ("adaptive-v3-file.flac", EARLIER_DEFAULT),
                                               ("adaptive-v4-file.flac", loader.DEFAULT_MODEL),
                                               ("adaptive-v5-file.flac", loader.DEFAULT_MODEL)])
def test_each_committed_stego_names_its_model(fixture, expected):
    """(adaptive-v4's file names the default, adaptive-v5, which reads it: their windows' pilots are the same)"""
    assert identify(read_audio(FIXTURES / fixture), "fixture") == expected


@pytest.mark.parametrize("percent", [1.5, -2.0])
def test_a_robust_stego_played_faster_or_slower_still_names_its_model_and_reveals(percent, tmp_path, capsys,
                                                                                    monkeypatch):
    audio = read_audio(FIXTURES / "robust-v2-file.flac")
    faster, rate = apply("speed", audio.samples, audio.sample_rate, percent)
    assert identify(Audio(faster, rate), "fixture") == "pixinwav-robust-v2"
    path = tmp_path / "faster.wav"
    sf.write(path, faster, rate, subtype="PCM_16")
    searches = []  # the grid search (speed search included) runs once: to name the model, and its answer to read
    search = robust.RobustChannel._locate
    monkeypatch.setattr(robust.RobustChannel, "_locate", lambda *args: searches.append(1) or search(*args))
    assert main(["reveal", str(path), "-o", str(tmp_path / "note.txt"), "--key", "fixture"]) == 0
    assert len(searches) == 1
    assert (tmp_path / "note.txt").read_bytes() == (FIXTURES / "robust-v2-note.txt").read_bytes()
    assert f"{abs(percent):.2f} % {'fast' if percent > 0 else 'slow'}: undone" in capsys.readouterr().out


def test_a_robust_stego_whose_tempo_changed_is_read_piece_by_piece_once_to_name_its_model_and_reveal(tmp_path,
                                                                                                     monkeypatch):
    from pixinwav.robust import tempo

    audio = read_audio(FIXTURES / "robust-v2-file.flac")
    stretched, rate = apply("tempo", audio.samples, audio.sample_rate, 1.0)
    path = tmp_path / "stretched.wav"
    sf.write(path, stretched, rate, subtype="PCM_16")
    readings = []  # the piece-by-piece reading (seconds on a song) is kept with the grid search's answer
    piecewise = tempo.piecewise
    monkeypatch.setattr(tempo, "piecewise", lambda *args: readings.append(1) or piecewise(*args))
    assert main(["reveal", str(path), "-o", str(tmp_path / "note.txt"), "--key", "fixture"]) == 0
    assert len(readings) == 1
    assert (tmp_path / "note.txt").read_bytes() == (FIXTURES / "robust-v2-note.txt").read_bytes()


def test_a_robust_v1_stego_names_its_model():
    cover = music(15.0, 44100, seed=4)
    stego, _ = load_model("pixinwav-robust-v1").hide(Image.fromarray(photo("rocket")), cover, 44100, key="k")
    assert identify(Audio(pcm16_round_trip(stego), 44100), "k") == "pixinwav-robust-v1"
    assert identify(Audio(pcm16_round_trip(stego), 44100), "another") == loader.DEFAULT_MODEL


def test_plain_audio_or_another_key_falls_to_the_default():
    """(whose reveal then searches the file and says it found nothing)"""
    assert identify(Audio(music(4.0, 44100, seed=3, channels=2), 44100), None) == loader.DEFAULT_MODEL
    assert identify(read_audio(FIXTURES / "modulo-v1-default.flac"), "another key") == loader.DEFAULT_MODEL
    assert identify(read_audio(FIXTURES / "modulo-v1-default.flac"), "fixture", offset=0.5) == PREVIOUS_DEFAULT


def test_a_file_of_the_first_default_reveals_as_it_did(tmp_path, capsys):
    stego, got, named = FIXTURES / "modulo-v1-default.flac", tmp_path / "got.png", tmp_path / "named.png"
    assert main(["reveal", str(stego), "-o", str(got), "--key", "fixture"]) == 0
    assert f"carries {PREVIOUS_DEFAULT}'s marks" in capsys.readouterr().err
    assert main(["reveal", str(stego), "-o", str(named), "--key", "fixture", "--model", PREVIOUS_DEFAULT]) == 0
    assert got.read_bytes() == named.read_bytes()
    secret = load_image(FIXTURES / "modulo-v1-photo.jpg", 256, 3)[None]
    assert float(metrics.ssim(load_image(got, 256, 3)[None], secret)[0]) > 0.85
    assert main(["reveal", str(stego), "-o", str(tmp_path / "no.png")]) == 1  # without its key: nothing
    assert "no hidden image found: no shipped model's marks" in capsys.readouterr().err
    assert not (tmp_path / "no.png").exists()


def test_the_first_default_at_an_offset_and_the_new_default_refusing_one(tmp_path, capsys):
    cover, photo, stego = ASSETS / "drascula-track2-3s.ogg", ASSETS / "astronaut.jpg", tmp_path / "s.wav"
    assert main(["hide", "--image", str(photo), "--cover", str(cover), "-o", str(stego), "--offset", "1.0"]) == 1
    said = capsys.readouterr().err
    assert "needs no --offset" in said and "--model pixinwav-modulo-v1" in said and not stego.exists()
    assert main(["hide", "--image", str(photo), "--cover", str(cover), "-o", str(stego), "--offset", "1.0",
                 "--model", PREVIOUS_DEFAULT]) == 0
    for offset in ("1.0", "auto"):  # as releases up to 0.1 revealed it: no --model
        got = tmp_path / f"got-{offset}.png"
        assert main(["reveal", str(stego), "-o", str(got), "--offset", offset]) == 0
        assert Image.open(got).size == (256, 256)
    assert "carries pixinwav-modulo-v1's marks" in capsys.readouterr().err


def test_reveal_json_says_what_was_written_and_how_far_to_trust_it(tmp_path, capsys):
    """`reveal --json`: one object for scripts, the verdict as a word (a file that passed its checksum: exact; the
    first default's analog window: intact), whichever model the file's marks name."""
    capsys.readouterr()
    got = tmp_path / "got.jpg"
    assert main(["reveal", str(FIXTURES / "adaptive-v4-file.flac"), "-o", str(got), "--key", "fixture", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown == {"model": loader.DEFAULT_MODEL, "output": str(got), "kind": "file", "verdict": "exact",
                     "detail": shown["detail"], "name": "coffee.jpg", "bytes": got.stat().st_size,
                     "packing": "none", "sent_bytes": got.stat().st_size}  # (0.2.24 wrote files as they were)
    assert got.read_bytes() == (FIXTURES / "modulo-v2-file.jpg").read_bytes()
    image = tmp_path / "image.png"
    assert main(["reveal", str(FIXTURES / "modulo-v1-default.flac"), "-o", str(image), "--key", "fixture", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["model"], shown["kind"], shown["verdict"], shown["width"], shown["height"]) == (
        PREVIOUS_DEFAULT, "image", "intact", 256, 256) and image.exists()


@pytest.mark.parametrize("fixture, trim, expected", [("adaptive-v4-file.flac", 12345, loader.DEFAULT_MODEL),
                                                     ("adaptive-v3-file.flac", 12345, EARLIER_DEFAULT),
                                                     ("robust-v2-file.flac", 0, "pixinwav-robust-v2")])
def test_the_models_in_use_are_named_before_the_modulo_models_and_torch_are_loaded(fixture, trim, expected):
    """A default-model stego whose start was cut (found by the search of its loudest stretch) and a robust-v2 stego
    are named before the modulo models' checks, which load torch (those came first and took seconds)."""
    import subprocess
    import sys

    code = ("import sys; from pixinwav.data.audio import Audio, read_audio; from pixinwav.identify import identify\n"
            f"a = read_audio({str(FIXTURES / fixture)!r})\n"
            f"print(identify(Audio(a.samples[{trim}:], a.sample_rate), 'fixture'), 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.stdout.split() == [expected, "False"], out.stderr[-2000:]


def test_the_checks_answer_in_their_order_two_at_a_time_and_the_later_searches_are_told_to_stop():
    import threading
    import time

    from pixinwav.identify import first_answer

    started, cancel = [], threading.Event()

    def check(name, seconds, answer):
        def run():
            started.append(name)
            time.sleep(seconds)
            return answer
        return run

    # the second answers first, but the first is first in the order
    assert first_answer([check("a", 0.3, "first"), check("b", 0.0, "second"), check("c", 0.0, None)], cancel) == "first"
    assert cancel.is_set() and "c" not in started  # (two at a time: the first unanswered and the one after it)
    started.clear()
    assert first_answer([check("a", 0.0, None), check("b", 0.1, "second"), check("c", 0.0, "third")],
                        threading.Event()) == "second"
    assert first_answer([check("a", 0.0, None)], threading.Event()) is None


def test_a_trimmed_earlier_default_file_is_searched_once_by_the_default_and_revealed_by_its_own_model(tmp_path, monkeypatch):
    """A trimmed adaptive-v3 file: the default's (adaptive-v5's) search finds its window, v3's pilots read it best, and
    v3's reveal starts from that window instead of searching again (1.2 s on a 3-minute song)."""
    from pixinwav.models.adaptive_song import AdaptiveSongStego

    audio, rate = sf.read(FIXTURES / "adaptive-v3-file.flac", dtype="int16")
    path, got = tmp_path / "trimmed.wav", tmp_path / "got.jpg"
    sf.write(path, audio[12_345:], rate, subtype="PCM_16")
    searched = []
    strip = AdaptiveSongStego._search_strip
    monkeypatch.setattr(AdaptiveSongStego, "_search_strip",
                        lambda self, mono, key, stretch, *rest: searched.append(self.cfg.adaptive.level_measure)
                        or strip(self, mono, key, stretch, *rest))
    assert main(["reveal", str(path), "-o", str(got), "--key", "fixture"]) == 0
    assert got.read_bytes() == (FIXTURES / "modulo-v2-file.jpg").read_bytes()
    assert searched and set(searched) == {"past-magnitude"}


def test_reveal_without_model_of_plain_audio_searches_each_stretch_once(tmp_path, monkeypatch):
    """identify searches the default model's loudest stretch, then the rest; the reveal that follows reads their
    answers (0.2.15 searched the first stretch twice, and every stretch again where the default reads the file). The
    earlier default (adaptive-v3), whose windows the default's search finds, searches nothing."""
    from pixinwav.models.adaptive_song import AdaptiveSongStego

    path = tmp_path / "plain.wav"
    sf.write(path, music(8.0, 44100, seed=5, channels=2), 44100, subtype="PCM_16")
    searched = []
    strip = AdaptiveSongStego._search_strip
    monkeypatch.setattr(AdaptiveSongStego, "_search_strip",
                        lambda self, mono, key, stretch, *rest: searched.append((self.cfg.adaptive.level_measure, stretch))
                        or strip(self, mono, key, stretch, *rest))
    assert main(["reveal", str(path), "-o", str(tmp_path / "out.png")]) == 1
    assert len(searched) >= 2 and sorted(searched) == sorted(set(searched))
    assert {measure for measure, _ in searched} == {"past-magnitude"}
    assert not (tmp_path / "out.png").exists()


def test_a_model_named_by_marks_that_then_reads_nothing_says_they_can_match_by_chance(tmp_path, capsys, monkeypatch):
    """A clean 2.4-minute validation song matched robust-v2's frame grid and its reveal read nothing: the error says
    so (one line, exit 1, nothing written) instead of leaving the named model's marks standing as a fact."""
    import pixinwav.identify

    song = tmp_path / "plain.wav"
    sf.write(song, music(50.0, 44100, seed=9, channels=2), 44100, subtype="PCM_16")
    monkeypatch.setattr(pixinwav.identify, "identify", lambda *args: "pixinwav-robust-v2")
    assert main(["reveal", str(song), "-o", str(tmp_path / "got.png")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith("the file carries pixinwav-robust-v2's marks") and len(err) == 2
    assert err[1].startswith("pixinwav: error: no hidden image found") and "can match them by chance" in err[1]
    assert not (tmp_path / "got.png").exists()


def test_chance_pieces_of_a_stretched_grid_in_plain_music_name_no_model(monkeypatch):
    """A clean WarMUX song (`Apnee2`, 2.4 minutes) had 10.8 % of its loudest chunks in pieces of robust-v2's grid,
    where 10 % count as a stretched stego: identify named robust-v2, whose reveal then read no layout header. Pieces
    with no header behind them name no model now; the same measurement is made here on plain music."""
    from pixinwav.robust import tempo

    monkeypatch.setattr(robust, "_LOCATIONS", {})
    monkeypatch.setattr(tempo, "share_in_pieces", lambda *args, **kwargs: 0.108)
    from pixinwav.data.audio import resample

    plain = Audio(music(50.0, 44100, seed=9, channels=2), 44100)
    model = load_model("pixinwav-robust-v2").model
    wave = resample(plain.samples.mean(axis=1), 44100, model.cfg.sample_rate).astype("float64")
    assert model.locate(wave, None).stretched and model.format_at(wave, None) is None  # pieces, no header
    assert identify(plain, None) == loader.DEFAULT_MODEL
