"""The modulo scheme's optional refiner (config ``widths``): a small CNN on the decoded image, and the scheme that
trains it on top of the modulo codes. The codes are :class:`~pixinwav.models.modulo.ModuloStego`'s (NumPy, no
gradient: the refiner learns from the decoded image alone); only this scheme needs torch."""
from __future__ import annotations

import torch
from torch import nn

from ..arrays import Array, as_numpy
from ..config import ModelConfig
from .base import Extracted, Hidden
from .modulo import ModuloStego
from .net_scheme import NetScheme


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


class RefinedModuloStego(NetScheme):
    """Modulo coding (``self.coding``) with the refiner on every image it decodes. The state keeps the coding's
    buffers under their own names beside ``refiner.*``, as model files of the modulo scheme always had them."""

    takes_key = ModuloStego.takes_key
    measures_statistics = ModuloStego.measures_statistics
    has_presence = ModuloStego.has_presence
    follows_band_limit = ModuloStego.follows_band_limit

    def __init__(self, cfg: ModelConfig):
        super().__init__(cfg)
        self.coding = ModuloStego(cfg)  # (not a module: its arrays stay NumPy's, on the CPU)
        self.refiner = Refiner(cfg.image_channels, cfg.widths)

    # --- state: the coding's arrays beside the refiner's weights ---------------------------------------------
    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        for name, value in self.coding.state_dict().items():
            destination[prefix + name] = torch.from_numpy(value)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        names = list(self.coding.state_dict())
        found = {n: as_numpy(state_dict[prefix + n]) for n in names if prefix + n in state_dict}
        missing_keys += [prefix + n for n in names if n not in found]
        if len(found) == len(names):
            self.coding.load_state_dict(found)
        rest = {k: v for k, v in state_dict.items() if k[len(prefix):] not in found}
        super()._load_from_state_dict(rest, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)

    # --- the scheme interface: the coding's, the refiner on what it decodes -----------------------------------
    def fit_statistics(self, images: Array, covers: Array) -> None:
        self.coding.fit_statistics(images, covers)

    def refine(self, rough: Array) -> torch.Tensor:
        rough = torch.as_tensor(rough).to(next(self.refiner.parameters()).device)
        return rough + self.run_net(self.refiner, rough)

    def analyse(self, wave: Array) -> Array:
        return self.coding.analyse(wave)

    def embed(self, image: Array, cover: Array, key: str | None = None, band_limit_hz: float | None = None) -> Hidden:
        return self.coding.embed(image, cover, key, band_limit_hz)

    def reveal_spec(self, spec: Array, key: str | None = None) -> torch.Tensor:
        return self.refine(self.coding.reveal_spec(as_numpy(spec), key))

    def extract(self, wave: Array, key: str | None = None, band_limit_hz: float | None = None) -> Extracted:
        found = self.coding.extract(wave, key, band_limit_hz)
        return found._replace(image=self.refine(found.image))

    def presence_many(self, waves: Array, key: str | None = None, band_limit_hz: float | None = None):
        return self.coding.presence_many(waves, key, band_limit_hz)

    def carries(self) -> dict:
        return self.coding.carries()

    @property
    def top_frequency(self) -> float:
        return self.coding.top_frequency
