"""OpenBLAS held to one thread while pixinwav hides or reveals.

The LDPC decoder runs on every core (numba's OpenMP threads). numpy and scipy call OpenBLAS for a few small matrix
products per window on the way, and OpenBLAS keeps its own threads spinning on the same cores for a while after
each product, so the decoder that follows shares its cores with them: a 3-minute song's reveal by the default
model took 10.4 s with OpenBLAS's threads and 7.8 s with one, its hide 26.1 s and 22.1 s, the same bytes out
(``python benchmarks/bench_commands.py``; the products are small, so one thread loses nothing there).
``threadpoolctl`` sets the limit for the call and puts the caller's setting back after it.
"""
from __future__ import annotations

import functools
from typing import Callable, TypeVar

from threadpoolctl import threadpool_limits

F = TypeVar("F", bound=Callable)


def one_blas_thread(fn: F) -> F:
    """``fn`` run with OpenBLAS (and any other BLAS numpy or scipy loaded) on one thread."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with threadpool_limits(limits=1, user_api="blas"):
            return fn(*args, **kwargs)
    return wrapper  # type: ignore[return-value]
