"""The CLI keeps glibc serving arrays of 1 MB or more by mmap, so a freed array goes back to the system."""
import subprocess
import sys

import pytest

PROBE = """
import ctypes, sys
import numpy as np
from pixinwav.allocator import return_large_blocks

class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                                               "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo2
if sys.argv[1] == "set":
    assert return_large_blocks()
first = np.ones(20 << 17)  # 20 MB, mmapped; its free raises glibc's own threshold to 20 MB
del first
before = libc.mallinfo2().hblkhd
second = np.ones(2 << 17)  # 2 MB
print(libc.mallinfo2().hblkhd - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_a_2_mb_array_is_mmapped_after_a_larger_one_was_freed_only_with_the_fixed_threshold():
    def mapped(mode: str) -> int:
        return int(subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True,
                                  check=True).stdout)

    assert mapped("default") == 0  # glibc's raised threshold: from the heap, kept by the process once freed
    assert mapped("set") >= 2 << 20
