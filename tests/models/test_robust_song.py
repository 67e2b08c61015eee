"""pixinwav-robust-v2: the photo at its own aspect ratio (a base and a sharp layer) or a file, as fountain-code
packets over the whole song, through real 16-bit files and real codecs, found with no offset; exact, coarse with a
warning, or a one-line error."""
import re

import numpy as np
import pytest
import soundfile as sf
import torch
from PIL import Image

from helpers import music, photo
from pixinwav import PixinwavError, load_model, metrics
from pixinwav.api import HiddenFile
from pixinwav.attacks import apply
from pixinwav.channel import pcm16_round_trip
from pixinwav.cli import main
from pixinwav.data.audio import Audio
from pixinwav.identify import identify
from pixinwav.models import robust_song
from pixinwav.robust import layers

RATE = 44100


@pytest.fixture(scope="module")
def model():
    return load_model("pixinwav-robust-v2")


@pytest.fixture(scope="module")
def cover():
    return music(40.0, RATE, seed=11, channels=2)  # 19 segments of 2.05 s


@pytest.fixture(scope="module")
def hidden(model, cover):
    stego, report = model.hide(Image.fromarray(photo("coffee")), cover, RATE, key="k")  # 600 x 400
    return pcm16_round_trip(stego), report


def test_the_photo_keeps_its_aspect_and_comes_back_as_the_very_bytes_sent(model, hidden):
    stego, report = hidden
    p = report.payload
    assert p.kind == "photo" and p.codec == "AVIF" and p.units_used == 19
    assert abs(p.width / p.height - 1.5) < 0.02  # 600 x 400 keeps 3:2
    base, sharp = (p.base_needed, p.base_packets), (p.needed, p.packets)
    # every 3rd segment carries one of 4 base packets; the 12 others 8 distinct sharp packets (12 / 1.5), 7 of them
    # source packets and one spare, each sent once or twice
    assert base == (3, 4) and sharp[1] == 8 and sharp[0] <= 7
    found = model.reveal_payload(stego, RATE, key="k")
    assert found.image.shape == (3, p.height, p.width) and found.verdict == "exact"
    assert np.array_equal(found.image, np.clip(p.compressed, 0, 1))  # the AVIF that was sent, decoded
    assert float(metrics.ssim(found.image[None], p.sent[None])[0]) > 0.5  # about 850 bytes in 40 s


@pytest.mark.parametrize("attack,strength", [("mp3", 128), ("aac", 128), ("opus", 64), ("resample", 22050),
                                             ("trim_start", 1.0), ("gain", -6)])
def test_the_sharp_image_survives(model, hidden, attack, strength):
    stego, report = hidden
    attacked, rate = apply(attack, stego, RATE, strength, seed=1)
    found = model.reveal_payload(attacked, rate, key="k")
    assert np.array_equal(found.image, np.clip(report.payload.compressed, 0, 1)), found.detail


def test_robust_v3_sends_every_sharp_packet_once_under_its_own_code_and_survives_a_codec(cover):
    """robust-v3 (format 2): the base image as v2 sends it, the sharp image's packets under the irregular rate-0.225
    code, each once; the photo comes back as the bytes sent through AAC 128, and without --model the file is named."""
    v3 = load_model("pixinwav-robust-v3")
    stego, report = v3.hide(Image.fromarray(photo("coffee")), cover, RATE, key="k")
    p = report.payload
    # the same 19 segments: 7 carry the base (any 3 of its 4 packets), the other 12 as many distinct sharp packets
    assert (p.base_needed, p.base_packets, p.packets) == (3, 4, 12) and p.needed == 10
    assert v3.model.symbol_bytes == 56 and v3.model.format == 2
    aac, rate = apply("aac", pcm16_round_trip(stego), RATE, 128, seed=1)
    found = v3.reveal_payload(aac, rate, key="k")
    assert found.verdict == "exact" and np.array_equal(found.image, np.clip(p.compressed, 0, 1)), found.detail
    assert identify(Audio(aac, rate), "k") == "pixinwav-robust-v3"


