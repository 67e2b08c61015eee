"""Each group's soft bits re-weighed by what the packets decoded so far show (decision-directed calibration).

The receiver turns each group's projections into log-likelihood ratios with the noise it measures around the bit
(``stdm.Lattice.soft_phases``). A codec at a low bitrate does not add noise of one kind across the band: it keeps
some bands, fills others with noise of the right level, folds a lower band into a higher one; the local measure then
calls some groups surer than they are (through Opus 32, groups over about 5 kHz given 25-45 % odds of being wrong
were wrong 50-70 % of the time) and others less sure. A packet that decodes passes its CRC: its codeword's bits are
then known in every segment that carries it, and they show per group how far the ratios should be trusted. The ratios
of every group are scaled by the factor that makes the known bits most likely, and the packets that failed are
decoded again with them.
"""
from __future__ import annotations

import numpy as np

MIN_KNOWN = 128  # known bits a group needs (two segments' worth) before its scale is fitted; else it keeps 1
MAX_SCALE = 4.0  # a scale between 0 (the group tells nothing) and this
NEWTON_STEPS = 12


def group_scales(llr: np.ndarray, known: np.ndarray) -> np.ndarray:
    """``[groups]``: per group, the factor ``a`` that maximises the likelihood of the known bits under the scaled
    ratios, ``sum log sigmoid(a * llr * sign)``, for ``llr [frames, groups]`` (positive for bit 0) and ``known
    [frames, groups]`` (+1 where the bit is known to be 0, -1 where 1, 0 where unknown or not received)."""
    x = np.where(known != 0, llr * known, 0.0)  # > 0 where the ratio points the right way
    weight = (known != 0) & (llr != 0)
    count = weight.sum(0)
    scale = np.ones(llr.shape[1])
    for _ in range(NEWTON_STEPS):  # the log-likelihood is concave in ``a``: Newton's steps, every group at once
        wrong = 1.0 / (1.0 + np.exp(np.clip(scale * x, -50, 50)))  # P(wrong) under the scaled ratio
        gradient = (weight * x * wrong).sum(0)
        curvature = (weight * x**2 * wrong * (1 - wrong)).sum(0)
        scale = np.clip(scale + gradient / np.maximum(curvature, 1e-9), 0.0, MAX_SCALE)
    return np.where(count >= MIN_KNOWN, scale, 1.0)
