"""pixinwav-modulo-v2 carrying a file bit-exact: fountain-code packets in the song's loud windows, through real
16-bit files, found without an offset, exact or refused."""
# ruff: noqa: F811 (the song model's fixtures come from test_song.py: pytest injects them by name)
import numpy as np
import pytest
import soundfile as sf

from pixinwav.api import HiddenFile, load_model
from pixinwav.channel import pcm16_round_trip
from pixinwav.cli import main
from pixinwav.errors import PixinwavError
from test_song import RATE, cover, model  # noqa: F401 (the song model and its 16 s cover of 10 windows)


@pytest.fixture(scope="module")
def secret():
    return HiddenFile("notes.bin", np.random.default_rng(5).bytes(40_000))  # 3 windows of 15,272 bytes


@pytest.fixture(scope="module")
def stego(model, cover, secret, tmp_path_factory):
    audio, report = model.hide_file(secret, cover, RATE, key="k")
    path = tmp_path_factory.mktemp("song") / "stego.wav"
    sf.write(path, audio, RATE, subtype="PCM_16")
    return sf.read(path, dtype="float32")[0], report


def test_a_file_comes_back_bit_exact_through_a_16_bit_file(model, stego, secret):
    audio, report = stego
    p = report.payload
    assert p.kind == "file" and p.bytes == 40_000 and p.needed == 3 and p.packets == 5  # 2 spare
    assert report.snr_db > 40
    found = model.reveal_payload(audio, RATE, key="k")
    assert found.file == secret and found.image is None and "passed its checksum" in found.detail and found.verdict == "exact"
    with pytest.raises(PixinwavError, match="carries a file"):  # the image API says what it holds instead
        model.reveal(audio, RATE, key="k")
    with pytest.raises(PixinwavError, match="no hidden image found"):
        model.reveal_payload(audio, RATE, key="another")


def test_spare_windows_replace_lost_ones_and_too_many_lost_is_an_error_not_a_guess(model, stego, secret):
    audio, report = stego
    starts = [int(round(s * RATE)) for s in report.payload.starts]
    window = model.cfg.clip_samples
    damaged = audio.copy()
    for s in starts[:2]:  # two windows drowned in noise: the two spare packets stand in for them
        damaged[s + 5000:s + 6000] += np.random.default_rng(1).normal(0, 0.05, (1000, 2)).astype(np.float32)
    assert model.reveal_payload(pcm16_round_trip(damaged), RATE, key="k").file == secret
    gone = pcm16_round_trip(audio[starts[2] + window // 2:])  # a cut start takes the first three windows
    with pytest.raises(PixinwavError, match=r"cannot be rebuilt: 2 of 5 windows"):
        model.reveal_payload(gone, RATE, key="k")


def test_a_file_larger_than_the_song_is_refused_with_what_it_carries(model, cover):
    big = np.random.default_rng(3).bytes(200_000)  # (random bytes: no packing makes them smaller)
    with pytest.raises(PixinwavError, match=r"the file is 200,000 bytes; this song carries at most 152,\d{3}"):
        model.hide_file(HiddenFile("big.bin", big), cover, RATE)
    hexed = np.random.default_rng(4).bytes(200_000).hex().encode()  # 400 kB of text, 4 bits a character
    with pytest.raises(PixinwavError, match=r"the file is 400,000 bytes \(sent as 2\d\d,\d{3} bytes, compressed by "
                                            r"LZMA\); this song carries at most 152,\d{3}"):
        model.hide_file(HiddenFile("big.txt", hexed), cover, RATE)
    with pytest.raises(PixinwavError, match="carries images only"):
        load_model("pixinwav-modulo-v1").hide_file(HiddenFile("a", b"x"), cover, RATE)


def test_a_file_too_large_as_it_is_fits_packed_and_comes_back_exact(model, cover):
    text = HiddenFile("notes.txt", np.random.default_rng(6).bytes(100_000).hex().encode())  # 200 kB: 1.3x the room
    audio, report = model.hide_file(text, cover, RATE, key="k")
    assert report.payload.bytes == 200_000 and "sent as 10" in report.payload.describe()
    found = model.reveal_payload(pcm16_round_trip(audio), RATE, key="k").file
    assert found.data == text.data and found.name == "notes.txt" and found.packed[0] == "xz"


def test_cli_hides_and_reveals_a_file_exactly_and_refuses_it_for_image_models(cover, tmp_path, capsys):
    song, secret, out, back = tmp_path / "song.flac", tmp_path / "photo.jpg", tmp_path / "s.wav", tmp_path / "got.jpg"
    sf.write(song, cover, RATE, subtype="PCM_16")
    secret.write_bytes(np.random.default_rng(2).bytes(20_000))
    assert main(["capacity", str(song), "--model", "pixinwav-modulo-v2", "--file", str(secret)]) == 0
    said = capsys.readouterr().out
    assert "or a file of up to 152," in said and "needs 2 windows" in said and "it fits" in said
    assert main(["hide", "--file", str(secret), "--cover", str(song), "-o", str(out), "--model", "pixinwav-modulo-v2"]) == 0
    assert "the file photo.jpg (20,000 bytes, exact) in 4 packets, 2 needed" in capsys.readouterr().out
    assert main(["reveal", str(out), "-o", str(back), "--model", "pixinwav-modulo-v2"]) == 0
    assert back.read_bytes() == secret.read_bytes()
    assert main(["reveal", str(out), "-o", str(tmp_path / "nomodel.jpg")]) == 0  # no --model: the marks are found
    assert "carries pixinwav-modulo-v2's marks" in capsys.readouterr().err
    assert (tmp_path / "nomodel.jpg").read_bytes() == secret.read_bytes()
    assert main(["reveal", str(song), "-o", str(tmp_path / "plain.png")]) == 1  # plain audio: the default's refusal
    assert "no hidden image found" in capsys.readouterr().err
    assert main(["reveal", str(out), "-o", str(tmp_path / "got.png"), "--model", "pixinwav-modulo-v2"]) == 0
    captured = capsys.readouterr()
    assert "named 'photo.jpg'" in captured.err and (tmp_path / "got.png").read_bytes() == secret.read_bytes()
    for argv, message in ((["--file", str(secret), "--model", "pixinwav-modulo-v1"], "--file needs a model that carries files"),
                          (["--file", str(tmp_path / "none.bin"), "--model", "pixinwav-modulo-v2"], "file to hide not found"),
                          (["--file", str(tmp_path), "--model", "pixinwav-modulo-v2"], "not a regular file")):
        assert main(["hide", *argv, "--cover", str(song), "-o", str(tmp_path / "x.wav")]) == 1
        err = capsys.readouterr().err.strip()
        assert message in err and len(err.splitlines()) == 1
    (tmp_path / "empty.bin").write_bytes(b"")
    assert main(["hide", "--file", str(tmp_path / "empty.bin"), "--cover", str(song), "-o", str(tmp_path / "x.wav"),
                 "--model", "pixinwav-modulo-v2"]) == 1
    assert "is empty" in capsys.readouterr().err
    assert not (tmp_path / "x.wav").exists()


def test_a_file_written_by_this_release_keeps_revealing(model):
    """A committed stego (a 160 x 107 JPEG in one window and a spare): files of a released model keep revealing."""
    from pathlib import Path

    fixtures = Path(__file__).parents[1] / "fixtures"
    audio, rate = sf.read(fixtures / "modulo-v2-file.flac", dtype="float32")
    found = model.reveal_payload(audio, rate, key="fixture")
    assert found.file.name == "coffee.jpg" and found.file.data == (fixtures / "modulo-v2-file.jpg").read_bytes()