def test_robust_v4_sends_v3s_packets_with_bare_av1_layers_and_either_reader_shows_the_photo(cover):
    """robust-v4 (format 3): v3's packets, the layers as AVIF without the container, the base in 4 of 5 packets;
    through AAC 128 the photo comes back as sent, with robust-v3's reader of this release too, and without --model
    the file is named."""
    v4 = load_model("pixinwav-robust-v4")
    stego, report = v4.hide(Image.fromarray(photo("coffee")), cover, RATE, key="k")
    p = report.payload
    assert (p.base_needed, p.base_packets, p.packets) == (4, 5, 12) and p.needed <= 10 and p.codec == "AV1"
    assert v4.model.symbol_bytes == 56 and v4.model.format == 3
    aac, rate = apply("aac", pcm16_round_trip(stego), RATE, 128, seed=1)
    for reader in (v4, load_model("pixinwav-robust-v3")):
        found = reader.reveal_payload(aac, rate, key="k")
        assert found.verdict == "exact" and np.array_equal(found.image, np.clip(p.compressed, 0, 1)), found.detail
    assert identify(Audio(aac, rate), "k") == "pixinwav-robust-v4"


def test_robust_v5_writes_v4s_packets_louder_and_every_reader_reads_it_at_the_level_its_format_names(cover):
    """robust-v5 (format 4): v4's packets with the change 9 dB under the song's level instead of 12 (3 dB less SNR);
    through AAC 128 the photo comes back as sent with its own reader and with robust-v4's, which finds the grid and
    the layout at its own level and reads the packets again at the level format 4 names; without --model the file
    is named."""
    v5, v4 = load_model("pixinwav-robust-v5"), load_model("pixinwav-robust-v4")
    stego, report = v5.hide(Image.fromarray(photo("coffee")), cover, RATE, key="k")
    quieter = v4.hide(Image.fromarray(photo("coffee")), cover, RATE, key="k")[1]
    assert v5.model.format == 4 and v5.model.symbol_bytes == v4.model.symbol_bytes
    assert 2.5 < quieter.snr_db - report.snr_db < 3.5
    p = report.payload
    aac, rate = apply("aac", pcm16_round_trip(stego), RATE, 128, seed=1)
    found = v5.reveal_payload(aac, rate, key="k")
    assert found.verdict == "exact" and np.array_equal(found.image, np.clip(p.compressed, 0, 1)), found.detail
    again = v4.reveal_payload(aac, rate, key="k")
    assert np.array_equal(again.image, found.image) and "read at -9 dB under the song's level" in again.detail
    assert identify(Audio(aac, rate), "k") == "pixinwav-robust-v5"


def test_each_robust_song_model_writes_the_format_that_names_it_at_that_formats_level():
    for format, name in robust_song.FORMAT_MODELS.items():
        scheme = load_model(name).model
        assert scheme.format == format and robust_song.FORMAT_LEVELS[format] == scheme.cfg.robust.change_db


@pytest.fixture(scope="module")
def song():
    return music(90.0, RATE, seed=12, channels=2)  # 43 segments


def test_hide_survive_sends_a_photo_that_comes_back_after_the_attack_it_names(song):
    """--survive white_noise:29: the sender reads its stego back through noise at 29 dB SNR (which leaves this song's
    full-size photo about two thirds of the packets it needs) and sends a smaller photo until it comes back; the file
    written does under other noise of that level, and the photo has fewer source packets (more spares) than the one
    sent without the check, which the same noise leaves as the base alone."""
    v4 = load_model("pixinwav-robust-v4")
    picture = Image.fromarray(photo("coffee"))
    stego, report = v4.hide(picture, song, RATE, key="k", survive="white_noise:29")
    p = report.payload
    assert p.survives.startswith("white_noise 29") and "tries)" in p.survives
    assert "checked: it comes back after white_noise 29" in p.describe()
    noisy, rate = apply("white_noise", pcm16_round_trip(stego), RATE, 29, seed=5)
    found = v4.reveal_payload(noisy, rate, key="k")
    assert found.verdict == "exact" and np.array_equal(found.image, np.clip(p.compressed, 0, 1)), found.detail
    plain_stego, plain = v4.hide(picture, song, RATE, key="k")
    assert p.needed < plain.payload.needed and p.packets == plain.payload.packets
    with pytest.raises(PixinwavError, match="too few of its packets arrived intact"):
        v4.reveal_payload(apply("white_noise", pcm16_round_trip(plain_stego), RATE, 29, seed=5)[0], RATE, key="k")


