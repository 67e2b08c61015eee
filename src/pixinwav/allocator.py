"""One heap for every thread of a command.

glibc's ``malloc`` gives each thread that allocates while another holds the heap an arena of its own (up to eight per
core), and memory freed into an arena mostly stays with the process. `reveal` without ``--model`` runs its checks on
threads, each allocating and freeing arrays of many megabytes: a 10-minute song with nothing hidden peaked at 1118 MiB
of resident memory with an arena per thread, 897 MiB with one, as fast (``benchmarks/bench_commands.py --identify
--long 600``, release 0.2.17's results).
NumPy's large arrays are allocated rarely enough that the threads do not queue for the one heap.
"""
from __future__ import annotations

import ctypes
import sys

M_ARENA_MAX = -8  # mallopt's parameter (malloc.h)


def one_heap() -> bool:
    """Limit this process to glibc's main arena (before its threads start); False where the C library is not glibc
    (nothing changes)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        return bool(ctypes.CDLL("libc.so.6").mallopt(M_ARENA_MAX, 1))  # (ctypes.util.find_library runs ldconfig)
    except (OSError, AttributeError):  # no C library of that name, or one without mallopt (musl)
        return False
