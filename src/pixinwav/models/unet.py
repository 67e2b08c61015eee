"""The PixInWav U-Net: coarse pooling (8x per level), transposed-convolution upsampling, nearly linear.

Both the hiding and the reveal net are this U-Net. With ``widths=(64, 128)`` and ``in_channels=1`` it is the
paper's net exactly (482,092 parameters). Inputs are ``[B, C, H, W]`` with H and W divisible by ``8 ** depth``.
"""
from __future__ import annotations

import torch
from torch import nn

POOL = 8  # the paper's pooling factor; the (stride 4, stride 2) upsampling pair below only fits 8


def conv_bn_act(cin: int, cout: int, slope: float, batchnorm: bool) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, 3, padding=1)]
    if batchnorm:
        layers.append(nn.BatchNorm2d(cout))
    layers.append(nn.LeakyReLU(slope))
    return layers


class DoubleConv(nn.Sequential):
    def __init__(self, cin: int, cout: int, slope: float, batchnorm: bool):
        super().__init__(*conv_bn_act(cin, cout, slope, batchnorm), *conv_bn_act(cout, cout, slope, batchnorm))


class Down(nn.Module):
    """Double conv, then 8x max-pooling; returns the pooled map (it is also the skip of the next Up)."""

    def __init__(self, cin: int, cout: int, slope: float, batchnorm: bool):
        super().__init__()
        self.conv = DoubleConv(cin, cout, slope, batchnorm)
        self.pool = nn.MaxPool2d(POOL)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.conv(x))


class Up(nn.Module):
    """8x upsampling by two transposed convs (stride 4 then 2), concat the skip, double conv."""

    def __init__(self, cin: int, cout: int, skip: int, slope: float, batchnorm: bool):
        super().__init__()
        self.up = nn.Sequential(
            nn.ConvTranspose2d(cin, cout, 3, stride=4), nn.LeakyReLU(slope),
            nn.ConvTranspose2d(cout, cout, 3, stride=2, output_padding=1), nn.LeakyReLU(slope),
        )
        self.conv = DoubleConv(cout + skip, cout, slope, batchnorm)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.conv(torch.cat([self.up(x), skip], dim=1))


class UNet(nn.Module):
    """``[B, in_channels, H, W] -> [B, out_channels, H, W]``; no output activation (as in the paper)."""

    def __init__(self, in_channels: int = 1, out_channels: int = 1, widths=(64, 128), slope: float = 0.8,
                 batchnorm: bool = True):
        super().__init__()
        widths = list(widths)
        chans = [in_channels, *widths]
        self.downs = nn.ModuleList(Down(chans[i], chans[i + 1], slope, batchnorm) for i in range(len(widths)))
        # Up i goes from width i+1 back to width i (the last one back to out_channels), with skip chans[i].
        outs = [out_channels, *widths[:-1]]
        self.ups = nn.ModuleList(
            Up(chans[i + 1], outs[i], chans[i], slope, batchnorm) for i in reversed(range(len(widths)))
        )
        self.multiple = POOL ** len(widths)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2] % self.multiple or x.shape[-1] % self.multiple:
            raise ValueError(f"U-Net input {tuple(x.shape[-2:])} must be divisible by {self.multiple}")
        skips = [x]
        for down in self.downs:
            skips.append(down(skips[-1]))
        y = skips.pop()
        for up in self.ups:
            y = up(y, skips.pop())
        return y