def test_hide_reads_a_photo_back_through_a_slower_tempo_unless_told_not_to(song):
    """Without --survive a robust song model reads its photo back through a 1 % slower tempo (pitch kept): this song's
    photo comes back, so the file is the one --survive none writes, and the report says it was checked. A file is not
    checked (it cannot be made smaller)."""
    v5 = load_model("pixinwav-robust-v5")
    picture = Image.fromarray(photo("coffee"))
    checked_stego, checked = v5.hide(picture, song, RATE, key="k")
    plain_stego, plain = v5.hide(picture, song, RATE, key="k", survive="none")
    assert checked.payload.survives == "tempo -1 % (pitch kept)" and plain.payload.survives is None
    assert "checked: it comes back after tempo -1 % (pitch kept)" in checked.payload.describe()
    # (the check puts its stego on the 16-bit grid, as the file holds it)
    assert np.array_equal(checked_stego, pcm16_round_trip(plain_stego)) and checked.warnings() == plain.warnings()
    _, sent = v5.hide_file(HiddenFile("a.txt", b"seventeen bytes!!"), song, RATE, key="k")
    assert sent.payload.survives is None and sent.payload.at_risk is None


def test_the_default_check_makes_a_photo_smaller_once_or_warns_but_never_refuses(song, monkeypatch):
    """The default check's mechanics, with white noise in place of the tempo change (this song loses no packet to
    that): noise at 29 dB leaves the full-size photo most of its packets, so one smaller photo is sent, which comes
    back; at 26 dB almost none arrive, so the full-size photo goes out with a warning that names what was lost and
    the flags that refuse instead or skip the check."""
    v4 = load_model("pixinwav-robust-v4")
    picture = Image.fromarray(photo("coffee"))
    _, plain = v4.hide(picture, song, RATE, key="k", survive="none")
    monkeypatch.setattr(v4.model, "checked_attacks", (("white_noise", 29),))
    _, smaller = v4.hide(picture, song, RATE, key="k")
    p = smaller.payload
    assert p.needed < plain.payload.needed and p.survives == "white_noise 29 dB SNR (2 tries)" and p.at_risk is None
    monkeypatch.setattr(v4.model, "checked_attacks", (("white_noise", 26),))
    _, risky = v4.hide(picture, song, RATE, key="k")
    p = risky.payload
    assert p.needed == plain.payload.needed and p.bytes == plain.payload.bytes and p.survives is None
    assert re.fullmatch(r"only \d+ % of the packets the sharp photo needs came back when the sender read its stego "
                        r"back after white_noise 26 dB SNR: .* \(hide --survive white_noise:26 refuses instead, "
                        r"--survive none skips the check\)", p.at_risk)
    assert p.at_risk in risky.warnings()


def test_cli_hide_warns_where_its_check_loses_packets_and_skips_it_with_survive_none(song, tmp_path, capsys,
                                                                                      monkeypatch):
    """The command line prints the default check's warning (here through noise at 26 dB, which robust-v4's photo in
    this song does not survive, in place of the tempo change it does) and still writes the stego; `--survive none` checks
    nothing and warns of nothing."""
    cover, secret = tmp_path / "song.flac", tmp_path / "photo.png"
    sf.write(cover, song, RATE, subtype="PCM_16")
    Image.fromarray(photo("coffee")).save(secret)
    monkeypatch.setattr(robust_song.RobustSongStego, "checked_attacks", (("white_noise", 26),))
    out = tmp_path / "s.wav"
    assert main(["hide", "--image", str(secret), "--cover", str(cover), "-o", str(out), "--model", "pixinwav-robust-v4"]) == 0
    said = capsys.readouterr()
    assert "pixinwav: warning: only " in said.err and "after white_noise 26 dB SNR" in said.err and out.exists()
    assert "checked: it comes back" not in said.out
    assert main(["hide", "--image", str(secret), "--cover", str(cover), "-o", str(tmp_path / "t.wav"),
                 "--model", "pixinwav-robust-v4", "--survive", "none"]) == 0
    said = capsys.readouterr()
    assert "only " not in said.err and "checked: it comes back" not in said.out


