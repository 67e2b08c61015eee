"""The informed modulo scheme: codes survive a real 16-bit file, the cover does not matter to the receiver, the
change stays where and as loud as configured, statistics fit, checkpoints keep everything, training trains. The
coding is NumPy's (arrays in and out); the optional refiner is a torch net on top of it."""
from __future__ import annotations


import numpy as np
import pytest
import soundfile as sf
import torch

from helpers import PHOTOS, music, photo
from pixinwav import metrics
from pixinwav.channel import to_pcm16
from pixinwav.checkpoint import load_model_file, save_model
from pixinwav.config import load_config, model_config
from pixinwav.data.images import prepare_array
from pixinwav.errors import PixinwavError
from pixinwav.models import build_model
from pixinwav.channel import LSB, ROUNDING_RMS_LSB
from pixinwav.models.image_coefficients import RGB_GAINS
from pixinwav.models.modulo import ModuloStego, dct
from pixinwav.models.refiner import RefinedModuloStego
from pixinwav.train import fit


# 32 x 32 RGB in 2,288 samples: small enough for CI, the same code path as the shipped 256 x 256 model.
TINY = dict(image_size=32, frame=256, hop=16, frames=128, widths=[])
REFINER = [8, 8]


def tiny(**overrides) -> ModuloStego:
    return build_model(model_config("modulo-rgb", **{**TINY, **overrides})).eval()


def photos() -> np.ndarray:
    from PIL import Image

    return np.stack([prepare_array(Image.fromarray(photo(p)), 32, 3) for p in PHOTOS])


def covers(n: int, samples: int, seed: int = 0) -> np.ndarray:
    return np.stack([music(0.2, 44100, seed=seed + i)[:samples] for i in range(n)])


def fitted(**overrides) -> ModuloStego:
    model = tiny(**overrides)
    model.fit_statistics(photos(), covers(16, model.cfg.clip_samples, seed=100))
    return model


def through_file(model, image, cover, tmp_path) -> tuple[np.ndarray, np.ndarray]:
    """Hide, write a real 16-bit WAV, read it back, reveal: (revealed image, received waveform)."""
    with model.inference():
        wave = np.asarray(model.embed(image, cover).container[0])
        sf.write(tmp_path / "c.wav", to_pcm16(wave), 44100, subtype="PCM_16")
        received, _ = sf.read(tmp_path / "c.wav", dtype="float32")
        found = model.extract(received[None]).image
        return (found.numpy() if isinstance(found, torch.Tensor) else found), received


def test_codes_come_back_from_a_16_bit_file_within_the_rounding_noise(tmp_path):
    model = fitted()
    layout = model.layout()
    bins, step, dither = layout.bins, layout.step, layout.dither
    image, cover = photos()[:1], covers(1, model.cfg.clip_samples)
    sent = model.codes(image, layout)
    _, received = through_file(model, image, cover, tmp_path)
    got = np.remainder(dct(received)[bins] / step - dither, 1.0)
    error_lsb = ((got - sent[0] + 0.5) % 1.0 - 0.5) * step / LSB
    # 16-bit rounding is 0.29 LSB RMS per coefficient: the codes are exact up to that noise, for every bin.
    assert error_lsb.std() < 0.35
    assert np.abs(error_lsb).max() < 2.0


def test_receiver_does_not_need_the_cover(tmp_path):
    """The same image in two unrelated covers: identical revealed images without rounding; through real 16-bit
    files equally good ones (only the files' rounding noise differs), near what the coefficients that fit allow."""
    model = fitted()
    image, one, other = photos()[1:2], covers(1, model.cfg.clip_samples, seed=5), covers(1, model.cfg.clip_samples, seed=50)
    exact = tiny(channel="float")
    exact.load_state_dict(model.state_dict())
    assert np.abs(exact(image, one).revealed - exact(image, other).revealed).max() < 1e-3  # float32 rounding
    truncated = np.clip(model.decode(model.codes(image, model.layout()), model.layout()), 0, 1)
    quality = [float(metrics.psnr(np.clip(through_file(model, image, cover, tmp_path)[0], 0, 1), image)[0])
               for cover in (one, other)]
    assert abs(quality[0] - quality[1]) < 1.0
    # measured 26.1 dB through the file against 27.3 dB for the sent coefficients without any noise: the
    # smallest steps (4 LSB) carry the least important coefficients at low precision, by design
    assert min(quality) > float(metrics.psnr(truncated, image)[0]) - 3.0


