"""Keep freed memory in the process instead of handing it back to the OS after each chunk.

Every chunk allocates and frees a few dozen numpy arrays of megabytes. With glibc's
default settings those either come straight from ``mmap`` or are trimmed off the heap top
when freed, so the next chunk touches fresh pages and pays a page fault (the kernel
zeroing 4 KiB) per page: measured at ~40% of the whole scan's CPU time. Raising the mmap
and trim thresholds makes freed arrays reusable, so steady-state chunks fault almost never.

The cost is process-wide and small: up to ``_TRIM`` bytes of freed memory stay mapped
(what the scan used at its peak, not more), and the largest blocks still come from mmap.
Elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import functools

_M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
_M_MMAP_THRESHOLD = -3
_MMAP = 32 << 20  # glibc's upper bound for the mmap threshold on 64-bit
_TRIM = 256 << 20


@functools.cache
def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds once per process; whether it took effect."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):  # not glibc (musl, macOS, Windows)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, _MMAP)) and bool(mallopt(_M_TRIM_THRESHOLD, _TRIM))