def test_hide_survive_refuses_a_file_that_does_not_come_back_and_an_unknown_attack(song):
    v4 = load_model("pixinwav-robust-v4")
    most = v4.capacity(song, RATE)["file_bytes"]  # every packet a source packet but one spare in ten
    secret = HiddenFile("notes.bin", np.random.default_rng(0).integers(0, 256, most - 16, dtype=np.uint8).tobytes())
    with pytest.raises(PixinwavError, match=r"the file does not come back after white_noise 29 .* in this song: \d+ % of "
                                            r"the packets it needs arrived; about [\d,]+ of its [\d,]+ bytes would.*"
                                            r"or --model pixinwav-robust-v5 \(the change 3 dB louder\)$"):
        v4.hide_file(secret, song, RATE, survive="white_noise:29")
    assert load_model("pixinwav-robust-v5").model.louder_advice == ""  # (the loudest has no louder one to name)
    with pytest.raises(PixinwavError, match="unknown attack 'nope'"):
        v4.hide(Image.fromarray(photo("coffee")), song, RATE, survive="nope:1")
    with pytest.raises(PixinwavError, match=r"--survive does not apply to this model \(pixinwav-robust-v5, v4, v3 or v2"):
        load_model("pixinwav-modulo-v2").hide(Image.fromarray(photo("coffee")), song, RATE, survive="aac:64")


@pytest.mark.parametrize("attack,strength,says", [("speed", 2.0, "the file plays 2.00 % fast: undone"),
                                                   ("speed", -1.0, "the file plays 1.00 % slow: undone"),
                                                   ("tempo", 1.0, "the tempo was changed (pitch kept)"),
                                                   ("tempo", 2.0, "the tempo was changed (pitch kept)"),
                                                   ("tempo", -1.0, "the tempo was changed (pitch kept)")])
def test_the_sharp_image_survives_speed_and_tempo_changes_and_says_what_was_undone(model, hidden, attack, strength,
                                                                                   says):
    stego, report = hidden
    attacked, rate = apply(attack, stego, RATE, strength, seed=1)
    found = model.reveal_payload(attacked, rate, key="k")
    assert np.array_equal(found.image, np.clip(report.payload.compressed, 0, 1)), found.detail
    assert says in found.detail


def test_a_stretched_file_whose_loudest_passages_are_unreadable_is_found_elsewhere(model, hidden, monkeypatch):
    """A loud, dense master can leave its loudest blocks unreadable to the quick test for a changed tempo (a training
    song at -1 %: 0-6 % of chunks in pieces there, 23 % over the file). Here three 2 s bursts of noise, louder than the
    music and drowning the change under them, are the loudest blocks of a file stretched by -1 %: the receiver, which
    finds no grid, tests blocks spread over the file too, and reads it piece by piece."""
    from pixinwav.robust import tempo

    stego, report = hidden
    stretched, rate = apply("tempo", stego, RATE, -1.0, seed=1)
    rng = np.random.default_rng(3)
    for start_s in (4.0, 17.0, 30.0):
        a, b = int(start_s * rate), int((start_s + 2.2) * rate)
        stretched[a:b] += 0.5 * rng.normal(size=(b - a, stretched.shape[1])).astype(np.float32)
    stretched = np.clip(stretched, -1, 1)
    found = model.reveal_payload(stretched, rate, key="k")
    assert "the tempo was changed (pitch kept)" in found.detail and found.image is not None
    monkeypatch.setattr(tempo, "SPREAD_BLOCKS", 0)  # the loudest blocks alone (0.2.12): nothing found
    with pytest.raises(PixinwavError, match="no hidden image found"):  # (another wave: the last one's location is kept)
        model.reveal_payload(stretched * 0.999, rate, key="k")


