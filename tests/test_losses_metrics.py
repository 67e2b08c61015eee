import math
import os

import numpy as np
import pysdtw
import pytest
import torch
from skimage.metrics import structural_similarity

from helpers import PHOTOS, music, photo
from pixinwav import metrics
from pixinwav.config import model_config
from pixinwav.losses import StegoLoss, frames_of, soft_dtw
from pixinwav.models import build_model


@pytest.mark.parametrize("gamma", [0.1, 1.0, 10.0])
def test_soft_dtw_matches_pysdtw(gamma):
    torch.manual_seed(0)
    x = torch.randn(3, 25, 8, dtype=torch.float64, requires_grad=True)
    y = torch.randn(3, 19, 8, dtype=torch.float64)
    ours = soft_dtw(x, y, gamma)
    ref = pysdtw.SoftDTW(gamma=gamma, use_cuda=False)(x, y)
    torch.testing.assert_close(ours, ref)
    g_ours, = torch.autograd.grad(ours.sum(), x)
    g_ref, = torch.autograd.grad(pysdtw.SoftDTW(gamma=gamma, use_cuda=False)(x, y).sum(), x)
    # pysdtw's hand-written backward drifts by ~1e-3 at small gamma; ours is exact (gradcheck below)
    torch.testing.assert_close(g_ours, g_ref, rtol=2e-2, atol=2e-3)
    small = x[:1, :6].detach().clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda a: soft_dtw(a, y[:1, :5], gamma), (small,))


def test_soft_dtw_runs_on_frames_not_samples():
    wave = torch.randn(2, 16834)
    assert frames_of(wave, 512).shape == (2, 32, 512)


def test_stego_loss_terms():
    cfg = model_config("tiny-rgb")
    model = build_model(cfg)
    image, cover = torch.rand(2, 3, 32, 32), 0.1 * torch.randn(2, cfg.clip_samples)
    out = model(image, cover)
    terms = StegoLoss(beta=0.25, wave_weight=0.5, wave_loss="sse", sdtw_weight=1e-3, sdtw_frame=256)(out, image, cover)
    assert set(terms) == {"audio/spec_mse", "image/l1", "audio/wave_sse", "audio/soft_dtw", "loss"}
    expected = (0.75 * terms["audio/spec_mse"] + 0.25 * terms["image/l1"] + 0.5 * terms["audio/wave_sse"]
                + 1e-3 * terms["audio/soft_dtw"])
    torch.testing.assert_close(terms["loss"], expected)
    torch.testing.assert_close(terms["audio/wave_sse"], (out.container - cover).pow(2).sum())


@pytest.mark.parametrize("name", PHOTOS[:4])
@pytest.mark.parametrize("noise", [0.02, 0.1, 0.3])
def test_ssim_matches_scikit_image(name, noise):
    a = photo(name)[:200, :240].astype(np.float64) / 255
    b = np.clip(a + np.random.default_rng(1).normal(0, noise, a.shape), 0, 1)
    ref = structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                data_range=1.0, channel_axis=2)
    t = lambda x: torch.tensor(x, dtype=torch.float32).permute(2, 0, 1)[None]
    assert abs(float(metrics.ssim(t(a), t(b))[0]) - ref) < 1e-3  # (a tensor, as training passes)
    assert abs(float(metrics.ssim(a.transpose(2, 0, 1)[None], b.transpose(2, 0, 1)[None])[0]) - ref) < 1e-9  # float64


def test_psnr_and_ssim_identity():
    x = torch.rand(2, 3, 32, 32)
    assert np.allclose(metrics.ssim(x, x), np.ones(2))
    assert float(metrics.psnr(x, (x + 0.1).clamp(max=10))[0]) == pytest.approx(20.0, abs=1e-3)


def test_snr_and_segmental_snr():
    rng = np.random.default_rng(0)
    ref = music(1.0, 44100, seed=3)
    noise = rng.normal(size=ref.shape)
    noise *= np.sqrt(np.sum(ref**2) / np.sum(noise**2)) / 10  # exactly 20 dB
    assert metrics.snr(ref, ref + noise) == pytest.approx(20.0, abs=1e-6)
    assert metrics.snr(ref, ref) == math.inf
    seg = metrics.segmental_snr(ref, ref + noise)
    assert -10 <= seg <= 35 and seg != pytest.approx(20.0, abs=0.5)  # decaying notes: frames differ


def test_speech_metrics_only_where_valid():
    speechlike = music(2.0, 16000, seed=4)
    degraded = speechlike + np.random.default_rng(0).normal(0, 0.01, speechlike.shape).astype(np.float32)
    assert metrics.speech_quality(speechlike, degraded, 44100) == {}
    scores = metrics.speech_quality(speechlike, degraded, 16000)
    assert set(scores) == {"pesq", "stoi"} and 1.0 <= scores["pesq"] <= 4.7 and 0 <= scores["stoi"] <= 1


def test_visqol_orders_degradations():
    clean = music(1.6, 44100, seed=8)
    rng = np.random.default_rng(0)
    noise = rng.normal(size=clean.shape)
    noisy = lambda db: clean + noise * np.sqrt(np.sum(clean**2) / np.sum(noise**2)) / 10 ** (db / 20)
    same, at50, at20 = (metrics.visqol_mos(clean, x, 44100) for x in (clean, noisy(50), noisy(20)))
    assert same > 4.5 and same > at50 > at20 >= 1.0
    assert math.isnan(metrics.visqol_mos(clean[:20000], clean[:20000], 44100))  # under a second
    # visqol sets numba's threading layer on import unless one is set: measuring must not leave the fallback behind
    assert os.environ.get("NUMBA_THREADING_LAYER") != "workqueue"
