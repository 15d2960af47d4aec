"""Keep glibc from handing each freed delivery buffer back to the kernel, only to fault it in again.

Reading a day allocates a few MB per delivery on the reading threads (the fetched object, its
inflated text) and frees them a moment later. With glibc's defaults, a block above the mmap
threshold (128 KiB at first, raised towards 32 MiB as such blocks are freed) is mmapped and
unmapped, and a thread's arena is trimmed (``MADV_DONTNEED``) whenever more than twice that
threshold lies free at its top, so the next delivery faults the same memory back in, page by page.

Measured on the 5 M-row benchmark day, 5 alternating runs each, in separate processes:
- reading alone (every delivery fetched, inflated and parsed on two threads): 3.40 s against
  3.96 s (median), 0.22 s of system time against 0.83 s, ~25,000 page faults against ~200,000;
- the whole job (the benchmark's ``natflow`` phase, 4 pairs): system time 1.3-1.5 s against
  1.9-2.3 s and ~330,000 page faults against ~610,000, wall time within the machine's noise;
  peak RSS unchanged (650-705 MB both).
A 64 MiB trim threshold measured the same as 16 MiB on both; in a synthetic churn of
delivery-sized buffers, 8 MiB faulted more than the defaults.

This is process-wide, as every allocator setting is. What it keeps: an arena gives back the free
memory at its top once more than 16 MiB lies there (below that, it keeps it for the next block),
and a block of 32 MiB or more is still mmapped and returned when freed. Blocks freed inside a heap
stay in glibc's free lists, as they do with the defaults once glibc has raised its own thresholds.
After the benchmark's whole job the process held 540-558 MB (16 or 64 MiB), and ``malloc_trim``
then gave back 5 MB, so reading a day does not end with one. Other C libraries (musl, macOS) are
left as they are.
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
TRIM_THRESHOLD_BYTES = 16 << 20


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    """The process's own C library (already loaded), if it is glibc."""
    if platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.mallopt.restype = ctypes.c_int
    except (OSError, AttributeError):
        return None
    return libc


@functools.cache
def keep_freed_buffers() -> bool:
    """Raise glibc's mmap and trim thresholds, once per process; False where the C library is
    not glibc (nothing is changed) or it refused the settings."""
    libc = _glibc()
    if libc is None:
        return False
    # Both are set: setting either one turns off glibc's dynamic adjustment of the other.
    mmap_set = libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
    return bool(mmap_set) and bool(libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))
