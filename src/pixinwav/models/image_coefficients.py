"""The photo as colour-DCT coefficients ranked by their training statistics, shared by the window models that
send an image as analog codes (``modulo``, ``adaptive``): JPEG's YCbCr, the 2-D DCT, and the per-coefficient mean
and deviation measured on training photos (stored buffers, so both ends rank alike).

The arithmetic is torch's (the modulo scheme trains through it); torch is imported when it runs, so a scheme that
holds these buffers but sends files (the adaptive whole-song model) loads without it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..config import ModelConfig

if TYPE_CHECKING:
    import torch

# JPEG's YCbCr (full range). Errors in Y, Cb, Cr reach RGB with these squared gains, which rank coefficients.
YCBCR = np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]], np.float32)
YCBCR_MEAN = np.array([0.0, 0.5, 0.5], np.float32)


def dct_2d(x: torch.Tensor) -> torch.Tensor:
    from ..transforms import dct2

    return dct2(dct2(x).transpose(-1, -2)).transpose(-1, -2)


def idct_2d(x: torch.Tensor) -> torch.Tensor:
    from ..transforms import idct2

    return idct2(idct2(x).transpose(-1, -2)).transpose(-1, -2)


def prior_std(channels: int, size: int) -> np.ndarray:
    """``[C, n, n]`` float32: the deviations until statistics are measured (image spectra fall as 1 / frequency)."""
    u = np.arange(size, dtype=np.float32)
    return 0.2 * size / (1.0 + u[:, None] + u[None, :]) * np.array([1.0, 0.5, 0.5][:channels], np.float32)[:, None, None]


class ImageCoefficients:
    """For a scheme: the buffers ``coef_mean`` and ``coef_std`` (``[C, n, n]``, tensors in a net scheme, arrays
    otherwise), set up by :meth:`init_image_coefficients`, and what follows from them."""

    coef_mean: np.ndarray | torch.Tensor
    coef_std: np.ndarray | torch.Tensor
    cfg: ModelConfig

    def init_image_coefficients(self, cfg: ModelConfig) -> None:
        c, n = cfg.image_channels, cfg.image_size
        self.register_buffer("coef_mean", np.zeros((c, n, n), np.float32))
        self.register_buffer("coef_std", prior_std(c, n))

    def _stat(self, name: str) -> torch.Tensor:
        import torch

        return torch.as_tensor(getattr(self, name))

    def fit_image_statistics(self, images: torch.Tensor) -> None:
        """The mean and deviation of each colour-DCT coefficient over training images ``[N, C, H, W]``."""
        coefs = dct_2d(self.to_colour(images))
        std = coefs.std(0).clamp_min(1e-4) if len(images) > 1 else coefs.abs()[0].clamp_min(1e-4)
        self.set_buffer("coef_mean", coefs.mean(0))
        self.set_buffer("coef_std", std)

    def importance_order(self) -> torch.Tensor:
        """Flat colour-DCT indices, most important first: training variance times the coefficient's gain into RGB
        (CPU)."""
        import torch

        weight = torch.linalg.inv(torch.from_numpy(YCBCR)).pow(2).sum(0) if self.cfg.image_channels == 3 else torch.ones(1)
        importance = (self._stat("coef_std").cpu().double().pow(2) * weight.double()[:, None, None]).flatten()
        return torch.sort(importance, descending=True, stable=True).indices

    def to_colour(self, image: torch.Tensor) -> torch.Tensor:
        import torch

        if self.cfg.image_channels == 1:
            return image
        return (torch.einsum("ij,bjhw->bihw", torch.from_numpy(YCBCR).to(image), image)
                + torch.from_numpy(YCBCR_MEAN).to(image)[:, None, None] - 0.5)

    def from_colour(self, colour: torch.Tensor) -> torch.Tensor:
        import torch

        if self.cfg.image_channels == 1:
            return colour
        colour = colour - torch.from_numpy(YCBCR_MEAN).to(colour)[:, None, None] + 0.5
        return torch.einsum("ij,bjhw->bihw", torch.linalg.inv(torch.from_numpy(YCBCR)).to(colour), colour)