def test_a_short_excerpt_gives_the_coarse_base_image_with_a_warning(model, hidden):
    stego, report = hidden
    excerpt = stego[int(6.0 * RATE):int(20.6 * RATE)]  # segments 3-9: 3 base packets, 4 of the 8 sharp ones needed
    found = model.reveal_payload(excerpt, RATE, key="k")
    assert found.damaged and found.detail.startswith("only the coarse base image came back")
    assert found.image.shape == (3, report.payload.height, report.payload.width)  # shown at the sharp size
    assert float(metrics.ssim(found.image[None], report.payload.sent[None])[0]) > 0.3


def test_nothing_is_found_in_plain_audio_under_another_key_or_in_noise(model, cover, hidden):
    stego, _ = hidden
    for audio, key in ((cover, "k"), (stego, "another")):
        with pytest.raises(PixinwavError, match="no hidden image found"):
            model.reveal_payload(audio, RATE, key=key)
    drowned, _ = apply("white_noise", stego, RATE, 0.0, seed=0)  # noise as loud as the music: no wrong image
    with pytest.raises(PixinwavError, match="no hidden image found|too few of its packets"):
        model.reveal_payload(drowned, RATE, key="k")


def test_a_grid_the_loudest_passages_miss_is_found_by_its_frame_numbering(model, hidden, cover, monkeypatch):
    """Through a 64 kbit/s codec the loudest passages' lattice agreement falls under the threshold on real songs
    (0.04-0.10) at the right grid. Here the threshold is raised over this song's AAC 64 agreement (0.12), so the
    receiver must find the grid by its keyed frame numbering, after its speed and tempo searches found nothing."""
    from pixinwav.data.audio import resample
    from pixinwav.models import robust
    from pixinwav.robust import alignment

    scheme = model.model
    aac, rate = apply("aac", hidden[0], RATE, 64)
    wave = resample(aac.mean(1), rate, scheme.cfg.sample_rate).astype(np.float64)
    monkeypatch.setattr(robust, "MIN_AGREEMENT", 0.5)
    where = scheme.locate(wave, "k")
    assert where.found and where.numbered > 15 and where.agreement < 0.5
    found = model.reveal_payload(aac, rate, key="k")
    assert "found by its numbering" in found.detail and found.image is not None
    # plain music, and the stego under another key: the numbering agrees only by chance there
    for audio, key in ((cover, "k"), (hidden[0], "another")):
        mono = resample(audio.mean(1), RATE, scheme.cfg.sample_rate).astype(np.float64)
        shift, _ = alignment.align(mono, scheme.lattice(key), scheme.hop)
        z = alignment.numbering_z(scheme.frames_at(mono, shift, key)[:, scheme.numbering_group], key)
        assert z < robust.NUMBERED_Z - 2
        assert not scheme.locate(mono, key).found


def test_what_was_sent_is_one_typed_record_with_one_line_for_the_cli_and_the_web_page(model, hidden, cover):
    import json

    sent = hidden[1].payload
    summary = json.loads(json.dumps(sent.summary()))  # (JSON as the web API sends it: no tensors)
    assert summary["line"] == sent.describe() and summary["base_bytes"] == sent.base_bytes
    assert sent.describe().startswith(f"the photo at {sent.width} x {sent.height} (AVIF, {sent.bytes:,} bytes")
    assert "coarse base image" in sent.describe() and "19 segments of 2.05 s" in sent.describe()
    # --seconds longer than the song: a warning (0.2.5 stopped with a KeyError here)
    _, report = model.hide(Image.fromarray(photo("coffee")), cover, RATE, key="k", seconds=500)
    assert any("--seconds 500 is longer than the song: its 38.9 s carry every packet once" in w
               for w in report.warnings())


def test_a_file_comes_back_exactly_and_one_too_large_is_refused(model, cover):
    secret = HiddenFile("notes.txt", np.random.default_rng(3).bytes(900))
    stego, report = model.hide_file(secret, cover, RATE)
    assert report.payload.kind == "file" and report.payload.packets == 12  # 19 segments over 1.5
    aac, rate = apply("aac", pcm16_round_trip(stego), RATE, 128)
    assert model.reveal_payload(aac, rate).file == secret
    with pytest.raises(PixinwavError, match=r"the file is 5,000 bytes; this song carries at most 945 "):
        model.hide_file(HiddenFile("big.bin", np.random.default_rng(8).bytes(5_000)), cover, RATE)


