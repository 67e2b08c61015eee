"""The modulo scheme's optional refiner: a small CNN on the decoded image."""
from __future__ import annotations

from torch import nn


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
