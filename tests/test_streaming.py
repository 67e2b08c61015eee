"""Window models on files read a region, not the file: same stego bits as the in-memory path at the model's
rate, a working reveal at other rates, and --offset auto walking the file in blocks."""
import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from helpers import music, photo
from pixinwav import PixinwavError, load_model
from pixinwav.channel import to_pcm16
from pixinwav.data.audio import read_audio
from pixinwav.window_placement import BLOCK


@pytest.mark.parametrize("rate", [44100, 48000])
def test_region_hide_matches_the_whole_file_and_reveals(tmp_path, paper_modulo_file, rate):
    model = load_model(paper_modulo_file)
    Image.fromarray(photo("coffee")).save(tmp_path / "c.png")
    cover = music(14.0, rate, seed=2, channels=2)  # longer than one block: the copy crosses block edges
    assert len(cover) > BLOCK
    sf.write(tmp_path / "cover.wav", cover, rate, subtype="PCM_16")
    report, facts = model.hide_path(tmp_path / "c.png", tmp_path / "cover.wav", tmp_path / "s.wav", offset=9.5)
    assert facts == {"rate": rate, "channels": 2, "seconds": pytest.approx(14.0)} and report.window[0] == 9.5
    streamed = sf.read(tmp_path / "s.wav", dtype="int16")[0].astype(int)
    in_memory, _ = model.hide(tmp_path / "c.png", read_audio(tmp_path / "cover.wav").samples, rate, offset=9.5)
    difference = np.abs(streamed - to_pcm16(in_memory).astype(int))
    assert difference.max() <= (0 if rate == 44100 else 2)  # resampling a region: at most a rounding step or two
    for offset in (9.5, "auto"):
        found = model.reveal_path(tmp_path / "s.wav", offset=offset)
        assert "window at 9.500000 s" in found.detail and found.verdict == "intact"
        assert found.image.shape == (3, 256, 256)


def test_region_reads_refuse_what_the_whole_file_path_refuses(tmp_path, paper_modulo_file):
    model = load_model(paper_modulo_file)
    sf.write(tmp_path / "short.wav", music(1.0, 44100, seed=3), 44100, subtype="PCM_16")
    with pytest.raises(PixinwavError, match="the model needs"):
        model.reveal_path(tmp_path / "short.wav")
    sf.write(tmp_path / "plain.wav", music(5.0, 44100, seed=3), 44100, subtype="PCM_16")
    with pytest.raises(PixinwavError, match="no hidden image found"):
        model.reveal_path(tmp_path / "plain.wav", offset="auto")
    with pytest.raises(PixinwavError, match="starting at 4"):
        model.reveal_path(tmp_path / "plain.wav", offset=4.0)


def test_scan_skips_silence_instead_of_choosing_it(paper_modulo_file):
    """A silent window has no pilots (0 / 0 in the gain fit): it must score 0, not NaN, or argmax picks it."""
    model = load_model(paper_modulo_file)
    cover = music(4.0, 44100, seed=4)
    stego, _ = model.hide(Image.fromarray(photo("rocket")), cover, 44100, offset=1.0)
    padded = np.concatenate([stego[:, 0], np.zeros(3 * 44100, np.float32)])
    image, found = model.reveal_with_report(padded, 44100, offset="auto")
    assert "window at 1.000000 s" in found
