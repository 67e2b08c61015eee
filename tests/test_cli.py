"""The commands end to end on real files, and every bad input: a one-line error, exit code 1, inputs intact."""
import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from PIL import Image
from safetensors.numpy import save_file

from helpers import music, photo
from pixinwav.cli import main


def run(*args):
    return subprocess.run([sys.executable, "-m", "pixinwav", *map(str, args)], capture_output=True, text=True)


@pytest.fixture()
def files(tmp_path):
    Image.fromarray(photo("chelsea")).save(tmp_path / "cat.png")
    sf.write(tmp_path / "cover.wav", music(3.0, 48000, seed=5, channels=2), 48000, subtype="PCM_16")
    return tmp_path


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_hide_reveal_round_trip_keeps_the_cover_format(files, tiny_model_file):
    before = {p.name: digest(p) for p in files.iterdir()}
    r = run("hide", "--image", files / "cat.png", "--cover", files / "cover.wav", "-o", files / "stego.wav",
            "--model", tiny_model_file, "--offset", "1.0")
    assert r.returncode == 0, r.stderr
    assert "SNR" in r.stdout
    cover, stego = sf.read(files / "cover.wav"), sf.read(files / "stego.wav")
    assert stego[1] == 48000 and stego[0].shape == cover[0].shape and sf.info(files / "stego.wav").subtype == "PCM_16"
    changed = np.flatnonzero(np.any(stego[0] != cover[0], axis=1))
    assert changed.min() >= int(0.9 * 48000) and changed.max() <= int(1.2 * 48000)  # 2,288 samples at 1.0 s (+ resampler tail)
    r = run("reveal", files / "stego.wav", "-o", files / "out.png", "--model", tiny_model_file, "--offset", "1.0")
    assert r.returncode == 0, r.stderr
    assert Image.open(files / "out.png").size == (32, 32)
    assert {p.name: digest(p) for p in files.iterdir() if p.name in before} == before


