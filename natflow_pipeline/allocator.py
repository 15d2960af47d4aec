"""Keep glibc from handing each freed delivery buffer back to the kernel, only to fault it in again.

Reading a day allocates a few MB per delivery on the reading threads (the fetched object, its
inflated text) and frees them a moment later. With glibc's defaults, a block above the mmap
threshold (128 KiB at first, raised towards 32 MiB as such blocks are freed) is mmapped and
unmapped, and a thread's arena is trimmed (``MADV_DONTNEED``) whenever more than twice that
threshold lies free at its top, so the next delivery faults the same memory back in, page by page
(strace over the 5 M day: 2.35 GB given back with ``MADV_DONTNEED``, 1.07 GB with the setting).
On the 5 M-row benchmark day (4 pairs of runs alternating with the code before this setting):
the job took 6.1 s against 7.3 s (median), 1.1 s of system time against 2.0 s, and ~300,000
page faults against ~580,000; its peak RSS was 670-712 MB against 647-701 MB.

This is process-wide, as every allocator setting is. It bounds what is kept: a block of 32 MiB or
more is still mmapped (and returned when freed), and an arena gives back its free top beyond
64 MiB. Other C libraries (musl, macOS) are left as they are.
"""

from __future__ import annotations

import ctypes
import functools
import platform

#: glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
#: Blocks at least this large are mmapped, as before: a large delivery's buffer is not kept.
MMAP_THRESHOLD_BYTES = 32 << 20
#: An arena keeps up to this much free memory at its top instead of trimming it.
TRIM_THRESHOLD_BYTES = 64 << 20


@functools.cache
def keep_freed_buffers() -> bool:
    """Raise glibc's mmap and trim thresholds, once per process; False where the C library is
    not glibc (nothing is changed) or it refused the settings."""
    if platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(None)  # the process's own C library, already loaded
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    # Both are set: setting either one turns off glibc's dynamic adjustment of the other.
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))