def test_change_stays_in_the_used_bins_and_under_half_a_step():
    model = fitted()
    layout = model.layout()
    bins, step = np.concatenate([layout.bins, layout.pilots]), np.concatenate([layout.step, layout.pilot_step])
    image, cover = photos()[:2], covers(2, model.cfg.clip_samples)
    out = model.embed(image, cover)
    change = out.container_spec - out.cover_spec
    unused = np.ones(change.shape[-1], bool)
    unused[bins] = False
    assert np.abs(change[:, unused]).max() == 0 and unused[0]  # nothing outside the used bins, never DC
    assert (np.abs(change[:, bins]) <= step / 2 + 1e-12).all()
    # A uniform change of +-step/2 has RMS step / sqrt(12): the per-bin loudness the config asked for.
    measured = np.sqrt(np.square(change[:, bins]).mean())
    expected = np.sqrt(np.square(step).mean() / 12)
    assert abs(float(measured / expected) - 1) < 0.1


def test_band_and_step_limits_choose_the_bins():
    wide, narrow = tiny(), tiny(band=[0.0, 0.25])
    assert 0 < narrow.capacity < wide.capacity
    assert int(narrow.layout().bins.max()) < 0.25 * narrow.cfg.clip_samples
    steps = wide.layout().step
    cfg = wide.cfg
    assert steps.min() >= cfg.modulo.min_step_lsb * LSB - 1e-15 and steps.max() <= cfg.modulo.max_step_lsb * LSB + 1e-15
    assert tiny(min_step_lsb=64).capacity < wide.capacity < tiny(min_step_lsb=1).capacity


def test_fit_statistics_orders_coefficients_and_bins_best_first():
    model = fitted()
    layout = model.layout()
    step, coefs = layout.step, layout.coefs
    assert int(coefs[0]) == 0  # the luma DC varies most across photos
    importance = (np.square(model.coef_std.astype(np.float64)) * RGB_GAINS.astype(np.float64)[:, None, None]).ravel()
    assert (importance[coefs][:-1] >= importance[coefs][1:]).all()
    assert (step[:-1] >= step[1:]).all()  # the most important coefficients get the largest (least noisy) steps
    assert np.isfinite(model.steps).all() and model.steps.max() > 0
    # RGB_GAINS are the squared inverse colour transform's column sums (to float32's precision)
    from pixinwav.models.image_coefficients import YCBCR
    assert np.allclose(RGB_GAINS, np.square(np.linalg.inv(YCBCR.astype(np.float64))).sum(0), rtol=1e-6)


def test_invalid_modulo_configs_are_refused():
    with pytest.raises(PixinwavError, match="min_step_lsb"):
        tiny(min_step_lsb=0)
    with pytest.raises(PixinwavError, match="channel"):
        tiny(channel="mp3")
    with pytest.raises(PixinwavError, match="scheme"):
        build_model(model_config("modulo-rgb", scheme="lsb"))


def test_model_file_keeps_statistics_and_refiner(tmp_path):
    """A refined model's file holds the coding's statistics under their own names beside the refiner's weights, as
    such files always did; loaded again, it reveals the same, and the coding alone is a plain NumPy scheme."""
    model = fitted(widths=REFINER)
    assert isinstance(model, RefinedModuloStego) and isinstance(tiny(), ModuloStego)
    torch.nn.init.normal_(model.refiner[-1].weight, std=0.01)
    assert {"steps", "coef_mean", "coef_std", "refiner.0.weight"} <= set(model.state_dict())
    save_model(tmp_path / "m.safetensors", model)
    loaded, _ = load_model_file(tmp_path / "m.safetensors")
    assert isinstance(loaded, RefinedModuloStego) and np.array_equal(loaded.coding.steps, model.coding.steps)
    image, cover = photos()[:1], covers(1, model.cfg.clip_samples)
    a, _ = through_file(model, image, cover, tmp_path)
    b, _ = through_file(loaded, image, cover, tmp_path)
    assert np.array_equal(a, b)


