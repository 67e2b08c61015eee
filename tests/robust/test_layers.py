"""The robust song model's photo layers: whole image files under a byte budget, and AVIF without its container."""
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers import photo
from pixinwav.errors import PixinwavError
from pixinwav.robust import bare_avif, layers

FIXTURES = Path(__file__).parents[1] / "fixtures"


def avif(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="AVIF", quality=40, **options)
    return buffer.getvalue()


@pytest.mark.parametrize("mode,options", [("RGB", {}), ("L", {}), ("RGB", {"subsampling": "4:4:4"}),
                                          ("RGB", {"speed": 4, "advanced": {"tune": "ssim"}})])
def test_a_stripped_avif_rebuilds_into_a_file_of_the_same_pixels_260_bytes_smaller(mode, options):
    image = Image.fromarray(photo("coffee")).resize((150, 100), Image.LANCZOS).convert(mode)
    made = avif(image, **options)
    stripped = bare_avif.strip(made)
    assert len(made) - len(stripped) >= 250
    with Image.open(io.BytesIO(made)) as sent, Image.open(io.BytesIO(bare_avif.rebuild(stripped))) as rebuilt:
        assert rebuilt.size == (150, 100) and np.array_equal(np.asarray(sent), np.asarray(rebuilt))


def test_an_avif_with_more_than_one_plain_image_item_does_not_strip():
    image = Image.fromarray(photo("coffee")).resize((64, 48), Image.LANCZOS)
    exif = Image.Exif()
    exif[0x0112] = 6  # an orientation: the file gains an Exif item
    assert bare_avif.strip(avif(image, exif=exif)) is None
    see_through = image.convert("RGBA")
    see_through.putalpha(Image.linear_gradient("L").resize(image.size))
    assert bare_avif.strip(avif(see_through)) is None  # an alpha item
    assert bare_avif.strip(b"not an image") is None


def test_rebuilding_what_is_not_a_stripped_avif_is_an_error_not_a_file():
    with pytest.raises(ValueError):
        bare_avif.rebuild(b"\x00" * 10)


@pytest.mark.parametrize("layer,budget", [("sharp", 1500), ("base", 288)])
def test_a_bare_av1_layer_fits_its_budget_and_looks_better_than_avif_webp(layer, budget):
    """The same bytes, a better image: the container's 260 bytes go to the picture (benchmarks/layer_codecs.py
    measures it over the validation photos)."""
    from pixinwav import metrics

    picture = photo("astronaut").transpose(2, 0, 1).astype(np.float32) / 255
    show = (256, 256) if layer == "base" else None
    scores = {}
    for style in ("avif-webp", "bare-av1"):
        made = layers.encode(picture, layer, budget, show=show, style=style)
        assert len(made.frame()) <= budget and made.codec == layers.STYLES[style][layer].codec
        image = layers.Layer.from_frame(made.frame()).image()
        reference = np.asarray(Image.fromarray(photo("astronaut")).resize((made.width, made.height), Image.LANCZOS),
                               np.float32).transpose(2, 0, 1) / 255
        scores[style] = float(metrics.ssim(image[None], reference[None])[0])
    assert scores["bare-av1"] > scores["avif-webp"] + 0.01, scores


def test_when_libavif_writes_a_file_that_does_not_strip_the_layer_goes_as_avif(monkeypatch):
    monkeypatch.setattr(bare_avif, "strip", lambda data: None)
    picture = photo("coffee").transpose(2, 0, 1).astype(np.float32) / 255
    made = layers.encode(picture, "sharp", 1500, style="bare-av1")
    assert made.codec == "AVIF" and made.data[4:12] == b"ftypavif" and len(made.frame()) <= 1500


@pytest.mark.parametrize("name", ["base", "sharp"])
def test_layers_written_by_robust_v4_keep_decoding_to_the_image_sent(name):
    """Committed frames of pixinwav-robust-v4 (0.2.11) and the images their sender decoded: a later release (or
    Pillow / libavif) must rebuild and decode them to the same picture (one level of rounding allowed)."""
    frame = layers.Layer.from_frame((FIXTURES / f"robust-v4-{name}.frame").read_bytes())
    assert frame.codec == "AV1" and frame.layer == name
    with Image.open(FIXTURES / f"robust-v4-{name}.png") as sent:
        expected = np.asarray(sent, np.float32).transpose(2, 0, 1) / 255
    assert np.abs(frame.image() - expected).max() <= 1 / 255 + 1e-6


def test_a_frame_of_an_unknown_codec_is_refused_as_written_by_a_newer_version():
    frame = layers.Layer.from_frame((FIXTURES / "robust-v4-base.frame").read_bytes())
    raw = bytearray(layers.HEAD.pack(layers.MAGIC, layers.VERSION, 0, frame.width, frame.height, 3, 9) + frame.data)
    raw += zlib_crc(bytes(raw))
    with pytest.raises(PixinwavError, match="written by a newer version"):
        layers.Layer.from_frame(bytes(raw))


def zlib_crc(data: bytes) -> bytes:
    import struct
    import zlib

    return struct.pack(">I", zlib.crc32(data))


def test_a_rough_encoding_aims_the_fit_to_the_bytes_the_real_one_would_without_encoding_quality_80():
    """A large photo's rough layer (libavif's fastest encoder) stands in for its real encoding at quality 80: fitted
    to a budget far under that, the same bytes and quality come back as when aimed from the real encoding, and the
    real encoder never runs at 80 (a grainy photo: 80 takes several times the bits per pixel the fit plans for)."""
    clean = np.asarray(Image.fromarray(photo("chelsea")).resize((1000, 700), Image.LANCZOS), np.float32) / 255
    grainy = np.clip(clean + 0.08 * np.random.default_rng(2).normal(size=clean.shape), 0, 1).transpose(2, 0, 1)
    rough = layers.rough(grainy, 10**8, None, 80)
    real = layers.encode(grainy, "sharp", 10**8, None, top=80)
    assert (rough.width, rough.height) == (real.width, real.height) == (1000, 700) and rough.quality == 80
    assert 0.9 < len(rough.data) / len(real.data) < 1.2  # (a rough guide: the fit's encodings decide)
    assert layers.rough(grainy[:, :400, :600], 10**8, None, 80) is None  # under QUICK_FROM_PIXELS: no rough layer
    budget = len(real.frame()) // 3
    tries = []
    saved = layers._saved
    with pytest.MonkeyPatch.context() as m:
        m.setattr(layers, "_saved", lambda image, encoding, q, *a, **k: (
            tries.append((q, encoding.options.get("speed"))) or saved(image, encoding, q, *a, **k)))
        aimed = layers.encode(grainy, "sharp", budget, None, top=80, top_bytes=layers.rough_bytes(rough))
    assert (80, None) not in tries, tries  # the real encoder at 80: never
    fitted = layers.encode(grainy, "sharp", budget, None, top=80, before=real)
    assert (aimed.data, aimed.quality, aimed.width) == (fitted.data, fitted.quality, fitted.width) and aimed.quality < 80
