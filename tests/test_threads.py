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


def test_windows_decoded_on_threads_are_safe_under_numbas_workqueue_layer(tmp_path):
    """numba's fallback threading layer ("workqueue": where neither TBB nor OpenMP loads, or where a library sets it,
    as the visqol package does on import) aborted the process when two threads launched the decoder's parallel loops
    at once: the default model writes and reads its windows on threads. Under that layer the decoder is now launched
    from one thread at a time."""
    import os
    import subprocess
    import sys

    import soundfile as sf

    from helpers import music

    song, note = tmp_path / "song.wav", tmp_path / "note.txt"
    sf.write(song, music(16.0, 44100, seed=21, channels=2), 44100, subtype="PCM_16")
    note.write_bytes(np.random.default_rng(5).integers(0, 256, 40_000, dtype=np.uint8).tobytes())
    code = ("import sys, numba\nfrom pixinwav.cli import main\n"
            f"assert main(['hide', '--file', {str(note)!r}, '--cover', {str(song)!r}, '-o', {str(tmp_path / 's.wav')!r}]) == 0\n"
            f"assert main(['reveal', {str(tmp_path / 's.wav')!r}, '-o', {str(tmp_path / 'back.bin')!r}]) == 0\n"
            "print(numba.threading_layer())")
    env = {**os.environ, "NUMBA_THREADING_LAYER": "workqueue"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-1500:]
    assert out.stdout.strip().splitlines()[-1] == "workqueue"
    assert (tmp_path / "back.bin").read_bytes() == note.read_bytes()
