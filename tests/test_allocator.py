"""The CLI keeps every thread on glibc's one main heap (``allocator.py``): memory a thread frees is not kept aside
in an arena of its own."""
import subprocess
import sys

import pytest

PROBE = """
import ctypes, sys, threading
import numpy as np
from pixinwav.allocator import one_heap

if sys.argv[1] == "one":
    assert one_heap()
kept = []
threads = [threading.Thread(target=lambda: kept.append(np.ones(1000))) for _ in range(4)]  # 8 kB each: from a heap
for t in threads:
    t.start()
for t in threads:
    t.join()
ctypes.CDLL("libc.so.6").malloc_stats()  # one "Arena N:" block per heap, on stderr
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_threads_allocate_from_the_main_heap_alone_once_the_cli_has_asked():
    def heaps(mode: str) -> int:
        done = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True)
        return sum(line.startswith("Arena ") for line in done.stderr.splitlines())

    assert heaps("default") > 1  # glibc: an arena for each thread that allocates
    assert heaps("one") == 1
