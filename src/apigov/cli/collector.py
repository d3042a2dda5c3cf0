"""`without_cycle_collection()`: for commands that parse large documents and exit.

A large pact or a pair of large specs is a million or more dicts and lists, all acyclic (parsed
JSON/YAML and the models built from it). Every full pass of Python's cycle collector walks them
all again and finds nothing: a third of `apigov compat`'s time on 10,000 interactions, and on
`apigov diff` a load time that grew faster than the documents. Reference counting still frees
every object that is no longer used.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def without_cycle_collection() -> Iterator[None]:
    """Pause the cycle collector for the block; it is back on afterwards (tests run commands
    in-process, one after another)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
