"""Deprecation as documents write it: the `x-sunset` date of an operation, parameter or property.

Read by the breaking-change engine (removal only after the sunset) and the fleet graph (an
operation used past its sunset), so it lives with the documents rather than in either.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any


def sunset_of(node: Mapping[str, Any]) -> dt.date | None:
    """The `x-sunset` date of `node` (YAML may already have parsed it as a date); None when it
    has none or it is not a date."""
    raw = node.get("x-sunset")
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, str):
        try:
            return dt.date.fromisoformat(raw[:10])
        except ValueError:
            return None
    return None


def unreadable_sunset(node: Mapping[str, Any]) -> str | None:
    """The `x-sunset` of `node` as written when it is there but not a date (`soon`,
    `2026-02-30`, a number), for a message naming it; None when it is a date or absent.

    `sunset_of` reads such a value as no date, which is all the fleet graph needs; the diff
    engine reports it, since a deprecation whose date nobody can read gives clients no date.
    """
    raw = node.get("x-sunset")
    if raw is None or sunset_of(node) is not None:
        return None
    if isinstance(raw, str):
        return raw
    import json  # only for the rare value that is not text: no start-up cost

    return json.dumps(raw, default=str)
