"""Arrays between NumPy and torch: what every module that takes "an array or a tensor" converts with, so that only
the code that computes with torch imports it."""
from __future__ import annotations

from typing import Any

import numpy as np

Array = Any  # an ``np.ndarray``, or a ``torch.Tensor`` where a net scheme or training passes one


def as_numpy(x: Array) -> np.ndarray:
    """A NumPy array or a (CPU or device) tensor as a NumPy array: detached, on the CPU."""
    return x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)


def like(array: np.ndarray, ref: Array) -> Array:
    """``array`` as a tensor (sharing its memory, on ``ref``'s device) when ``ref`` is one, as training passes
    them; else itself. Lets a NumPy scheme answer the training loop in its own types without importing torch
    for the API."""
    if type(ref).__module__.split(".")[0] != "torch":
        return array
    import torch

    return torch.from_numpy(np.ascontiguousarray(array)).to(ref.device)
