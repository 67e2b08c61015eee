"""Training losses as a named dict (slash keys go straight to the logs).

StegoLoss = (1 - beta) * MSE(cover spec, received container spec) + beta * L1(secret, revealed)
          + wave_weight * waveform term + sdtw_weight * soft-DTW over frame sequences.
A weight of 0 still computes and logs the term when it is cheap (not soft-DTW, which is O(N^2)).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .models.base import Hidden

BIG = 1e10  # stands in for +inf in the soft-DTW recursion: finite, so no NaN gradients


def soft_dtw(x: torch.Tensor, y: torch.Tensor, gamma: float = 1.0) -> torch.Tensor:
    """Soft-DTW (Cuturi & Blondel 2017) between sequences ``x [B, N, D]`` and ``y [B, M, D]`` with squared
    Euclidean cost; returns ``[B]``. Computed one anti-diagonal at a time: N + M steps, each vectorised."""
    b, n, m = x.shape[0], x.shape[1], y.shape[1]
    cost = torch.cdist(x, y).pow(2)  # [B, N, M]
    cost = F.pad(cost, (1, 0, 1, 0), value=BIG)  # 1-based, so cell (i, j) reads cost[i, j]
    rows = torch.arange(n + 1, device=x.device)
    big = x.new_full((b, n + 1), BIG)
    before = big.clone()
    before[:, 0] = 0.0  # diagonal 0: R[0, 0] = 0
    last = big  # diagonal 1: R[0, 1] = R[1, 0] = inf
    for d in range(2, n + m + 1):
        cols = d - rows
        valid = (rows >= 1) & (cols >= 1) & (cols <= m)
        c = cost[:, rows, cols.clamp(0, m)]
        shift = lambda t: torch.cat([big[:, :1], t[:, :-1]], dim=1)  # value at i - 1
        options = torch.stack([shift(before), shift(last), last], dim=0)  # R[i-1,j-1], R[i-1,j], R[i,j-1]
        soft_min = -gamma * torch.logsumexp(-options / gamma, dim=0)
        before, last = last, torch.where(valid, c + soft_min, big)
    return last[:, n]


def frames_of(wave: torch.Tensor, frame: int) -> torch.Tensor:
    """``[B, T] -> [B, T // frame, frame]`` non-overlapping frames (the tail is dropped)."""
    usable = wave.shape[-1] // frame * frame
    return wave[..., :usable].reshape(*wave.shape[:-1], -1, frame)


class StegoLoss(torch.nn.Module):
    def __init__(self, beta: float = 0.25, wave_weight: float = 0.0, wave_loss: str = "l1",
                 sdtw_weight: float = 0.0, sdtw_frame: int = 512, sdtw_gamma: float = 1.0):
        super().__init__()
        self.beta, self.wave_weight, self.wave_loss = beta, wave_weight, wave_loss
        self.sdtw_weight, self.sdtw_frame, self.sdtw_gamma = sdtw_weight, sdtw_frame, sdtw_gamma

    def forward(self, out: Hidden, secret: torch.Tensor, cover: torch.Tensor) -> dict[str, torch.Tensor]:
        """``out`` is what a scheme's ``forward`` returns; ``secret [B, C, H, W]``, ``cover [B, T]``."""
        terms = {
            "audio/spec_mse": F.mse_loss(out.received_spec, out.cover_spec),
            "image/l1": F.l1_loss(out.revealed, secret),
        }
        diff = out.container - cover
        terms["audio/wave_" + self.wave_loss] = diff.abs().mean() if self.wave_loss == "l1" else diff.pow(2).sum()
        total = (1 - self.beta) * terms["audio/spec_mse"] + self.beta * terms["image/l1"]
        total = total + self.wave_weight * terms["audio/wave_" + self.wave_loss]
        if self.sdtw_weight:
            terms["audio/soft_dtw"] = soft_dtw(frames_of(out.container, self.sdtw_frame),
                                               frames_of(cover, self.sdtw_frame), self.sdtw_gamma).mean()
            total = total + self.sdtw_weight * terms["audio/soft_dtw"]
        terms["loss"] = total
        return terms
