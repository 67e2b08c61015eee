"""OpenBLAS on one thread while pixinwav hides or reveals, the caller's setting back after; results of calls on a
pool taken in order."""
import numpy as np
import pytest
from threadpoolctl import threadpool_info

from pixinwav import api
from pixinwav.threads import in_order, one_blas_thread


def _blas_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_one_blas_thread_inside_and_the_setting_back_after():
    np.ones((64, 64)) @ np.ones((64, 64))  # BLAS loaded
    before = _blas_threads()
    if not before:
        pytest.skip("numpy and scipy here use no BLAS threadpoolctl can see")
    seen = one_blas_thread(_blas_threads)()
    assert seen and set(seen) == {1}
    assert _blas_threads() == before


def test_the_api_calls_that_decode_hold_blas_to_one_thread():
    # each public entry point that runs the decoder is wrapped (the wrapper's code, not only its name)
    for name in ("hide", "hide_file", "capacity", "reveal_payload", "presence_at"):
        fn = getattr(api.Stego, name)
        chain = []
        while fn is not None:
            chain.append(fn.__code__)
            fn = getattr(fn, "__wrapped__", None)
        assert one_blas_thread(lambda: None).__code__ in chain, name


def test_one_numba_thread_for_the_block_and_the_setting_back_after():
    numba = pytest.importorskip("numba")
    from pixinwav.threads import one_numba_thread

    before = numba.get_num_threads()
    with one_numba_thread():
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before
    with pytest.raises(RuntimeError), one_numba_thread():
        raise RuntimeError("a failure inside")
    assert numba.get_num_threads() == before


def test_in_order_gives_the_calls_results_in_order_and_starts_no_more_once_closed():
    """Calls that finish out of order come back in order, ``ahead`` in flight at most; a caller that stops early
    leaves the calls not yet started unstarted."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    started, lock = [], threading.Lock()

    def call(i: int):
        def run() -> int:
            with lock:
                started.append(i)
            time.sleep(0.02 * (i % 3 == 0))  # every third call is the slowest
            return i * i
        return run

    with ThreadPoolExecutor(3) as pool:
        assert list(in_order(pool, (call(i) for i in range(10)), 3)) == [i * i for i in range(10)]
    # The stop: call 0 returns at once, call 1 holds the one worker until after the close, so call 2 is still
    # queued when the caller stops, whatever the machine's timing (a sleep here raced on a busy machine).
    started.clear()
    gate = threading.Event()

    def held(i: int):
        def run() -> int:
            with lock:
                started.append(i)
            if i > 0:
                gate.wait(10)
            return i * i
        return run

    with ThreadPoolExecutor(1) as pool:
        results = in_order(pool, (held(i) for i in range(10)), 3)
        assert next(results) == 0
        results.close()
        gate.set()
    assert started in ([0], [0, 1])  # call 1 may have started before the close; call 2 never
