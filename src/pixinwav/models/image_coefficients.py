"""The photo as colour-DCT coefficients ranked by their training statistics, shared by the window models that
send an image as analog codes (``modulo``, ``adaptive``): JPEG's YCbCr, the 2-D DCT, the per-coefficient mean and
deviation measured on training photos (stored buffers, so both ends rank alike), and the optional refiner (a small
CNN on the decoded image).
"""
from __future__ import annotations

import torch
from torch import nn

from ..config import ModelConfig
from ..transforms import dct2, idct2

# JPEG's YCbCr (full range). Errors in Y, Cb, Cr reach RGB with these squared gains, which rank coefficients.
YCBCR = torch.tensor([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]])
YCBCR_MEAN = torch.tensor([0.0, 0.5, 0.5])


def dct_2d(x: torch.Tensor) -> torch.Tensor:
    return dct2(dct2(x).transpose(-1, -2)).transpose(-1, -2)


def idct_2d(x: torch.Tensor) -> torch.Tensor:
    return idct2(idct2(x).transpose(-1, -2)).transpose(-1, -2)


class Refiner(nn.Sequential):
    """A plain stack of 3 x 3 convolutions (one per entry of ``widths``) predicting a correction to the decoded
    image: mostly the ringing left by the coefficients that did not fit. The last layer starts at zero, so an
    untrained refiner is the identity and training can only start from the training-free decoder."""

    def __init__(self, channels: int, widths: list[int]):
        chans = [channels, *widths]
        layers: list[nn.Module] = []
        for cin, cout in zip(chans[:-1], chans[1:]):
            layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.LeakyReLU(0.1)]
        layers.append(nn.Conv2d(chans[-1], channels, 3, padding=1))
        nn.init.zeros_(layers[-1].weight)
        nn.init.zeros_(layers[-1].bias)
        super().__init__(*layers)


class ImageCoefficients:
    """For a scheme (an ``nn.Module``): the buffers ``coef_mean`` and ``coef_std`` (``[C, n, n]``) and ``refiner``,
    set up by :meth:`init_image_coefficients`, and what follows from them."""

    coef_mean: torch.Tensor
    coef_std: torch.Tensor
    cfg: ModelConfig

    def init_image_coefficients(self, cfg: ModelConfig) -> None:
        c, n = cfg.image_channels, cfg.image_size
        # A prior until fit_image_statistics: image spectra fall as 1 / frequency
        u = torch.arange(n, dtype=torch.float32)
        std = 0.2 * n / (1.0 + u[:, None] + u[None, :]) * torch.tensor([1.0, 0.5, 0.5][:c])[:, None, None]
        self.register_buffer("coef_mean", torch.zeros(c, n, n))
        self.register_buffer("coef_std", std)
        self.refiner = Refiner(c, cfg.widths) if cfg.widths else None  # widths []: the training-free decoder

    def fit_image_statistics(self, images: torch.Tensor) -> None:
        """The mean and deviation of each colour-DCT coefficient over training images ``[N, C, H, W]``."""
        coefs = dct_2d(self.to_colour(images))
        self.coef_mean.copy_(coefs.mean(0))
        self.coef_std.copy_(coefs.std(0).clamp_min(1e-4) if len(images) > 1 else coefs.abs()[0].clamp_min(1e-4))

    def importance_order(self) -> torch.Tensor:
        """Flat colour-DCT indices, most important first: training variance times the coefficient's gain into RGB
        (CPU)."""
        weight = torch.linalg.inv(YCBCR).pow(2).sum(0) if self.cfg.image_channels == 3 else torch.ones(1)
        importance = (self.coef_std.cpu().double().pow(2) * weight.double()[:, None, None]).flatten()
        return torch.sort(importance, descending=True, stable=True).indices

    def to_colour(self, image: torch.Tensor) -> torch.Tensor:
        if self.cfg.image_channels == 1:
            return image
        return torch.einsum("ij,bjhw->bihw", YCBCR.to(image), image) + YCBCR_MEAN.to(image)[:, None, None] - 0.5

    def from_colour(self, colour: torch.Tensor) -> torch.Tensor:
        if self.cfg.image_channels == 1:
            return colour
        colour = colour - YCBCR_MEAN.to(colour)[:, None, None] + 0.5
        return torch.einsum("ij,bjhw->bihw", torch.linalg.inv(YCBCR).to(colour), colour)
