"""Baselines: failures a team has accepted, keyed by (operation, check, failure type).

The key is stable across seeds (it names no generated value), so CI fails only on new failures.
File format (JSON or YAML):

    {"accepted": [{"operation": "GET /stats", "check": "not_a_server_error",
                   "failure": "ServerError"}]}
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from apigov.fuzz.results import FailureKey
from apigov.spec.errors import InputError
from apigov.spec.loader import Loader


def load_baseline(path: Path, loader: Loader) -> set[FailureKey]:
    """Read accepted failures; a malformed file is an input error naming the entry."""
    source = loader.source(str(path))
    data = source.data
    entries = data.get("accepted") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise InputError(source.name, "a fuzz baseline needs an 'accepted' list", pointer="")
    keys: set[FailureKey] = set()
    for index, entry in enumerate(entries):
        fields = ("operation", "check", "failure")
        if not isinstance(entry, dict) or not all(isinstance(entry.get(f), str) for f in fields):
            raise InputError(
                source.name,
                "each accepted failure needs string 'operation', 'check' and 'failure'",
                pointer=f"/accepted/{index}",
            )
        keys.add(FailureKey(entry["operation"], entry["check"], entry["failure"]))
    return keys


def baseline_text(keys: Iterable[FailureKey]) -> str:
    """A baseline file accepting `keys`, sorted so that rewriting it gives small diffs."""
    entries = [k.to_dict() for k in sorted(keys, key=lambda k: (k.operation, k.check, k.failure))]
    return json.dumps({"accepted": entries}, indent=2) + "\n"
