"""The base of the schemes with learned nets (the U-Nets, the modulo scheme's refiner): a
:class:`StegoScheme` that is also an ``nn.Module``, so its weights train, move between devices and save as
torch's. The API hands it NumPy arrays; :func:`tensor` takes either."""
from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from ..config import ModelConfig
from .base import Array, StegoScheme


def tensor(x: Array) -> torch.Tensor:
    """A NumPy array as a tensor sharing its memory; a tensor as it is."""
    return x if isinstance(x, torch.Tensor) else torch.from_numpy(np.asarray(x))


class NetScheme(nn.Module, StegoScheme):
    """``nn.Module`` first: its state, modes and devices are torch's (``state_dict`` gives tensors)."""

    def __init__(self, cfg: ModelConfig):
        nn.Module.__init__(self)
        self.cfg = cfg

    # Mixed precision for the learned nets only (train.amp): transforms and the 16-bit channel stay float32/64,
    # where bfloat16's 8-bit mantissa would be coarser than the quantisation being simulated.
    net_dtype: torch.dtype | None = None

    def run_net(self, net: nn.Module, x: torch.Tensor) -> torch.Tensor:
        if self.net_dtype is None:
            return net(x)
        with torch.autocast(x.device.type, dtype=self.net_dtype):
            return net(x).float()

    forward = StegoScheme.forward  # (nn.Module's placeholder would come first)

    def register_buffer(self, name: str, value: Array, persistent: bool = True) -> None:
        nn.Module.register_buffer(self, name, tensor(value), persistent)

    def set_buffer(self, name: str, value: Array) -> None:
        """A new value of a buffer, copied in place (its dtype, shape and device kept)."""
        getattr(self, name).copy_(tensor(value))

    def load_state_dict(self, state, strict: bool = True, assign: bool = False):
        return nn.Module.load_state_dict(self, {k: tensor(v) for k, v in state.items()}, strict, assign)

    def cpu_copy(self) -> "NetScheme":
        on_cpu = all(t.device.type == "cpu" for t in [*self.parameters(), *self.buffers()])
        return self if on_cpu else copy.deepcopy(self).cpu()

    @property
    def trainable(self) -> bool:
        return any(p.requires_grad for p in self.parameters())

    @property
    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def inference(self):
        return torch.no_grad()
