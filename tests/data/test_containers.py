"""Audio as people receive it: M4A / AAC from phones and messaging apps, WebM and Opus from the web, read through
FFmpeg (PyAV) where libsndfile cannot, with the codec's delay handled where the container records it."""
import subprocess
import sys

import av
import numpy as np
import pytest
import soundfile as sf

from helpers import music, photo
from pixinwav.data.audio import read_audio
from pixinwav.errors import PixinwavError

RATE = 44100


def encode(path, audio: np.ndarray, rate: int, codec: str, container: str, kbps: int = 128) -> None:
    """``audio [T, 2]`` through a real encoder into a real container file."""
    with av.open(str(path), "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.bit_rate, stream.layout = kbps * 1000, "stereo"
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(audio.T, dtype=np.float32), format="fltp", layout="stereo")
        frame.rate = rate
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)


def lag(got: np.ndarray, ref: np.ndarray) -> int:
    """Samples by which ``got`` comes late against ``ref`` (cross-correlation of a noise segment)."""
    seg = ref[20000:40000]
    scores = [float(np.dot(got[20000 + d:40000 + d], seg)) for d in range(-3000, 3000)]
    return int(np.argmax(scores)) - 3000


@pytest.fixture(scope="module")
def noise():
    """Noise under 4 kHz: every codec keeps its waveform, so the decoded file lines up with it sample for sample."""
    from scipy.signal import butter, sosfilt

    raw = np.random.default_rng(0).normal(0, 0.2, (3 * 48000, 2))
    return sosfilt(butter(8, 4000, fs=48000, output="sos"), raw, axis=0).astype(np.float32)


@pytest.mark.parametrize("suffix, codec, container, rate", [
    ("m4a", "aac", "mp4", RATE), ("aac", "aac", "adts", RATE), ("webm", "libopus", "webm", 48000),
    ("opus", "libopus", "ogg", 48000)])
def test_containers_libsndfile_cannot_read_are_decoded_by_ffmpeg(tmp_path, noise, suffix, codec, container, rate):
    path = tmp_path / f"song.{suffix}"
    encode(path, noise, rate, codec, container)
    audio = read_audio(path)
    assert audio.decoder.startswith("FFmpeg") and audio.sample_rate == rate and audio.channels == 2
    late = lag(audio.samples[:, 0], noise[:, 0])
    # Opus records its pre-skip and FFmpeg applies it (libsndfile read Ogg Opus 312 samples late); AAC: at most
    # the encoder's priming, which a container without an edit list does not record
    assert late == 0 if codec == "libopus" else 0 <= late <= 2112
    got = audio.samples[late:late + len(noise), 0]
    assert np.corrcoef(got, noise[: len(got), 0])[0, 1] > 0.9  # the same audio, not merely some sound


def test_a_robust_stego_revealed_from_an_m4a_as_a_phone_would_send_it(tmp_path):
    from PIL import Image

    from pixinwav.api import load_model

    model = load_model("pixinwav-robust-v1")
    stego, _ = model.hide(Image.fromarray(photo("chelsea")), music(20.0, RATE, seed=2, channels=2), RATE)
    encode(tmp_path / "voice.m4a", stego, RATE, "aac", "mp4")
    out = tmp_path / "back.png"
    done = subprocess.run([sys.executable, "-m", "pixinwav", "reveal", str(tmp_path / "voice.m4a"), "-o", str(out),
                           "--model", "pixinwav-robust-v1"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert Image.open(out).size == (256, 256)
    info = subprocess.run([sys.executable, "-m", "pixinwav", "info", str(tmp_path / "voice.m4a")], capture_output=True,
                          text=True)
    assert '"decoder": "FFmpeg aac"' in info.stdout


def test_a_container_without_sound_and_a_fake_m4a_are_one_line_errors(tmp_path):
    video = tmp_path / "clip.mp4"
    with av.open(str(video), "w") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width = stream.height = 32
        for i in range(5):
            frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), i * 40, np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    with pytest.raises(PixinwavError, match="no audio stream in it"):
        read_audio(video)
    fake = tmp_path / "song.m4a"
    fake.write_bytes(np.random.default_rng(1).bytes(5000))
    with pytest.raises(PixinwavError, match="not a readable audio file"):
        read_audio(fake)
    sf.write(tmp_path / "empty.wav", np.zeros((0, 2), np.float32), RATE)
    with pytest.raises(PixinwavError, match="no audio samples"):
        read_audio(tmp_path / "empty.wav")
