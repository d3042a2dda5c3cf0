"""`apigov diff` and `apigov compat` pause the cycle collector while they load and compare, and
only then."""

from __future__ import annotations

import gc

import pytest

from apigov.cli.collector import without_cycle_collection


def test_collector_is_paused_inside_and_restored_after_an_error() -> None:
    assert gc.isenabled()
    with pytest.raises(RuntimeError), without_cycle_collection():
        assert not gc.isenabled()
        raise RuntimeError("input error while loading")
    assert gc.isenabled()


def test_collector_left_off_when_it_was_off() -> None:
    gc.disable()
    try:
        with without_cycle_collection():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
