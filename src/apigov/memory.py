"""Giving memory back to the system: glibc's malloc keeps freed blocks for later use, which
for a short command on large documents only raises its peak. Both functions do nothing where
the C library does not offer the call (another system, another C library)."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable

_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number (malloc.h)


def return_large_frees_to_the_system() -> None:
    """Keep glibc's malloc from holding on to large blocks once they are freed.

    glibc serves a block above its mmap threshold (128 KiB) with a mapping of its own, given
    back to the system when freed; but each such free raises the threshold to that block's size,
    so after the YAML parser frees its first large buffer, later large blocks (the parser's for
    the second document, rapidyaml's trees growing for finding positions) come from the heap
    and stay resident after they are freed: 8 MB of the peak on two 3 MB documents. Fixing the
    threshold turns that adjustment off. Elsewhere (another C library, another system) this
    does nothing.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # pragma: no cover - no mallopt in this C library
        return
    mallopt(_M_MMAP_THRESHOLD, 128 * 1024)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    import ctypes  # only when there is memory to give back: its import costs start-up

    try:
        trim: Callable[[int], int] | None = getattr(ctypes.CDLL(None), "malloc_trim", None)
    except (OSError, TypeError):  # no C library to ask (not a glibc platform)
        return None
    return trim


def release_freed_memory() -> None:
    """Give the pages of memory freed so far back to the system, where the C library can.

    glibc keeps freed memory (compiled validators, the resolved view) for later allocations,
    but a tree that locates findings after the walk (`LineMap`, which calls this before
    building one) is allocated in fresh pages, so without this a run's peak is the walk's
    memory *plus* the tree's; with it, about the larger of the two (Adyen's Management API, when
    it was located with a tree: 4 MB less). Costs under a millisecond.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