def test_flac_output_and_info(files, tiny_model_file, capsys):
    assert main(["hide", "--image", str(files / "cat.png"), "--cover", str(files / "cover.wav"),
                 "-o", str(files / "s.flac"), "--model", str(tiny_model_file)]) == 0
    assert sf.info(files / "s.flac").format == "FLAC"
    capsys.readouterr()
    assert main(["info", str(files / "s.flac")]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["sample_rate"] == 48000 and facts["channels"] == 2
    assert main(["info", str(tiny_model_file)]) == 0
    card = json.loads(capsys.readouterr().out)
    assert card["config"]["preset"] == "tiny-rgb" and card["parameters"] == 15_504 and card["card"]["name"] == "untrained tiny"
    assert card["carries"] == {"image": "32 x 32 x 3", "audio_seconds": 0.0519, "sample_rate": 44100, "top_frequency_hz": 22050}


def bad_cases(d, model):
    """(description, argv, expected words in the error)."""
    Image.fromarray(photo("chelsea")).save(d / "cat.png")
    sf.write(d / "cover.wav", music(2.0, 44100, seed=1), 44100)
    (d / "corrupt.wav").write_bytes(b"RIFF\x00\x01\x00\x00WAVEjunkjunkjunk" * 10)
    (d / "empty.wav").write_bytes(b"")
    sf.write(d / "noframes.wav", np.zeros((0, 1), np.float32), 44100)
    sf.write(d / "silent.wav", np.zeros(44100, np.float32), 44100)
    sf.write(d / "short.wav", music(0.02, 44100, seed=2), 44100)
    (d / "text.png").write_text("hello")
    Image.new("RGB", (1, 1)).save(d / "dot.png")
    Image.new("1", (12000, 12000)).save(d / "bomb.png")
    (d / "corrupt.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}" + b"0" * 100)
    save_file({"model/x": np.zeros(3, np.float32)}, str(d / "foreign.safetensors"))
    save_file({"model/x": np.zeros(3, np.float32)}, str(d / "future.safetensors"),
              metadata={"format": "pixinwav", "format_version": "99"})
    from pixinwav.checkpoint import read_file
    tensors, meta = read_file(model)
    tensors["model/reveal_net.downs.0.conv.0.weight"] = np.zeros((5, 1, 3, 3), np.float32)
    save_file(tensors, str(d / "mismatch.safetensors"),
              metadata={"format": "pixinwav", "format_version": "1", **{k: json.dumps(v) for k, v in meta.items()}})
    (d / "exists.wav").write_bytes(b"mine")
    (d / "afile").write_text("x")
    hide = lambda **kw: ["hide", "--image", kw.get("image", d / "cat.png"), "--cover", kw.get("cover", d / "cover.wav"),
                         "-o", kw.get("out", d / "o.wav"), "--model", kw.get("model", model)]
    return [
        ("corrupt audio", hide(cover=d / "corrupt.wav"), "not a readable audio file"),
        ("empty audio", hide(cover=d / "empty.wav"), "not a readable audio file"),
        ("no samples", hide(cover=d / "noframes.wav"), "no audio samples"),
        ("silent cover", hide(cover=d / "silent.wav"), "silent"),
        ("short cover", hide(cover=d / "short.wav"), "the model needs"),
        ("negative offset", hide() + ["--offset", "-1"], "offset"),
        ("offset past the end", hide() + ["--offset", "1.99"], "starting at 1.99"),
        ("non-image", hide(image=d / "text.png"), "not an image"),
        ("1 x 1 image", hide(image=d / "dot.png"), "1 x 1 pixels"),
        ("huge image", hide(image=d / "bomb.png"), "pixel"),
        ("audio as image", hide(image=d / "cover.wav"), "not an image"),
        ("image as audio", hide(cover=d / "cat.png"), "an image, not audio"),
        ("missing model", hide(model=d / "nope.safetensors"), "no model file"),
        ("corrupt model", hide(model=d / "corrupt.safetensors"), "not a readable model file"),
        ("foreign model", hide(model=d / "foreign.safetensors"), "not a pixinwav model"),
        ("future model", hide(model=d / "future.safetensors"), "format version 99"),
        ("mismatched model", hide(model=d / "mismatch.safetensors"), "has shape"),
        ("existing output", hide(out=d / "exists.wav"), "exists; pass --force"),
        ("missing folder", hide(out=d / "nowhere" / "o.wav"), "output folder does not exist"),
        ("folder is a file", hide(out=d / "afile" / "o.wav"), "output folder does not exist"),
        ("unwritable folder", hide(out="/proc/o.wav"), "not writable"),
        ("missing image", hide(image=d / "none.png"), "image file not found"),
        ("reveal from image", ["reveal", d / "cat.png", "-o", d / "r.png", "--model", model], "an image, not audio"),
        ("reveal existing", ["reveal", d / "cover.wav", "-o", d / "cat.png", "--model", model], "exists; pass --force"),
        ("reveal missing", ["reveal", d / "none.wav", "-o", d / "r.png", "--model", model], "audio file not found"),
        ("reveal a folder", ["reveal", d, "-o", d / "r.png", "--model", model], "got a folder"),
        ("missing cover", hide(cover=d / "none.wav"), "audio file not found"),
        ("info of nonsense", ["info", d / "text.png"], "not a readable audio file"),
        ("bad config key", ["train", "train.nonsense=1"], "unknown config key"),
    ]


def test_bad_inputs_one_line_errors(tmp_path, tiny_model_file, capsys):
    cases = bad_cases(tmp_path, tiny_model_file)
    before = {p.name: digest(p) for p in tmp_path.iterdir() if p.is_file()}
    for name, argv, words in cases:
        code = main([str(a) for a in argv])
        err = capsys.readouterr().err
        assert code == 1, name
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("pixinwav: error:"), (name, err)
        assert words in lines[0], (name, lines[0])
    # through the installed console entry point too: the exit status reaches the shell
    for name, argv, words in cases[:3]:
        r = run(*argv)
        assert r.returncode == 1 and words in r.stderr and len(r.stderr.strip().splitlines()) == 1, (name, r.stderr)
    after = {p.name: digest(p) for p in tmp_path.iterdir() if p.is_file() and p.name in before}
    assert after == before  # no input was modified, no existing output overwritten
    assert not (tmp_path / "o.wav").exists()


def test_force_overwrites(files, tiny_model_file):
    (files / "out.wav").write_bytes(b"old")
    r = run("hide", "--image", files / "cat.png", "--cover", files / "cover.wav", "-o", files / "out.wav",
            "--model", tiny_model_file, "--force")
    assert r.returncode == 0, r.stderr
    assert sf.info(files / "out.wav").frames == 3 * 48000


def test_help_lists_commands():
    r = run("--help")
    assert r.returncode == 0
    for verb in ("hide", "reveal", "train", "info"):
        assert verb in r.stdout


def test_eval_writes_rows_and_summary(tmp_path, image_dir, audio_dir, tiny_model_file, capsys):
    out = tmp_path / "rows.csv"
    assert main(["eval", "--model", str(tiny_model_file), "--images", str(image_dir), "--audio", str(audio_dir),
                 "--n", "3", "-o", str(out), "--figure", str(tmp_path / "pairs.png")]) == 0
    assert Image.open(tmp_path / "pairs.png").format == "PNG"
    text = capsys.readouterr().out
    assert "| image/ssim |" in text and "| audio/snr |" in text and "revealed intact: " in text
    import csv

    rows = list(csv.DictReader(out.open()))  # the one evaluation loop's rows: `eval --attacks` writes the same columns
    assert len(rows) == 3 and [r["pair"] for r in rows] == ["0", "1", "2"] and {r["attack"] for r in rows} == {"none"}
    assert all(r["sent"] == "32 x 32" and 0 < float(r["image/ssim"]) <= 1 and r["recovered"] == "1" for r in rows)
    assert main(["eval", "--model", str(tiny_model_file), "--images", str(image_dir), "--audio", str(audio_dir),
                 "--n", "3", "-o", str(out)]) == 1  # no overwrite without --force


def test_modulo_model_through_the_commands_and_its_warnings(files, tiny_modulo_file, capsys):
    """A stereo 48 kHz cover: hide, reveal from the written file, compare; then a quiet, a clipping and a
    narrow-band cover each warn (and still write the file)."""
    from pixinwav import metrics
    from pixinwav.data.images import load_image

    model = ["--model", str(tiny_modulo_file), "--offset", "1.0"]
    hide = ["hide", "--image", str(files / "cat.png"), "--cover", str(files / "cover.wav"), "-o", str(files / "s.wav")]
    assert main([*hide, *model]) == 0
    assert "warning" not in capsys.readouterr().err
    assert main(["reveal", str(files / "s.wav"), "-o", str(files / "out.png"), *model]) == 0
    capsys.readouterr()
    assert main(["info", str(tiny_modulo_file)]) == 0
    shown = json.loads(capsys.readouterr().out)
    carries = shown["carries"]
    assert set(shown["config"]) >= {"scheme", "frame", "modulo"} and not {"unet", "adaptive", "robust"} & set(shown["config"])
    used = carries["coefficients_sent"] + carries["pilots"]
    assert 300 < carries["coefficients_sent"] < 600 and carries["pilots"] == used // 64  # measured 431 + 6 pilots
    assert 0 < carries["top_frequency_hz"] < 8000
    secret, revealed = (load_image(files / name, 32, 3)[None] for name in ("cat.png", "out.png"))
    assert float(metrics.psnr(revealed, secret)[0]) > 20.0  # measured 26.3 dB (431 of 3,072 coefficients fit)

    loud = music(3.0, 44100, seed=6)
    sf.write(files / "quiet.wav", loud * 10 ** (-35 / 20), 44100, subtype="PCM_16")  # SNR 0-25 dB: a warning
    sf.write(files / "silentish.wav", loud * 10 ** (-50 / 20), 44100, subtype="PCM_16")  # the change over the music
    assert main(["hide", "--image", str(files / "cat.png"), "--cover", str(files / "silentish.wav"),
                 "-o", str(files / "s_silentish.wav"), *model]) == 1
    assert "louder than the music" in capsys.readouterr().err and not (files / "s_silentish.wav").exists()
    sf.write(files / "loud.wav", np.clip(loud * 8, -1, 32767 / 32768), 44100, subtype="PCM_16")  # brick-walled
    sf.write(files / "narrow.wav", music(3.0, 8000, seed=7), 8000, subtype="PCM_16")  # keeps < 4 kHz; codes go to 4.5
    for name, says in (("quiet", "quiet"), ("loud", "clipped"), ("narrow", "sample rate")):
        capsys.readouterr()
        assert main(["hide", "--image", str(files / "cat.png"), "--cover", str(files / f"{name}.wav"),
                     "-o", str(files / f"s_{name}.wav"), *model]) == 0
        out = capsys.readouterr()
        assert out.err.startswith("pixinwav: warning:") and says in out.err, out.out


def test_reveal_refuses_audio_without_an_image_there(files, paper_modulo_file, capsys):
    """The modulo model's pilots tell a stego window from a plain cover or a wrong offset: one-line error,
    exit 1, nothing written; --no-check writes whatever comes out."""
    model = ["--model", str(paper_modulo_file)]
    assert main(["hide", "--image", str(files / "cat.png"), "--cover", str(files / "cover.wav"), "-o", str(files / "s.wav"),
                 "--offset", "1.0", *model]) == 0
    for audio, offset in ((files / "cover.wav", "1.0"), (files / "s.wav", "0.5")):
        capsys.readouterr()
        assert main(["reveal", str(audio), "-o", str(files / "x.png"), "--offset", offset, *model]) == 1
        err = capsys.readouterr().err.strip()
        assert err.startswith("pixinwav: error: no hidden image found") and "\n" not in err
        assert not (files / "x.png").exists()
    assert main(["reveal", str(files / "s.wav"), "-o", str(files / "x.png"), "--offset", "1.0", *model]) == 0
    assert main(["reveal", str(files / "cover.wav"), "-o", str(files / "y.png"), "--offset", "1.0", "--no-check", *model]) == 0


def test_offset_auto_hides_in_the_loudest_window_and_finds_it_again(tmp_path, paper_modulo_file, tiny_model_file, capsys):
    """A 6 s cover, quiet except for 2-4.5 s: auto picks a window inside the loud part (on the 0.5 s grid), and
    reveal --offset auto finds it; a UNet model (no pilots) reveals at 0."""
    Image.fromarray(photo("coffee")).save(tmp_path / "coffee.png")
    loud = music(6.0, 44100, seed=8)
    loud[: 2 * 44100] *= 0.01
    loud[int(4.5 * 44100):] *= 0.01
    sf.write(tmp_path / "cover.wav", loud, 44100, subtype="PCM_16")
    model = ["--model", str(paper_modulo_file), "--offset", "auto"]
    assert main(["hide", "--image", str(tmp_path / "coffee.png"), "--cover", str(tmp_path / "cover.wav"),
                 "-o", str(tmp_path / "s.wav"), *model]) == 0
    chosen = float(capsys.readouterr().out.split("--offset auto chose ")[1].split(" s")[0])
    assert 2.0 <= chosen <= 3.0 and chosen * 2 == int(chosen * 2)  # the 1.53 s window fits in 2-4.5 s
    stego, _ = sf.read(tmp_path / "s.wav")
    changed = np.flatnonzero(stego != sf.read(tmp_path / "cover.wav")[0])
    assert changed.min() >= chosen * 44100 and changed.max() < (chosen + 1.54) * 44100
    assert main(["reveal", str(tmp_path / "s.wav"), "-o", str(tmp_path / "auto.png"), *model]) == 0
    assert main(["reveal", str(tmp_path / "s.wav"), "-o", str(tmp_path / "fixed.png"), "--model", str(paper_modulo_file),
                 "--offset", str(chosen)]) == 0
    assert np.array_equal(np.asarray(Image.open(tmp_path / "auto.png")), np.asarray(Image.open(tmp_path / "fixed.png")))
    assert main(["reveal", str(tmp_path / "cover.wav"), "-o", str(tmp_path / "none.png"), *model]) == 1
    assert "any multiple of 0.5 s" in capsys.readouterr().err
    assert main(["reveal", str(tmp_path / "cover.wav"), "-o", str(tmp_path / "unet.png"), "--offset", "auto",
                 "--model", str(tiny_model_file)]) == 1  # no pilots: it cannot find its window (it read at 0)
    assert "cannot find its window by itself" in capsys.readouterr().err
    for bad in ("soon", "nan", "inf"):
        with pytest.raises(SystemExit) as stop:  # argparse: usage and a one-line error
            main(["reveal", str(tmp_path / "s.wav"), "-o", str(tmp_path / "bad.png"), "--offset", bad])
        assert stop.value.code == 2 and "expected seconds (a finite number) or 'auto'" in capsys.readouterr().err


def test_key_on_the_command_line_or_in_the_environment(files, paper_modulo_file, tiny_model_file, monkeypatch, capsys):
    model = ["--model", str(paper_modulo_file)]
    assert main(["hide", "--image", str(files / "cat.png"), "--cover", str(files / "cover.wav"), "-o", str(files / "s.wav"),
                 "--key", "s3cret", *model]) == 0
    assert main(["reveal", str(files / "s.wav"), "-o", str(files / "a.png"), *model]) == 1
    assert "another --key" in capsys.readouterr().err
    monkeypatch.setenv("PIXINWAV_KEY", "s3cret")
    assert main(["reveal", str(files / "s.wav"), "-o", str(files / "b.png"), *model]) == 0
    assert main(["reveal", str(files / "s.wav"), "-o", str(files / "c.png"), "--key", "other", *model]) == 1
    capsys.readouterr()
    assert main(["hide", "--image", str(files / "cat.png"), "--cover", str(files / "cover.wav"), "-o", str(files / "u.wav"),
                 "--model", str(tiny_model_file)]) == 1  # PIXINWAV_KEY is set and the UNet model takes none
    assert "takes no key" in capsys.readouterr().err


def test_eval_attacks_writes_table_rows_figure_and_false_finds(tmp_path, image_dir, audio_dir, capsys):
    out = tmp_path / "rows.csv"
    argv = ["eval", "--attacks", "none,gain:-6", "--models", "lsb1,qim", "--images", str(image_dir), "--audio",
            str(audio_dir), "--n", "2", "--seconds", "3", "--no-visqol", "--quiet", "-o", str(out), "--report",
            str(tmp_path / "t.md"), "--figure", str(tmp_path / "f.png"), "--clean", "3", "--clean-seconds", "2"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "| lsb1 | none | 0 16-bit WAV, nothing else | 100 % |" in text  # a bit-exact copy keeps LSBs
    assert "| lsb1 | gain | -6 dB | 0 % |" in text  # any change destroys them
    assert "an image was \"found\" in 0 of 3 clean 2 s windows" in text
    assert len(out.read_text().splitlines()) == 1 + 2 * 2 * 2 and Image.open(tmp_path / "f.png").format == "PNG"
    assert (tmp_path / "t.md").read_text().strip() == text.strip()
    assert main([*argv, "--attacks", "vinyl"]) == 1 and "unknown attack" in capsys.readouterr().err