def test_a_near_silent_cover_is_refused_not_written(model):
    dither = (np.random.default_rng(0).integers(-1, 2, (30 * RATE, 2)) / 32768).astype(np.float32)  # +-1 LSB
    with pytest.raises(PixinwavError, match="of which 0 s loud enough across the band"):
        model.hide(Image.fromarray(photo("rocket")), dither, RATE)
    with pytest.raises(PixinwavError, match="this song carries at most 0 "):
        model.hide_file(HiddenFile("a.txt", b"hello"), dither, RATE)


def test_a_packet_of_a_newer_format_is_refused_by_name(model, cover, monkeypatch):
    monkeypatch.setattr(robust_song.RobustSongStego, "format", property(lambda self: max(robust_song.FORMAT_CODES) + 1))
    stego, _ = model.hide(Image.fromarray(photo("rocket")), cover, RATE, survive="none")  # (its check would refuse too)
    monkeypatch.undo()
    with pytest.raises(PixinwavError, match="written by a newer version"):
        model.reveal_payload(pcm16_round_trip(stego), RATE)


def test_layers_are_whole_files_that_fit_their_bytes_and_check_themselves():
    image = torch.from_numpy(photo("chelsea").copy()).permute(2, 0, 1).float() / 255  # 451 x 300
    sharp = layers.encode(image, "sharp", 3000)
    assert len(sharp.frame()) <= 3000 and sharp.codec == "AVIF" and min(sharp.width, sharp.height) == 256
    assert abs(sharp.width / sharp.height - 451 / 300) < 0.02
    assert layers.encode(image, "sharp", 3000, max_side=200).width == 200
    base = layers.encode(image, "base", 300, show=(sharp.width, sharp.height))
    assert len(base.frame()) <= 300 and base.codec == "WEBP" and base.image().shape == (3, sharp.height, sharp.width)
    again = layers.Layer.from_frame(sharp.frame())
    assert again.data == sharp.data and (again.width, again.height, again.layer) == (sharp.width, sharp.height, "sharp")
    broken = bytearray(sharp.frame())
    broken[40] ^= 1
    with pytest.raises(PixinwavError, match="fails its checksum"):
        layers.Layer.from_frame(bytes(broken))
    with pytest.raises(PixinwavError, match="even a 16-pixel one"):
        layers.encode(image, "sharp", 40)


def test_cli_hides_a_photo_and_a_file_and_reveals_them(cover, tmp_path, capsys):
    song, secret = tmp_path / "song.flac", tmp_path / "photo.jpg"
    sf.write(song, cover, RATE, subtype="PCM_16")
    Image.fromarray(photo("astronaut")).resize((300, 200)).save(secret, quality=60)
    out, back = tmp_path / "s.wav", tmp_path / "back.png"
    assert main(["capacity", str(song), "--model", "pixinwav-robust-v2", "--image", str(secret)]) == 0
    said = capsys.readouterr().out
    assert "19 segments of 2.05 s (19 loud enough" in said and "the photo (300 x 200) goes at about" in said
    assert main(["hide", "--image", str(secret), "--cover", str(song), "-o", str(out), "--model", "pixinwav-robust-v2"]) == 0
    said = capsys.readouterr().out
    assert "payload: the photo at" in said and "coarse base image" in said
    assert "checked: it comes back after tempo -1 % (pitch kept)" in said  # hide's own check
    assert main(["reveal", str(out), "-o", str(back), "--model", "pixinwav-robust-v2"]) == 0
    assert Image.open(back).size[0] / Image.open(back).size[1] == pytest.approx(1.5, abs=0.02)
    assert main(["hide", "--file", str(secret), "--cover", str(song), "-o", str(tmp_path / "f.wav"),
                 "--model", "pixinwav-robust-v2"]) == 1  # a 10 kB JPEG is more than 40 s carry
    err = capsys.readouterr().err.strip()
    assert "this song carries at most" in err and len(err.splitlines()) == 1
    small = tmp_path / "small.bin"
    small.write_bytes(b"pixinwav " * 50)
    assert main(["hide", "--file", str(small), "--cover", str(song), "-o", str(tmp_path / "f.wav"),
                 "--model", "pixinwav-robust-v2"]) == 0
    assert main(["reveal", str(tmp_path / "f.wav"), "-o", str(tmp_path / "got.bin"), "--model", "pixinwav-robust-v2"]) == 0
    assert (tmp_path / "got.bin").read_bytes() == small.read_bytes()


