"""OpenBLAS on one thread while pixinwav hides or reveals, the caller's setting back after."""
import numpy as np
import pytest
from threadpoolctl import threadpool_info

from pixinwav import api
from pixinwav.threads import one_blas_thread


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
