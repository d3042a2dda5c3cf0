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
