import numpy as np
import pytest
import scipy.fft
import torch

from pixinwav.transforms import STDCT, STFTContainer, clip_samples, dct2, idct2

GEOMETRIES = [(4096, 62, "hamming"), (1024, 130, "hamming"), (256, 16, "hamming"), (255, 7, "hamming"), (64, 64, "rect")]


@pytest.mark.parametrize("n", [1, 2, 5, 64, 255, 4096])
def test_dct_matches_scipy_and_inverts(n):
    x = torch.randn(3, n, dtype=torch.float64)
    np.testing.assert_allclose(dct2(x).numpy(), scipy.fft.dct(x.numpy(), norm="ortho", axis=-1), atol=1e-10)
    torch.testing.assert_close(idct2(dct2(x)), x)


@pytest.mark.parametrize("frame,hop,window", GEOMETRIES)
@pytest.mark.parametrize("synthesis", ["paper", "least_squares"])
def test_stdct_round_trip_exact(frame, hop, window, synthesis):
    t = STDCT(frame, hop, window, synthesis).double()
    wave = torch.randn(2, clip_samples(9, frame, hop) + 3, dtype=torch.float64)  # 3 samples past the last frame
    spec = t(wave)
    assert spec.shape == (2, frame, 9)
    torch.testing.assert_close(t.inverse(spec), wave[:, : clip_samples(9, frame, hop)])


def test_paper_geometry_shape():
    t = STDCT()
    assert t(torch.zeros(1, 67522)).shape == (1, 4096, 1024)


@pytest.mark.parametrize("frame,hop,window", GEOMETRIES)
def test_stdct_matches_scipy_on_framed_windowed_signal(frame, hop, window):
    t = STDCT(frame, hop, window).double()
    wave = torch.randn(1, clip_samples(5, frame, hop), dtype=torch.float64)
    win = t.window.double().numpy()
    frames = np.stack([wave[0, i * hop : i * hop + frame].numpy() * win for i in range(5)])
    ref = scipy.fft.dct(frames, norm="ortho", axis=-1).T
    np.testing.assert_allclose(t(wave)[0].numpy(), ref, atol=1e-10)


def test_batch_equals_single():
    t = STDCT(512, 31)
    wave = torch.randn(4, clip_samples(20, 512, 31))
    batch = t(wave)
    for i in range(4):
        torch.testing.assert_close(batch[i], t(wave[i : i + 1])[0])
        torch.testing.assert_close(t.inverse(batch)[i], t.inverse(batch[i : i + 1])[0])


def test_least_squares_synthesis_is_a_projection():
    """forward(inverse(X)) is idempotent and never increases energy: the orthogonal projection."""
    t = STDCT(256, 32, synthesis="least_squares").double()
    x = torch.randn(1, 256, 16, dtype=torch.float64)
    p = t(t.inverse(x))
    torch.testing.assert_close(t(t.inverse(p)), p)
    assert p.norm() < x.norm()
    # and it is the closest real spectrogram: moving the signal in any direction moves further away
    y = t.inverse(x)
    for _ in range(5):
        other = y + 1e-2 * torch.randn_like(y)
        assert (t(other) - x).norm() > (p - x).norm()


def test_stdct_is_differentiable():
    t = STDCT(128, 16)
    wave = torch.randn(1, clip_samples(8, 128, 16), requires_grad=True)
    t.inverse(t(wave) * 2).sum().backward()
    assert wave.grad is not None and torch.isfinite(wave.grad).all()


@pytest.mark.parametrize("part", ["magnitude", "phase"])
def test_stft_container_round_trip(part):
    t = STFTContainer(511, 66, part=part).double()
    wave = torch.randn(2, 66 * 40 + 1, dtype=torch.float64)
    hidden, other = t.analyse(wave)
    assert hidden.shape == (2, 256, 41)
    torch.testing.assert_close(t.synthesise(hidden, other, wave.shape[-1]), wave)


def test_rejects_bad_geometry():
    with pytest.raises(ValueError):
        STDCT(64, 65)
    with pytest.raises(ValueError):
        STDCT(64, 8)(torch.zeros(1, 10))
    with pytest.raises(ValueError, match="zero at the frame edge"):
        STDCT(64, 8, window="hann")
