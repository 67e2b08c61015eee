import subprocess
from pathlib import Path

import pytest
import torch

from pixinwav.config import model_config
from pixinwav.errors import PixinwavError
from pixinwav.models import UNet, build_model


def n_params(m):
    return sum(p.numel() for p in m.parameters())


def test_paper_rgb_parameter_count():
    model = build_model(model_config("paper-rgb"))
    assert n_params(model) == 964_184
    assert n_params(model.hide_net) == n_params(model.reveal_net) == 482_092
    bn = sum(n_params(m) for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))
    assert bn == 2_056


def test_paper_geometry():
    cfg = model_config("paper-rgb")
    assert cfg.clip_samples == 67_522 and cfg.container_shape == (4096, 1024) and cfg.plane_size == 512
    gray = model_config("paper-gray")
    assert gray.plane_size == 256 and gray.image_channels == 1


def test_unet_shapes_and_divisibility():
    net = UNet(1, 1, widths=[4, 8])
    assert net(torch.randn(2, 1, 128, 64)).shape == (2, 1, 128, 64)
    with pytest.raises(ValueError, match="divisible"):
        net(torch.randn(1, 1, 100, 64))


@pytest.mark.parametrize("overrides", [
    {}, {"embedding": "scaled"}, {"cover_aware": True}, {"channel": "spectrogram"}, {"channel": "float"},
    {"snr_db": None}, {"image_channels": 1, "pixel_shuffle": False, "image_size": 64},
    {"band": [0.5, 1.0]}, {"band": [0.25, 1.0], "cover_aware": True}, {"hide_at": "plane"},
    {"hide_at": "plane", "cover_aware": True, "reveal_resize": "area"}, {"reveal_resize": "area"}, {"reveal_norm": "none"},
    {"transform": "stft", "frame": 511, "hop": 16, "window": "hann", "frames": 128},
])
def test_variants_forward_and_backward(overrides):
    cfg = model_config("tiny-rgb", **overrides)
    model = build_model(cfg)
    image = torch.rand(2, cfg.image_channels, cfg.image_size, cfg.image_size)
    cover = 0.1 * torch.randn(2, cfg.clip_samples)
    out = model(image, cover)
    assert out.revealed.shape == image.shape
    assert out.container.shape == cover.shape
    assert out.received_spec.shape == (2, *cfg.container_shape)
    out.revealed.mean().backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert any(g is not None and g.abs().sum() > 0 for g in grads)


def test_residual_independent_of_cover():
    model = build_model(model_config("tiny-rgb", snr_db=None, synthesis="paper")).eval()
    image = torch.rand(1, 3, 32, 32)
    a = model.embed(image, 0.1 * torch.randn(1, 2288))
    b = model.embed(image, 0.3 * torch.randn(1, 2288))
    torch.testing.assert_close(a.container_spec - a.cover_spec, b.container_spec - b.cover_spec)


def test_snr_scaling_is_exact():
    model = build_model(model_config("tiny-rgb", snr_db=30.0)).eval()
    cover = 0.2 * torch.randn(3, 2288)
    out = model.embed(torch.rand(3, 3, 32, 32), cover)
    snr = 10 * torch.log10(cover.pow(2).sum(1) / (out.container - cover).pow(2).sum(1))
    torch.testing.assert_close(snr, torch.full((3,), 30.0), atol=1e-3, rtol=0)


def test_wav16_channel_quantises_and_spectrogram_channel_does_not():
    torch.manual_seed(0)
    image, cover = torch.rand(1, 3, 32, 32), 0.1 * torch.randn(1, 2288)
    paper = build_model(model_config("tiny-rgb", channel="spectrogram"))
    out = paper(image, cover)
    assert torch.equal(out.received_spec, out.container_spec)
    real = build_model(model_config("tiny-rgb"))
    real.load_state_dict(paper.state_dict())
    out = real(image, cover)
    wave = real.transform.inverse(out.received_spec)
    torch.testing.assert_close(wave * 32768, torch.round(wave * 32768), atol=0.05, rtol=0)  # on the int16 grid


def test_fast_preset_runs_at_plane_resolution():
    cfg = model_config("fast-rgb")
    assert cfg.clip_samples == 67_522 and cfg.container_shape == (4096, 1024)
    model = build_model(cfg)
    assert n_params(model) < n_params(build_model(model_config("paper-rgb"))) / 10
    # the hiding net sees the 512 x 512 plane, not the 4096 x 1024 container
    seen = []
    model.hide_net.register_forward_hook(lambda m, i, o: seen.append(tuple(i[0].shape)))
    with torch.no_grad():
        model.residual(torch.rand(1, 3, 256, 256))
    assert seen == [(1, 1, 512, 512)]


def test_band_confines_the_residual():
    model = build_model(model_config("tiny-rgb", band=[0.5, 1.0], snr_db=None)).eval()
    residual = model.residual(torch.rand(2, 3, 32, 32))
    assert residual.shape == (2, 256, 128)
    assert residual[:, :128].abs().max() == 0 and residual[:, 128:].abs().max() > 0


def test_row_norm_makes_reveal_independent_of_loudness():
    """Whitening each frequency row: the reveal net sees the same input for a container at any volume."""
    model = build_model(model_config("tiny-rgb")).eval()
    spec = torch.randn(1, 256, 128)
    torch.testing.assert_close(model.reveal_spec(spec), model.reveal_spec(spec * 7.0), rtol=1e-4, atol=1e-5)


def test_bad_configs_are_refused():
    with pytest.raises(PixinwavError, match="channel"):
        build_model(model_config("tiny-rgb", channel="air"))
    with pytest.raises(PixinwavError, match="divisible"):
        build_model(model_config("tiny-rgb", frames=100))
    with pytest.raises(PixinwavError, match="preset"):
        model_config("paper-rgbx")
    with pytest.raises(PixinwavError, match="band"):
        build_model(model_config("tiny-rgb", band=[0.6, 0.5]))
    with pytest.raises(PixinwavError, match="reveal_norm"):
        build_model(model_config("tiny-rgb", reveal_norm="log"))


def test_library_has_no_cuda_calls():
    src = Path(__file__).parents[2] / "src" / "pixinwav"
    hits = subprocess.run(["grep", "-rn", r"\.cuda()", str(src)], capture_output=True, text=True).stdout
    assert hits == ""
