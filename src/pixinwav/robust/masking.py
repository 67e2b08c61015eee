"""How loud a change may be, cell by cell: the cover's own time-frequency level, smoothed.

The scale of a cell is the RMS of the coefficients around it (``time_radius`` frames and ``freq_radius`` bins
each side). A change proportional to it is loud where the music is loud and busy and vanishes in its gaps and
quiet passages (the principle of adaptive steganography: change where the cover is busy). The receiver computes
the same scale from what it received; because the change sits well under the cover (-15 dB or less), the scale
of the stego is within a few percent of the cover's, and the sender iterates to that fixed point.

:func:`past_magnitude` measures it from the cell's own frame and the frames before it, as mean magnitudes: a power
mean is ruled by the loudest cells around, so a quiet cell among loud ones (between harmonics, or just before an
onset, which a centred window hears) got a step whose change raised its level. The mean magnitude is still the
neighbourhood's (a geometric mean, which follows quiet cells further, changes with the change itself, and the
sender's fixed point does not settle on it).
"""
from __future__ import annotations

import numpy as np
import scipy


def masking_scale(coefs: np.ndarray, time_radius: int, freq_radius: int, floor: float) -> np.ndarray:
    """``[..., frames, bins]`` coefficients -> ``[..., frames, bins]`` local RMS, at least ``floor``."""
    size = (1,) * (coefs.ndim - 2) + (2 * time_radius + 1, 2 * freq_radius + 1)
    power = np.square(coefs)
    # (in place, here and below: a whole song's coefficients are 77 MB an array; ndimage filters a line at a time
    # from a copy of it, so the values are those of a separate output, bit for bit)
    scipy.ndimage.uniform_filter(power, size=size, mode="nearest", output=power)
    np.maximum(power, floor**2, out=power)
    return np.sqrt(power, out=power)


def past_magnitude(coefs: np.ndarray, past: int, freq_radius: int, floor: float) -> np.ndarray:
    """``[..., frames, bins]`` coefficients -> ``[..., frames, bins]`` mean magnitude over each cell's frame and the
    ``past`` frames before it, ``freq_radius`` bins each side, as the RMS of Gaussian coefficients of that mean
    magnitude (x sqrt(pi / 2)), at least ``floor``."""
    size = (1,) * (coefs.ndim - 2) + (past + 1, 2 * freq_radius + 1)
    origin = (0,) * (coefs.ndim - 2) + (past - (past + 1) // 2, 0)  # the window ends at the cell's frame
    level = np.abs(coefs)
    scipy.ndimage.uniform_filter(level, size=size, mode="nearest", output=level, origin=origin)
    level *= np.sqrt(np.pi / 2)
    return np.maximum(level, floor, out=level)
