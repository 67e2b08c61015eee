"""The informed modulo scheme: codes survive a real 16-bit file, the cover does not matter to the receiver, the
change stays where and as loud as configured, statistics fit, checkpoints keep everything, training trains."""
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
from pixinwav.data.images import prepare_image
from pixinwav.errors import PixinwavError
from pixinwav.models import build_model
from pixinwav.channel import LSB, ROUNDING_RMS_LSB
from pixinwav.models.image_coefficients import YCBCR
from pixinwav.models.modulo import ModuloStego
from pixinwav.transforms import dct2
from pixinwav.train import fit


# 32 x 32 RGB in 2,288 samples: small enough for CI, the same code path as the shipped 256 x 256 model.
TINY = dict(image_size=32, frame=256, hop=16, frames=128, widths=[8, 8])


def tiny(**overrides) -> ModuloStego:
    return build_model(model_config("modulo-rgb", **{**TINY, **overrides})).eval()


def photos() -> torch.Tensor:
    from PIL import Image

    return torch.stack([prepare_image(Image.fromarray(photo(p)), 32, 3) for p in PHOTOS])


def covers(n: int, samples: int, seed: int = 0) -> torch.Tensor:
    return torch.stack([torch.from_numpy(music(0.2, 44100, seed=seed + i)[:samples]) for i in range(n)])


def fitted() -> ModuloStego:
    model = tiny()
    model.fit_statistics(photos(), covers(16, model.cfg.clip_samples, seed=100))
    return model


def through_file(model, image, cover, tmp_path) -> tuple[torch.Tensor, np.ndarray]:
    """Hide, write a real 16-bit WAV, read it back, reveal: (revealed image, received waveform)."""
    with torch.no_grad():
        wave = model.embed(image, cover).container[0].numpy()
        sf.write(tmp_path / "c.wav", to_pcm16(wave), 44100, subtype="PCM_16")
        received, _ = sf.read(tmp_path / "c.wav", dtype="float32")
        return model.extract(torch.from_numpy(received)[None]).image, received


def test_codes_come_back_from_a_16_bit_file_within_the_rounding_noise(tmp_path):
    model = fitted()
    layout = model.layout()
    bins, step, dither = layout.bins, layout.step, layout.dither
    image, cover = photos()[:1], covers(1, model.cfg.clip_samples)
    sent = model.codes(image, layout)
    _, received = through_file(model, image, cover, tmp_path)
    got = torch.remainder(dct2(torch.from_numpy(received).double())[bins] / step - dither, 1.0)
    error_lsb = ((got - sent[0] + 0.5) % 1.0 - 0.5) * step / LSB
    # 16-bit rounding is 0.29 LSB RMS per coefficient: the codes are exact up to that noise, for every bin.
    assert error_lsb.std() < 0.35
    assert error_lsb.abs().max() < 2.0


def test_receiver_does_not_need_the_cover(tmp_path):
    """The same image in two unrelated covers: identical revealed images without rounding; through real 16-bit
    files equally good ones (only the files' rounding noise differs), near what the coefficients that fit allow."""
    model = fitted()
    image, one, other = photos()[1:2], covers(1, model.cfg.clip_samples, seed=5), covers(1, model.cfg.clip_samples, seed=50)
    exact = tiny(channel="float")
    exact.load_state_dict(model.state_dict())
    with torch.no_grad():
        assert (exact(image, one).revealed - exact(image, other).revealed).abs().max() < 1e-3  # float32 rounding
    truncated = model.decode(model.codes(image, model.layout()), model.layout()).clamp(0, 1)
    quality = [float(metrics.psnr(through_file(model, image, cover, tmp_path)[0].clamp(0, 1), image)[0])
               for cover in (one, other)]
    assert abs(quality[0] - quality[1]) < 1.0
    # measured 26.1 dB through the file against 27.3 dB for the sent coefficients without any noise: the
    # smallest steps (4 LSB) carry the least important coefficients at low precision, by design
    assert min(quality) > float(metrics.psnr(truncated, image)[0]) - 3.0


