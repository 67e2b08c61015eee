"""Every attack runs on real audio with one signature and does what its name says."""
import numpy as np
import pytest

from helpers import music
from pixinwav import metrics
from pixinwav.attacks import ATTACKS, apply, as_flag, describe, parse_attacks
from pixinwav.errors import PixinwavError

RATE = 44100


@pytest.fixture(scope="module")
def stereo():
    return music(2.0, RATE, seed=11, channels=2) * 0.8


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_every_attack_keeps_the_signature(stereo, name):
    out, rate = apply(name, stereo, RATE, ATTACKS[name].strengths[0], seed=0)
    assert out.dtype == np.float32 and out.ndim == 2 and np.isfinite(out).all()
    assert rate in (RATE, 48000) and abs(len(out) / rate - len(stereo) / RATE) <= 2.0


@pytest.mark.parametrize("name,strength", [("mp3", 128), ("aac", 128), ("opus", 64), ("vorbis", 128)])
def test_codecs_are_lossy_but_close(stereo, name, strength):
    out, rate = apply(name, stereo, RATE, strength, seed=0)
    assert out.shape[1] == 2
    n = min(len(out), len(stereo)) - 5000
    a = stereo[:n, 0]
    best = max(np.corrcoef(a, out[d:d + n, 0])[0, 1] for d in range(0, 3000, 1)) if rate == RATE else 1.0
    assert best > 0.9  # the same music, somewhere within the codec's delay
    assert not np.array_equal(out[: len(stereo)], stereo[: len(out)])


def test_noise_hits_its_snr_and_gain_its_level(stereo):
    noisy, _ = apply("white_noise", stereo, RATE, 20.0, seed=1)
    assert metrics.snr(stereo, noisy) == pytest.approx(20.0, abs=0.3)
    pink, _ = apply("pink_noise", stereo, RATE, 30.0, seed=1)
    assert metrics.snr(stereo, pink) == pytest.approx(30.0, abs=0.3)
    louder, _ = apply("gain", stereo, RATE, 6.0, seed=0)
    assert np.abs(louder).max() <= 1.0


def test_trim_speed_and_shape_changes(stereo):
    cut, _ = apply("trim_start", stereo, RATE, 0.5, seed=3)
    assert 0 < len(stereo) - len(cut) <= RATE // 2 and np.array_equal(cut, stereo[len(stereo) - len(cut):])
    fast, _ = apply("speed", stereo, RATE, 1.0, seed=0)
    assert len(fast) == pytest.approx(len(stereo) / 1.01, abs=2)
    assert apply("mono", stereo, RATE, 0, seed=0)[0].shape[1] == 1
    assert len(apply("append_silence", stereo, RATE, 1.0, seed=0)[0]) == len(stereo) + RATE
    assert len(np.unique(apply("quantise", stereo, RATE, 8, seed=0)[0])) <= 256


def test_unknown_attack_is_one_line():
    with pytest.raises(PixinwavError, match="unknown attack"):
        apply("vinyl", np.zeros((10, 1), np.float32), RATE, 1.0)


def test_a_chain_runs_its_steps_in_turn(stereo):
    chained, rate = apply("speed:2+gain:-6", stereo, RATE, 0.0, seed=0)
    fast, fast_rate = apply("speed", stereo, RATE, 2.0, seed=0)
    quieter, _ = apply("gain", fast, fast_rate, -6.0, seed=0)
    assert rate == fast_rate and np.array_equal(chained, quieter)
    assert len(chained) < len(stereo) * 0.99  # sped up: shorter
    assert describe("speed:2+gain:-6", 0.0) == "speed 2 % + gain -6 dB"
    assert parse_attacks("mp3:128,speed:1+mp3:128") == [("mp3", 128.0), ("speed:1+mp3:128", 0.0)]
    for bad in ("speed:1+warp:2", "speed:1+mp3"):
        with pytest.raises(PixinwavError, match="warp|NAME:STRENGTH"):
            parse_attacks(bad)


@pytest.mark.parametrize("codec,container,rate", [("aac", "adts", 44100), ("libmp3lame", "mp3", 44100),
                                                  ("libopus", "ogg", 48000)])
def test_a_song_handed_to_an_encoder_in_pieces_codes_as_one_frame(codec, container, rate, monkeypatch):
    """The codec attacks hand FFmpeg 65,536 samples at a time (fewer copies of a whole song); the encoder's own
    buffer cuts its frames, so the decoded audio is exactly that of the song handed over as one frame."""
    from pixinwav import attacks

    audio = music(4.0, rate, seed=3, channels=2)
    pieces, _ = attacks._codec(codec, container, audio, rate, 64)
    monkeypatch.setattr(attacks, "ENCODE_FRAME", len(audio))
    whole, _ = attacks._codec(codec, container, audio, rate, 64)
    assert pieces.shape == whole.shape and np.array_equal(pieces, whole)


def test_as_flag_writes_attacks_back_as_parse_attacks_reads_them():
    attacks = parse_attacks("tempo:-1,aac:64,speed:1+mp3:128,white_noise:29.5")
    assert as_flag(attacks) == "tempo:-1,aac:64,speed:1+mp3:128,white_noise:29.5"
    assert parse_attacks(as_flag(attacks)) == attacks
