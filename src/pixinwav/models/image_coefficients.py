"""The photo as colour-DCT coefficients ranked by their training statistics, shared by the window models that
send an image as analog codes (``modulo``, ``adaptive``): JPEG's YCbCr, the 2-D DCT, and the per-coefficient mean
and deviation measured on training photos (stored buffers, so both ends rank alike).

NumPy arithmetic (SciPy's DCT), so the schemes that send analog codes load and run without torch; a net scheme's
training hands tensors in (they are read as arrays: the statistics take no gradient).
"""
from __future__ import annotations

import numpy as np
import scipy

from ..arrays import Array, as_numpy
from ..config import ModelConfig

# JPEG's YCbCr (full range). Errors in Y, Cb, Cr reach RGB with these squared gains, which rank coefficients.
YCBCR = np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]], np.float32)
YCBCR_MEAN = np.array([0.0, 0.5, 0.5], np.float32)
# Those gains (the column sums of the squared inverse of YCBCR) as the float32 values every release has ranked by:
# worked out again by another LAPACK they differ in their last bits, which reorders near-equal coefficients, and
# the order is part of every file written (a layout that differs from the sender's reads garbage).
RGB_GAINS = np.array([3.0, 3.2584140300750732, 2.475593090057373], np.float32)


def dct_2d(x: np.ndarray) -> np.ndarray:
    """Orthonormal 2-D DCT-II over the last two axes (in the input's precision)."""
    return scipy.fft.dctn(x, axes=(-2, -1), norm="ortho")


def idct_2d(x: np.ndarray) -> np.ndarray:
    return scipy.fft.idctn(x, axes=(-2, -1), norm="ortho")


def prior_std(channels: int, size: int) -> np.ndarray:
    """``[C, n, n]`` float32: the deviations until statistics are measured (image spectra fall as 1 / frequency)."""
    u = np.arange(size, dtype=np.float32)
    return 0.2 * size / (1.0 + u[:, None] + u[None, :]) * np.array([1.0, 0.5, 0.5][:channels], np.float32)[:, None, None]


class ImageCoefficients:
    """For a scheme: the buffers ``coef_mean`` and ``coef_std`` (``[C, n, n]`` float32 arrays), set up by
    :meth:`init_image_coefficients`, and what follows from them."""

    coef_mean: np.ndarray
    coef_std: np.ndarray
    cfg: ModelConfig

    def init_image_coefficients(self, cfg: ModelConfig) -> None:
        c, n = cfg.image_channels, cfg.image_size
        self.register_buffer("coef_mean", np.zeros((c, n, n), np.float32))
        self.register_buffer("coef_std", prior_std(c, n))

    def fit_image_statistics(self, images: Array) -> None:
        """The mean and deviation of each colour-DCT coefficient over training images ``[N, C, H, W]``."""
        coefs = dct_2d(self.to_colour(as_numpy(images).astype(np.float32)))
        std = coefs.std(0, ddof=1) if len(coefs) > 1 else np.abs(coefs[0])
        self.set_buffer("coef_mean", coefs.mean(0))
        self.set_buffer("coef_std", np.maximum(std, 1e-4))

    def importance_order(self) -> np.ndarray:
        """Flat colour-DCT indices, most important first: training variance times the coefficient's gain into RGB."""
        weight = RGB_GAINS.astype(np.float64) if self.cfg.image_channels == 3 else np.ones(1)
        importance = (np.square(self.coef_std.astype(np.float64)) * weight[:, None, None]).ravel()
        return np.argsort(-importance, kind="stable")

    def to_colour(self, image: np.ndarray) -> np.ndarray:
        """``[B, 3, H, W]`` RGB in [0, 1] -> YCbCr centred on 0 (float32); greyscale as it is."""
        if self.cfg.image_channels == 1:
            return image
        return np.einsum("ij,bjhw->bihw", YCBCR, image) + YCBCR_MEAN[:, None, None] - 0.5

    def from_colour(self, colour: np.ndarray) -> np.ndarray:
        if self.cfg.image_channels == 1:
            return colour
        colour = colour - YCBCR_MEAN[:, None, None] + 0.5
        return np.einsum("ij,bjhw->bihw", np.linalg.inv(YCBCR), colour)

    def image_units(self, image: np.ndarray, order: np.ndarray) -> np.ndarray:
        """``[B, C, H, W]`` -> ``[B, K]`` the coefficients ``order`` names in training deviations (float64; computed in
        float32, or in float64 for a float64 image)."""
        image = image if image.dtype == np.float64 else image.astype(np.float32)
        z = (dct_2d(self.to_colour(image)) - self.coef_mean) / self.coef_std
        return z.reshape(len(z), -1)[:, order].astype(np.float64)

    def image_from(self, z: np.ndarray, order: np.ndarray) -> np.ndarray:
        """``[B, K]`` coefficients in training deviations at ``order`` (the others at their mean) -> ``[B, C, H, W]``
        float32."""
        flat = np.zeros((len(z), self.coef_std.size), np.float32)
        flat[:, order] = z
        return self.from_colour(idct_2d(flat.reshape(-1, *self.coef_std.shape) * self.coef_std + self.coef_mean))