def test_change_stays_in_the_used_bins_and_under_half_a_step():
    model = fitted()
    layout = model.layout()
    bins, step = torch.cat([layout.bins, layout.pilots]), torch.cat([layout.step, layout.pilot_step])
    image, cover = photos()[:2], covers(2, model.cfg.clip_samples)
    with torch.no_grad():
        out = model.embed(image, cover)
    change = out.container_spec - out.cover_spec
    unused = torch.ones(change.shape[-1], dtype=torch.bool)
    unused[bins] = False
    assert change[:, unused].abs().max() == 0 and unused[0]  # nothing outside the used bins, never DC
    assert (change[:, bins].abs() <= step / 2 + 1e-12).all()
    # A uniform change of +-step/2 has RMS step / sqrt(12): the per-bin loudness the config asked for.
    measured = change[:, bins].pow(2).mean().sqrt()
    expected = step.pow(2).mean().div(12).sqrt()
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
    gain = torch.linalg.inv(torch.from_numpy(YCBCR)).pow(2).sum(0).double()
    importance = (model.coef_std.double().pow(2) * gain[:, None, None]).flatten()
    assert (importance[coefs][:-1] >= importance[coefs][1:]).all()
    assert (step[:-1] >= step[1:]).all()  # the most important coefficients get the largest (least noisy) steps
    assert torch.isfinite(model.steps).all() and model.steps.max() > 0


def test_invalid_modulo_configs_are_refused():
    with pytest.raises(PixinwavError, match="min_step_lsb"):
        tiny(min_step_lsb=0)
    with pytest.raises(PixinwavError, match="channel"):
        tiny(channel="mp3")
    with pytest.raises(PixinwavError, match="scheme"):
        build_model(model_config("modulo-rgb", scheme="lsb"))


def test_model_file_keeps_statistics_and_refiner(tmp_path):
    model = fitted()
    torch.nn.init.normal_(model.refiner[-1].weight, std=0.01)
    save_model(tmp_path / "m.safetensors", model)
    loaded, _ = load_model_file(tmp_path / "m.safetensors")
    assert isinstance(loaded, ModuloStego)
    image, cover = photos()[:1], covers(1, model.cfg.clip_samples)
    a, _ = through_file(model, image, cover, tmp_path)
    b, _ = through_file(loaded, image, cover, tmp_path)
    assert torch.equal(a, b)


def test_training_fits_statistics_then_trains_the_refiner_from_the_identity(tmp_path, image_dir, audio_dir):
    """The refiner starts as the identity (step 0 = the training-free decoder exactly) and training through the
    16-bit channel lowers the image L1 on the batches it trained on."""
    from pixinwav.data.datasets import TrainBatches

    overrides = [f"model.{k}={v}" for k, v in TINY.items()] + [
        "model.preset=modulo-rgb", f"data.train_images={image_dir}", f"data.train_audio={audio_dir}",
        "train.steps=60", "train.batch_size=4", "train.lr=1e-3", "train.beta=1.0", "train.tensorboard=false",
        f"train.out_dir={tmp_path / 'run'}"]
    cfg = load_config(None, overrides)
    model = fit(cfg, progress=False)["model"].eval()
    assert model.steps.max() > 0 and not torch.equal(model.coef_std, tiny().coef_std)  # statistics were measured
    batches = [TrainBatches(cfg.model, cfg.data, 4, cfg.train.seed)[step] for step in range(8)]
    with torch.no_grad():
        identity = tiny()
        identity.load_state_dict({k: v for k, v in model.state_dict().items() if not k.startswith("refiner.")}, strict=False)
        for images, covers_ in batches[:1]:
            out = identity(images, covers_)
            codes, noise, _ = identity.read_codes(out.received_spec, identity.layout())
            rough = identity.decode(codes, identity.layout(), noise)
            assert torch.equal(out.revealed, rough)
        l1 = lambda m: sum(float((m(i, c).revealed - i).abs().mean()) for i, c in batches)
        assert l1(model) < l1(identity)


def test_without_a_refiner_training_is_measuring_statistics(tmp_path, image_dir, audio_dir):
    overrides = [f"model.{k}={v}" for k, v in {**TINY, "widths": []}.items()] + [
        "model.preset=modulo-rgb", f"data.train_images={image_dir}", f"data.train_audio={audio_dir}",
        f"data.val_images={image_dir}", f"data.val_audio={audio_dir}", "data.val_pairs=3", "train.tensorboard=false",
        f"train.out_dir={tmp_path / 'run'}"]
    summary = fit(load_config(None, overrides), progress=False)
    assert summary["statistics_only"] and summary["model"].refiner is None
    assert not list(summary["model"].parameters()) and summary["model"].steps.max() > 0
    loaded, _ = load_model_file(tmp_path / "run" / "model.safetensors")
    assert torch.equal(loaded.steps, summary["model"].steps)
    assert (tmp_path / "run" / "val.csv").read_text().splitlines()[1].startswith("0,")


