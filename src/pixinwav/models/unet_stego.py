"""PixInWav's scheme: image -> learned residual added to the cover's container -> (audio channel) -> revealed image.

Shapes: images ``[B, C, H, W]`` in [0, 1]; waveforms ``[B, T]``; containers ``[B, F, N]``; the nets work on an
image plane ``[B, 1, P, P]`` (P = 2H with pixel shuffle) stretched to ``[B, 1, F, N]`` for hiding.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..config import ModelConfig
from ..transforms import STDCT, STFTContainer
from .base import Extracted, Hidden
from .unet import UNet
from .net_scheme import NetScheme, tensor


def build_transform(cfg: ModelConfig) -> nn.Module:
    if cfg.unet.transform == "stdct":
        return STDCT(cfg.frame, cfg.hop, cfg.unet.window, cfg.unet.synthesis)
    return STFTContainer(cfg.frame, cfg.hop, cfg.unet.window, cfg.unet.stft_part)


class UNetStego(NetScheme):
    """PixInWav: a hiding U-Net makes a residual from the image, a reveal U-Net reads it back from the container.
    The config's values and their combinations are checked when the config is built (``config.py``)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__(cfg)
        self.transform = build_transform(cfg)
        unet = dict(widths=cfg.widths, slope=cfg.unet.leaky_slope, batchnorm=cfg.unet.batchnorm)
        if cfg.unet.embedding == "residual":
            self.hide_net = UNet(2 if cfg.unet.cover_aware else 1, 1, **unet)
        else:  # the paper's "resscale": the stretched image times one learned scalar
            self.hide_scale = nn.Parameter(torch.tensor(0.01))
        self.reveal_net = UNet(1, 1, **unet)

    @property
    def top_frequency(self) -> float:
        """Hz of the top of the band the residual occupies: a cover sampled below twice this loses part of it."""
        return self.cfg.band[1] * self.cfg.sample_rate / 2

    # --- image <-> plane --------------------------------------------------------------------------------
    def image_to_plane(self, image: torch.Tensor) -> torch.Tensor:
        """``[B, C, H, W] -> [B, 1, P, P]``: pad to 4 channels with zeros and pixel-shuffle (paper)."""
        if not self.cfg.unet.pixel_shuffle:
            return image
        pad = 4 - image.shape[1]
        if pad:
            image = torch.cat([image, image.new_zeros(image.shape[0], pad, *image.shape[2:])], dim=1)
        return F.pixel_shuffle(image, 2)

    def plane_to_image(self, plane: torch.Tensor) -> torch.Tensor:
        if not self.cfg.unet.pixel_shuffle:
            return plane
        return F.pixel_unshuffle(plane, 2)[:, : self.cfg.image_channels]

    # --- hiding -----------------------------------------------------------------------------------------
    def residual(self, image: torch.Tensor, cover_spec: torch.Tensor | None = None) -> torch.Tensor:
        """``[B, C, H, W] -> [B, F, N]``: what is added to the cover container (zero outside the band)."""
        lo, hi = self.cfg.band_rows
        size = (hi - lo, self.cfg.container_shape[1])
        stretch = lambda x: F.interpolate(x, size=size, mode="bilinear", align_corners=True)
        plane = self.image_to_plane(image)
        if self.cfg.unet.embedding == "scaled":
            band = self.hide_scale * stretch(plane)
        elif self.cfg.unet.hide_at == "container":  # paper: the net runs on the stretched image
            net_in = stretch(plane)
            if self.cfg.unet.cover_aware:
                net_in = torch.cat([net_in, cover_spec[:, None, lo:hi]], dim=1)
            band = self.run_net(self.hide_net, net_in)
        else:  # the net runs at image-plane resolution and its output is stretched
            if self.cfg.unet.cover_aware:
                cover = F.adaptive_avg_pool2d(cover_spec[:, None, lo:hi], plane.shape[-2:])
                plane = torch.cat([plane, cover], dim=1)
            band = stretch(self.run_net(self.hide_net, plane))
        return F.pad(band[:, 0], (0, 0, lo, self.cfg.container_shape[0] - hi))

    def analyse(self, wave: torch.Tensor) -> torch.Tensor:
        return self.transform.analyse(wave)[0]

    def embed(self, image: torch.Tensor, cover: torch.Tensor, key: str | None = None) -> Hidden:
        """Hide ``image`` in the cover waveform ``[B, T]``: the cover and container spectrograms and the
        container waveform (not yet quantised). ``key`` is not supported (``takes_key`` is False)."""
        image, cover = tensor(image), tensor(cover)
        self.check_cover(cover)
        cover_spec, aux = self.transform.analyse(cover)
        residual = self.residual(image, cover_spec if self.cfg.unet.cover_aware else None)
        container = self.transform.synthesise(cover_spec + residual, aux, cover.shape[-1])
        if self.cfg.unet.snr_db is not None:
            container, gain = self.at_snr(cover, container)
            residual = residual * gain[:, None, None]
        return Hidden(cover_spec, cover_spec + residual, container)

    def at_snr(self, cover: torch.Tensor, container: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Scale the hidden signal (container - cover) to exactly ``snr_db`` against the cover, per clip."""
        hidden = container - cover
        ratio = 10 ** (self.cfg.unet.snr_db / 20)
        gain = cover.norm(dim=-1) / (hidden.norm(dim=-1) * ratio + 1e-12)
        return cover + gain[:, None] * hidden, gain

    # --- revealing --------------------------------------------------------------------------------------
    def reveal_spec(self, spec: torch.Tensor, key: str | None = None) -> torch.Tensor:
        """``[B, F, N] -> [B, C, H, W]``: take the band, optionally whiten its rows, shrink it to the plane
        (nearest or area), run the reveal net."""
        size = self.cfg.plane_size
        lo, hi = self.cfg.band_rows
        spec = spec[:, lo:hi]
        if self.cfg.unet.reveal_norm == "row":
            spec = spec / (spec.pow(2).mean(dim=-1, keepdim=True) + 1e-10).sqrt()
        plane = F.interpolate(spec[:, None], size=(size, size), mode=self.cfg.unet.reveal_resize)
        return self.plane_to_image(self.run_net(self.reveal_net, plane))

    def extract(self, wave: torch.Tensor, key: str | None = None) -> Extracted:
        wave = tensor(wave)
        return Extracted(self.reveal_spec(self.analyse(wave)), None)
