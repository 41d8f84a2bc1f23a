"""Allocator settings for the processes smasim starts or owns.

The engine allocates and frees temporaries of several megabytes in every screening and solve.
With glibc's defaults, freed memory beyond a moving threshold goes back to the operating
system, and the next allocation pays for its pages again: a page fault each 4 KiB, which on a
virtual machine costs more than the arithmetic done in the page. Keeping freed memory for
reuse (up to 1 GiB at the top of the heap, arrays up to 32 MiB from the heap) cut the page
faults of a 262,144-draw run from 270k to 57k and its system time from 1.1 s to 0.2 s, for
1.4x the draws per second on the 2-core machine of ``benchmarks/README.md``. The cost is that
a process keeps its peak memory until it ends.

The settings are applied by the command line (its own process) and by the local process pool's
workers; a program that imports smasim keeps its own allocator unless it calls
:func:`keep_freed_memory`. Elsewhere than glibc the call does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
MMAP_THRESHOLD_BYTES = 32 << 20  # the largest glibc accepts on 64-bit systems
TRIM_THRESHOLD_BYTES = 1 << 30


def keep_freed_memory() -> bool:
    """Ask glibc's ``malloc`` to keep freed memory for reuse.

    Returns
    -------
    bool
        Whether the settings took effect (False off Linux or without glibc).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    # both, in this order: setting either turns off glibc's moving mmap threshold, and a trim
    # threshold alone would send every array above 128 KiB through mmap (measured: 7x the
    # page faults)
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
    )


def physical_memory() -> int | None:
    """The machine's physical memory in bytes, or None where the system does not say."""
    import os

    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def memory_budget() -> int | None:
    """Bytes a command may hold in memory: half the machine's, or None where it is unknown.

    The one rule every command that holds per-draw columns refuses its input by (backtest,
    calibrate, compare, and the readers of result folders), before it allocates them.
    """
    memory = physical_memory()
    return None if memory is None else memory // 2
