"""A small CNN steganalyser on log spectrograms, trained from scratch per cross-validation fold on the CPU.

Input: the log power of a 1,024-point STFT (hop 512) of a window, neighbouring bins averaged in fours (128 rows),
standardised per row with the training fold's statistics. Four 3 x 3 conv layers (8-16-32-32 channels, ReLU; the
first with stride 2, the others followed by 2 x 2 average pooling) keep a coarse frequency axis (where a change
sits matters: an empty band that fills up, a bass that rises); the time axis is summarised by its mean and
maximum, then one linear layer gives the logit. Adam, binary cross-entropy, fixed seed. It is the kind of detector
audio steganalysis papers train on spectrograms, kept small so a fold trains in seconds here.
"""
from __future__ import annotations

import numpy as np
import torch
from scipy.signal import stft
from torch import nn


def log_spectrogram(mono: np.ndarray) -> np.ndarray:
    """``[T]`` samples -> ``[128, frames]`` float32 log power."""
    _, _, spec = stft(mono, nperseg=1024, noverlap=512, boundary=None, padded=False)
    power = np.log(np.abs(spec[:512]) ** 2 + 1e-12)
    return power.reshape(128, 4, -1).mean(1).astype(np.float32)


class Detector(nn.Module):
    def __init__(self, rows: int = 128):
        super().__init__()
        layers, chans = [nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.ReLU()], [8, 16, 32, 32]
        for cin, cout in zip(chans[:-1], chans[1:]):
            layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2)]
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(2 * 32 * (rows // 16), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(x[:, None])  # [B, 32, rows / 16, about frames / 16]
        return self.head(torch.cat([h.mean(-1), h.amax(-1)], 1).flatten(1))[:, 0]


def train_and_score(train: np.ndarray, labels: np.ndarray, test: np.ndarray, epochs: int, seed: int) -> np.ndarray:
    """Train on ``train [N, rows, frames]`` with ``labels [N]``; stego probabilities for ``test``."""
    torch.manual_seed(seed)
    mean, std = train.mean((0, 2), keepdims=True), train.std((0, 2), keepdims=True) + 1e-3
    x = torch.from_numpy((train - mean) / std)
    y = torch.from_numpy(labels.astype(np.float32))
    net = Detector(train.shape[1])
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-4)
    generator = torch.Generator().manual_seed(seed)
    net.train()
    for _ in range(epochs):
        for batch in torch.randperm(len(x), generator=generator).split(16):
            loss = nn.functional.binary_cross_entropy_with_logits(net(x[batch]), y[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    net.eval()
    with torch.no_grad():
        return torch.sigmoid(net(torch.from_numpy((test - mean) / std))).numpy()


def cross_validated_scores(spectrograms: list[np.ndarray], labels: np.ndarray, groups: np.ndarray, epochs: int,
                           seed: int, folds: int = 4) -> np.ndarray:
    """Out-of-fold stego probabilities, folds grouped by track (no track in both training and test)."""
    from sklearn.model_selection import GroupKFold

    frames = min(s.shape[1] for s in spectrograms)
    x = np.stack([s[:, :frames] for s in spectrograms])
    scores = np.zeros(len(labels))
    for fold, (train, test) in enumerate(GroupKFold(n_splits=folds).split(x, labels, groups)):
        scores[test] = train_and_score(x[train], labels[train], x[test], epochs, seed + fold)
    return scores