@pytest.mark.parametrize("fixture", ["robust-v2-file.flac", "robust-v3-file.flac", "robust-v4-file.flac",
                                     "robust-v5-file.flac"])
@pytest.mark.parametrize("reader", ["pixinwav-robust-v2", "pixinwav-robust-v3", "pixinwav-robust-v4",
                                    "pixinwav-robust-v5"])
def test_a_file_written_by_a_release_keeps_revealing_with_either_model(fixture, reader):
    """Committed stegos (a 60-byte text in 8 s of 16 kHz music, format 1 by robust-v2, 2 by robust-v3, 3 by
    robust-v4, 4 by robust-v5): files of a released model keep revealing, and every robust song model reads every
    format (the layout header says which code the packets are under, and at which level they were written)."""
    from pathlib import Path

    fixtures = Path(__file__).parents[1] / "fixtures"
    audio, rate = sf.read(fixtures / fixture, dtype="float32")
    found = load_model(reader).reveal_payload(audio, rate, key="fixture")
    assert found.file.name == "note.txt" and found.file.data == (fixtures / "robust-v2-note.txt").read_bytes()


def test_capacity_of_a_song_too_short_for_a_photo_says_so_and_what_file_fits(model, cover):
    report = model.capacity(cover[: 12 * RATE], RATE, (300, 200), 100)
    assert "too little for a photo (about 29 s of loud music needed)" in report["lines"][0]
    assert report["largest"] == {} and "photo" not in report and report["file"]["fits"]
    with pytest.raises(PixinwavError, match="needs about 29 s of music to carry a photo"):
        model.hide(Image.fromarray(photo("rocket")), cover[: 12 * RATE], RATE)


def test_eval_attacks_measures_the_photo_at_the_size_it_was_sent(model, cover, tmp_path):
    from pixinwav.evaluate import measure

    path = tmp_path / "coffee.png"
    Image.fromarray(photo("coffee")).save(path)  # 600 x 400: sent at 3:2, not as a 256 x 256 crop
    rows = measure({"v2": model}, [path], [(cover, RATE, "music")], [("none", 0), ("aac", 128)], visqol=False,
                   progress=False).rows
    assert [r["recovered"] for r in rows] == [1, 1]
    assert all(r["image/ssim"] > 0.5 for r in rows)  # against the photo at the sent size (squashed into a crop: 0.36)


