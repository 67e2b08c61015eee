"""Large arrays handed back to the system as soon as they are freed.

glibc's ``malloc`` serves a block of 128 kB or more by ``mmap`` and returns it on ``free``, but after the first such
free it raises that threshold to the block's size (up to 32 MB), so later blocks under it come from the heap of the
thread that asked, and a block freed there mostly stays with the process. A whole-song reveal allocates and frees
many arrays of 1-32 MB on several threads: `reveal` without ``--model`` of a 10-minute song peaked at 1.05 GB of
resident memory for 0.55 GB of live arrays. A fixed threshold of 1 MB keeps the blocks that matter on ``mmap``.
"""
from __future__ import annotations

import ctypes
import sys

M_MMAP_THRESHOLD = -3  # mallopt's parameter (malloc.h); setting it also turns the threshold's raising off
THRESHOLD = 1 << 20


def return_large_blocks() -> bool:
    """Set glibc's mmap threshold for this process; False where the C library is not glibc (nothing changes)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")  # (glibc's name; ctypes.util.find_library runs ldconfig: 20-50 ms)
        return bool(libc.mallopt(M_MMAP_THRESHOLD, THRESHOLD))
    except (OSError, AttributeError):  # no C library by that name, or one without mallopt (musl)
        return False