def test_training_fits_statistics_then_trains_the_refiner_from_the_identity(tmp_path, image_dir, audio_dir):
    """The refiner starts as the identity (step 0 = the training-free decoder exactly) and training through the
    16-bit channel lowers the image L1 on the batches it trained on."""
    from pixinwav.data.datasets import TrainBatches

    overrides = [f"model.{k}={v}" for k, v in {**TINY, "widths": REFINER}.items()] + [
        "model.preset=modulo-rgb", f"data.train_images={image_dir}", f"data.train_audio={audio_dir}",
        "train.steps=60", "train.batch_size=4", "train.lr=1e-3", "train.beta=1.0", "train.tensorboard=false",
        f"train.out_dir={tmp_path / 'run'}"]
    cfg = load_config(None, overrides)
    model = fit(cfg, progress=False)["model"].eval()
    coding = model.coding
    assert coding.steps.max() > 0 and not np.array_equal(coding.coef_std, tiny().coef_std)  # statistics were measured
    batches = [TrainBatches(cfg.model, cfg.data, 4, cfg.train.seed)[step] for step in range(8)]
    with torch.no_grad():
        identity = tiny()  # the coding alone: the refiner's starting point
        identity.load_state_dict({k: v for k, v in model.state_dict().items() if not k.startswith("refiner.")})
        for images, covers_ in batches[:1]:
            out = identity(images, covers_)  # (tensors in, tensors out, as training passes them)
            codes, noise, _ = identity.read_codes(out.received_spec, identity.layout())
            rough = identity.decode(codes, identity.layout(), noise)
            assert isinstance(out.revealed, torch.Tensor) and np.array_equal(out.revealed.numpy(), rough)
        l1 = lambda m: sum(float((m(i, c).revealed - i).abs().mean()) for i, c in batches)
        assert l1(model) < l1(identity)


def test_without_a_refiner_training_is_measuring_statistics(tmp_path, image_dir, audio_dir):
    overrides = [f"model.{k}={v}" for k, v in {**TINY, "widths": []}.items()] + [
        "model.preset=modulo-rgb", f"data.train_images={image_dir}", f"data.train_audio={audio_dir}",
        f"data.val_images={image_dir}", f"data.val_audio={audio_dir}", "data.val_pairs=3", "train.tensorboard=false",
        f"train.out_dir={tmp_path / 'run'}"]
    summary = fit(load_config(None, overrides), progress=False)
    assert summary["statistics_only"] and isinstance(summary["model"], ModuloStego)
    assert summary["model"].parameter_count == 0 and summary["model"].steps.max() > 0
    loaded, _ = load_model_file(tmp_path / "run" / "model.safetensors")
    assert np.array_equal(loaded.steps, summary["model"].steps)
    assert (tmp_path / "run" / "val.csv").read_text().splitlines()[1].startswith("0,")


@pytest.mark.parametrize("writer", ["floor", "x32767"])
def test_files_written_by_other_tools_still_reveal(tmp_path, writer):
    """Two ways other software turns float audio into int16: libsndfile (and so soundfile) floors instead of
    rounding, a -0.5 LSB offset on every sample, which only the DC bin sees and the modulo scheme leaves unused;
    some tools scale by 32767 instead of 32768, a 30 ppm gain that moves codes by under 1 % of a step here."""
    model = fitted()
    image, cover = photos()[2:3], covers(1, model.cfg.clip_samples, seed=11)
    exact, _ = through_file(model, image, cover, tmp_path)
    container = model.embed(image, cover).container[0].astype(np.float64)
    if writer == "floor":
        sf.write(tmp_path / "other.wav", container, 44100, subtype="PCM_16")
    else:
        sf.write(tmp_path / "other.wav", np.round(container * 32767).astype(np.int16), 44100, subtype="PCM_16")
    received = sf.read(tmp_path / "other.wav", dtype="float32")[0][None]
    rescued = model.extract(received).image
    assert float(metrics.psnr(np.clip(rescued, 0, 1), image)[0]) > float(metrics.psnr(np.clip(exact, 0, 1), image)[0]) - 0.5


def test_pilots_undo_a_volume_change_and_measure_added_noise():
    """At the shipped geometry (prior statistics, ~33,000 bins, 512 pilots): a -1 dB volume change is found and
    undone; added noise is measured, and trusting the codes less beats assuming the file's rounding alone."""
    from PIL import Image

    model = build_model(model_config("modulo-rgb")).eval()
    image = prepare_array(Image.fromarray(photo("astronaut")), 256, 3)[None]
    cover = music(1.6, 44100, seed=3)[: model.cfg.clip_samples][None]
    container = model.embed(image, cover).container
    quality = lambda wave: float(metrics.psnr(np.clip(model.extract(wave).image, 0, 1), image)[0])
    pcm = lambda wave: (to_pcm16(wave).astype(np.float32) / 32768)
    exact = quality(pcm(container))
    assert quality(pcm(container * 10 ** (-1 / 20))) > exact - 1.0
    noisy = pcm(container + np.random.default_rng(0).normal(0, 2 / 32768, container.shape))  # 2 LSB RMS
    codes, noise, _ = model.read_codes(dct(noisy), model.layout())
    assert 1.6 < float(noise[0]) < 2.6
    assumed = np.clip(model.decode(codes, model.layout(), ROUNDING_RMS_LSB), 0, 1)
    assert quality(noisy) > float(metrics.psnr(assumed, image)[0]) + 1.0