@pytest.mark.parametrize("writer", ["floor", "x32767"])
def test_files_written_by_other_tools_still_reveal(tmp_path, writer):
    """Two ways other software turns float audio into int16: libsndfile (and so soundfile) floors instead of
    rounding, a -0.5 LSB offset on every sample, which only the DC bin sees and the modulo scheme leaves unused;
    some tools scale by 32767 instead of 32768, a 30 ppm gain that moves codes by under 1 % of a step here."""
    model = fitted()
    image, cover = photos()[2:3], covers(1, model.cfg.clip_samples, seed=11)
    exact, _ = through_file(model, image, cover, tmp_path)
    with torch.no_grad():
        container = model.embed(image, cover).container[0].numpy().astype(np.float64)
    if writer == "floor":
        sf.write(tmp_path / "other.wav", container, 44100, subtype="PCM_16")
    else:
        sf.write(tmp_path / "other.wav", np.round(container * 32767).astype(np.int16), 44100, subtype="PCM_16")
    received = torch.from_numpy(sf.read(tmp_path / "other.wav", dtype="float32")[0])[None]
    with torch.no_grad():
        rescued = model.extract(received).image
    assert float(metrics.psnr(rescued.clamp(0, 1), image)[0]) > float(metrics.psnr(exact.clamp(0, 1), image)[0]) - 0.5


def test_pilots_undo_a_volume_change_and_measure_added_noise():
    """At the shipped geometry (prior statistics, ~33,000 bins, 512 pilots): a -1 dB volume change is found and
    undone; added noise is measured, and trusting the codes less beats assuming the file's rounding alone."""
    from PIL import Image

    model = build_model(model_config("modulo-rgb")).eval()
    image = prepare_image(Image.fromarray(photo("astronaut")), 256, 3)[None]
    cover = torch.from_numpy(music(1.6, 44100, seed=3)[: model.cfg.clip_samples])[None]
    with torch.no_grad():
        container = model.embed(image, cover).container.numpy()
        quality = lambda wave: float(metrics.psnr(model.extract(torch.from_numpy(wave)).image.clamp(0, 1), image)[0])
        pcm = lambda wave: (to_pcm16(wave).astype(np.float32) / 32768)
        exact = quality(pcm(container))
        assert quality(pcm(container * 10 ** (-1 / 20))) > exact - 1.0
        noisy = pcm(container + np.random.default_rng(0).normal(0, 2 / 32768, container.shape))  # 2 LSB RMS
        codes, noise, _ = model.read_codes(dct2(torch.from_numpy(noisy).double()), model.layout())
        assert 1.6 < float(noise[0]) < 2.6
        assumed = model.decode(codes, model.layout(), ROUNDING_RMS_LSB).clamp(0, 1)
        assert quality(noisy) > float(metrics.psnr(assumed, image)[0]) + 1.0


def test_greyscale_images_round_trip(tmp_path):
    model = tiny(image_channels=1)
    grey = photos().mean(dim=1, keepdim=True)
    model.fit_statistics(grey, covers(16, model.cfg.clip_samples, seed=100))
    revealed, _ = through_file(model, grey[4:5], covers(1, model.cfg.clip_samples, seed=21), tmp_path)
    assert revealed.shape == (1, 1, 32, 32)
    sent = model.decode(model.codes(grey[4:5], model.layout()), model.layout()).clamp(0, 1)
    assert float(metrics.psnr(revealed.clamp(0, 1), grey[4:5])[0]) > float(metrics.psnr(sent, grey[4:5])[0]) - 3.0
    assert float(metrics.psnr(revealed.clamp(0, 1), grey[4:5])[0]) > 20.0


def test_a_key_hides_the_image_and_the_fact_that_there_is_one():
    """Hidden with a key: revealed with it as well as an image hidden without a key; with no key or the wrong key, the
    pilots see nothing (the API refuses) and forcing a reveal gives nothing like the secret."""
    from PIL import Image

    from pixinwav.api import Stego
    from pixinwav.models.dither import keyed_dither

    assert np.array_equal(keyed_dither("k", 5), keyed_dither("k", 5)) and not np.array_equal(keyed_dither("k", 5),
                                                                                             keyed_dither("K", 5))
    stego = Stego(build_model(model_config("modulo-rgb")))  # shipped geometry: enough pilots to tell
    secret = prepare_image(Image.fromarray(photo("rocket")), 256, 3)[None]
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
