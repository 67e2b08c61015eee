"""Thread pools held to one thread: OpenBLAS while pixinwav hides or reveals, numba where a window is written beside
a decode; and the results of calls on a pool taken in order, a few running ahead (:func:`in_order`).

The LDPC decoder runs on every core (numba's OpenMP threads). numpy and scipy call OpenBLAS for a few small matrix
products per window on the way, and OpenBLAS keeps its own threads spinning on the same cores for a while after
each product, so the decoder that follows shares its cores with them: a quiet 2.5-minute song's hide by the default
model took 21.5 / 20.6 s with OpenBLAS on one thread against 28.9 / 24.9 s before, its reveal 7.4 / 7.5 s against
10.4 / 9.9 s, the same bytes out (the CLI of both under ``/usr/bin/time``; the release's side-by-side with the
faster decoder too: ``benchmarks/results/commands_songs_0.2.8.md``). The products are small: one thread loses nothing.
``threadpoolctl`` sets the limit for the call and puts the caller's setting back after it.
"""
from __future__ import annotations

import contextlib
import functools
from collections import deque
from concurrent.futures import Executor
from typing import Callable, Iterable, Iterator, TypeVar

from threadpoolctl import threadpool_limits

F = TypeVar("F", bound=Callable)
T = TypeVar("T")


def one_blas_thread(fn: F) -> F:
    """``fn`` run with OpenBLAS (and any other BLAS numpy or scipy loaded) on one thread."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with threadpool_limits(limits=1, user_api="blas"):
            return fn(*args, **kwargs)
    return wrapper  # type: ignore[return-value]


@contextlib.contextmanager
def one_numba_thread() -> Iterator[None]:
    """numba's parallel loops started from this thread run on one core for the duration (the setting is per thread;
    put back after). Nothing to do where numba is missing: the decoder then falls back to ``ldpc`` alone."""
    try:
        import numba
    except ImportError:
        yield
        return
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(threads)


def in_order(pool: Executor, calls: Iterable[Callable[[], T]], ahead: int) -> Iterator[T]:
    """The results of ``calls`` in their order, ``ahead`` of them submitted to ``pool`` at once (each call is drawn
    from ``calls`` in the caller's thread, as its result is asked for). Where the caller stops early, the calls not
    yet started are cancelled; those running finish with the pool."""
    running: deque = deque()
    try:
        for call in calls:
            running.append(pool.submit(call))
            if len(running) >= ahead:
                yield running.popleft().result()
        while running:
            yield running.popleft().result()
    finally:
        for future in running:
            future.cancel()