def test_greyscale_images_round_trip(tmp_path):
    model = tiny(image_channels=1)
    grey = photos().mean(axis=1, keepdims=True)
    model.fit_statistics(grey, covers(16, model.cfg.clip_samples, seed=100))
    revealed, _ = through_file(model, grey[4:5], covers(1, model.cfg.clip_samples, seed=21), tmp_path)
    assert revealed.shape == (1, 1, 32, 32)
    sent = np.clip(model.decode(model.codes(grey[4:5], model.layout()), model.layout()), 0, 1)
    assert float(metrics.psnr(np.clip(revealed, 0, 1), grey[4:5])[0]) > float(metrics.psnr(sent, grey[4:5])[0]) - 3.0
    assert float(metrics.psnr(np.clip(revealed, 0, 1), grey[4:5])[0]) > 20.0


def test_a_key_hides_the_image_and_the_fact_that_there_is_one():
    """Hidden with a key: revealed with it as well as an image hidden without a key; with no key or the wrong key, the
    pilots see nothing (the API refuses) and forcing a reveal gives nothing like the secret."""
    from PIL import Image

    from pixinwav.api import Stego
    from pixinwav.models.dither import keyed_dither

    assert np.array_equal(keyed_dither("k", 5), keyed_dither("k", 5)) and not np.array_equal(keyed_dither("k", 5),
                                                                                             keyed_dither("K", 5))
    stego = Stego(build_model(model_config("modulo-rgb")))  # shipped geometry: enough pilots to tell
    secret = prepare_array(Image.fromarray(photo("rocket")), 256, 3)[None]
    cover = music(2.0, 44100, seed=4)
    audio, _ = stego.hide(photo("rocket"), cover, 44100, key="correct horse")
    audio = to_pcm16(audio).astype(np.float32) / 32768
    quality = lambda image: float(metrics.psnr(image[None], secret)[0])
    keyed = quality(stego.reveal(audio, 44100, key="correct horse"))
    public, _ = stego.hide(photo("rocket"), cover, 44100)
    assert keyed > quality(stego.reveal(to_pcm16(public).astype(np.float32) / 32768, 44100)) - 1.0  # a key costs nothing
    for wrong in (None, "correct horse "):
        with pytest.raises(PixinwavError, match="no hidden image"):
            stego.reveal(audio, 44100, key=wrong)
        assert quality(stego.reveal(audio, 44100, key=wrong, check=False)) < keyed - 10.0


# The shipped models' layouts (which audio bin carries which image coefficient, with which step, offset and margin;
# the pilots; modulo-v2's header places): digests taken with release 0.2.11, whose arithmetic was torch's. A layout
# that differs by one element reads every file written before as garbage.
LAYOUT_DIGESTS = {"pixinwav-modulo-v1": "6901e335cb91562c", "pixinwav-modulo-v2": "fbb344eda8ea5b5c",
                  "pixinwav-adaptive-v1": "db6193e2c9e7ef8b"}


@pytest.mark.parametrize("name", sorted(LAYOUT_DIGESTS))
def test_the_shipped_layouts_are_those_earlier_releases_wrote_with(name):
    import hashlib

    from pixinwav.loader import load_scheme

    model, _, _ = load_scheme(name)
    coding = getattr(model, "window", model)
    parts = [coding.importance_order()]
    if name != "pixinwav-adaptive-v1":  # (adaptive-v1's cells follow the cover; its coefficient order is the layout)
        for key in (None, "k"):
            for limit in (None, 0.9 * 16000 / 2, 0.9 * 22050 / 2):  # a full-band cover, and 16 / 22.05 kHz ones
                parts += list(coding.layout(key, limit))
    if hasattr(model, "split_layout"):
        parts += list(model.split_layout("k")[1:])
    digest = hashlib.sha256()
    for part in parts:
        part = np.asarray(part)
        digest.update(np.ascontiguousarray(part.astype(np.float64 if part.dtype.kind == "f" else np.int64)).tobytes())
    assert digest.hexdigest()[:16] == LAYOUT_DIGESTS[name]