def test_eval_attacks_on_whole_songs_reports_each_source_of_music(tmp_path, capsys):
    images, audio = tmp_path / "images", tmp_path / "audio"
    images.mkdir()
    Image.fromarray(photo("coffee")).save(images / "coffee.png")
    for source, seed in (("band-a", 21), ("band-b", 22)):
        (audio / source).mkdir(parents=True)
        sf.write(audio / source / "song.wav", music(40.0, RATE, seed=seed, channels=2), RATE, subtype="PCM_16")
    assert main(["eval", "--attacks", "none:0,speed:1", "--models", "pixinwav-robust-v2", "--whole-songs", "--seconds",
                 "30", "--n", "2", "--images", str(images), "--audio", str(audio), "--no-visqol", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "2 whole songs of 30 s or more" in out
    per_source = out.split("Per source of music")[1]
    assert "| model | attack | band-a | band-b | all |" in per_source
    assert "| pixinwav-robust-v2 | speed 1 % | 1/1 " in per_source and " 2/2 " in per_source


def test_the_sender_writes_a_block_of_frames_at_a_time_as_it_would_the_whole_song(model, monkeypatch):
    from pixinwav.models import robust

    scheme = model.model
    cover = music(20.0, scheme.cfg.sample_rate, seed=13).astype(np.float64)
    frames = len(cover) // scheme.hop - 1
    bits = np.random.default_rng(6).integers(0, 2, (frames, scheme.lattice("k").groups)).astype(np.uint8)
    monkeypatch.setattr(robust, "WRITE_FRAMES", 10 ** 9)
    whole = scheme.write(cover, bits, "k")
    monkeypatch.setattr(robust, "WRITE_FRAMES", 97)  # (blocks that end anywhere, the last one short)
    blocks = scheme.write(cover, bits, "k")
    # the same stego but for the last bits of the masking scale's running sums, which start anew in each block
    assert np.abs(blocks - whole).max() < 1e-9 * np.abs(cover).max()
    step = int(np.argmax(np.abs(whole - cover)))
    assert abs(whole[step] - cover[step]) > 1e-4  # (the change is there to compare)


def test_packets_that_fail_are_decoded_again_with_each_groups_ratios_reweighed_by_those_that_decoded(
        model, hidden, monkeypatch):
    """A band a codec filled with its own content gives confident ratios unrelated to the bits (here 16 of 40 groups,
    with noise on all): the first pass decodes some packets; their bits show those groups tell nothing, and the others
    then decode too, and the photo comes back as sent."""
    stego, report = hidden
    scheme = model.model
    wave = model._mono(stego, RATE).astype(np.float64)
    where, llr = scheme.soft_frames(wave, "k")
    first, layout = scheme.layout_of(llr, "k")
    groups = np.array(scheme.data_groups)
    rng = np.random.default_rng(0)
    hurt = llr.copy()
    hurt[:, groups] += rng.normal(0, 15, (len(llr), len(groups)))
    filled = groups[24:]
    hurt[:, filled] = 8 * rng.choice([-1.0, 1.0], (len(llr), len(filled)))
    monkeypatch.setattr(robust_song, "RECALIBRATION_PASSES", 0)
    once = scheme._read(where, hurt, first, layout, "k")
    monkeypatch.undo()
    layout_, found, detail = scheme._read(where, hurt, first, layout, "k")
    assert 0 < len(once[1]) < len(found) == layout.classes + layout.base_classes
    assert "with the ratios re-weighed" in detail
    got = scheme.extracted(layout_, found, detail)
    assert got.verdict == "exact" and np.array_equal(got.image[0], np.clip(report.payload.compressed, 0, 1))


def test_the_bits_the_sender_plans_are_the_bits_the_receiver_reads(model, cover, hidden):
    """``plan_photo`` + ``sent_bits`` rebuild what ``hide`` wrote (the capacity benchmark sets the receiver's soft
    bits against them): an intact 16-bit stego reads them back with under 1 % of its data bits wrong, and the
    receiver's ``read_frames`` gives the same answer as ``packets``."""
    stego, _ = hidden
    scheme = model.model
    mono = model._song_mono(cover, RATE).astype(np.float64)
    layout, streams = scheme.plan_photo(model.prepare_image(Image.fromarray(photo("coffee")))[None], mono)[:2]
    bits = scheme.sent_bits(len(mono), "k", layout, streams)
    wave = model._mono(stego, RATE).astype(np.float64)
    where, llr, read = scheme.read_frames(wave, "k")
    numbers = scheme.frame_number(llr, "k") + np.arange(len(llr))
    inside = (numbers >= 0) & (numbers < len(bits))
    groups = scheme.data_groups
    wrong = (llr[inside][:, groups] < 0) != (bits[numbers[inside]][:, groups] == 1)
    assert inside.sum() > 0.9 * len(bits) and wrong.mean() < 0.01
    other = np.roll(bits, scheme.cfg.robust.segment_frames, axis=0)  # another segment's bits: about half wrong
    assert ((llr[inside][:, groups] < 0) != (other[numbers[inside]][:, groups] == 1)).mean() > 0.3
    assert read[0] == layout and len(read[1]) == len(scheme.packets(wave, "k")[1])
